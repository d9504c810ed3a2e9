"""Benchmark the daily dispatch: API batch ingestion, and a generated province's overview, trend and bulletin.

Run as ``GULIAN_DEMO=1 .venv/bin/python benchmarks/dispatch.py [options]``; prints one JSON document.

* ``ingest`` (SQLite and PostgreSQL): a demo registry of ``--ingest-firms`` firms; the province task
  force posts ``--batches`` batches of ``--batch-size`` new reports to ``POST /api/dispatch/reports/batch``
  (Django's test client, bearer token, an Idempotency-Key each), then the same reports corrected
  (second versions), then one retried batch (replayed). Target: ≥ 2,000 reports/s.
* ``province`` (PostgreSQL): the demo generator's province of ``--enterprises`` Zhejiang firms (plus its
  out-of-province suppliers) with ``--days`` days of reports and power readings from 2020-02-01,
  loaded with COPY, roll-ups built with ``rollup.rebuild``; then the last day's overview (target
  < 500 ms), the whole-period trend of the province (target < 2 s) and the bulletin .xlsx (< 10 s).

Each part runs in its own process against a scratch database: SQLite in a temporary directory, or the
PostgreSQL database ``gulian_bench`` (created with createdb and always dropped afterwards; set
BENCH_PG to another server URL prefix, default ``postgres://postgres@127.0.0.1:5432``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DB = "gulian_bench"
START = dt.date(2020, 2, 1)
TARGETS = {"ingest_reports_per_s": 2000, "overview_ms": 500, "trend_ms": 2000, "bulletin_s": 10}


# --- the parent: one child process per part and backend ---------------------------------------------


def _pg(*command: str) -> None:
    host = PG_SERVER.split("@", 1)[1].split("/", 1)[0]
    name, _colon, port = host.partition(":")
    user = PG_SERVER.split("://", 1)[1].split("@", 1)[0]
    subprocess.run([command[0], "-h", name, "-p", port or "5432", "-U", user, *command[1:]], check=True,
                   capture_output=True)


def run_child(part: str, backend: str, args: argparse.Namespace) -> dict:
    """Run one part in a fresh process against a scratch database; returns its JSON."""
    env = dict(os.environ, GULIAN_DEMO="1")
    workdir = Path(tempfile.mkdtemp(prefix="gulian-bench-"))
    env["GULIAN_VAR_DIR"] = str(workdir)
    if backend == "postgresql":
        _pg("dropdb", "--if-exists", PG_DB)
        _pg("createdb", PG_DB)
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    command = [sys.executable, __file__, "--child", part, *_forward(args)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return {"error": done.stderr[-3000:]}
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if backend == "postgresql":
            _pg("dropdb", "--if-exists", PG_DB)


def _forward(args: argparse.Namespace) -> list[str]:
    out = ["--enterprises", str(args.enterprises), "--days", str(args.days), "--ingest-firms",
           str(args.ingest_firms), "--batches", str(args.batches), "--batch-size", str(args.batch_size),
           "--repeat", str(args.repeat)]
    return out + ([] if args.power else ["--no-power"])


# --- the children -----------------------------------------------------------------------------------


def _django() -> None:
    src = Path(__file__).resolve().parent.parent / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gulian.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _demo_registry(enterprises: int, links: int) -> float:
    import io

    from django.core.management import call_command

    began = time.perf_counter()
    call_command("demo", "--enterprises", str(enterprises), "--links", str(links), "--no-dispatch",
                 stdout=io.StringIO())
    return time.perf_counter() - began


def _items(firms: list[int], dates: list[dt.date], utilisation: float) -> list[dict]:
    return [{"enterprise": firm, "date": day.isoformat(), "resumed": True, "utilisation": utilisation,
             "staff_on_duty": 80 + firm % 20, "staff_normal": 100, "inventory_days": 7.5,
             "blockers": ["用工"] if firm % 7 == 0 else [], "blocker_note": ""}
            for day in dates for firm in firms]


def ingest(args: argparse.Namespace) -> dict:
    """Batches through the API: new reports, corrections, one replay; reports per second."""
    from django.db import connection
    from django.test import Client

    from gulian.core.models import ApiToken, User
    from gulian.dispatch.models import DailyReport, DailyReportVersion
    from gulian.registry.models import Enterprise

    registry_s = _demo_registry(args.ingest_firms, args.ingest_firms * 4)
    user = User.objects.get(username="zj_taskforce")
    _token, key = ApiToken.issue(user, "benchmark")
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {key}")
    firms = list(Enterprise.objects.filter(region__code__startswith="33").order_by("pk").values_list("pk", flat=True))
    total = (args.batches + 1) * args.batch_size
    dates = [START + dt.timedelta(days=k) for k in range(-(-total // len(firms)))]
    new = _items(firms, dates, 0.85)[:total]
    batches = [new[k:k + args.batch_size] for k in range(0, total, args.batch_size)]

    def post(items: list[dict], key: str) -> tuple[float, object]:
        began = time.perf_counter()
        response = client.post("/api/dispatch/reports/batch", {"items": items}, content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY=key)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise SystemExit(f"batch refused: {response.status_code} {response.content[:500]!r}")
        return elapsed, response

    post(batches[0], "warm-up")  # first request: imports, caches; not timed
    created = sum(post(b, f"new-{k}")[0] for k, b in enumerate(batches[1:]))
    corrections = [[dict(item, utilisation=0.9) for item in b] for b in batches[1:]]
    corrected = sum(post(b, f"fix-{k}")[0] for k, b in enumerate(corrections))
    replay_s, replay = post(batches[1], "new-0")
    n = args.batches * args.batch_size
    return {
        "backend": connection.vendor,
        "registry_firms": len(firms),
        "registry_seconds": round(registry_s, 1),
        "batch_size": args.batch_size,
        "batches": args.batches,
        "reports": n,
        "create_seconds": round(created, 2),
        "create_reports_per_s": round(n / created),
        "correct_seconds": round(corrected, 2),
        "correct_reports_per_s": round(n / corrected),
        "replay_ms": round(replay_s * 1000, 1),
        "replayed": replay.headers.get("Idempotent-Replayed") == "true",
        "stored_reports": DailyReport.objects.count(),
        "stored_versions": DailyReportVersion.objects.count(),
        "target_reports_per_s": TARGETS["ingest_reports_per_s"],
    }


def _timed(run, repeat: int) -> dict:
    """Cold (first) and warm (median of the rest) milliseconds of ``run()``."""
    times = []
    for _k in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return {"first_ms": round(times[0], 1), "median_ms": round(statistics.median(times[1:] or times), 1),
            "runs": repeat}


def province(args: argparse.Namespace) -> dict:
    """Generate, load and roll up a province, then time the overview, the trend and the bulletin."""
    from django.db import connection

    from gulian.core.models import User
    from gulian.demo import dispatch_load
    from gulian.dispatch import bulletin, bulletin_xlsx, metrics, rollup

    end = START + dt.timedelta(days=args.days - 1)
    out: dict = {"backend": connection.vendor, "enterprises_zhejiang": args.enterprises, "days": args.days}
    out["registry_seconds"] = round(_demo_registry(args.enterprises, args.enterprises * 5), 1)
    if not args.power:
        dispatch_load.write_power = lambda plan, ids, dates: (0, 0)  # reports only
    run = dispatch_load.generate_and_load(2020, START, end, rebuild=False)
    out["rows"] = run.counts
    out["plan_seconds"] = round(run.seconds["plan"], 1)
    out["load_seconds"] = round(run.seconds["load"], 1)
    out["load_rows_per_s"] = round(sum(run.counts.values()) / run.seconds["load"])
    began = time.perf_counter()
    rollup.rebuild(START, end)
    out["rollup_rebuild_seconds"] = round(time.perf_counter() - began, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    user = User.objects.get(username="zj_taskforce")
    out["overview"] = _timed(lambda: metrics.overview(user, end), args.repeat)
    out["overview_city"] = _timed(lambda: metrics.overview(user, end, region="330100"), args.repeat)
    out["trend"] = _timed(lambda: metrics.series(user, START, end, region="330000"), args.repeat)
    size = {}

    def make_bulletin():
        data = bulletin_xlsx.render(bulletin.build(user, end, region="330000"))
        size["bytes"] = len(data)

    out["bulletin"] = _timed(make_bulletin, max(2, args.repeat // 2))
    out["bulletin"]["bytes"] = size["bytes"]
    ov = metrics.overview(user, end)
    out["overview_figures"] = {"expected": ov.expected, "reporting": ov.reporting,
                               "resumption_rate": round(ov.resumption_rate or 0, 4),
                               "power_index": round(ov.power_index or 0, 1)}
    out["targets"] = {k: v for k, v in TARGETS.items() if k != "ingest_reports_per_s"}
    began = time.perf_counter()
    dispatch_load.reset()  # what `gulian demo --reset` does first (TRUNCATE on PostgreSQL)
    out["reset_seconds"] = round(time.perf_counter() - began, 1)
    out["met"] = {
        "overview": out["overview"]["median_ms"] < TARGETS["overview_ms"],
        "trend": out["trend"]["median_ms"] < TARGETS["trend_ms"],
        "bulletin": out["bulletin"]["median_ms"] < TARGETS["bulletin_s"] * 1000,
    }
    return out


# --- command line -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="ingest,province", help="ingest,province (default both)")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="for ingest: sqlite,postgresql (province always runs on PostgreSQL)")
    parser.add_argument("--province-sqlite", action="store_true", help="also run the province part on SQLite")
    parser.add_argument("--enterprises", type=int, default=100_000, help="Zhejiang firms of the province")
    parser.add_argument("--days", type=int, default=120, help="days of reports from 2020-02-01")
    parser.add_argument("--no-power", dest="power", action="store_false", help="province without power readings")
    parser.add_argument("--ingest-firms", type=int, default=5000, help="registry size for the ingest part")
    parser.add_argument("--batches", type=int, default=20, help="timed batches per phase")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each timed query")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _django()
        print(json.dumps({"ingest": ingest, "province": province}[args.child](args), ensure_ascii=False))
        return
    parts = args.parts.split(",")
    began = time.perf_counter()
    result: dict = {"targets": TARGETS}
    if "ingest" in parts:
        result["ingest"] = {b: run_child("ingest", b, args) for b in args.backends.split(",")}
    if "province" in parts:
        result["province"] = {"postgresql": run_child("province", "postgresql", args)}
        if args.province_sqlite:
            result["province"]["sqlite"] = run_child("province", "sqlite", args)
    result["total_seconds"] = round(time.perf_counter() - began, 1)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
