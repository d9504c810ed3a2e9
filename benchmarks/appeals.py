"""Benchmark appeal intake over HTTP on PostgreSQL, and the classifier's held-out accuracy.

Run: ``.venv/bin/python benchmarks/appeals.py [--appeals 10000] [--clients 50] [--database-url URL]``.
Prints one JSON document.

1. Creates a scratch PostgreSQL database (default ``gulian_bench`` on 127.0.0.1:5432, dropped and made
   anew, dropped again at the end unless ``--keep-database``), migrates it and creates ``--enterprises``
   enterprises across Zhejiang's counties, an enterprise user with an API token for each, and the
   handlers and task forces of the counties and cities they are in (so notices are written as in use).
2. Starts gunicorn (gthread workers) in a subprocess on a free local port. The WSGI module it loads
   warms the classifier once before the workers fork (``--preload``), as a deployment would.
3. ``--single`` appeals are posted one at a time (the latency without queueing); then ``--clients``
   threads, each with one keep-alive HTTP connection, post ``--appeals`` appeals to
   ``POST /api/appeals`` with the bearer tokens of the enterprises (round robin) and an
   ``Idempotency-Key`` each; a connection error is retried with the same key (at most 3 tries), so a
   retry can never file a second appeal. Every latency is recorded (client-side, retries included).
   With C clients kept busy, the mean latency is about C / throughput (Little's law): queueing.
4. Reports throughput, p50/p95/p99 latency, acknowledged (201 with a tracking number), stored
   (``SELECT count(*)``), unique tracking numbers, errors; then ``classifier.evaluate()``.

Bounded: the clients stop taking work after ``--time-limit`` seconds; the server is always stopped.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gulian_bench"

# Appeal texts by category: a template and fillers, so that no two appeals read alike.
TEMPLATES = {
    "logistics": ["受疫情管控影响，{place}通往厂区的道路封闭，{n}辆货车无法进出，原材料运不进、成品发不出，请求协调通行证。",
                  "{place}港集装箱滞留{n}天，提货困难，物流费用上涨三倍，急需协调运力。"],
    "labour": ["春节后{place}籍员工返岗不足，一线工人缺口{n}人，生产线只能开一半，请求协助招工和包车接返。",
               "外地员工返岗需隔离{n}天，岗位空缺严重，希望协调用工余缺调剂。"],
    "finance": ["企业流动资金紧张，{n}万元贷款下月到期，银行要求提前还款，请求协调续贷或延期。",
                "应收账款{n}万元回收困难，工资发放有压力，希望对接低息贷款。"],
    "supply": ["{place}的上游供应商停产，关键零部件库存只够{n}天，请求协调供应商尽快复工或寻找替代货源。",
               "原材料断供，芯片库存仅剩{n}天用量，整条生产线面临停产。"],
    "epidemic": ["复工需要口罩每天{n}只，市场上买不到，消毒液和测温枪也短缺，请求调配防疫物资。"],
    "permits": ["新建生产线的环评审批已提交{n}天没有进展，影响项目投产，请求加快审批。",
                "营业执照变更和消防验收办理受阻，{place}窗口暂停服务，请求开通绿色通道。"],
    "energy": ["扩产后用电负荷增加{n}千瓦，现有变压器容量不足，请求协调增容和用能指标。"],
    "technology": ["进口设备调试需要外方工程师，因疫情无法来华，{n}台设备闲置，请求协调技术专家远程支持。"],
    "market": ["海外订单取消{n}万元，产品积压，希望对接国内采购商和参加线上展会。"],
    "policy": ["去年申报的稳岗补贴和社保减免{n}万元至今未到账，请求协调政策兑现。"],
    "other": ["厂区周边{place}施工影响企业正常运行已{n}天，希望相关部门协调解决。"],
}
PLACES = ["萧山", "余杭", "滨江", "宁波北仑", "温州", "嘉兴", "绍兴柯桥", "金华义乌", "台州", "湖州", "苏州", "上海"]
OTHER_REGIONS = ["320500", "310115", "440300", "330200", "330300"]


def _percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# --- the scratch database ------------------------------------------------------------------------


def _admin_dsn(url: str) -> tuple[str, str]:
    """(DSN of the server's ``postgres`` database, name of the benchmark database) from a database URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("--database-url 须为 PostgreSQL / the benchmark runs on PostgreSQL (postgres://...)")
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url 须包含数据库名 / the URL must name a database")
    return urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")), name


def _recreate(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    dsn, name = _admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["GULIAN_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "gulian.settings"
    os.environ.setdefault("GULIAN_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.pop("GULIAN_DEBUG", None)
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _populate(n_enterprises: int) -> tuple[list[tuple[str, str]], dict]:
    """Enterprises, their users and tokens, and the units that handle them; [(token, uscc)] and counts."""
    from django.contrib.auth.hashers import make_password

    from gulian.appeals.models import Department
    from gulian.core.models import ApiToken, Region, RegionLevel, Role, User
    from gulian.core.uscc import make as make_uscc
    from gulian.registry.models import Enterprise

    alnum = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    counties = list(Region.objects.filter(code__startswith="33", level=RegionLevel.COUNTY).order_by("code"))
    counties = counties[:: max(1, len(counties) // 30)][:30]  # 30 counties spread over the province's cities
    firms = []
    for k in range(n_enterprises):
        county = counties[k % len(counties)]
        body = "B" + "".join(alnum[(k // 31**i) % 31] for i in range(7))[::-1]
        firms.append(Enterprise(uscc=make_uscc(county.code, body), name=f"基准测试企业{k:05d}", region=county))
    Enterprise.objects.bulk_create(firms, batch_size=1000)
    firms = list(Enterprise.objects.filter(name__startswith="基准测试企业").order_by("name"))
    unusable = make_password(None)
    users = [User(username=f"bench_ent_{k:05d}", password=unusable, role=Role.ENTERPRISE, region=f.region,
                  enterprise=f) for k, f in enumerate(firms)]
    departments = list(Department.objects.values_list("code", flat=True))
    cities = {c.parent for c in counties}
    officials = [User(username=f"bench_tf_{r.code}", password=unusable, role=Role.TASKFORCE, region=r)
                 for r in [*counties, *cities]]
    officials += [User(username=f"bench_h_{r.code}_{d}", password=unusable, role=Role.HANDLER, region=r,
                       department=d) for r in [*counties, *cities] for d in departments]
    User.objects.bulk_create(users + officials, batch_size=1000)
    by_name = {u.username: u for u in User.objects.filter(username__startswith="bench_ent_")}
    pairs = []
    for k, firm in enumerate(firms):
        _token, key = ApiToken.issue(by_name[f"bench_ent_{k:05d}"], "benchmark")
        pairs.append((key, firm.uscc))
    return pairs, {"enterprises": len(firms), "counties": len(counties), "officials": len(officials)}


# --- the server ----------------------------------------------------------------------------------

WSGI_MODULE = '''"""The benchmark's WSGI module: the app, with the classifier warmed before the workers fork."""
from gulian.wsgi import application  # noqa: F401
from django.db import connections

from gulian.appeals import classifier

classifier.suggest("园区封闭，货车无法进出，原材料运不进来")
connections.close_all()  # no connection may be shared by the forked workers
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(work: Path, port: int, workers: int, threads: int) -> subprocess.Popen:
    (work / "bench_wsgi.py").write_text(WSGI_MODULE, encoding="utf-8")
    path = [str(work), str(SRC), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
               "--workers", str(workers), "--threads", str(threads), "--preload", "--keep-alive", "30",
               "--backlog", "2048", "--timeout", "120", "--chdir", str(work), "bench_wsgi:application"]
    log = (work / "server.log").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(port: int, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer in time")


def _stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


# --- the clients ---------------------------------------------------------------------------------


def _body(i: int, uscc_of: list[str]) -> dict:
    """The i-th appeal: text by category template; some name a supplier elsewhere or another region."""
    categories = list(TEMPLATES)
    category = categories[i % len(categories)]
    templates = TEMPLATES[category]
    text = templates[(i // len(categories)) % len(templates)].format(place=PLACES[i % len(PLACES)], n=3 + i % 97)
    body: dict = {"title": text[:18], "text": f"{text}（编号{i}）", "urgency": ("normal", "normal", "urgent",
                                                                             "critical")[i % 4]}
    if i % 3:  # two in three leave the category to the classifier
        body["category"] = category
    if i % 10 == 0:
        body["related_uscc"] = [uscc_of[(i * 7 + 13) % len(uscc_of)]]
    if i % 25 == 0:
        body["related_regions"] = [OTHER_REGIONS[i % len(OTHER_REGIONS)]]
    return body


class Clients:
    """``n`` threads posting appeals until the indices run out or the time limit passes."""

    def __init__(self, port: int, pairs: list[tuple[str, str]], total: int, time_limit: float, prefix: str):
        self.port, self.pairs, self.total, self.prefix = port, pairs, total, prefix
        self.uscc_of = [uscc for _key, uscc in pairs]
        self.deadline = time.monotonic() + time_limit
        self.indices = iter(range(total))
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.created: list[str] = []  # tracking numbers of 201 responses
        self.replayed: list[str] = []  # tracking numbers of 200 responses (a retry after a lost answer)
        self.errors: list[str] = []
        self.retries = 0
        self.taken = 0

    def _next(self) -> int | None:
        with self.lock:
            if time.monotonic() > self.deadline:
                return None
            i = next(self.indices, None)
            self.taken += i is not None
            return i

    def _post(self, conn_box: list, i: int) -> tuple[int, dict]:
        key, _uscc = self.pairs[i % len(self.pairs)]
        payload = json.dumps(_body(i, self.uscc_of), ensure_ascii=False).encode()
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                   "Idempotency-Key": f"{self.prefix}-{i}"}
        for attempt in range(3):
            try:
                if conn_box[0] is None:
                    conn_box[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                conn_box[0].request("POST", "/api/appeals", body=payload, headers=headers)
                response = conn_box[0].getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn_box[0].close()
                    conn_box[0] = None
                return response.status, (json.loads(data) if data else {})
            except (OSError, http.client.HTTPException):
                if conn_box[0] is not None:
                    conn_box[0].close()
                conn_box[0] = None
                if attempt == 2:
                    raise
                with self.lock:
                    self.retries += 1
        raise AssertionError("unreachable")

    def _run(self) -> None:
        conn_box: list = [None]
        while (i := self._next()) is not None:
            began = time.perf_counter()
            try:
                status, body = self._post(conn_box, i)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with self.lock:
                    self.errors.append(f"{i}: {type(e).__name__}: {e}")
                continue
            elapsed = time.perf_counter() - began
            with self.lock:
                number = body.get("tracking_number") if isinstance(body, dict) else None
                if status == 201 and number:
                    self.created.append(number)
                    self.latencies.append(elapsed)
                elif status == 200 and number:
                    self.replayed.append(number)
                    self.latencies.append(elapsed)
                else:
                    self.errors.append(f"{i}: HTTP {status} {str(body)[:200]}")
        if conn_box[0] is not None:
            conn_box[0].close()

    def run(self, n_threads: int) -> float:
        threads = [threading.Thread(target=self._run, daemon=True) for _k in range(n_threads)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - began


# --- main ----------------------------------------------------------------------------------------


def _stored(prefix: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT tracking_number), count(tracking_number), "
            "count(duplicate_of_id) FROM appeals_appeal WHERE client_token LIKE %s", [f"{prefix}-%"]
        )
        total, distinct, numbered, duplicates = cursor.fetchone()
        cursor.execute(
            "SELECT level, department_id IS NULL, count(*) FROM appeals_appeal WHERE client_token LIKE %s "
            "GROUP BY 1, 2 ORDER BY 1, 2", [f"{prefix}-%"]
        )
        routes = {f"{level}/{'task_force' if task_force else 'department'}": n for level, task_force, n in cursor}
    return {"stored": total, "stored_unique_tracking_numbers": distinct, "stored_with_number": numbered,
            "near_duplicates_flagged": duplicates, "routes": routes}


def _tracking_numbers(prefix: str) -> set[str]:
    from gulian.appeals.models import Appeal

    return set(Appeal.objects.filter(client_token__startswith=f"{prefix}-").values_list("tracking_number", flat=True))


def _classifier() -> dict:
    try:
        from gulian.appeals import classifier

        began = time.perf_counter()
        result = classifier.evaluate()
        return {**result, "evaluate_seconds": round(time.perf_counter() - began, 1)}
    except Exception as e:  # noqa: BLE001 - reported in the JSON, the intake figures still count
        return {"error": f"{type(e).__name__}: {e}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appeals", type=int, default=10_000, help="appeals to submit (default 10000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent client threads (default 50)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
                        help=f"scratch PostgreSQL database, dropped and created anew (default {DEFAULT_URL})")
    parser.add_argument("--single", type=int, default=200,
                        help="appeals posted one at a time first, for the latency without queueing (200)")
    parser.add_argument("--enterprises", type=int, default=1000, help="enterprises, each with a token (1000)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default 8)")
    parser.add_argument("--time-limit", type=float, default=1800, help="stop submitting after this many s")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gulian-bench-appeals-"))
    server = None
    out: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform()}}
    try:
        _recreate(args.database_url)
        began = time.perf_counter()
        _setup_django(args.database_url, work)
        pairs, counts = _populate(args.enterprises)
        out["setup"] = {**counts, "seconds": round(time.perf_counter() - began, 1)}
        from django.db import connection, connections

        out["database"] = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
        connections.close_all()

        port = _free_port()
        server = _start_server(work, port, args.workers, args.threads)
        _wait_ready(port, server)
        out["server"] = {"kind": "gunicorn gthread", "workers": args.workers, "threads": args.threads}

        warm = Clients(port, pairs, min(args.clients * 2, args.appeals), 300, "warm")
        warm.run(args.clients)  # every worker thread opens its connection and touches every code path

        solo = Clients(port, pairs, args.single, 300, "solo")
        solo_seconds = solo.run(1)  # one client at a time: the service time, without queueing
        solo_latencies = sorted(solo.latencies)

        clients = Clients(port, pairs, args.appeals, args.time_limit, "bench")
        seconds = clients.run(args.clients)
        latencies = sorted(clients.latencies)
        acknowledged = set(clients.created) | set(clients.replayed)
        stored = _stored("bench")
        numbers_stored = _tracking_numbers("bench")
        out.update({
            "appeals_requested": args.appeals,
            "clients": args.clients,
            "seconds": round(seconds, 2),
            "throughput_appeals_per_s": round(len(latencies) / seconds, 1) if seconds else None,
            "latency_ms": {
                "p50": round(_percentile(latencies, 50) * 1000, 1),
                "p95": round(_percentile(latencies, 95) * 1000, 1),
                "p99": round(_percentile(latencies, 99) * 1000, 1),
                "max": round(latencies[-1] * 1000, 1) if latencies else None,
                "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
            },
            "acknowledged_201": len(clients.created),
            "acknowledged_200_after_retry": len(clients.replayed),
            "unique_tracking_numbers_acknowledged": len(acknowledged),
            **stored,
            "stored_equals_acknowledged": stored["stored"] == len(acknowledged) and acknowledged <= numbers_stored,
            "errors": len(clients.errors),
            "error_samples": clients.errors[:5],
            "client_retries": clients.retries,
            "not_sent_time_limit": args.appeals - clients.taken,
            "warm_up": {"appeals": len(warm.created) + len(warm.replayed), "errors": len(warm.errors)},
            "single_client": {
                "appeals": len(solo_latencies),
                "errors": len(solo.errors),
                "appeals_per_s": round(len(solo_latencies) / solo_seconds, 1) if solo_seconds else None,
                "latency_ms": {q: round(_percentile(solo_latencies, p) * 1000, 1)
                               for q, p in (("p50", 50), ("p95", 95), ("p99", 99))},
                "stored": _stored("solo")["stored"],
            },
        })
        _stop_server(server)
        out["classifier"] = _classifier()
    finally:
        if server is not None:
            _stop_server(server)
            log = (work / "server.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
            errors = [line for line in log if "Traceback" in line or "ERROR" in line or "[CRITICAL]" in line]
            out["server_log_errors"] = errors[:5]
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up when the database failed
            pass
        if not args.keep_database:
            _recreate(args.database_url, drop_only=True)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
