"""The loss maps of the run page: the shipped geoJSON matches GB/T 2260 codes, and losses aggregate by province."""

from __future__ import annotations

import json

import pytest

from gulian.core.models import Region, RegionLevel
from gulian.risk.run_summary import ABROAD, MAPS_DIR, loss_maps, province_map_file


def _features(name: str) -> dict[str, dict]:
    """Features of a shipped map by GB/T 2260 code (the feature's id, as in ECharts' own map files)."""
    geo = json.loads((MAPS_DIR / name).read_text(encoding="utf-8"))
    return {str(f.get("id") or f["properties"].get("id")): f for f in geo["features"]}


def _decode_ring(ring: str, offset: list[int], scale: int = 1024) -> list[tuple[float, float]]:
    """ECharts' "UTF8Encoding" ring (zigzag deltas from ``offset``, 64 added to each char code) → lon/lat."""
    if ring.startswith("@@"):
        ring = ring[2:]
    x, y = offset
    points = []
    for i in range(0, len(ring), 2):
        dx, dy = ord(ring[i]) - 64, ord(ring[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        points.append((x / scale, y / scale))
    return points


def _bbox(feature: dict) -> tuple[float, float, float, float]:
    geom = feature["geometry"]
    polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    offsets = [geom["encodeOffsets"]] if geom["type"] == "Polygon" else geom["encodeOffsets"]
    pts = [p for poly, offs in zip(polygons, offsets, strict=True) for ring, off in zip(poly, offs, strict=True)
           for p in _decode_ring(ring, off)]  # fmt: skip
    return min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)


@pytest.mark.django_db
def test_every_zhejiang_prefecture_matches_a_feature_of_the_shipped_map():
    features = _features("330000.json")
    prefectures = dict(Region.objects.filter(level=RegionLevel.PREFECTURE, code__startswith="33").values_list("code", "name"))
    assert len(prefectures) == 11
    assert set(prefectures) == set(features)  # nothing missing, nothing extra
    for code, name in prefectures.items():
        assert features[code]["properties"]["name"] == name  # 杭州市 is 杭州市 on the map too
    assert province_map_file("330000") == MAPS_DIR / "330000.json" and province_map_file("320000") is None


@pytest.mark.django_db
def test_every_province_matches_a_feature_of_the_china_map():
    features = _features("china.json")
    provinces = dict(Region.objects.filter(level=RegionLevel.PROVINCE).values_list("code", "name"))
    assert set(provinces) == set(features)
    for code, name in provinces.items():  # ECharts' short names: 内蒙古 for 内蒙古自治区
        assert name.startswith(features[code]["properties"]["name"])


def test_the_encoded_outlines_lie_where_the_regions_are():
    # decoded bounding boxes contain the region's seat (lon, lat): a wrong decoding would put them elsewhere
    zj, cn = _features("330000.json"), _features("china.json")
    for feature, (lon, lat) in ((zj["330100"], (120.16, 30.27)), (zj["330900"], (122.2, 30.0)),
                                (cn["330000"], (120.16, 30.27)), (cn["650000"], (87.6, 43.8))):  # fmt: skip
        west, south, east, north = _bbox(feature)
        assert west < lon < east and south < lat < north, (feature["properties"]["name"], west, south, east, north)
    west, south, east, north = _bbox(cn["330000"])
    assert 118 < west < 119 and 122 < east < 124 and 27 < south < 28 and 31 < north < 32


@pytest.mark.django_db
def test_losses_are_summed_by_province_with_out_of_province_suppliers():
    regions = [
        {"code": "330100", "name": "杭州市", "baseline": 100.0, "lost_output": 40.0},
        {"code": "330200", "name": "宁波市", "baseline": 50.0, "lost_output": 10.5},
        {"code": "310100", "name": "上海市", "baseline": 20.0, "lost_output": 3.0},  # a municipality's districts
        {"code": "320500", "name": "苏州市", "baseline": 10.0, "lost_output": 1.0},
        {"code": "320200", "name": "无锡市", "baseline": 5.0, "lost_output": 0.0},
        {"code": ABROAD, "name": "境外/未知 / abroad or unknown", "baseline": 9.0, "lost_output": 2.0},
    ]
    maps = loss_maps(regions, "330000")
    assert maps["china"] == [
        {"code": "310000", "name": "上海市", "lost": 3.0, "baseline": 20.0},
        {"code": "320000", "name": "江苏省", "lost": 1.0, "baseline": 15.0},
        {"code": "330000", "name": "浙江省", "lost": 50.5, "baseline": 150.0},
    ]
    assert maps["abroad"] == 2.0
    assert maps["province"]["name"] == "浙江省"
    assert [(r["code"], r["name"], r["lost"]) for r in maps["province"]["data"]] == [("330100", "杭州市", 40.0), ("330200", "宁波市", 10.5)]
    # a run of a province without a shipped prefecture map gets the China map only
    assert loss_maps(regions, "320000")["province"] is None


def test_a_municipality_supplier_is_named_after_the_municipality(two_cities, make_enterprise):
    from decimal import Decimal

    from gulian.risk import runs
    from tests.conftest import make_link
    from tests.risk.scenario_fixtures import NINGBO_LOCKDOWN, with_values

    ns = with_values(two_cities)
    shanghai = make_enterprise("310115", "上海芯片有限公司", baseline_output=Decimal("2920000"))
    make_link(shanghai, ns.nb_firm, "芯片", annual_value=Decimal("730000"), inventory_days=Decimal("10"))
    scenario = runs.create_scenario(ns.province, name="宁波封控", spec=NINGBO_LOCKDOWN)
    run = runs.execute(runs.queue_run(ns.province, scenario).pk, heartbeat=False)
    by_code = {r["code"]: r for r in run.result["regions"]}
    # Shanghai's districts hang from 310000 directly: the pseudo-prefecture 310100 takes its name
    assert by_code["310100"]["name"] == "上海市" and by_code["310100"]["lost_output"] > 0
    maps = loss_maps(run.result["regions"], "330000")
    assert {p["code"]: p["name"] for p in maps["china"]} == {"310000": "上海市", "330000": "浙江省"}
