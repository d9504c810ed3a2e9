"""The only writers of appeals: intake, lifecycle steps, transfer, escalation, triage.

Each function checks the actor's right through ``Appeal.objects.restrict(actor, action)`` (actions
view / handle / triage / follow, see models.AppealQuerySet), checks that the step is legal from the
appeal's status (``IllegalTransition`` otherwise), writes in one transaction with an audit record and
a timeline event, and hands the event to ``notify.notify_event``. docs/appeals.md, "Workflow".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gulian.appeals import routing
from gulian.appeals.attachments import check_attachment
from gulian.appeals.models import (
    ANSWERED_STATUSES,
    OPEN_STATUSES,
    Appeal,
    AppealAttachment,
    AppealEvent,
    Category,
    EventKind,
    Status,
    Urgency,
)
from gulian.core import audit
from gulian.core.models import Role
from gulian.core.services import OutOfScope

__all__ = ["check_attachment"]  # re-exported: forms and the API check files before submitting

DUPLICATE_WINDOW = dt.timedelta(hours=24)
DUPLICATE_SIMILARITY = 0.6  # Jaccard similarity of character bigrams above which two appeals look alike


class IllegalTransition(ValidationError):  # noqa: N818 - reads as the domain term
    """The step is not allowed from the appeal's current status."""


@dataclass(frozen=True)
class SubmitResult:
    """What ``submit`` did: the appeal, whether it is new, and the near-duplicate it was linked to."""

    appeal: Appeal
    created: bool
    duplicate_of: Appeal | None


# --- helpers ------------------------------------------------------------------------------------


def _require(actor, appeal: Appeal, *actions: str) -> None:
    """OutOfScope unless ``actor`` may do one of ``actions`` on ``appeal``."""
    if actor is None:  # the system (the overdue sweep)
        return
    for action in actions:
        if Appeal.objects.restrict(actor, action).filter(pk=appeal.pk).exists():
            return
    raise OutOfScope(_("无权对该诉求执行此操作 / you may not do this on this appeal"))


def _require_status(appeal: Appeal, allowed, step: str) -> None:
    if appeal.status not in allowed:
        raise IllegalTransition(
            _("诉求当前状态为「%(status)s」，不能%(step)s / the appeal is %(status_en)s; this step is not allowed")
            % {"status": appeal.get_status_display(), "step": step, "status_en": appeal.status}
        )


def _text(value: str, field: str, label: str, *, limit: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("%(label)s不能为空 / %(field)s is required") % {"label": label, "field": field}})
    limit = limit or settings.APPEALS_MAX_TEXT
    if len(value) > limit:
        raise ValidationError(
            {field: _("%(label)s不能超过 %(n)d 字 / %(field)s is longer than %(n)d characters")
             % {"label": label, "field": field, "n": limit}}
        )
    return value


def _unit(appeal: Appeal) -> str:
    return routing.unit_label(appeal.level, appeal.handling_region, appeal.department)


def _event(appeal: Appeal, kind: str, actor, *, text: str = "", internal: bool = False, **fields) -> AppealEvent:
    """Save a timeline event and hand it to the notifier (inside the caller's transaction)."""
    from gulian.appeals import notify

    event = AppealEvent.objects.create(
        appeal=appeal, kind=kind, actor=actor if getattr(actor, "pk", None) else None, text=text, internal=internal,
        **fields,
    )
    notify.notify_event(event)
    return event


def _save(actor, appeal: Appeal, changes: dict) -> None:
    """Apply ``changes``, save and audit the fields that changed."""
    before = audit.snapshot(appeal, changes.keys())
    for name, value in changes.items():
        setattr(appeal, name, value)
    appeal.save()
    audit.record(actor, "update", appeal, before, audit.snapshot(appeal, changes.keys()))


def _locked(appeal: Appeal) -> Appeal:
    """The appeal re-read under a row lock, so two handlers cannot both move it."""
    fresh = Appeal.objects.select_for_update().get(pk=appeal.pk)
    appeal.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
    return appeal


def _deadlines(urgency: str, start: dt.datetime) -> dict:
    from gulian.appeals import sla

    accept_due, resolve_due = sla.deadlines(urgency, start)
    return {"accept_due": accept_due, "resolve_due": resolve_due, "overdue": False, "overdue_since": None}


def _route_fields(route: routing.Route) -> dict:
    return {"level": route.level, "handling_region": route.region, "department": route.department, "assignee": None}


# --- intake -------------------------------------------------------------------------------------


def may_file_for(actor, enterprise) -> bool:
    """An enterprise user for their own enterprise, a liaison for theirs, an administrator for any."""
    if actor is None or not getattr(actor, "is_usable", False):
        return False
    if actor.is_admin:
        return True
    if actor.role == Role.ENTERPRISE:
        return actor.enterprise_id == enterprise.pk
    return actor.role == Role.LIAISON and enterprise.liaison_id == actor.pk


def _bigrams(s: str) -> set[str]:
    s = "".join(s.split())
    return {s[i : i + 2] for i in range(len(s) - 1)} or {s}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of two texts (0..1; whitespace ignored)."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x | y else 0.0


def find_near_duplicate(enterprise, title: str, text: str, at: dt.datetime, exclude_pk=None) -> Appeal | None:
    """The same enterprise's most similar appeal filed within 24 h before ``at``, if alike enough."""
    recent = Appeal.objects.filter(enterprise=enterprise, created_at__gte=at - DUPLICATE_WINDOW, created_at__lte=at)
    if exclude_pk:
        recent = recent.exclude(pk=exclude_pk)
    best, best_score = None, DUPLICATE_SIMILARITY
    for other in recent.only("pk", "title", "text", "tracking_number", "duplicate_of_id")[:50]:
        score = similarity(f"{title}\n{text}", f"{other.title}\n{other.text}")
        if score >= best_score:
            best, best_score = other, score
    if best is not None and best.duplicate_of_id:
        return Appeal.objects.get(pk=best.duplicate_of_id)  # link to the first of the series
    return best


def _clean_intake(enterprise, title, text, category, urgency, secondary_categories, related_regions):
    errors: dict[str, list[str]] = {}

    def collect(fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except ValidationError as e:
            for k, v in e.message_dict.items():
                errors.setdefault(k, []).extend(v)
            return ""

    text = collect(_text, text, "text", _("诉求内容"))
    title = (title or "").strip() or (text[:30] if text else "")
    if len(title) > 100:
        errors.setdefault("title", []).append(_("标题不能超过 100 字 / title is longer than 100 characters"))
    if category and category not in Category.values:
        errors.setdefault("category", []).append(_("未知的诉求类别 / unknown category: %s") % category)
    if urgency not in Urgency.values:
        errors.setdefault("urgency", []).append(_("未知的紧急程度 / unknown urgency: %s") % urgency)
    bad = [c for c in secondary_categories if c not in Category.values]
    if bad:
        errors.setdefault("secondary_categories", []).append(_("未知的诉求类别 / unknown category: %s") % ", ".join(bad))
    if enterprise.region_id is None:
        errors.setdefault("enterprise", []).append(
            _("境外企业不能提交诉求 / an enterprise without a region in China cannot file an appeal")
        )
    if errors:
        raise ValidationError(errors)
    return title, text


def submit(
    actor, *, enterprise, title: str = "", text: str, category: str = "", urgency: str = Urgency.NORMAL,
    secondary_categories=(), related_enterprises=(), related_regions=(), risk_item=None, heldback_owner=None,
    attachments=(), client_token: str = "", channel: str = "web", address: str = "", at: dt.datetime | None = None,
) -> SubmitResult:
    """File an appeal: validate, classify, route, set deadlines, flag near-duplicates; idempotent per token."""
    if not may_file_for(actor, enterprise):
        raise OutOfScope(_("只能为本企业（或联系的企业）提交诉求 / you may file appeals only for your own enterprise"))
    client_token = (client_token or "").strip()[:64]
    if client_token:
        existing = Appeal.objects.filter(submitted_by=actor, client_token=client_token).first()
        if existing is not None:
            return SubmitResult(existing, False, existing.duplicate_of)
    title, text = _clean_intake(enterprise, title, text, category, urgency, secondary_categories, related_regions)
    for f in attachments:
        check_attachment(f)
    secondary = sorted({c for c in secondary_categories if c != category})
    at = at or timezone.now()

    from gulian.appeals import classifier

    suggestion = classifier.suggest(f"{title}\n{text}")
    category = category or suggestion.category
    related_enterprises = [e for e in related_enterprises if e.pk != enterprise.pk]
    route = routing.initial_route(enterprise, category, secondary, related_enterprises, related_regions)
    duplicate = find_near_duplicate(enterprise, title, text, at)
    appeal = Appeal(
        enterprise=enterprise, submitted_by=actor, client_token=client_token, channel=channel, title=title, text=text,
        category=category, secondary_categories=secondary, suggested_category=suggestion.category,
        suggestion_confidence=round(suggestion.confidence, 4), urgency=urgency, address=address[:200],
        risk_item=risk_item, heldback_owner=heldback_owner, created_at=at, duplicate_of=duplicate,
        **_route_fields(route), **_deadlines(urgency, at),
    )
    try:
        with transaction.atomic():
            appeal.save()
            # the primary key makes the number unique however many submissions arrive at once
            appeal.tracking_number = f"SQ{timezone.localtime(at):%Y%m%d}{appeal.pk:06d}"
            Appeal.objects.filter(pk=appeal.pk).update(tracking_number=appeal.tracking_number)
            if related_enterprises:
                appeal.related_enterprises.set(related_enterprises)
            if related_regions:
                appeal.related_regions.set(related_regions)
            for f in attachments:
                _store_attachment(actor, appeal, f)
            audit.record(actor, "create", appeal, None, audit.snapshot(appeal))
            _event(appeal, EventKind.SUBMITTED, actor, to_status=Status.SUBMITTED, at=at)
            _event(appeal, EventKind.ROUTED, None, to_level=route.level, to_unit=_unit(appeal), at=at,
                   text=_("按路由表分派 / routed by the routing table") if route.department else
                   _("涉及多个部门或地区，交由专班统筹 / several departments or regions: to the task force"))
            if duplicate is not None:
                _event(appeal, EventKind.DUPLICATE, None, at=at, internal=True,
                       text=_("与 %(n)s 内容相近（24小时内），已关联 / similar to %(n)s filed within 24 hours")
                       % {"n": duplicate.tracking_number})
    except IntegrityError:
        # the same client token raced in from a second request: return the appeal that won
        if client_token:
            existing = Appeal.objects.filter(submitted_by=actor, client_token=client_token).first()
            if existing is not None:
                return SubmitResult(existing, False, existing.duplicate_of)
        raise
    return SubmitResult(appeal, True, duplicate)


def _store_attachment(actor, appeal: Appeal, f) -> AppealAttachment:
    att = AppealAttachment(
        appeal=appeal, name=f.name[:200], content_type=getattr(f, "content_type", "") or "", size=f.size,
        uploaded_by=actor,
    )
    att.file.save(f.name, f, save=False)
    att.save()
    return att


def add_attachment(actor, appeal: Appeal, uploaded_file) -> AppealAttachment:
    """Attach a file (its sender must see the appeal and be the enterprise side or the handling unit)."""
    _require(actor, appeal, "follow", "handle", "triage")
    check_attachment(uploaded_file)
    with transaction.atomic():
        att = _store_attachment(actor, appeal, uploaded_file)
        audit.record(actor, "create", att, None, audit.snapshot(att))
        _event(appeal, EventKind.ATTACHMENT, actor, text=att.name)
    return att


# --- lifecycle ----------------------------------------------------------------------------------


def accept(actor, appeal: Appeal, note: str = "") -> Appeal:
    """受理: the handling unit takes the appeal (submitted → accepted)."""
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "handle")
        _require_status(appeal, [Status.SUBMITTED], _("受理"))
        now = timezone.now()
        _save(actor, appeal, {"status": Status.ACCEPTED, "accepted_at": now, "overdue": False, "overdue_since": None,
                              "assignee": appeal.assignee or actor})
        _event(appeal, EventKind.ACCEPTED, actor, text=note, from_status=Status.SUBMITTED, to_status=Status.ACCEPTED)
    return appeal


def start(actor, appeal: Appeal, note: str = "") -> Appeal:
    """开始办理 (accepted → in progress)."""
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "handle")
        _require_status(appeal, [Status.ACCEPTED], _("开始办理"))
        _save(actor, appeal, {"status": Status.IN_PROGRESS})
        _event(appeal, EventKind.STARTED, actor, text=note, from_status=Status.ACCEPTED, to_status=Status.IN_PROGRESS)
    return appeal


def _answer(actor, appeal: Appeal, status: str, field: str, text: str, kind: str, step: str) -> Appeal:
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "handle")
        _require_status(appeal, [Status.ACCEPTED, Status.IN_PROGRESS], step)
        previous = appeal.status
        _save(actor, appeal, {"status": status, field: text, "resolved_at": timezone.now(), "overdue": False,
                              "overdue_since": None})
        _event(appeal, kind, actor, text=text, from_status=previous, to_status=status)
    return appeal


def resolve(actor, appeal: Appeal, reply: str) -> Appeal:
    """答复：已解决, with the reply the enterprise reads (accepted | in progress → resolved)."""
    return _answer(actor, appeal, Status.RESOLVED, "reply", _text(reply, "reply", _("答复意见")), EventKind.RESOLVED,
                   _("答复"))


def declare_unresolvable(actor, appeal: Appeal, reason: str) -> Appeal:
    """答复：无法解决, with the reason (accepted | in progress → unresolvable)."""
    reason = _text(reason, "reason", _("无法解决原因"))
    return _answer(actor, appeal, Status.UNRESOLVABLE, "unresolvable_reason", reason, EventKind.UNRESOLVABLE,
                   _("答复"))


def confirm(actor, appeal: Appeal, rating: int, comment: str = "") -> Appeal:
    """The enterprise confirms the answer and rates it 1–5 (resolved | unresolvable → confirmed)."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("满意度须为 1–5 分 / the rating must be 1 to 5")})
    comment = (comment or "").strip()[:500]
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "follow")
        _require_status(appeal, ANSWERED_STATUSES, _("确认"))
        previous = appeal.status
        _save(actor, appeal, {"status": Status.CONFIRMED, "rating": rating, "rating_comment": comment,
                              "confirmed_at": timezone.now()})
        _event(appeal, EventKind.CONFIRMED, actor, text=f"{rating}/5 {comment}".strip(), from_status=previous,
               to_status=Status.CONFIRMED)
    return appeal


def close(actor, appeal: Appeal, note: str = "") -> Appeal:
    """销号: the handling unit or a task force closes a confirmed appeal."""
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "handle", "triage")
        _require_status(appeal, [Status.CONFIRMED], _("销号"))
        _save(actor, appeal, {"status": Status.CLOSED, "closed_at": timezone.now()})
        _event(appeal, EventKind.CLOSED, actor, text=note, from_status=Status.CONFIRMED, to_status=Status.CLOSED)
    return appeal


def reopen_deadline(appeal: Appeal) -> dt.datetime | None:
    """Until when the enterprise may reopen the appeal (APPEALS_REOPEN_DAYS after the reply)."""
    if appeal.resolved_at is None:
        return None
    return appeal.resolved_at + dt.timedelta(days=settings.APPEALS_REOPEN_DAYS)


def reopen(actor, appeal: Appeal, reason: str) -> Appeal:
    """The enterprise reopens an answered or closed appeal within the window (→ in progress, new deadline)."""
    reason = _text(reason, "reason", _("重新办理理由"))
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "follow")
        _require_status(appeal, [*ANSWERED_STATUSES, Status.CONFIRMED, Status.CLOSED], _("重新办理"))
        limit = reopen_deadline(appeal)
        if limit is not None and timezone.now() > limit:
            raise IllegalTransition(
                _("已超过 %(n)d 天的重新办理期限 / the %(n)d-day reopening window has passed")
                % {"n": settings.APPEALS_REOPEN_DAYS}
            )
        previous = appeal.status
        now = timezone.now()
        changes = {"status": Status.IN_PROGRESS, "reopen_count": appeal.reopen_count + 1, "rating": None,
                   "rating_comment": "", "confirmed_at": None, "closed_at": None, "resolved_at": None}
        changes.update(_deadlines(appeal.urgency, now))
        changes["accept_due"] = appeal.accept_due  # already accepted once; only the resolve clock restarts
        _save(actor, appeal, changes)
        _event(appeal, EventKind.REOPENED, actor, text=reason, from_status=previous, to_status=Status.IN_PROGRESS)
    return appeal


# --- conversation -------------------------------------------------------------------------------


def comment(actor, appeal: Appeal, text: str, internal: bool = False) -> AppealEvent:
    """A comment in the timeline; internal ones (officials only) are hidden from the enterprise."""
    text = _text(text, "text", _("留言"))
    _require(actor, appeal, "view")
    if actor.role in (Role.ENTERPRISE, Role.LIAISON) and internal:
        raise OutOfScope(_("企业不能发内部留言 / enterprises cannot post internal notes"))
    with transaction.atomic():
        return _event(appeal, EventKind.COMMENT, actor, text=text, internal=internal)


def ask(actor, appeal: Appeal, question: str) -> AppealEvent:
    """The handling unit asks the enterprise a question (open appeals)."""
    question = _text(question, "text", _("问题"))
    _require(actor, appeal, "handle")
    _require_status(appeal, OPEN_STATUSES, _("询问企业"))
    with transaction.atomic():
        return _event(appeal, EventKind.QUESTION, actor, text=question)


def answer(actor, appeal: Appeal, text: str) -> AppealEvent:
    """The enterprise answers a question (open appeals)."""
    text = _text(text, "text", _("答复"))
    _require(actor, appeal, "follow")
    _require_status(appeal, OPEN_STATUSES, _("补充答复"))
    with transaction.atomic():
        return _event(appeal, EventKind.ANSWER, actor, text=text)


def meeting_note(actor, appeal: Appeal, text: str) -> AppealEvent:
    """Case-meeting notes (会商记录): internal, by the handling unit or a task force above it."""
    text = _text(text, "text", _("会商记录"), limit=10000)
    _require(actor, appeal, "handle", "triage")
    with transaction.atomic():
        return _event(appeal, EventKind.MEETING, actor, text=text, internal=True)


# --- moving the appeal --------------------------------------------------------------------------


def _move(actor, appeal: Appeal, route: routing.Route, kind: str, reason: str, extra: dict | None = None) -> Appeal:
    """Hand the appeal to another unit; a not-yet-accepted or reopened one gets fresh deadlines there."""
    from_level, from_unit = appeal.level, _unit(appeal)
    changes = _route_fields(route)
    if kind == EventKind.ESCALATED:
        changes["escalation_count"] = appeal.escalation_count + 1
    if appeal.status != Status.SUBMITTED:
        # accepted work moves on: the new unit must accept it again
        changes["status"] = Status.SUBMITTED
        changes["accepted_at"] = None
    changes.update(_deadlines(appeal.urgency, timezone.now()))
    changes.update(extra or {})
    previous = appeal.status
    _save(actor, appeal, changes)
    _event(appeal, kind, actor, text=reason, from_level=from_level, to_level=route.level, from_unit=from_unit,
           to_unit=_unit(appeal), from_status=previous, to_status=appeal.status)
    return appeal


def transfer(actor, appeal: Appeal, department, reason: str) -> Appeal:
    """转办: to another department at the same level and region, with a reason."""
    reason = _text(reason, "reason", _("转办理由"), limit=1000)
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "handle", "triage")
        _require_status(appeal, OPEN_STATUSES, _("转办"))
        if department is None or department.pk == appeal.department_id:
            raise ValidationError({"department": _("请选择另一个部门 / choose a different department")})
        return _move(actor, appeal, routing.Route(appeal.level, appeal.handling_region, department),
                     EventKind.TRANSFERRED, reason)


def escalate(actor, appeal: Appeal, reason: str) -> Appeal:
    """升级: to the task force one rung up the ladder, with a reason (actor None: the overdue sweep)."""
    reason = _text(reason, "reason", _("升级理由"), limit=1000)
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "handle", "triage")
        _require_status(appeal, OPEN_STATUSES, _("升级"))
        route = routing.next_rung(appeal.level, appeal.handling_region)
        if route is None:
            raise IllegalTransition(_("已在国务院专班，不能再升级 / already at the State Council task force"))
        return _move(actor, appeal, route, EventKind.ESCALATED, reason)


def assign(actor, appeal: Appeal, department=None, assignee=None, reason: str = "") -> Appeal:
    """Task-force triage at its level: hand to a department (or keep it) and/or name the person in charge."""
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "triage")
        _require_status(appeal, OPEN_STATUSES, _("分派"))
        if assignee is not None:
            unit = routing.users_of_unit(appeal.level, appeal.handling_region, department or appeal.department)
            if not unit.filter(pk=assignee.pk).exists():
                raise ValidationError({"assignee": _("经办人须属于承办单位 / the assignee must work for the unit")})
        if department is not None and department.pk != appeal.department_id:
            _move(actor, appeal, routing.Route(appeal.level, appeal.handling_region, department), EventKind.ASSIGNED,
                  reason, {"assignee": assignee})
        elif assignee is not None:
            _save(actor, appeal, {"assignee": assignee})
            _event(appeal, EventKind.ASSIGNED, actor, text=reason or assignee.get_full_name() or assignee.username,
                   internal=True)
        else:
            raise ValidationError({"department": _("请选择部门或经办人 / choose a department or a person")})
    return appeal


def confirm_category(actor, appeal: Appeal, category: str) -> Appeal:
    """The handler confirms or corrects the category (the classifier learns from corrections)."""
    if category not in Category.values:
        raise ValidationError({"category": _("未知的诉求类别 / unknown category: %s") % category})
    with transaction.atomic():
        _locked(appeal)
        _require(actor, appeal, "handle", "triage")
        previous = appeal.get_category_display()
        _save(actor, appeal, {"category": category, "category_confirmed": True})
        _event(appeal, EventKind.CATEGORY, actor, internal=True,
               text=f"{previous} → {appeal.get_category_display()}")
    return appeal


# --- what a page may offer ------------------------------------------------------------------------

_STEPS = {
    "accept": ("handle", [Status.SUBMITTED]),
    "start": ("handle", [Status.ACCEPTED]),
    "resolve": ("handle", [Status.ACCEPTED, Status.IN_PROGRESS]),
    "declare_unresolvable": ("handle", [Status.ACCEPTED, Status.IN_PROGRESS]),
    "ask": ("handle", OPEN_STATUSES),
    "confirm_category": ("handle|triage", None),
    "transfer": ("handle|triage", OPEN_STATUSES),
    "escalate": ("handle|triage", OPEN_STATUSES),
    "meeting_note": ("handle|triage", None),
    "assign": ("triage", OPEN_STATUSES),
    "close": ("handle|triage", [Status.CONFIRMED]),
    "confirm": ("follow", ANSWERED_STATUSES),
    "answer": ("follow", OPEN_STATUSES),
    "reopen": ("follow", [*ANSWERED_STATUSES, Status.CONFIRMED, Status.CLOSED]),
    "add_attachment": ("follow|handle|triage", None),
    "comment": ("view", None),
}


def allowed_actions(user, appeal: Appeal) -> set[str]:
    """The steps ``user`` may take on ``appeal`` now (pages show only these)."""
    rights = {a for a in ("view", "handle", "triage", "follow") if Appeal.objects.restrict(user, a).filter(pk=appeal.pk).exists()}
    out = set()
    for step, (needs, statuses) in _STEPS.items():
        if rights & set(needs.split("|")) and (statuses is None or appeal.status in statuses):
            out.add(step)
    if "escalate" in out and routing.next_rung(appeal.level, appeal.handling_region) is None:
        out.discard("escalate")
    if "reopen" in out:
        limit = reopen_deadline(appeal)
        if limit is not None and timezone.now() > limit:
            out.discard("reopen")
    return out
