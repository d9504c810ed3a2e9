"""The overdue sweep (超期督办): marks appeals past their deadline, notifies, escalates, retries webhooks.

Run it every few minutes (``gulian appeals sweep`` from cron or a systemd timer; docs/cli.md). Each run:

1. flags every open appeal whose current deadline has passed — the acceptance deadline while it is
   ``submitted``, the resolution deadline while ``accepted`` or ``in_progress`` — as ``overdue``
   (``overdue_since`` = that deadline), writes one OVERDUE event to its timeline and the audit log, and
   notifies the handling unit and the task force of its region. Once per deadline: an appeal already
   flagged, or whose OVERDUE event for this deadline exists, is left alone;
2. escalates one rung (``services.escalate(None, …)``) each appeal that has been overdue for at least
   ``settings.APPEALS_AUTO_ESCALATE_DAYS`` full working days after the day it became overdue (0 turns
   this off; at the State Council task force nothing more happens). ``services`` clears the flag and
   gives the appeal fresh deadlines at its new unit;
3. retries webhook deliveries that failed (up to ``notify.WEBHOOK_MAX_ATTEMPTS`` attempts each).

Running it twice changes nothing the second time; two overlapping runs do not flag or escalate an appeal
twice (conditional updates and a row lock).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gulian.appeals import notify, sla
from gulian.appeals.models import LADDER, Appeal, AppealEvent, EventKind, Status, WebhookDelivery
from gulian.appeals.workdays import workdays_between
from gulian.core import audit

log = logging.getLogger(__name__)

ACCEPT_STATUSES = (Status.SUBMITTED,)
RESOLVE_STATUSES = (Status.ACCEPTED, Status.IN_PROGRESS)
WEBHOOK_GRACE = dt.timedelta(seconds=60)  # a fresh delivery is left to the request that created it
WEBHOOK_BATCH = 500


@dataclass
class SweepReport:
    """What one sweep did (tracking numbers of the appeals it touched)."""

    now: dt.datetime
    marked_overdue: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    escalation_errors: list[tuple[str, str]] = field(default_factory=list)
    webhooks_delivered: int = 0
    webhooks_failed: int = 0

    def summary(self) -> str:
        """One line for the command's output."""
        return (
            f"超期标记 / marked overdue {len(self.marked_overdue)}，自动升级 / escalated {len(self.escalated)}"
            f"（失败 / failed {len(self.escalation_errors)}），webhook 重发成功 / redelivered {self.webhooks_delivered}"
            f"，仍失败 / still failing {self.webhooks_failed}"
        )


def _in_chunks(qs, related, size: int = 500):
    """The rows of ``qs`` by primary key, read in chunks after listing the keys (rows change as we go)."""
    pks = list(qs.order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(pks), size):
        yield from Appeal.objects.filter(pk__in=pks[i : i + size]).select_related(*related).order_by("pk")


def _due(appeal: Appeal) -> tuple[dt.datetime | None, tuple, str]:
    if appeal.status in ACCEPT_STATUSES:
        return appeal.accept_due, ACCEPT_STATUSES, "accept"
    return appeal.resolve_due, RESOLVE_STATUSES, "resolve"


def _overdue_text(which: str, due: dt.datetime) -> str:
    when = f"{timezone.localtime(due, sla.SHANGHAI):%Y-%m-%d %H:%M}"
    if which == "accept":
        return f"超过受理时限（{when}）仍未受理 / not accepted by the deadline ({when})"
    return f"超过办结时限（{when}）仍未答复 / not answered by the deadline ({when})"


def mark_overdue(now: dt.datetime) -> list[str]:
    """Step 1: flag appeals past their current deadline, with an OVERDUE event and notices."""
    late = Q(status__in=ACCEPT_STATUSES, accept_due__lt=now) | Q(status__in=RESOLVE_STATUSES, resolve_due__lt=now)
    related = ("enterprise", "submitted_by", "handling_region", "department", "assignee")
    marked = []
    for appeal in _in_chunks(Appeal.objects.filter(late, overdue=False), related):
        due, statuses, which = _due(appeal)
        if appeal.overdue or due is None or due >= now or appeal.status not in (*ACCEPT_STATUSES, *RESOLVE_STATUSES):
            continue  # changed since the keys were listed
        flagged = AppealEvent.objects.filter(appeal=appeal, kind=EventKind.OVERDUE, at__gt=due, from_status__in=statuses)
        if flagged.exists():
            continue  # this deadline was flagged before (and the flag cleared since): once per deadline
        with transaction.atomic():
            same = {"pk": appeal.pk, "overdue": False, "status": appeal.status, f"{which}_due": due}
            won = Appeal.objects.filter(**same).update(overdue=True, overdue_since=due)
            if not won:
                continue  # another sweep, or a handler, got there first
            appeal.overdue, appeal.overdue_since = True, due
            audit.record(None, "update", appeal, {"overdue": False, "overdue_since": None},
                         {"overdue": True, "overdue_since": audit.jsonable(due)})  # fmt: skip
            event = AppealEvent.objects.create(
                appeal=appeal, kind=EventKind.OVERDUE, actor=None, at=now, text=_overdue_text(which, due),
                from_status=appeal.status, to_status=appeal.status,
            )
            notify.notify_event(event)
        marked.append(appeal.tracking_number or str(appeal.pk))
    return marked


def overdue_workdays(appeal: Appeal, now: dt.datetime) -> int:
    """Full working days an overdue appeal has been overdue: those after the day it fell due, before today."""
    if appeal.overdue_since is None:
        return 0
    since = sla.local_date(appeal.overdue_since)
    yesterday = sla.local_date(now) - dt.timedelta(days=1)
    return max(0, workdays_between(since, yesterday))


def auto_escalate(now: dt.datetime, report: SweepReport) -> None:
    """Step 2: escalate appeals overdue for APPEALS_AUTO_ESCALATE_DAYS working days or more."""
    from gulian.appeals import services

    limit = settings.APPEALS_AUTO_ESCALATE_DAYS
    if limit <= 0:
        return
    overdue = Appeal.objects.open().filter(overdue=True, overdue_since__isnull=False).exclude(level=LADDER[-1])
    for appeal in _in_chunks(overdue, ()):
        days = overdue_workdays(appeal, now)
        if days < limit:
            continue
        number = appeal.tracking_number or str(appeal.pk)
        reason = f"超期 {days} 个工作日未办结，自动升级 / overdue {days} working days, escalated automatically"
        try:
            with transaction.atomic():
                fresh = Appeal.objects.select_for_update().filter(
                    pk=appeal.pk, overdue=True, overdue_since=appeal.overdue_since, level=appeal.level,
                    status__in=(*ACCEPT_STATUSES, *RESOLVE_STATUSES),
                ).first()
                if fresh is None:
                    continue  # escalated, accepted or answered meanwhile
                services.escalate(None, fresh, reason=reason)
        except (ValidationError, PermissionDenied) as e:
            text = "; ".join(getattr(e, "messages", [str(e)]))
            log.warning("auto-escalation of %s failed: %s", number, text)
            report.escalation_errors.append((number, text))
            continue
        report.escalated.append(number)


def retry_webhooks(report: SweepReport) -> None:
    """Step 3: resend failed webhook deliveries (untried fresh ones are left to their request for a minute)."""
    if not settings.APPEALS_WEBHOOK_URL:
        return
    cutoff = timezone.now() - WEBHOOK_GRACE
    pending = (
        WebhookDelivery.objects.filter(delivered_at__isnull=True, attempts__lt=notify.WEBHOOK_MAX_ATTEMPTS)
        .filter(Q(attempts__gt=0) | ~Q(last_error="") | Q(created_at__lt=cutoff))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:WEBHOOK_BATCH]
    )
    for pk in list(pending):
        if notify.deliver(pk):
            report.webhooks_delivered += 1
        else:
            report.webhooks_failed += 1


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """One pass: mark overdue, auto-escalate, retry webhooks (module docstring). ``now`` freezes the clock."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        now = timezone.make_aware(now, sla.SHANGHAI)
    report = SweepReport(now=now)
    report.marked_overdue = mark_overdue(now)
    auto_escalate(now, report)
    retry_webhooks(report)
    return report
