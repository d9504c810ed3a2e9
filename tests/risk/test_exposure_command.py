"""``gulian risk exposure`` on a small registry (conftest's two_cities), values computed by hand.

Network (yuan per day): 宁波丙公司 (nb) → 杭州甲公司 (hz, the owner of chain "auto") 0.5 M, with 5 days
of stock at hz; 杭州乙公司 (hz2) → nb 0.25 M (3 days); Murata (foreign) → nb 0.25 M (10 days). hz sells
1 M/day to final demand. With ``--substitution link --spare 0`` nothing replaces a lost input but stock:

* nb stops: hz runs 5 days → TTS 5; TTR 20 (survey) → short 15; PI = 1 M · 15 = 15 M;
* hz2 stops: nb runs 3 days, then hz 5 more → TTS 8; TTR = industry 39's default (60) → short 52;
* Murata stops: 10 + 5 → TTS 15; TTR = 30 (no industry: the fallback) → short 15;
* hz (the owner) stops: TTS 0; TTR 30 → short 30.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gulian.core.models import Role
from gulian.engine.exposure import load_ttr_defaults
from gulian.risk.models import RiskItem, RiskSource

MILLION_A_DAY = Decimal(365_000_000)


def run(*args) -> str:
    out = StringIO()
    call_command("risk", "exposure", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def world(two_cities):
    ns = two_cities
    ns.hz_firm.baseline_output = MILLION_A_DAY
    ns.nb_firm.baseline_output = MILLION_A_DAY / 2
    ns.nb_firm.recovery_days = 20
    ns.hz_firm2.industry_id = "39"
    for firm in (ns.hz_firm, ns.nb_firm, ns.hz_firm2):
        firm.save()
    for link, value, days in ((ns.hz_link, 2, 5), (ns.nb_link, 4, 3), (ns.foreign_link, 4, 10)):
        link.annual_value = MILLION_A_DAY / value
        link.inventory_days = Decimal(days)
        link.save()
    return ns


def rows(path) -> dict[str, dict]:
    with path.open(encoding="utf-8-sig") as fh:
        return {r["企业"]: r for r in csv.DictReader(fh)}


def test_exposure_ranks_by_hand_computed_tts_and_ttr(world, tmp_path):
    ns = world
    path = tmp_path / "exposure.csv"
    text = run("--user", ns.province.username, "--substitution", "link", "--spare", "0", "--out", str(path))
    assert "4 家企业 TTS < TTR" in text
    got = rows(path)
    assert float(got["宁波丙公司"]["生存天数TTS"]) == pytest.approx(5.0)
    assert float(got["宁波丙公司"]["恢复天数TTR"]) == 20 and got["宁波丙公司"]["TTR来源"] == "调查"
    assert float(got["宁波丙公司"]["缺口天数"]) == pytest.approx(15.0)
    assert float(got["宁波丙公司"]["预计损失"]) == pytest.approx(15e6, rel=1e-6)
    assert float(got["杭州乙公司"]["生存天数TTS"]) == pytest.approx(8.0)
    assert float(got["杭州乙公司"]["恢复天数TTR"]) == load_ttr_defaults()["39"]
    assert got["杭州乙公司"]["TTR来源"] == "行业默认"
    assert float(got["Murata Manufacturing"]["生存天数TTS"]) == pytest.approx(15.0)
    assert float(got["Murata Manufacturing"]["恢复天数TTR"]) == 30
    assert float(got["杭州甲公司"]["生存天数TTS"]) == 0
    # REI = PI / max PI: hz2 loses 52 days of 1 M, the most.
    assert got["杭州乙公司"]["排名"] == "1" and float(got["杭州乙公司"]["暴露指数REI"]) == 1.0
    assert got["宁波丙公司"]["受影响链主"] == "杭州甲公司"


def test_known_alternative_lengthens_tts(world, tmp_path):
    ns = world
    ns.hz_link.alternatives_known = True
    ns.hz_link.save()
    path = tmp_path / "exposure.csv"
    run("--user", ns.province.username, "--substitution", "link", "--spare", "0", "--out", str(path))
    # hz gets half its battery flow elsewhere: p ≤ 0.5 t + 5 and p = t → TTS 10 (< TTR 20, still flagged).
    assert float(rows(path)["宁波丙公司"]["生存天数TTS"]) == pytest.approx(10.0)


def test_network_scope_and_xlsx(world, tmp_path):
    ns = world
    path = tmp_path / "exposure.xlsx"
    text = run("--user", ns.province.username, "--scope", "network", "--substitution", "link", "--spare", "0",
               "--top", "2", "--out", str(path))  # fmt: skip
    assert path.stat().st_size > 0
    assert "lp-network" in text
    assert len([line for line in text.splitlines() if line.startswith("!")]) == 2


def test_create_items_puts_flagged_nodes_on_the_list(world):
    ns = world
    run("--user", ns.province.username, "--substitution", "link", "--spare", "0", "--create-items")
    items = RiskItem.objects.filter(source=RiskSource.EXPOSURE)
    # the owner's own stop is ranked (TTS 0) but is no supply risk item
    assert {i.enterprise_id for i in items} == {ns.nb_firm.pk, ns.hz_firm2.pk, ns.foreign_firm.pk}
    nb_item = items.get(enterprise=ns.nb_firm)
    assert nb_item.region_id == "330000" and nb_item.chain_id == ns.chain.pk
    assert nb_item.days_to_impact == 5 and nb_item.evidence["shortage"] == pytest.approx(15.0)
    assert list(nb_item.affected_owners.all()) == [ns.hz_firm]
    assert items.get(enterprise=ns.foreign_firm).overseas_dependence
    # re-running updates, it does not duplicate
    run("--user", ns.province.username, "--substitution", "link", "--spare", "0", "--create-items")
    assert RiskItem.objects.filter(source=RiskSource.EXPOSURE).count() == 3


def test_scope_and_permissions(world, make_user):
    ns = world
    with pytest.raises(CommandError, match="不在该用户的范围内"):
        run("--user", ns.hz.username, "--region", "330200")
    with pytest.raises(CommandError, match="不在该用户的范围内"):
        run("--user", ns.hz.username, "--chain", "no-such-chain")
    with pytest.raises(CommandError, match="仅专班"):
        run("--user", ns.liaison_hz.username, "--create-items")
    assert not RiskItem.objects.exists()
    with pytest.raises(CommandError, match="no such user"):
        run("--user", "nobody")
    with pytest.raises(CommandError, match=".csv"):
        run("--out", "x.txt")


def test_a_user_without_visible_chains_gets_a_clear_error(world, make_user):
    other = make_user(Role.TASKFORCE, "110000")  # Beijing: sees no Zhejiang chain
    with pytest.raises(CommandError, match="no final demand|no chain"):
        run("--user", other.username)
