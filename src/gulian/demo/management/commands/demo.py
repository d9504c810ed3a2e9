"""gulian demo [--seed 2020] [--enterprises 20000] [--links 100000] [--reset] [--users-only] [--no-dispatch] [--appeals N]."""

import argparse
import datetime as dt
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gulian.demo import appeals as demo_appeals
from gulian.demo import dispatch_curves, dispatch_load
from gulian.demo import load as demo_load
from gulian.demo import risk as demo_risk
from gulian.demo.generator import generate
from gulian.demo.risk import has_risk_data as risk_has_data
from gulian.demo.users import ensure_users, logins_table

DEFAULT_DISPATCH_END = "2020-05-31"  # the whole spring (issue 3); ~2 min on SQLite, --dispatch-end 2020-03-15 for ~1 min


class Command(BaseCommand):
    help = (
        "生成确定性的演示省（浙江）并打印各角色的演示账号；已有演示数据时保留并只打印账号 / "
        "generate the deterministic demo province (Zhejiang) and print the demo logins; existing demo data is kept"
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2020, help="随机种子 / random seed (default 2020)")
        parser.add_argument("--enterprises", type=int, default=20_000,
                            help="浙江企业数 / Zhejiang enterprises (default 20000; +15%% out-of-province, +2%% foreign)")
        parser.add_argument("--links", type=int, default=100_000, help="供应关系数 / supply links (default 100000)")
        parser.add_argument("--reset", action="store_true",
                            help="先删除全部产业链登记数据再生成 / delete all registry data first, then generate")
        parser.add_argument("--users-only", action="store_true",
                            help="只创建或重置演示账号 / only create or reset the demo users")
        parser.add_argument("--dispatch", action=argparse.BooleanOptionalAction, default=True,
                            help="同时生成日调度演示数据（日报、用电量、汇总）/ also generate the daily dispatch data "
                                 "(reports, power readings, roll-ups); default on")
        parser.add_argument("--dispatch-start", type=dt.date.fromisoformat, default=dispatch_curves.START,
                            help=f"日报起始日期 / first report date (default {dispatch_curves.START})")
        parser.add_argument("--dispatch-end", type=dt.date.fromisoformat, default=DEFAULT_DISPATCH_END,
                            help=f"日报截止日期 / last report date (default {DEFAULT_DISPATCH_END}; "
                                 f"{dispatch_curves.END} for the whole spring)")
        parser.add_argument("--appeals", type=int, default=None,
                            help="演示企业诉求数（默认每 2 万家浙江企业 5000 条，0 不生成）/ demo appeals "
                                 "(default 5000 per 20,000 Zhejiang firms; 0 for none)")

    def handle(self, *args, seed, enterprises, links, reset, users_only, dispatch, dispatch_start, dispatch_end,
               appeals=None, **opts):
        if not settings.DEMO:
            raise CommandError("演示数据只在 GULIAN_DEMO=1 时生成 / set GULIAN_DEMO=1 to generate demo data")
        if appeals is not None and appeals < 0:
            raise CommandError("诉求数不能为负 / --appeals cannot be negative")
        if users_only:
            self._print_logins()
            return
        window = (dt.date.fromisoformat(str(dispatch_start)), dt.date.fromisoformat(str(dispatch_end)))
        if not reset and demo_load.has_demo_data():
            self.stdout.write("演示数据已存在，保留不变（--reset 可重新生成） / demo data exists and is kept (--reset regenerates)")
            if dispatch and not dispatch_load.has_dispatch_data():
                self._dispatch(seed, *window)
            if dispatch and not risk_has_data():
                self._risk()
            if appeals != 0 and not demo_appeals.has_appeal_data():
                self._appeals(seed, appeals)
            self._print_logins()
            return
        if not reset and demo_load.has_registry_data():
            raise CommandError("数据库中已有非演示的登记数据；确认清空请加 --reset / "
                               "the registry holds non-demo data; add --reset to delete it")
        try:
            geo = demo_load.geography()
        except ValueError as e:
            raise CommandError(f"{e}（请先运行 gulian migrate / run gulian migrate first）")
        started = time.perf_counter()
        try:
            data = generate(geo, seed=seed, enterprises=enterprises, links=links)
        except ValueError as e:
            raise CommandError(str(e))
        generated = time.perf_counter()
        with transaction.atomic():
            if reset:
                # appeals first: they point at enterprises and risk items
                removed = (demo_appeals.reset() | demo_risk.reset() | dispatch_load.reset()
                           | demo_load.reset_registry())
                self.stdout.write(f"已清空 / deleted: {removed}")
            counts = demo_load.load(data)
        loaded = time.perf_counter()
        self.stdout.write(
            f"演示省已生成 / demo province generated (seed {seed}): "
            + ", ".join(f"{label} {n:,}" for label, n in counts.items())
        )
        self.stdout.write(
            f"生成 / generate {generated - started:.1f} s, 写入 / load {loaded - generated:.1f} s; "
            f"fingerprint {data.fingerprint()[:16]}"
        )
        if dispatch:
            self._dispatch(seed, *window)
            self._risk()
        if appeals != 0:
            self._appeals(seed, appeals)
        self._print_logins()

    def _risk(self) -> None:
        """Risk lists, a nowcast and two finished scenario runs from the loaded data."""
        from gulian.demo import risk

        self._ensure_users()
        made = risk.load()
        self.stdout.write(
            "断链风险演示数据 / risk demo data: "
            + ", ".join(f"{k} {v:,}" for k, v in made.counts.items())
            + "; " + ", ".join(f"{k} {v:.1f} s" for k, v in made.seconds.items())
        )

    def _appeals(self, seed: int, count: int | None) -> None:
        """About 5,000 appeals of the demo period with their timelines (after the risk step: some come from it)."""
        self._ensure_users()
        try:
            made = demo_appeals.load(seed, count)
        except ValueError as e:
            raise CommandError(str(e))
        self.stdout.write(
            "企业诉求演示数据 / appeals demo data: "
            + ", ".join(f"{k} {v:,}" for k, v in made.counts.items())
            + "; " + ", ".join(f"{k} {v:.1f} s" for k, v in made.seconds.items())
            + f"; fingerprint {made.fingerprint[:16]}"
        )

    def _dispatch(self, seed: int, start: dt.date, end: dt.date) -> None:
        """Generate and load the daily reports and power readings, then build the roll-ups."""
        try:
            run = dispatch_load.generate_and_load(seed, start, end)
        except ValueError as e:
            raise CommandError(str(e))
        self.stdout.write(
            f"日调度演示数据已生成 / dispatch data generated ({start} – {end}): "
            + ", ".join(f"{label} {n:,}" for label, n in run.counts.items())
            + f"; 链主受阻 / held-back owners {run.sizes['held_back_owners']}, 异常 / anomalies {run.sizes['anomalies']}"
        )
        self.stdout.write(
            "生成 / plan {plan:.1f} s, 写入 / load {load:.1f} s, 汇总 / roll-ups {rollups:.1f} s; ".format(**run.seconds)
            + f"fingerprint {run.fingerprint[:16]}"
        )

    def _ensure_users(self):
        """Create or reset the demo users once per run (each reset is audited), before the steps that need them."""
        if getattr(self, "_users", None) is None:
            self._users = ensure_users()
        return self._users

    def _print_logins(self):
        self.stdout.write(logins_table(self._ensure_users()))
