"""Notifications of appeal events: in-app inbox, e-mail, and a signed outbound webhook.

``services`` calls :func:`notify_event` inside its transaction after saving each ``AppealEvent``
(the overdue sweep does the same for OVERDUE). Who hears of what (docs/appeals.md, "Notifications"):

- the enterprise side — the enterprise's approved, active users and the submitter — for events it
  sees (never internal ones) that concern it: accepted, resolved, unresolvable, question, closed,
  escalated, transferred, and a comment by an official;
- the handling unit (``routing.users_of_unit``: the department's handlers in that region, or the
  region's task force) and the appeal's assignee for events that need it: submitted, routed (a
  re-route after intake), assigned, transferred, escalated, answer, reopened, confirmed, overdue, a
  comment by the enterprise side and an internal comment; for OVERDUE also the task force of the
  handling region;
- never the actor themself.

In-app rows are written at once (``bulk_create``). E-mail goes after commit
(``transaction.on_commit``) to recipients with an address, through Django's mail backend
(console unless ``GULIAN_SMTP_HOST`` is set); a mail failure is logged and never breaks the request.
With ``GULIAN_APPEALS_WEBHOOK_URL`` set, each event also gets a ``WebhookDelivery`` row (JSON without
personal data beyond the enterprise's USCC and name), POSTed after commit with a timestamp and an
HMAC-SHA256 signature; failed deliveries are retried by the sweep up to ``WEBHOOK_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gulian.appeals import routing
from gulian.appeals.models import AppealEvent, EventKind, Notification, WebhookDelivery
from gulian.core.models import Role, User

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 5  # seconds
WEBHOOK_MAX_ATTEMPTS = 8
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept between X-Gulian-Timestamp and its clock

ENTERPRISE_KINDS = {
    EventKind.ACCEPTED, EventKind.RESOLVED, EventKind.UNRESOLVABLE, EventKind.QUESTION, EventKind.CLOSED,
    EventKind.ESCALATED, EventKind.TRANSFERRED,
}
UNIT_KINDS = {
    EventKind.SUBMITTED, EventKind.ROUTED, EventKind.ASSIGNED, EventKind.TRANSFERRED, EventKind.ESCALATED,
    EventKind.ANSWER, EventKind.REOPENED, EventKind.CONFIRMED, EventKind.OVERDUE,
}
ENTERPRISE_SIDE_ROLES = (Role.ENTERPRISE, Role.LIAISON)
_APPEAL_URL_NAMES = ("appeals:appeal_detail",)


# --- who ----------------------------------------------------------------------------------------


def _by_enterprise_side(event: AppealEvent) -> bool:
    return event.actor is not None and event.actor.role in ENTERPRISE_SIDE_ROLES


def _enterprise_side(appeal) -> list[User]:
    users = list(
        User.objects.filter(enterprise_id=appeal.enterprise_id, role=Role.ENTERPRISE, is_active=True, approved=True)
    )
    submitter = appeal.submitted_by
    if submitter.is_active and all(u.pk != submitter.pk for u in users):
        users.append(submitter)
    return users


def _unit(appeal, *, with_task_force: bool = False) -> list[User]:
    users = list(routing.users_of_unit(appeal.level, appeal.handling_region, appeal.department))
    if with_task_force and appeal.department_id is not None:
        users += list(routing.users_of_unit(appeal.level, appeal.handling_region, None))
    if appeal.assignee_id and appeal.assignee.is_active:
        users.append(appeal.assignee)
    return users


def recipients(event: AppealEvent) -> list[User]:
    """The users to notify of ``event`` (rules in the module docstring), without duplicates or the actor."""
    appeal = event.appeal
    kind = event.kind
    out: list[User] = []
    if kind == EventKind.COMMENT:
        by_enterprise = _by_enterprise_side(event)
        if by_enterprise:
            out += _unit(appeal)
        elif event.internal:
            out += _unit(appeal)
        else:
            out += _enterprise_side(appeal)
    else:
        if kind in ENTERPRISE_KINDS and not event.internal:
            out += _enterprise_side(appeal)
        if kind in UNIT_KINDS:
            intake_route = kind == EventKind.ROUTED and event.at == appeal.created_at  # SUBMITTED already told them
            if not intake_route:
                out += _unit(appeal, with_task_force=kind == EventKind.OVERDUE)
    seen: set[int] = set()
    unique = []
    for u in out:
        if u.pk in seen or u.pk == event.actor_id:
            continue
        seen.add(u.pk)
        unique.append(u)
    return unique


# --- what ---------------------------------------------------------------------------------------


def message_for(event: AppealEvent) -> str:
    """The notice text (Chinese, the default language; at most 300 characters)."""
    appeal = event.appeal
    with translation.override(settings.LANGUAGE_CODE):
        what = str(EventKind(event.kind).label)
        if event.kind in (EventKind.TRANSFERRED, EventKind.ESCALATED, EventKind.ASSIGNED) and event.to_unit:
            what = f"{what} → {event.to_unit}"
        head = _("诉求 %(number)s「%(title)s」：%(what)s") % {
            "number": appeal.tracking_number or "—", "title": appeal.title[:40], "what": what,
        }
    detail = "" if event.internal and event.kind != EventKind.COMMENT else " ".join(event.text.split())
    text = f"{head}。{detail}" if detail else head
    return text if len(text) <= 300 else text[:299] + "…"


def appeal_path(appeal) -> str:
    """The appeal's page (path only), or the inbox when the pages are not installed."""
    for name in _APPEAL_URL_NAMES:
        try:
            return reverse(name, args=[appeal.pk])
        except NoReverseMatch:
            continue
    try:
        return reverse("appeals:notifications")
    except NoReverseMatch:
        return "/"


# --- notify -------------------------------------------------------------------------------------


def notify_event(event: AppealEvent) -> None:
    """Notify the right people of ``event``: in-app now, e-mail and webhook after commit."""
    users = recipients(event)
    if users:
        message = message_for(event)
        rows = Notification.objects.bulk_create(
            [Notification(recipient=u, appeal=event.appeal, kind=event.kind, message=message, created_at=event.at)
             for u in users]  # fmt: skip
        )
        mails = [(n.pk, u.email) for n, u in zip(rows, users, strict=True) if u.email and n.pk is not None]
        if mails:
            subject = _subject(event)
            body = f"{message}\n\n{appeal_path(event.appeal)}\n"
            transaction.on_commit(lambda: send_emails(subject, body, mails), robust=True)
    if settings.APPEALS_WEBHOOK_URL:
        delivery = WebhookDelivery.objects.create(event=event, payload=webhook_payload(event))
        transaction.on_commit(lambda: deliver(delivery.pk), robust=True)


def _subject(event: AppealEvent) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("【固链】诉求 %(number)s：%(what)s") % {
            "number": event.appeal.tracking_number or "—", "what": str(EventKind(event.kind).label),
        }


def send_emails(subject: str, body: str, mails: list[tuple[int, str]]) -> int:
    """Send one e-mail per (notification id, address) and stamp ``emailed_at``; failures are logged."""
    datatuple = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for _pk, address in mails]
    try:
        sent = send_mass_mail(datatuple, fail_silently=False)
    except Exception:  # SMTP down, refused, bad address: the notice stays in the inbox
        log.exception("通知邮件发送失败 / notification e-mail failed: %s", subject)
        return 0
    try:
        Notification.objects.filter(pk__in=[pk for pk, _a in mails]).update(emailed_at=timezone.now())
    except Exception:
        log.exception("无法记录邮件发送时间 / could not record emailed_at")
    return sent


# --- in-app inbox -------------------------------------------------------------------------------


def unread_count(user) -> int:
    """How many of ``user``'s notifications are unread (for the navigation bar)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, notification_id: int) -> bool:
    """Mark one of ``user``'s own notifications read; False when there is no such unread notice."""
    return bool(
        Notification.objects.filter(recipient=user, pk=notification_id, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    )


def mark_all_read(user) -> int:
    """Mark all of ``user``'s notifications read; how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- webhook ------------------------------------------------------------------------------------


def webhook_payload(event: AppealEvent) -> dict:
    """The JSON sent for ``event``: no personal data beyond the enterprise's USCC and name."""
    appeal = event.appeal
    return {
        "event": event.kind,
        "event_id": event.pk,
        "at": event.at.isoformat(),
        "internal": event.internal,
        "appeal": {
            "tracking_number": appeal.tracking_number,
            "status": appeal.status,
            "category": appeal.category,
            "urgency": appeal.urgency,
            "level": appeal.level,
            "region": appeal.handling_region_id,
            "department": appeal.department.code if appeal.department_id else None,
            "unit": routing.unit_label(appeal.level, appeal.handling_region, appeal.department),
            "overdue": appeal.overdue,
            "accept_due": appeal.accept_due.isoformat() if appeal.accept_due else None,
            "resolve_due": appeal.resolve_due.isoformat() if appeal.resolve_due else None,
        },
        "enterprise": {"uscc": appeal.enterprise.uscc, "name": appeal.enterprise.name},
    }


def encode_body(payload: dict) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON, UTF-8, keys sorted."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _as_bytes(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def sign(secret: str | bytes, timestamp: str | int, body: bytes | str) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    mac = hmac.new(_as_bytes(secret), _as_bytes(timestamp) + b"." + _as_bytes(body), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str | bytes, timestamp: str | int, body: bytes | str, signature: str, tolerance: int = SIGNATURE_TOLERANCE,
    *, now: float | None = None,
) -> bool:
    """For receivers: whether a webhook request is genuine and fresh.

    True when ``signature`` (X-Gulian-Signature) signs ``timestamp.body`` under ``secret`` and
    ``timestamp`` (X-Gulian-Timestamp, Unix seconds) lies within ``tolerance`` seconds of now. Pass the raw request body, not re-serialised JSON. Constant-time comparison; replays older
    than the tolerance are refused.
    """
    try:
        ts = int(_as_bytes(timestamp).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return False
    current = time.time() if now is None else now
    if tolerance is not None and abs(current - ts) > tolerance:
        return False
    expected = sign(secret, ts, body)
    return hmac.compare_digest(expected.encode("ascii"), (signature or "").strip().encode("utf-8", "replace"))


def deliver(delivery_id: int, *, max_attempts: int = WEBHOOK_MAX_ATTEMPTS) -> bool:
    """POST one pending delivery; True when the receiver answered 2xx. Records attempts and the last error.

    The attempt is claimed with a conditional UPDATE, so two processes (the request after commit and
    the sweep) never send the same attempt twice.
    """
    url, secret = settings.APPEALS_WEBHOOK_URL, settings.APPEALS_WEBHOOK_SECRET
    d = WebhookDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True).first()
    if d is None or not url or d.attempts >= max_attempts:
        return False
    if not secret:
        WebhookDelivery.objects.filter(pk=d.pk).update(
            last_error="GULIAN_APPEALS_WEBHOOK_SECRET 未设置，未发送 / not set, not sent"
        )
        log.error("webhook: GULIAN_APPEALS_WEBHOOK_SECRET is not set; delivery %s kept for later", d.pk)
        return False
    claimed = WebhookDelivery.objects.filter(pk=d.pk, attempts=d.attempts, delivered_at__isnull=True).update(
        attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    body = encode_body(d.payload)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Gulian-Webhook/1",
            "X-Gulian-Event": str(d.payload.get("event", "")),
            "X-Gulian-Delivery": str(d.pk),
            "X-Gulian-Timestamp": timestamp,
            "X-Gulian-Signature": sign(secret, timestamp, body),
        },
    )
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310 (configured URL)
            status = response.status
            if not 200 <= status < 300:
                error = f"HTTP {status}"
    except urllib.error.HTTPError as e:
        error = f"HTTP {e.code} {e.reason}"
    except (urllib.error.URLError, OSError, ValueError) as e:
        error = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
    if error:
        WebhookDelivery.objects.filter(pk=d.pk).update(last_error=error[:300])
        log.warning("webhook delivery %s failed (attempt %d): %s", d.pk, d.attempts + 1, error)
        return False
    WebhookDelivery.objects.filter(pk=d.pk).update(delivered_at=timezone.now(), last_error="")
    return True
