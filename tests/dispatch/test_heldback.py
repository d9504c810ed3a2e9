"""The held-back list on a small hand-built chain: exact rows, days, shares, scope, export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from gulian.core.models import Role
from gulian.dispatch import heldback
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership
from tests.conftest import make_link
from tests.dispatch.metrics_fixtures import D, day, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(make_enterprise, make_user):
    """Owner O (Xihu) of chain 汽车; core K1 (Xihu) and K2 (Ningbo); tier-1 T (Xiaoshan, not a member).

    K1: fine on D−3 (0.85), then 0.6, 0.5, 0.7 → below the 80 % threshold since D−2: 3 days.
    K2: not resumed on D−1 and D, no earlier report → 2 days, since D−1.
    T:  resumed at 0.95 on D → not on the list.
    Purchases of O: K1 600, K2 300, T 100 → value shares 0.6 and 0.3.
    """

    class C:
        pass

    c = C()
    c.o = make_enterprise("330106", "链主O")
    c.k1 = make_enterprise("330106", "核心K1")
    c.k2 = make_enterprise("330203", "核心K2")
    c.t = make_enterprise("330110", "一级T")
    c.chain = Chain.objects.create(code="auto", name="汽车", region_id="330000")
    Membership.objects.create(enterprise=c.o, chain=c.chain, role=MemberRole.OWNER)
    Membership.objects.create(enterprise=c.k1, chain=c.chain, role=MemberRole.CORE)
    Membership.objects.create(enterprise=c.k2, chain=c.chain, role=MemberRole.CORE)
    make_link(c.k1, c.o, "电池", share=Decimal("0.6"), annual_value=Decimal(600))
    make_link(c.k2, c.o, "电机", share=Decimal("0.3"), annual_value=Decimal(300))
    make_link(c.t, c.o, "外壳", share=Decimal("1"), annual_value=Decimal(100))
    for offset, util in ((-3, "0.85"), (-2, "0.6"), (-1, "0.5"), (0, "0.7")):
        report(c.k1, day(offset), util=util)
    report(c.k2, day(-1), resumed=False, util="0")
    report(c.k2, D, resumed=False, util="0")
    report(c.t, D, util="0.95")
    report(c.o, D, util="0.5")  # the owner's own state does not put it on its own list
    c.province = make_user(Role.TASKFORCE, "330000")
    c.hz = make_user(Role.TASKFORCE, "330100")
    c.nb = make_user(Role.TASKFORCE, "330200")
    return c


def _summary(rows):
    return [
        (r.owner_name, r.chain_code, r.supplier_name, r.relation, r.scope, r.status, r.utilisation, r.share,
         r.value_share, r.days, r.since, r.last_report, r.appeal_open, r.risk_open)
        for r in rows
    ]  # fmt: skip


def test_exact_rows(chain):
    rows = heldback.held_back(chain.province, D)
    assert _summary(rows) == [
        ("链主O", "auto", "核心K1", "core", "city", "below", 0.7, 0.6, 0.6, 3, day(-2), D, False, False),
        ("链主O", "auto", "核心K2", "core", "province", "not_resumed", 0.0, 0.3, 0.3, 2, day(-1), D, False, False),
    ]
    assert rows[0].status_label == "未达产" and rows[1].scope_label == "省内" and rows[0].input_categories == "电池"


def test_missing_reports_and_foreign_suppliers(chain):
    t2 = Enterprise.objects.create(uscc=None, name="Bosch", country="DE")
    make_link(t2, chain.o, "芯片")  # foreign, no report: not asked to report, so not listed
    from tests.conftest import next_uscc

    silent = Enterprise.objects.create(uscc=next_uscc("330106"), name="一级S", region_id="330106")
    make_link(silent, chain.o, "螺栓", share=Decimal("0.2"))
    report(silent, day(-1), util="0.9")  # fine yesterday, nothing today → 未报送 for 1 day
    rows = {r.supplier_name: r for r in heldback.held_back(chain.province, D)}
    assert set(rows) == {"核心K1", "核心K2", "一级S"}
    s = rows["一级S"]
    assert (s.relation, s.status, s.days, s.since, s.utilisation, s.last_report) == ("tier1", "missing", 1, D, None, day(-1))
    assert s.value_share is None  # no annual value on that link


def test_sorting_and_filters(chain):
    by_share = heldback.held_back(chain.province, D, sort="share")
    assert [r.supplier_name for r in by_share] == ["核心K1", "核心K2"]
    assert [r.supplier_name for r in heldback.held_back(chain.province, D, sort="-days")] == ["核心K2", "核心K1"]
    assert [r.supplier_name for r in heldback.held_back(chain.province, D, scope="province")] == ["核心K2"]
    assert [r.supplier_name for r in heldback.held_back(chain.province, D, status="below")] == ["核心K1"]
    assert [r.supplier_name for r in heldback.held_back(chain.province, D, region="330200")] == ["核心K2"]
    assert heldback.held_back(chain.province, D, owner=chain.k1.pk) == []
    assert len(heldback.held_back(chain.province, D, chain="auto")) == 2
    assert len(heldback.held_back(chain.province, D, threshold=0.65)) == 1  # K1's 0.7 now counts as recovered
    with pytest.raises(Http404):
        heldback.held_back(chain.province, D, chain="nothing")


def test_scope(chain):
    hz = heldback.held_back(chain.hz, D)
    # K2's figure stays in Ningbo; its status and days are shown
    assert [(r.supplier_name, r.utilisation, r.visible, r.status, r.days) for r in hz] == [
        ("核心K1", 0.7, True, "below", 3),
        ("核心K2", None, False, "not_resumed", 2),
    ]
    assert heldback.held_back(chain.nb, D) == []  # the owner is in Hangzhou
    with pytest.raises(Http404):
        heldback.held_back(chain.hz, D, owner_region="330200")


def test_open_item_hooks(chain, monkeypatch):
    assert heldback.open_items_for([chain.k1.pk]) == {"appeal": set(), "risk": set()}
    monkeypatch.setitem(heldback.OPEN_ITEM_SOURCES, "appeal", lambda ids: {chain.k2.pk} & ids)
    rows = heldback.held_back(chain.province, D)
    assert [(r.appeal_open, r.risk_open) for r in rows] == [(False, False), (True, False)]  # both apps connected


def test_queries_do_not_grow_with_owners(chain, make_enterprise):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            heldback.held_back(chain.province, D)
        return len(ctx.captured_queries)

    before = count()
    for n in range(3):
        owner = make_enterprise("330106", f"链主{n}")
        Membership.objects.create(enterprise=owner, chain=chain.chain, role=MemberRole.OWNER)
        supplier = make_enterprise("330106", f"配套{n}")
        make_link(supplier, owner, "件")
        report(supplier, D, resumed=False, util="0")
    assert len(heldback.held_back(chain.province, D)) == 5
    assert count() == before


def test_export_opens_in_a_spreadsheet_reader(chain):
    data = heldback.export_xlsx(heldback.held_back(chain.province, D), D)
    frame = pl.read_excel(data, engine="calamine", read_options={"header_row": 1})
    assert frame.columns[:3] == ["链主企业", "产业链", "配套企业"]
    assert frame.height == 2
    assert frame["配套企业"].to_list() == ["核心K1", "核心K2"]
    assert frame["状态"].to_list() == ["未达产", "未复工"]
    assert frame["持续天数"].to_list() == [3, 2]
    assert frame["问题起始日"].to_list() == ["2020-02-18", "2020-02-19"]
    assert dt.date.fromisoformat(frame["最近报送日"][0]) == D
