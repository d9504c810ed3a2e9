"""gulian power import FILE [--meters MAP] [--user U] [--partial] [--dry-run] [--errors OUT]; gulian power baseline --date D."""

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from gulian.commandline import command_actor, parse_date
from gulian.dispatch import power, rollup
from gulian.dispatch.models import PowerReading
from gulian.dispatch.power_io import import_power
from gulian.dispatch.slicing import resolve_region
from gulian.registry.io import errorfile
from gulian.registry.models import Enterprise


class Command(BaseCommand):
    help = "用电数据：导入日用电量与电表对照表，查看基期与电力复工指数 / Power data: import readings, show baselines."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import daily kWh (.xlsx/.csv), optionally with a meter mapping file")
        imp.add_argument("file", type=Path)
        imp.add_argument("--meters", type=Path, help="meter mapping file: 户号 + 统一社会信用代码")
        imp.add_argument("--user", help="act as this user (default: system administrator)")
        imp.add_argument("--partial", action="store_true", help="apply the accepted rows even if some are rejected")
        imp.add_argument("--dry-run", action="store_true", help="validate and count only; write nothing")
        imp.add_argument("--errors", type=Path, help="write rejected rows to this .xlsx")
        base = sub.add_parser("baseline", help="baselines and power index of a day")
        base.add_argument("--date", required=True, help="YYYY-MM-DD")
        base.add_argument("--uscc", help="one enterprise: its reading, baseline and index")
        base.add_argument("--user", help="only enterprises this user may see (default: all)")
        base.add_argument("--region", help="GB/T 2260 code of a region inside the user's scope")
        base.add_argument("--csv", dest="csv_out", type=Path, help="write one row per enterprise with a reading that day")

    def handle(self, *args, action, **opts):
        {"import": self.do_import, "baseline": self.do_baseline}[action](**opts)

    def do_import(self, *, file, meters, user, partial, dry_run, errors, **_opts):
        for path in (file, meters):
            if path is not None and not path.is_file():
                raise CommandError(f"文件不存在 / no such file: {path}")
        mapping = (meters.read_bytes(), meters.name) if meters else None
        result = import_power(
            command_actor(user), file.read_bytes(), file.name, meters=mapping, partial=partial, dry_run=dry_run
        )
        errorfile.report_to_command(self.stdout, result, errors)
        if result.days:
            self.stdout.write(f"数据日期 / dates: {result.days[0]} – {result.days[-1]} ({len(result.days)})")
        if result.ok:
            self.stdout.write(self.style.SUCCESS(result.summary()))
            if result.applied:
                days = rollup.refresh_dirty()
                self.stdout.write(f"已重算汇总 {len(days)} 天 / roll-ups recomputed for {len(days)} days")
            return
        raise CommandError(result.summary(), returncode=1)

    def do_baseline(self, *, date, uscc, user, region, csv_out: Path | None = None, **_opts):
        day, actor = parse_date(date), command_actor(user)
        firms = Enterprise.objects.domestic(actor, "view").filter(country="CN")
        if region:
            try:
                place = resolve_region(actor, region)
            except Http404:
                raise CommandError(f"区域不存在或不在范围内 / unknown region or outside the scope: {region}")
            firms = firms.filter(region__code__startswith=place.prefix if place else "")
        if uscc:
            firms = firms.filter(uscc=uscc.strip().upper())
            if not firms.exists():
                raise CommandError(f"企业不存在或不在范围内 / no such enterprise in scope: {uscc}")
        readings = PowerReading.objects.filter(date=day, enterprise__in=firms.values("pk"))
        kwh = dict(readings.values_list("enterprise_id", "kwh"))
        details = power.baseline_details(firms.values("pk") if not uscc else list(firms.values_list("pk", flat=True)), day)
        self._summary(day, kwh, details)
        if uscc:
            firm = firms.get()
            b = details.get(firm.pk)
            reading = kwh.get(firm.pk)
            index = 100 * float(reading) / b.kwh if (b and reading is not None) else None
            self.stdout.write(
                f"{firm.name}\t{firm.uscc}\t用电 / kWh: {reading if reading is not None else '—'}\t"
                f"基期 / baseline: {f'{b.kwh:.2f} ({b.source})' if b else '—'}\t"
                f"指数 / index: {f'{index:.1f}' if index is not None else '—'}"
            )
        if csv_out:
            self._csv(csv_out, day, kwh, details)

    def _summary(self, day, kwh, details) -> None:
        both = [f for f in kwh if f in details]
        sources = {"last_year": 0, "window": 0}
        for b in details.values():
            sources[b.source] += 1
        total = sum(float(kwh[f]) for f in both)
        base = sum(details[f].kwh for f in both)
        index = f"{100 * total / base:.1f}" if base else "—"
        start, end = power.baseline_window()
        self.stdout.write(
            f"{day}: 有用电数据 {len(kwh)} 家，有基期 {len(details)} 家（上年同期 {sources['last_year']}，"
            f"疫前窗口 {start}–{end} {sources['window']}），电力复工指数 {index}"
            f" / {len(kwh)} with a reading, {len(details)} with a baseline"
            f" (last year {sources['last_year']}, window {sources['window']}), power index {index}"
        )

    def _csv(self, path: Path, day, kwh, details) -> None:
        names = dict(Enterprise.objects.filter(pk__in=list(kwh)).values_list("pk", "uscc"))
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            out = csv.writer(fh)
            out.writerow(["统一社会信用代码", "日期", "用电量（千瓦时）", "基期（千瓦时/日）", "基期来源", "电力复工指数"])
            for firm, value in sorted(kwh.items()):
                b = details.get(firm)
                index = f"{100 * float(value) / b.kwh:.2f}" if b else ""
                out.writerow([names.get(firm, ""), day.isoformat(), str(value), f"{b.kwh:.2f}" if b else "",
                              b.source if b else "", index])  # fmt: skip
        self.stdout.write(f"已写入 / written: {path}")
