"""Demo risk data: the screen's and the nowcast's risk items, and two scenarios with a finished run.

Runs after the registry and dispatch demo data are loaded, as the provincial task force
(``zj_taskforce``), through the same services as the pages and commands, so every item and
scenario is audited like a real one. Deterministic: the engine is, and so are the demo data.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from gulian.core.models import User

NOWCAST_DATE = dt.date(2020, 2, 20)
"""The nowcast's demo morning: a week after most plants reopened, while suppliers still lag."""

SCENARIOS = (
    (
        "湖北封控 76 天 / Hubei lockdown, 76 days",
        "武汉及湖北全省停工 90%，76 天后两周内按比例恢复；看浙江十条链的链主何时停产。",
        {"lockdowns": [{"region_prefix": "42", "start": 0, "days": 76, "capacity_loss": 0.9}],
         "recovery": {"kind": "proportional", "days": 14, "delay": 0}, "steps": 120},
    ),
    (
        "宁波封控 14 天 / Ningbo lockdown, 14 days",
        "宁波市停工 80% 两周，随后一周内恢复。",
        {"lockdowns": [{"region_prefix": "3302", "start": 0, "days": 14, "capacity_loss": 0.8}],
         "recovery": {"kind": "proportional", "days": 7, "delay": 0}, "steps": 60},
    ),
)


@dataclass
class RiskDemo:
    """What the demo step made, and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def load(with_nowcast: bool = True) -> RiskDemo:
    """Screen the province, nowcast ``NOWCAST_DATE`` and run the demo scenarios (module docstring)."""
    from gulian.risk import nowcasting, runs
    from gulian.risk.commands.screen import create_items as screen_items
    from gulian.risk.commands.screen import run_screen
    from gulian.risk.models import ScenarioRun

    user = User.objects.get(username="zj_taskforce")
    out = RiskDemo()
    t0 = time.perf_counter()
    rn, result = run_screen(user)
    out.counts["screen_items"] = len(screen_items(user, rn, result))
    out.seconds["screen"] = time.perf_counter() - t0

    if with_nowcast:
        t0 = time.perf_counter()
        prediction = nowcasting.compute(user, NOWCAST_DATE, use_cache=False)
        out.counts["nowcast_items"] = len(nowcasting.create_items(user, prediction))
        out.seconds["nowcast"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for name, description, spec in SCENARIOS:
        scenario = runs.create_scenario(user, name=name, spec=spec, description=description)
        run = runs.queue_run(user, scenario)
        runs.execute(run.pk, heartbeat=False)
    out.counts["scenario_runs_done"] = ScenarioRun.objects.filter(status="done").count()
    out.seconds["scenarios"] = time.perf_counter() - t0
    return out


def has_risk_data() -> bool:
    """True when the demo's risk step has run (a scenario exists)."""
    from gulian.risk.models import Scenario

    return Scenario.objects.exists()


def reset() -> dict[str, int]:
    """Delete the risk lists, scenarios and runs (before the registry they point at); the counts."""
    from gulian.risk.models import RiskItem, Scenario, ScenarioRun

    counts = {}
    for model in (RiskItem, ScenarioRun, Scenario):
        counts[model._meta.label] = model.objects.count()
        model.objects.all().delete()
    return counts
