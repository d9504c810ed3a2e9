"""Scenario runs (gulian.risk.runs): end to end on a small registry with the real engine."""

from __future__ import annotations

import datetime as dt
import os
import socket

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from gulian.core.models import AuditRecord
from gulian.core.services import OutOfScope
from gulian.risk import runs
from gulian.risk.models import RunStatus, ScenarioRun
from tests.risk.scenario_fixtures import NINGBO_LOCKDOWN, with_values


@pytest.fixture
def chain_net(two_cities):
    """two_cities with link values and inventories (tests/risk/scenario_fixtures.py)."""
    return with_values(two_cities)



def _run(ns, spec=NINGBO_LOCKDOWN, user=None):
    user = user or ns.province
    scenario = runs.create_scenario(user, name=spec.get("name", "情景"), spec=spec)
    return runs.queue_run(user, scenario)


def test_run_end_to_end_names_the_stalled_owner_and_the_cause(chain_net):
    ns = chain_net
    run = _run(ns)
    assert run.status == RunStatus.QUEUED and run.params["chains"] == [] and run.params["threshold"] == 0.9
    done = runs.execute(run.pk, heartbeat=False)
    assert done.status == RunStatus.DONE, done.error
    assert done.progress == 1.0 and done.started_at and done.finished_at
    res = done.result
    assert res["steps"] == 30 and res["firms"] == 4
    (owner,) = res["owners"]
    assert owner["enterprise"]["id"] == ns.hz_firm.pk and owner["enterprise"]["name"] == "杭州甲公司"
    assert owner["chains"] == ["auto"]
    # 5 days of battery stock at the owner: its output falls below 90% on day 5 (0-based)
    assert owner["stall_day"] == 5
    assert owner["direct"]["id"] == ns.nb_firm.pk and owner["root"]["id"] == ns.nb_firm.pk
    assert res["totals"]["owners_stalled"] == 1 and res["totals"]["earliest_stall_day"] == 5
    (chain,) = res["chains"]
    assert chain["code"] == "auto" and chain["curve"][0] == 100.0 and len(chain["curve"]) == 31
    assert chain["curve"][6] < chain["curve"][5] < 100  # the Ningbo member stops on day 0, the owner on day 5
    by_code = {r["code"]: r for r in res["regions"]}
    assert by_code["330200"]["lost_output"] > 0 and by_code["330100"]["lost_output"] > 0
    assert sum(r["lost_output"] for r in res["regions"]) == pytest.approx(res["totals"]["lost_output"], rel=1e-6)
    assert "worker" not in res
    assert done.pid == os.getpid() and done.host == socket.gethostname()[:100]
    assert done.started_at <= done.heartbeat_at <= done.finished_at
    models = set(AuditRecord.objects.filter(action="create").values_list("model", flat=True))
    assert {"risk.Scenario", "risk.ScenarioRun"} <= models


def test_progress_is_written_while_simulating(chain_net, monkeypatch):
    ns = chain_net
    run = _run(ns)
    seen = []
    monkeypatch.setattr(runs, "PROGRESS_SECONDS", 0.0)
    original = runs.Reporter.set

    def spy(self, progress, message, *, force=False):
        original(self, progress, message, force=force)
        seen.append(ScenarioRun.objects.values_list("progress", "heartbeat_at").get(pk=run.pk))

    monkeypatch.setattr(runs.Reporter, "set", spy)
    runs.execute(run.pk, heartbeat=False)
    progress = [p for p, _ in seen]
    assert progress == sorted(progress) and len(seen) > 30 and 0 < progress[len(seen) // 2] < 1
    beats = [b for _, b in seen]  # every progress write is also a heartbeat
    assert all(beats) and beats == sorted(beats) and beats[-1] > beats[0]


def test_a_failing_run_is_marked_failed_with_the_error(chain_net, make_enterprise):
    ns = chain_net
    outsider = make_enterprise("330106", "链外企业")  # registered, but in no chain's supply network
    spec = {**NINGBO_LOCKDOWN, "firm_stops": [{"firm": outsider.uscc}]}
    done = runs.execute(_run(ns, spec).pk, heartbeat=False)
    assert done.status == RunStatus.FAILED
    assert outsider.uscc in done.error and "not in the network" in done.error
    assert done.finished_at is not None and done.progress < 1


def test_an_unexpected_error_fails_the_run(chain_net, monkeypatch):
    import gulian.risk.adapter as adapter

    def boom(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(adapter, "build_network", boom)
    done = runs.execute(_run(chain_net).pk, heartbeat=False)
    assert done.status == RunStatus.FAILED and "RuntimeError: disk on fire" in done.error


def test_a_run_executes_once(chain_net):
    run = _run(chain_net)
    runs.execute(run.pk, heartbeat=False)
    with pytest.raises(runs.RunError):
        runs.execute(run.pk, heartbeat=False)


def test_dead_runs_are_marked_failed(chain_net):
    ns = chain_net
    now = timezone.now()
    stale, fresh, unbeaten_old, unbeaten_new, queued_old, queued_new = (_run(ns) for _ in range(6))
    old = now - dt.timedelta(seconds=runs.STALE_SECONDS + 5)
    running = ScenarioRun.objects.filter(status=RunStatus.QUEUED)
    # a heartbeat is judged by heartbeat_at, not by when the run started
    running.filter(pk=stale.pk).update(status=RunStatus.RUNNING, started_at=now, heartbeat_at=old, pid=4242, host="node-7")
    running.filter(pk=fresh.pk).update(status=RunStatus.RUNNING, started_at=old, heartbeat_at=now)
    # before its first beat a run counts from started_at
    running.filter(pk=unbeaten_old.pk).update(status=RunStatus.RUNNING, started_at=old)
    running.filter(pk=unbeaten_new.pk).update(status=RunStatus.RUNNING, started_at=now)
    running.filter(pk=queued_old.pk).update(created_at=now - dt.timedelta(seconds=runs.QUEUE_SECONDS + 5))
    assert runs.mark_stale(ScenarioRun.objects.all()) == 3
    status = dict(ScenarioRun.objects.values_list("pk", "status"))
    assert status[stale.pk] == status[unbeaten_old.pk] == status[queued_old.pk] == RunStatus.FAILED
    assert status[fresh.pk] == status[unbeaten_new.pk] == RunStatus.RUNNING
    assert status[queued_new.pk] == RunStatus.QUEUED
    error = ScenarioRun.objects.get(pk=stale.pk).error
    assert "heartbeat" in error and "node-7:4242" in error
    assert "no background process" in ScenarioRun.objects.get(pk=queued_old.pk).error
    assert runs.mark_stale(ScenarioRun.objects.all()) == 0


def test_launch_starts_a_detached_gulian_risk_run(chain_net, monkeypatch, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    calls = []
    monkeypatch.setattr(runs.subprocess, "Popen", lambda args, **kw: calls.append((args, kw)))
    run = _run(chain_net)
    runs.launch(run)
    ((args, kw),) = calls
    assert args[-4:] == ["gulian.cli", "risk", "run", str(run.pk)][-4:] and args[1:3] == ["-m", "gulian.cli"]
    assert kw["start_new_session"] is True and (tmp_path / "runs" / f"run-{run.pk}.log").exists()


def test_scenarios_and_runs_stay_in_scope(chain_net):
    ns = chain_net
    hz_scenario = runs.create_scenario(ns.hz, name="杭州情景", spec=NINGBO_LOCKDOWN)
    assert hz_scenario.region_id == "330100"
    with pytest.raises(Http404):
        runs.queue_run(ns.nb, hz_scenario)
    with pytest.raises(OutOfScope):
        runs.create_scenario(ns.nb, name="越权", spec=NINGBO_LOCKDOWN, region=hz_scenario.region)
    with pytest.raises(Http404):  # other officials read, only task forces run
        runs.queue_run(ns.liaison_hz, hz_scenario)


def test_bad_specs_are_rejected_naming_the_field(chain_net):
    ns = chain_net
    with pytest.raises(ValidationError, match="lockdowns\\[0\\].capacity_loss"):
        runs.create_scenario(ns.province, name="x", spec={"lockdowns": [{"region_prefix": "33", "days": 3, "capacity_loss": 2}]})
    with pytest.raises(ValidationError, match="unregistered USCC"):
        runs.create_scenario(ns.province, name="x", spec={"firm_stops": [{"firm": "91330106MA2GL1RQ5K"}]})
    with pytest.raises(runs.RunError):
        runs.queue_run(ns.province, runs.create_scenario(ns.province, name="x", spec=NINGBO_LOCKDOWN), chains=["nope"])


def test_cli_queues_and_runs_a_scenario(chain_net, capsys):
    ns = chain_net
    scenario = runs.create_scenario(ns.province, name="宁波封控", spec=NINGBO_LOCKDOWN)
    call_command("risk", "run", "--scenario", str(scenario.pk), "--user", ns.province.username)
    out = capsys.readouterr().out
    assert "杭州甲公司" in out and "宁波丙公司" in out and "day 5" in out
    assert ScenarioRun.objects.get(scenario=scenario).status == RunStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_while_the_network_is_built(two_cities, monkeypatch):
    import time

    import gulian.risk.adapter as adapter

    ns = with_values(two_cities)
    real = adapter.build_network
    monkeypatch.setattr(runs, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(adapter, "build_network", lambda **kw: (time.sleep(0.5), real(**kw))[1])
    beats = []
    original = runs.Reporter.beat
    run = _run(ns)
    seen = []
    monkeypatch.setattr(runs.Reporter, "beat", lambda self: (
        original(self), beats.append(1), seen.append(ScenarioRun.objects.get(pk=run.pk).heartbeat_at)))
    done = runs.execute(run.pk, heartbeat=True)
    assert done.status == RunStatus.DONE and len(beats) >= 3
    # each beat moved heartbeat_at forward while the network was being built
    assert all(seen) and seen == sorted(seen) and seen[-1] > seen[0]
