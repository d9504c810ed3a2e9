"""``gulian risk screen`` on a small registry (conftest's two_cities)."""

from __future__ import annotations

import csv
import importlib.util
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gulian.core.models import Role
from gulian.risk.commands import screen as screen_command


def run(*args) -> str:
    out = StringIO()
    call_command("risk", "screen", *args, stdout=out)
    return out.getvalue()


def test_screen_finds_the_chokepoint_and_writes_csv(two_cities, tmp_path):
    ns = two_cities
    path = tmp_path / "screen.csv"
    text = run("--user", ns.province.username, "--out", str(path))
    # the owner 杭州甲公司 buys only from 宁波丙公司: a tier-1 chokepoint and a single source
    assert "链主 1 家" in text and "断点 1 个" in text
    first = text.splitlines()[1]
    assert "1. 宁波丙公司" in first and "chokepoint" in first
    assert "链主 杭州甲公司（第 1 层，断点" in text and "宁波丙公司 → 杭州甲公司" in text
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["企业"] == "宁波丙公司" and rows[0]["断点所在链主"] == "杭州甲公司"
    assert int(rows[0]["企业ID"]) == ns.nb_firm.pk
    assert {r["企业"] for r in rows} >= {"宁波丙公司", "Murata Manufacturing"}


def test_screen_xlsx_and_options(two_cities, tmp_path):
    ns = two_cities
    path = tmp_path / "screen.xlsx"
    text = run("--user", ns.province.username, "--chain", "auto", "--k", "1", "--top", "1",
               "--high-risk", "3302", "--out", str(path))  # fmt: skip
    assert path.read_bytes()[:2] == b"PK"
    assert text.count("元/日  [") == 1  # --top 1
    assert "高风险地区" in text  # 宁波丙公司 lies in 330203


def test_screen_rejects_bad_options(two_cities, tmp_path):
    ns = two_cities
    with pytest.raises(CommandError, match="csv"):
        run("--user", ns.province.username, "--out", str(tmp_path / "x.txt"))
    with pytest.raises(CommandError, match="范围"):
        run("--user", ns.hz.username, "--region", "330200")  # Ningbo is outside Hangzhou's scope
    with pytest.raises(CommandError, match="k"):
        run("--user", ns.province.username, "--k", "0")
    with pytest.raises(CommandError, match="GB/T 2260"):
        run("--user", ns.province.username, "--high-risk", "wuhan")


def test_screen_sees_only_the_users_chains(two_cities, make_user):
    jiangsu = make_user(Role.TASKFORCE, "320000")
    text = run("--user", jiangsu.username)
    assert "链主 0 家" in text and "宁波丙公司" not in text and "杭州甲公司" not in text


@pytest.mark.skipif(importlib.util.find_spec("gulian.risk.services") is None, reason="risk services not there yet")
def test_screen_creates_risk_items_once(two_cities):
    from gulian.risk.models import RiskItem

    ns = two_cities
    run("--user", ns.province.username, "--create-items")
    items = RiskItem.objects.filter(enterprise=ns.nb_firm, source="screen")
    assert items.count() == 1
    item = items.get()
    assert item.region_id == "330000" and item.chain == ns.chain and item.severity == "high"
    assert list(item.affected_owners.all()) == [ns.hz_firm]
    run("--user", ns.province.username, "--create-items")  # a re-run updates, it does not add
    assert RiskItem.objects.filter(enterprise=ns.nb_firm, source="screen").count() == 1
    # a city task force's run goes on its own list, which another city cannot read or change
    run("--user", ns.hz.username, "--create-items")
    hz_item = RiskItem.objects.get(enterprise=ns.nb_firm, region_id="330100")
    # Ningbo reads the provincial finding on its own firm, never Hangzhou's list, and changes neither
    assert list(RiskItem.objects.restrict(ns.nb, "view").filter(pk__in=[item.pk, hz_item.pk])) == [item]
    assert not RiskItem.objects.restrict(ns.nb, "change").filter(pk__in=[item.pk, hz_item.pk]).exists()
    assert RiskItem.objects.restrict(ns.hz, "change").filter(pk=hz_item.pk).exists()
    with pytest.raises(CommandError, match="专班"):
        run("--user", ns.liaison_hz.username, "--create-items")


def test_export_rows_follow_columns(two_cities):
    rn, result = screen_command.run_screen(two_cities.province)
    rows = screen_command.rows_for_export(rn, result)
    assert rows and set(rows[0]) >= {key for key, _ in screen_command.COLUMNS}
