"""The demo's daily dispatch data: deterministic, calibrated to the published Zhejiang curve, planted cases.

The generator is checked on its arrays (a small registry read from the database), then the loaded
data through the dispatch app's own metrics, held-back list and anomaly list.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from gulian.core import audit
from gulian.core.models import AuditRecord, User
from gulian.demo import dispatch as gen
from gulian.demo import dispatch_curves as cv
from gulian.demo import dispatch_load
from gulian.demo import dispatch_notes as notes
from gulian.dispatch import heldback, metrics, power
from gulian.dispatch.models import (
    Blocker,
    DailyReport,
    DailyReportVersion,
    PowerMeter,
    PowerReading,
    RegionDay,
)

REGISTRY = ["--enterprises", "2000", "--links", "8000"]
END = "2020-03-31"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def run_demo(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def registry(db, settings):
    """The small demo registry without dispatch data; returns the generator inputs and enterprise ids."""
    settings.DEMO = True
    run_demo(*REGISTRY, "--no-dispatch")
    return dispatch_load.read_inputs()


def rate(mask: np.ndarray, of: np.ndarray) -> float:
    return mask[of].sum() / of.sum()


def test_generator_imports_no_django():
    code = ("import sys, gulian.demo.dispatch, gulian.demo.dispatch_days; "
            "print(sorted(m for m in sys.modules if m.startswith('django')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_blocker_bits_are_the_models():
    assert notes.BITS == tuple(int(b) for b in Blocker)


def test_plan_is_deterministic(registry):
    inputs, _ids = registry
    a, b = gen.plan(inputs, seed=7, end=END), gen.plan(inputs, seed=7, end=END)
    assert a.fingerprint == b.fingerprint
    assert np.array_equal(a.u_reported, b.u_reported) and np.array_equal(a.reports, b.reports)
    assert gen.plan(inputs, seed=8, end=END).fingerprint != a.fingerprint


def test_plan_follows_the_published_curve(registry):
    inputs, _ids = registry
    p = gen.plan(inputs, seed=2020, end=END)
    home, above = inputs.home, inputs.above

    def resumed(day: int, group: np.ndarray) -> float:
        reporting = p.reports[:, day] & group
        return rate(p.resumed_day <= day, reporting)

    def weighted(day: int) -> float:
        w = inputs.output * (p.reports[:, day] & home)
        return float((w * p.u_reported[:, day]).sum() / w.sum())

    assert 0.30 <= resumed(cv.DAY_FEB10, home & above) <= 0.50
    assert 0.85 <= resumed(cv.DAY_FEB17, home & above) <= 0.95
    assert resumed(cv.DAY_FEB24, home & above) >= 0.99
    assert resumed(cv.DAY_FEB17, home & ~above) < resumed(cv.DAY_FEB17, home & above) - 0.25  # smaller firms later
    assert weighted(cv.DAY_MAR7) == pytest.approx(1.0, abs=0.03)
    assert weighted(cv.DAY_FEB10) < 0.5
    # Hubei's suppliers reopen from mid-March
    hubei = inputs.in_hubei
    if hubei.any():
        assert rate(p.resumed_day <= 29, hubei) < 0.5
    # firms that depend on Hubei or foreign inputs resume later than the others of their group
    exposure = p.params["hubei"] + p.params["foreign"]
    plain = home & above & ~p.params["continuous"]
    assert p.resumed_day[plain & (exposure > 0.3)].mean() > p.resumed_day[plain & (exposure == 0)].mean() + 1


def test_plan_plants_held_back_owners_and_anomalies(registry):
    inputs, _ids = registry
    p = gen.plan(inputs, seed=2020, end=END)
    n_home = int(inputs.home.sum())
    assert len(p.held_back) == max(3, round(n_home * 20 / 20_000))
    assert len(p.anomalies) == max(5, round(n_home * 50 / 20_000))
    for hb in p.held_back:
        assert inputs.role[hb.owner] == gen.OWNER
        assert p.reports[hb.owner].all() and p.reports[hb.suppliers].all()
        for s, shut in zip(hb.suppliers, hb.shut, strict=True):
            if shut:
                assert p.resumed_day[s] > cv.DAY_MAR7 - 5  # still shut in March
            else:
                assert (p.u_reported[s, cv.DAY_FEB24:min(hb.until, p.days)] < gen.THRESHOLD).all()
    idle = p.params["idle"]
    for a in p.anomalies:
        span = slice(a.start, a.end + 1)
        meter_sees = idle[a.firm] + (1 - idle[a.firm]) * p.u_power[a.firm, span]
        assert (np.abs(p.u_reported[a.firm, span] - meter_sees) > 0.3).all()


def test_loaded_demo_through_the_metrics(registry, settings):
    """Dispatch data added to an existing demo; figures, lists, versions, audit; --reset regenerates it alike."""
    inputs, ids = registry
    out = run_demo(*REGISTRY, "--dispatch-end", END)
    assert "演示数据已存在" in out and "日调度演示数据已生成" in out
    p = gen.plan(inputs, seed=2020, end=END)
    assert DailyReport.objects.count() == p.counts["reports"] == p.reports.sum()
    assert PowerMeter.objects.count() == p.params["meter"].sum()
    assert PowerReading.objects.filter(date=dt.date(2019, 3, 7)).exists()  # same period last year
    assert PowerReading.objects.filter(date=dt.date(2019, 12, 20)).exists()  # pre-disruption window
    assert RegionDay.objects.filter(date=dt.date(2020, 3, 31)).exists()

    zj = User.objects.get(username="zj_taskforce")
    start = dt.date.fromisoformat(cv.START)

    def on(offset: int) -> dt.date:
        return start + dt.timedelta(days=offset)

    assert 0.30 <= metrics.overview(zj, on(cv.DAY_FEB10), above_size=True).resumption_rate <= 0.50
    assert metrics.overview(zj, on(cv.DAY_FEB24), above_size=True).resumption_rate >= 0.99
    mar7 = metrics.overview(zj, on(cv.DAY_MAR7))
    assert mar7.utilisation == pytest.approx(1.0, abs=0.05)
    assert 85 <= mar7.power_index <= 115
    assert 0.9 <= mar7.reporting_rate <= 1.0 and mar7.late > 0

    shut = {ids[s] for hb in p.held_back for s, closed in zip(hb.suppliers, hb.shut, strict=True) if closed}
    listed = {r.supplier_id for r in heldback.held_back(zj, on(cv.DAY_MAR7), status="not_resumed")}
    assert shut and shut <= listed
    owners = {ids[hb.owner] for hb in p.held_back}
    assert owners <= {r.owner_id for r in heldback.held_back(zj, on(cv.DAY_MAR7))}

    a = p.anomalies[0]
    found = {x.enterprise_id: x for x in power.anomalies(zj, on(a.start))}
    assert ids[a.firm] in found and abs(found[ids[a.firm]].gap) > 0.3

    corrected = DailyReport.objects.filter(version=2).first()
    versions = list(DailyReportVersion.objects.filter(report=corrected).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].data["utilisation"] == f"{corrected.utilisation:.3f}"
    assert versions[0].submitted_at < versions[1].submitted_at
    late = DailyReport.objects.filter(late=True).first()
    local = timezone.localtime(late.submitted_at)
    assert local.date() > late.date or local.time() > dt.time(17, 0)

    records = AuditRecord.objects.filter(action=dispatch_load.AUDIT_ACTION)
    assert set(records.values_list("model", flat=True)) == {
        "dispatch.DailyReport", "dispatch.DailyReportVersion", "dispatch.PowerMeter", "dispatch.PowerReading"}
    fingerprint = records.get(model="dispatch.DailyReport").after["fingerprint"]
    assert fingerprint == p.fingerprint
    assert list(audit.verify()) == []

    out = run_demo("--reset", *REGISTRY, "--dispatch-end", END)
    assert "dispatch.DailyReport" in out
    assert AuditRecord.objects.filter(action=dispatch_load.AUDIT_RESET, model="dispatch.DailyReport").get().before == {
        "count": int(p.reports.sum())}
    again = AuditRecord.objects.filter(action=dispatch_load.AUDIT_ACTION, model="dispatch.DailyReport").latest("seq")
    assert again.after["fingerprint"] == fingerprint  # regenerated from the seed, identical
    assert DailyReport.objects.count() == p.reports.sum()


def test_documented():
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    demo = cli.split("## gulian demo", 1)[1].split("\n## ", 1)[0]
    for option in ("--dispatch", "--no-dispatch", "--dispatch-start", "--dispatch-end"):
        assert option in demo
    guide = (DOCS / "demo.md").read_text(encoding="utf-8")
    assert "日调度" in guide and "2020-05-31" in guide
    assert "## 演示数据 / Demo data" in (DOCS / "dispatch.md").read_text(encoding="utf-8")
