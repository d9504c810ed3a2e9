"""gulian audit verify | gulian audit tail [-n N]."""

from django.core.management.base import BaseCommand, CommandError

from gulian.core import audit
from gulian.core.models import AuditRecord


class Command(BaseCommand):
    help = "Check the hash-chained audit log (verify) or print its latest records (tail)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="report every altered, removed or relinked record; exit 1 if any")
        tail = sub.add_parser("tail", help="print the latest records")
        tail.add_argument("-n", type=int, default=20)

    def handle(self, *args, action, **opts):
        if action == "tail":
            for r in reversed(AuditRecord.objects.order_by("-seq")[: opts["n"]]):
                self.stdout.write(
                    f"{r.seq}\t{r.created_at:%Y-%m-%d %H:%M:%S}\t{r.actor_name}\t{r.action}\t{r.model}#{r.object_pk}"
                )
            return
        total = AuditRecord.objects.count()
        problems = list(audit.verify())
        if not problems:
            self.stdout.write(self.style.SUCCESS(f"审计日志完好：{total} 条记录 / audit log intact: {total} records"))
            return
        for p in problems:
            self.stdout.write(f"#{p.seq}\t{p.kind}\t{p.detail}")
        raise CommandError(
            f"审计日志有 {len(problems)} 处异常 / audit log has {len(problems)} problem(s) in {total} records"
        )
