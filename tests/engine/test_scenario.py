"""Scenario files: YAML/JSON parsing, errors, and shock timing (docs/engine/propagate.md)."""

import json

import numpy as np
import pytest

from gulian.engine.network import from_arrays
from gulian.engine.scenario import (
    FirmStop,
    Lockdown,
    Recovery,
    Scenario,
    ScenarioError,
    ShockClock,
    capacity_shocks,
    load_scenario,
    shock_path,
)

YAML = """
name: 杭州封控
steps: 30
lockdowns:
  - {region_prefix: "3301", days: 14, capacity_loss: 0.7, start: 2}
firm_stops:
  - {firm: "F9", capacity_loss: 1.0}
link_cuts:
  - {supplier: "F1", customer: "F2", days: 3}
recovery: {kind: proportional, days: 10, delay: 1}
"""


def test_yaml_json_and_dict_agree(tmp_path):
    a = load_scenario(YAML)
    assert a.lockdowns == (Lockdown("3301", 14, 0.7, 2),)
    assert a.recovery == Recovery("proportional", 10, 1) and a.steps == 30
    b = load_scenario(json.dumps(a.to_dict(), ensure_ascii=False))
    path = tmp_path / "s.yaml"
    path.write_text(YAML, encoding="utf-8")
    assert a == b == load_scenario(path) == load_scenario(str(path)) == load_scenario(a.to_dict())


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("lockdowns: [{region_prefix: '33x', days: 3, capacity_loss: 0.5}]", "lockdowns[0].region_prefix"),
        ("lockdowns: [{region_prefix: '33', days: 3, capacity_loss: 1.5}]", "lockdowns[0].capacity_loss"),
        ("lockdowns: [{region_prefix: '33', capacity_loss: 0.5}]", "lockdowns[0].days"),
        ("firm_stops: [{firm: 1, start: -1}]", "firm_stops[0].start"),
        ("recovery: {kind: slow}", "recovery.kind"),
        ("recovery: {kind: uniform}", "recovery.days"),
        ("steps: ten", "steps"),
        ("colour: red", "scenario"),
        ("[1, 2]", "scenario"),
        ("lockdowns: {a: 1}", "lockdowns"),
        ("name: [unclosed", "scenario"),
    ],
)
def test_bad_input_names_the_field(text, field):
    with pytest.raises(ScenarioError) as err:
        load_scenario(text)
    assert str(err.value).startswith(field + ":") and " / " in str(err.value)


def test_missing_file():
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario("/nonexistent/s.yaml")


def net():
    return from_arrays([0, 1], [1, 2], [1.0, 1.0], sector=[0, 0, 0], region=[330102, 330201, 110101],
                       firm_ids=["F0", "F1", "F2"])


def test_resolution_and_unknown_firm():
    sh = capacity_shocks(net(), Scenario(lockdowns=(Lockdown("3301", 3, 0.5),), firm_stops=(FirmStop("F2"),)))
    assert sh.firm.tolist() == [0, 2]
    with pytest.raises(ScenarioError, match="F7"):
        capacity_shocks(net(), Scenario(firm_stops=(FirmStop("F7"),)))


@pytest.mark.parametrize(
    ("recovery", "expected"),
    [
        (Recovery("none"), [0, 0.8, 0.8, 0.8, 0, 0, 0]),  # a 3-day lockdown simply ends
        (Recovery("immediate", 1, 1), [0, 0.8, 0.8, 0.8, 0.8, 0, 0]),
        (Recovery("proportional", 4), [0, 0.8, 0.8, 0.8, 0.6, 0.4, 0.2]),
        (Recovery("uniform", 2), [0, 0.8, 0.8, 0.8, 0.3, 0, 0]),
        (Recovery("exponential", 2), [0, 0.8, 0.8, 0.8] + [0.8 * np.exp(-k / 2) for k in (2, 3, 4)]),
    ],
)
def test_shock_paths_closed_form_and_clock_agree(recovery, expected):
    sh = capacity_shocks(net(), Scenario(lockdowns=(Lockdown("330102", days=3, capacity_loss=0.8, start=1),), recovery=recovery))
    clock = ShockClock(sh, 3)
    for t, want in enumerate(expected):
        assert shock_path(sh, t)[0] == pytest.approx(want, abs=1e-12)
        assert clock.today(t)[0] == pytest.approx(want, abs=1e-12)
        clock.end_of_day(t)
