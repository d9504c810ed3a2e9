"""Scenarios and their background runs (情景仿真): create, queue, execute, detect dead runs.

* :func:`create_scenario` checks a spec with :func:`gulian.engine.scenario.load_scenario` and the
  USCCs it names, and saves it through ``core.services.create`` (scope check + audit).
* :func:`queue_run` saves a :class:`ScenarioRun` (audited) with the network selection (chains) and
  model options in ``params``; :func:`launch` starts ``gulian risk run RUN_ID`` as a detached
  process (its own session, output in ``GULIAN_VAR_DIR/runs/run-ID.log``), so a run survives the
  request under ``runserver`` or any WSGI server and needs no task queue.
* :func:`execute` (what that process calls) claims the run, builds the network
  (``risk.adapter.build_network`` with the run creator's scope, the scenario's region, the chains),
  simulates with ``progress`` writing ``progress``/``message`` at most every
  :data:`PROGRESS_SECONDS`, and stores the summary of :mod:`gulian.risk.run_summary`.
* The process that claims a run stores its ``pid`` and ``host``; it refreshes ``heartbeat_at`` on
  every progress write and, from a thread, every :data:`HEARTBEAT_SECONDS` (so a long network
  build counts too). :func:`mark_stale` fails a running run whose ``heartbeat_at`` (or, before the
  first beat, ``started_at``) is older than :data:`STALE_SECONDS`, and a queued run that no process
  picked up within :data:`QUEUE_SECONDS`; the pages call it before showing runs.

Progress, heartbeat and the result are machine state and are written without audit records; the
creation of scenarios and runs is audited. docs/risk-scenarios.md is the user guide.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, close_old_connections, connection
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from gulian.core import services
from gulian.core.models import Region
from gulian.engine.propagate import PropagationParams, Rationing, simulate
from gulian.engine.scenario import FirmStop, LinkCut, Scenario, ScenarioError, load_scenario
from gulian.engine.types import EngineInputError
from gulian.registry.models import Chain, Enterprise
from gulian.risk.adapter import SPARE_CAPACITY
from gulian.risk.models import RunStatus, ScenarioRun
from gulian.risk.models import Scenario as ScenarioModel

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 0.5
HEARTBEAT_SECONDS = 10
STALE_SECONDS = 120
QUEUE_SECONDS = 600
DEFAULT_OPTIONS = {"threshold": 0.9, "tau": 6.0, "rationing": int(Rationing.SMALL_FIRST), "substitution": False}


class RunError(Exception):
    """A run that cannot be queued or executed; the message is bilingual (中文 / English)."""


# --- scenarios ---------------------------------------------------------------------------------------


def parse_spec(spec: str | Mapping[str, Any]) -> Scenario:
    """The engine scenario of ``spec`` (YAML/JSON text or a mapping); ValidationError naming the field."""
    try:
        return load_scenario(spec if isinstance(spec, Mapping) else str(spec))
    except ScenarioError as exc:
        raise ValidationError(str(exc)) from exc


def named_usccs(scenario: Scenario) -> set[str]:
    """The firm names (USCCs) in firm stops and link cuts; integer firms are enterprise numbers."""
    names = {s.firm for s in scenario.firm_stops}
    names |= {c.supplier for c in scenario.link_cuts} | {c.customer for c in scenario.link_cuts}
    return {n for n in names if isinstance(n, str)}


def check_firms(scenario: Scenario) -> None:
    """Every USCC the scenario names must be a registered enterprise (ValidationError listing the rest)."""
    names = named_usccs(scenario)
    known = set(Enterprise.objects.filter(uscc__in=names).values_list("uscc", flat=True))
    unknown = sorted(names - known)
    if unknown:
        raise ValidationError(
            _("未登记的统一社会信用代码 / unregistered USCC: %(codes)s")
            % {"codes": ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")}
        )


def default_region(user, scenario: Scenario) -> Region:
    """The user's region; for a user without one, the region of the lockdowns' common prefix."""
    if user.region_id:
        return user.region
    prefixes = [lk.region_prefix for lk in scenario.lockdowns]
    common = os.path.commonprefix(prefixes) if prefixes else ""
    for length in (6, 4, 2):
        if len(common) >= length:
            region = Region.objects.filter(code=common[:length].ljust(6, "0")).first()
            if region is not None:
                return region
    raise ValidationError(_("请指定情景所属区域 / choose the region the scenario belongs to"))


def create_scenario(
    user, *, name: str, spec: str | Mapping[str, Any], region: Region | None = None, description: str = ""
) -> ScenarioModel:
    """Validate and save a scenario in ``region`` (default :func:`default_region`), audited."""
    scenario = parse_spec(spec)
    name = (name or scenario.name or "").strip()
    if not name:
        raise ValidationError(_("请填写情景名称 / the scenario needs a name"))
    check_firms(scenario)
    data = Scenario(name, scenario.lockdowns, scenario.firm_stops, scenario.link_cuts, scenario.recovery,
                    scenario.steps).to_dict()  # fmt: skip
    obj = ScenarioModel(
        region=region or default_region(user, scenario), name=name, description=description, spec=data,
        created_by=user if user.pk else None,
    )  # fmt: skip
    return services.create(user, obj)


# --- queueing and launching --------------------------------------------------------------------------


def run_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Model options with defaults, checked (RunError on a bad value)."""
    opts = {**DEFAULT_OPTIONS, **(options or {})}
    unknown = set(opts) - set(DEFAULT_OPTIONS)
    if unknown:
        raise RunError(f"未知运行参数 / unknown run option(s): {', '.join(sorted(unknown))}")
    try:
        opts["threshold"], opts["tau"] = float(opts["threshold"]), float(opts["tau"])
        opts["rationing"], opts["substitution"] = int(opts["rationing"]), bool(opts["substitution"])
    except (TypeError, ValueError) as exc:
        raise RunError(f"运行参数格式错误 / bad run option: {exc}") from exc
    if not 0 < opts["threshold"] <= 1 or opts["tau"] <= 0 or opts["rationing"] not in tuple(Rationing):
        raise RunError("阈值应在 0–1，τ 应为正数，配给规则为 0–3 / threshold in 0..1, tau > 0, rationing 0..3")
    return opts


def queue_run(user, scenario: ScenarioModel, *, chains=(), options: Mapping[str, Any] | None = None) -> ScenarioRun:
    """A queued run of ``scenario`` (which the user must be allowed to change: 404 otherwise), audited.

    ``chains``: chain codes the user may view (none = every chain in the scenario's region).
    """
    scenario = services.get_scoped(ScenarioModel.objects, user, "change", pk=scenario.pk)
    codes = sorted({str(c.code if isinstance(c, Chain) else c) for c in chains})
    found = set(Chain.objects.restrict(user, "view").filter(code__in=codes).values_list("code", flat=True))
    if set(codes) - found:
        raise RunError(f"未知产业链 / unknown chain(s): {', '.join(sorted(set(codes) - found))}")
    run = ScenarioRun(
        scenario=scenario, region=scenario.region, params={"chains": codes, **run_options(options)},
        created_by=user if user.pk else None,
    )  # fmt: skip
    return services.create(user, run)


def log_path(run_id: int):
    """Where the background process of a run writes its output."""
    path = settings.VAR_DIR / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path / f"run-{run_id}.log"


def launch(run: ScenarioRun) -> subprocess.Popen:
    """Start ``gulian risk run ID`` detached from this process (own session; survives the request)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "gulian.settings")}
    with open(log_path(run.pk), "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gulian.cli", "risk", "run", str(run.pk)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            close_fds=True,
        )  # fmt: skip


# --- executing ---------------------------------------------------------------------------------------


class Reporter:
    """Writes progress/message (throttled) and the heartbeat (``heartbeat_at``) of one run."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.last = 0.0
        self.lock = threading.Lock()

    def set(self, progress: float, message: str, *, force: bool = False) -> None:
        """Store progress (0..1) and a message; skipped when the last write is under PROGRESS_SECONDS old."""
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        with self.lock:
            try:  # progress is best effort: a busy database must not fail the run
                ScenarioRun.objects.filter(pk=self.run_id).update(
                    progress=round(min(max(progress, 0.0), 1.0), 4), message=message[:200],
                    heartbeat_at=timezone.now(),
                )  # fmt: skip
            except DatabaseError:
                log.warning("run %s: progress not written", self.run_id, exc_info=True)

    def beat(self) -> None:
        """Refresh the heartbeat only."""
        with self.lock:
            try:
                ScenarioRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())
            except DatabaseError:
                log.warning("run %s: heartbeat not written", self.run_id, exc_info=True)

    def step(self, step: int, steps: int) -> None:
        """The engine's progress callback: simulation is 5–95% of the run."""
        self.set(0.05 + 0.9 * step / max(steps, 1), f"仿真第 {step}/{steps} 天 / simulating day {step}/{steps}",
                 force=step == steps)  # fmt: skip


def _heartbeat_thread(reporter: Reporter, stop: threading.Event) -> threading.Thread:
    def loop():
        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                reporter.beat()
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="run-heartbeat", daemon=True)
    thread.start()
    return thread


def resolve_firms(rn, scenario: Scenario) -> Scenario:
    """Replace USCCs in firm stops and link cuts by the network's own firm ids (kept when absent)."""
    names = named_usccs(scenario)
    if not names:
        return scenario
    pk_of = dict(Enterprise.objects.filter(uscc__in=names).values_list("uscc", "pk"))

    def fid(name):
        if not isinstance(name, str) or pk_of.get(name) not in rn.index:
            return name
        k = rn.index[pk_of[name]]
        return str(rn.net.firm_ids[k]) if rn.net.firm_ids is not None else k

    stops = tuple(FirmStop(fid(s.firm), s.start, s.days, s.capacity_loss) for s in scenario.firm_stops)
    cuts = tuple(LinkCut(fid(c.supplier), fid(c.customer), c.start, c.days, c.loss) for c in scenario.link_cuts)
    return Scenario(scenario.name, scenario.lockdowns, stops, cuts, scenario.recovery, scenario.steps)


def _compute(run: ScenarioRun, reporter: Reporter) -> dict[str, Any]:
    from gulian.risk.adapter import build_network
    from gulian.risk.run_summary import region_labels, summarise

    started = time.monotonic()
    scenario = load_scenario(run.scenario.spec)
    opts = run_options({k: v for k, v in run.params.items() if k != "chains"})
    codes = run.params.get("chains") or []
    chains = list(Chain.objects.filter(code__in=codes)) if codes else None
    if codes and len(chains or []) != len(codes):
        raise RunError("情景运行所选产业链已不存在 / a chain of this run no longer exists")
    reporter.set(0.01, "构建供应网络 / building the supply network", force=True)
    rn = build_network(user=run.created_by, region=run.region, chains=chains)
    if rn.net.n_firms == 0:
        raise RunError("所选范围内没有产业链企业 / no chain enterprises in the selection")
    scenario = resolve_firms(rn, scenario)
    groups = {f"chain:{code}": labels for code, labels in rn.chain_groups.items()}
    regions, region_codes = region_labels(rn.net.region)
    groups["region"] = regions
    params = PropagationParams(
        steps=scenario.steps, tau=opts["tau"], rationing=Rationing(opts["rationing"]),
        substitution=opts["substitution"], threshold=opts["threshold"], spare_capacity=SPARE_CAPACITY,
    )  # fmt: skip
    reporter.set(0.05, "仿真 / simulating", force=True)
    res = simulate(rn.net, scenario, params, groups=groups, watch=rn.owners, progress=reporter.step)
    reporter.set(0.96, "汇总结果 / summarising", force=True)
    summary = summarise(rn, res, region_codes, threshold=opts["threshold"])
    summary["elapsed"] = round(time.monotonic() - started, 3)
    return summary


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, EngineInputError | RunError | ValidationError):
        return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return f"运行出错 / run failed: {type(exc).__name__}: {exc}"


def execute(run_id: int, *, heartbeat: bool = True) -> ScenarioRun:
    """Claim a queued run, compute it and store the summary (or the error). Returns the run.

    ``heartbeat=False`` (in-process tests) skips the heartbeat thread, which needs its own database
    connection. RunError when the run is not queued (already taken by another process).
    """
    if not connection.in_atomic_block:  # a long-lived worker drops a stale connection; never mid-transaction
        close_old_connections()
    now = timezone.now()
    claimed = ScenarioRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, pid=os.getpid(),
        host=socket.gethostname()[:100], progress=0.0, result={}, message="开始 / starting", error="",
    )  # fmt: skip
    if not claimed:
        raise RunError(f"运行 #{run_id} 不存在或不在排队中 / run #{run_id} does not exist or is not queued")
    run = ScenarioRun.objects.select_related("scenario", "region", "created_by").get(pk=run_id)
    reporter = Reporter(run_id)
    stop = threading.Event()
    thread = _heartbeat_thread(reporter, stop) if heartbeat else None
    try:
        summary = _compute(run, reporter)
    except Exception as exc:  # noqa: BLE001 - every failure must end as a failed run with its reason
        log.error("run %s failed:\n%s", run_id, traceback.format_exc())
        status, changes = RunStatus.FAILED, {"error": _error_text(exc), "message": "失败 / failed"}
    else:
        status, changes = RunStatus.DONE, {"result": summary, "progress": 1.0, "message": "完成 / done"}
    finally:
        stop.set()
        if thread is not None:
            thread.join()
    now = timezone.now()
    ScenarioRun.objects.filter(pk=run_id).update(status=status, finished_at=now, heartbeat_at=now, **changes)
    run.refresh_from_db()
    return run


# --- dead runs ---------------------------------------------------------------------------------------


def mark_stale(runs) -> int:
    """Fail dead runs among ``runs``; returns how many were marked.

    Dead: running with no heartbeat (``heartbeat_at``; ``started_at`` before the first beat) for
    STALE_SECONDS, or queued and not started by any process within QUEUE_SECONDS.
    """
    now = timezone.now()
    beat_cutoff = now - dt.timedelta(seconds=STALE_SECONDS)
    queue_cutoff = now - dt.timedelta(seconds=QUEUE_SECONDS)
    dead_running = (
        runs.filter(status=RunStatus.RUNNING)
        .annotate(last_beat=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_beat__lt=beat_cutoff)
        .values_list("pk", "host", "pid")
    )
    marked = 0
    for pk, host, pid in dead_running:
        proc = f"{host}:{pid}" if host and pid else ""
        error = (f"后台进程{f'（{proc}）' if proc else ''}已停止（{STALE_SECONDS} 秒无心跳） / "
                 f"the background process{f' {proc}' if proc else ''} stopped (no heartbeat for {STALE_SECONDS} s)")  # fmt: skip
        marked += ScenarioRun.objects.filter(pk=pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=error, finished_at=now, message="失败 / failed"
        )
    dead_queued = list(runs.filter(status=RunStatus.QUEUED, created_at__lt=queue_cutoff).values_list("pk", flat=True))
    if dead_queued:
        marked += ScenarioRun.objects.filter(pk__in=dead_queued, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED, finished_at=now, message="失败 / failed",
            error=f"后台进程未在 {QUEUE_SECONDS} 秒内启动 / no background process started within {QUEUE_SECONDS} s",
        )  # fmt: skip
    return marked
