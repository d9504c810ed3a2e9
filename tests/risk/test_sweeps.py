"""Scenario sweeps: the variant grid, and the same table from this process, local processes and Ray."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from django.core.management import call_command

from gulian.engine.generate import chung_lu
from gulian.engine.scenario import load_scenario
from gulian.risk import sweeps
from tests.risk.scenario_fixtures import NINGBO_LOCKDOWN, with_values


@pytest.fixture
def chain_net(two_cities):
    """two_cities with link values and inventories (tests/risk/scenario_fixtures.py)."""
    return with_values(two_cities)


BASE = {
    "name": "base",
    "lockdowns": [{"region_prefix": "3301", "days": 7, "capacity_loss": 0.8, "start": 2}],
    "firm_stops": [{"firm": 3, "days": 5}],
    "recovery": {"kind": "proportional", "days": 10},
    "steps": 25,
}


def _network():
    net = chung_lu(200, 800, 4, rng=np.random.default_rng(7))
    net.region[:] = np.where(np.arange(200) % 3 == 0, 330100, 330200)
    return net


def test_variants_are_the_region_by_length_grid():
    base = load_scenario(BASE)
    grid = sweeps.variants(base, lockdown_days=[7, 14], regions=["3301", "3302"])
    assert [v.name for v in grid] == ["base:3301×7d", "base:3301×14d", "base:3302×7d", "base:3302×14d"]
    last = grid[-1].scenario
    (lock,) = last.lockdowns
    assert (lock.region_prefix, lock.days, lock.capacity_loss, lock.start) == ("3302", 14, 0.8, 2)
    assert last.firm_stops == base.firm_stops and last.recovery == base.recovery and last.steps == 25
    only_days = sweeps.variants(base, lockdown_days=[3])
    assert [lk.region_prefix for lk in only_days[0].scenario.lockdowns] == ["3301"] and only_days[0].lockdown_days == 3
    with pytest.raises(ValueError):
        sweeps.variants(base, regions=["33a"])


def test_local_processes_give_the_in_process_table():
    net, base = _network(), load_scenario(BASE)
    grid = sweeps.variants(base, lockdown_days=[3, 21], regions=["3301", "3302"])
    watch = np.arange(0, 200, 10)
    here = sweeps.run_sweep(net, grid, watch=watch, workers=1)
    pool = sweeps.run_sweep(net, grid, watch=watch, workers=2)
    assert pool == here
    assert [r["variant"] for r in here] == [v.name for v in grid]
    # a longer lockdown of the same region loses more output
    assert here[1]["lost_output"] > here[0]["lost_output"] > 0
    assert here[3]["lost_output"] > here[2]["lost_output"] > 0


def _sweep(tmp_path, ns, name, monkeypatch, ray=None):
    spec = tmp_path / "base.yaml"
    spec.write_text(json.dumps(NINGBO_LOCKDOWN, ensure_ascii=False), encoding="utf-8")
    if ray:
        monkeypatch.setenv("GULIAN_RAY_ADDRESS", ray)
    else:
        monkeypatch.delenv("GULIAN_RAY_ADDRESS", raising=False)
    out = tmp_path / name
    call_command("risk", "sweep", "--scenario", str(spec), "--lockdown-days", "3,14", "--regions", "3302,3301",
                 "--workers", "2", "--user", ns.province.username, "--out", str(out))  # fmt: skip
    return out


def test_cli_sweep_in_local_processes_and_on_ray_give_the_same_table(chain_net, tmp_path, monkeypatch):
    ns = chain_net
    local = _sweep(tmp_path, ns, "local.csv", monkeypatch)
    rows = list(csv.DictReader(local.open(encoding="utf-8-sig")))
    assert [r["variant"] for r in rows] == ["宁波封控:3302×3d", "宁波封控:3302×14d", "宁波封控:3301×3d", "宁波封控:3301×14d"]
    by = {r["variant"]: r for r in rows}
    # 3 days of Ningbo lockdown are bridged by the owner's 5 days of stock; 14 days are not
    assert by["宁波封控:3302×3d"]["owners_stalled"] == "0"
    assert by["宁波封控:3302×14d"]["owners_stalled"] == "1" and by["宁波封控:3302×14d"]["earliest_stall_day"] == "5"
    assert by["宁波封控:3302×14d"]["earliest_owner"] == "杭州甲公司"
    assert by["宁波封控:3301×14d"]["earliest_stall_day"] == "0"  # the owner itself is in Hangzhou
    on_ray = _sweep(tmp_path, ns, "ray.csv", monkeypatch, ray="local")
    assert on_ray.read_text(encoding="utf-8-sig") == local.read_text(encoding="utf-8-sig")
    as_json = json.loads(sweeps.write_table([dict(r) for r in rows], tmp_path / "t.json").read_text(encoding="utf-8"))
    assert as_json[0]["variant"] == "宁波封控:3302×3d" and list(as_json[0]) == list(sweeps.COLUMNS)

