"""An appeal's page for every role, the POST endpoint of its steps, and attachment downloads.

The page shows the header, the reply and rating, the timeline and the forms of the steps the user
may take now.

The appeal is fetched through ``Appeal.objects.restrict(user, "view")`` (404 outside it). The forms
shown are exactly ``services.allowed_actions(user, appeal)``; a posted step always goes through its
service, which checks the right and the status again, so an illegal step leaves the appeal as it was
and its error is shown as a message. Internal events (case-meeting notes, internal comments, triage)
are hidden from the enterprise side (enterprise users and liaisons).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gulian.appeals import forms as f
from gulian.appeals import routing, services
from gulian.appeals.models import OPEN_STATUSES, Appeal, AppealAttachment, Category, Status
from gulian.core.models import Role
from gulian.core.services import OutOfScope, get_scoped
from gulian.core.views import usable_required

DRAFT_KEY = "appeals_draft"  # what a refused step's form held, to fill it in again on the page


@dataclass(frozen=True)
class Step:
    """One action of the detail page: its form, the service call, the button and the success message."""

    label: object
    form: Callable  # (data, files, appeal, user, initial) -> Form
    run: Callable  # (user, appeal, cleaned_data) -> object
    done: object
    primary: bool = False  # drawn as a plain button (its form has no required field)


def _plain(cls, **kw):
    return lambda data, files, appeal, user, initial: cls(data, files, initial=initial, **kw)


def _comment_form(data, files, appeal, user, initial):
    official = user.is_admin or user.role not in (Role.ENTERPRISE, Role.LIAISON)
    return f.CommentForm(data, files, initial=initial, official=official)


def _category_form(data, files, appeal, user, initial):
    return f.CategoryForm(data, files, initial={"category": appeal.category, **(initial or {})})


STEPS: dict[str, Step] = {
    "accept": Step(gettext_lazy("受理"), _plain(f.NoteForm),
                   lambda u, a, d: services.accept(u, a, d["note"]), gettext_lazy("已受理"), primary=True),
    "start": Step(gettext_lazy("开始办理"), _plain(f.NoteForm),
                  lambda u, a, d: services.start(u, a, d["note"]), gettext_lazy("已开始办理"), primary=True),
    "resolve": Step(gettext_lazy("答复：已解决"), _plain(f.ReplyForm),
                    lambda u, a, d: services.resolve(u, a, d["reply"]), gettext_lazy("已答复，等待企业确认")),
    "declare_unresolvable": Step(
        gettext_lazy("答复：无法解决"), _plain(f.ReasonForm, label=gettext_lazy("无法解决原因")),
        lambda u, a, d: services.declare_unresolvable(u, a, d["reason"]), gettext_lazy("已答复无法解决，等待企业确认")),
    "ask": Step(gettext_lazy("询问企业"), _plain(f.TextForm, label=gettext_lazy("问题")),
                lambda u, a, d: services.ask(u, a, d["text"]), gettext_lazy("问题已发送给企业")),
    "answer": Step(gettext_lazy("补充说明"), _plain(f.TextForm, label=gettext_lazy("补充说明 / 回答问题")),
                   lambda u, a, d: services.answer(u, a, d["text"]), gettext_lazy("已补充说明")),
    "confirm": Step(gettext_lazy("确认并评价"), _plain(f.ConfirmForm),
                    lambda u, a, d: services.confirm(u, a, d["rating"], d["comment"]), gettext_lazy("感谢您的评价")),
    "close": Step(gettext_lazy("销号"), _plain(f.NoteForm),
                  lambda u, a, d: services.close(u, a, d["note"]), gettext_lazy("已销号"), primary=True),
    "reopen": Step(gettext_lazy("重新办理"), _plain(f.ReasonForm, label=gettext_lazy("重新办理理由")),
                   lambda u, a, d: services.reopen(u, a, d["reason"]), gettext_lazy("已申请重新办理")),
    "comment": Step(gettext_lazy("留言"), _comment_form,
                    lambda u, a, d: services.comment(u, a, d["text"], bool(d.get("internal"))), gettext_lazy("留言已发布")),
    "meeting_note": Step(gettext_lazy("会商记录"), _plain(f.TextForm, label=gettext_lazy("会商记录"), max_length=10000),
                         lambda u, a, d: services.meeting_note(u, a, d["text"]), gettext_lazy("会商记录已保存")),
    "transfer": Step(gettext_lazy("转办"), lambda data, files, appeal, user, initial: f.TransferForm(
                         data, files, appeal=appeal, initial=initial),
                     lambda u, a, d: services.transfer(u, a, d["department"], d["reason"]), gettext_lazy("已转办")),
    "escalate": Step(gettext_lazy("升级"), _plain(f.ReasonForm, label=gettext_lazy("升级理由"), max_length=1000),
                     lambda u, a, d: services.escalate(u, a, d["reason"]), gettext_lazy("已升级")),
    "assign": Step(gettext_lazy("分派"), lambda data, files, appeal, user, initial: f.AssignForm(
                       data, files, appeal=appeal, initial=initial),
                   lambda u, a, d: services.assign(u, a, department=d.get("department"), assignee=d.get("assignee"),
                                                   reason=d.get("reason", "")),
                   gettext_lazy("已分派")),
    "confirm_category": Step(gettext_lazy("确认类别"), _category_form,
                             lambda u, a, d: services.confirm_category(u, a, d["category"]), gettext_lazy("类别已确认")),
    "add_attachment": Step(gettext_lazy("上传附件"), _plain(f.AttachmentForm),
                           lambda u, a, d: services.add_attachment(u, a, d["file"]), gettext_lazy("附件已上传")),
}


def enterprise_side(user) -> bool:
    """Enterprise users and liaisons: they never see internal events."""
    return not user.is_admin and user.role in (Role.ENTERPRISE, Role.LIAISON)


def is_late(appeal: Appeal, now=None) -> bool:
    """Open and past its deadline now (the sweep's flag, or the deadline before the sweep ran)."""
    if appeal.status not in OPEN_STATUSES:
        return False
    now = now or timezone.now()
    if appeal.overdue:
        return True
    if appeal.status == Status.SUBMITTED and appeal.accept_due and appeal.accept_due < now:
        return True
    return bool(appeal.resolve_due and appeal.resolve_due < now)


def _scoped_appeal(user, pk: int) -> Appeal:
    qs = Appeal.objects.select_related(
        "enterprise", "enterprise__region", "department", "handling_region", "assignee", "submitted_by",
        "duplicate_of", "heldback_owner", "risk_item",
    )
    return get_scoped(qs, user, "view", pk=pk)


def _step_extras(appeal: Appeal) -> dict[str, object]:
    extras: dict[str, object] = {}
    rung = routing.next_rung(appeal.level, appeal.handling_region)
    if rung is not None:
        extras["escalate"] = _("将升级至：%(unit)s") % {
            "unit": routing.unit_label(rung.level, rung.region, rung.department)}
    limit = services.reopen_deadline(appeal)
    if limit is not None:
        extras["reopen"] = _("可在 %(t)s 前申请重新办理") % {"t": timezone.localtime(limit).strftime("%Y-%m-%d %H:%M")}
    extras["transfer"] = _("转给同级（%(unit)s）的其他部门") % {"unit": appeal.handler_label}
    return extras


@usable_required
@require_GET
def appeal_detail(request, pk: int):
    """The appeal's page (rules in the module docstring)."""
    user = request.user
    appeal = _scoped_appeal(user, pk)
    hide_internal = enterprise_side(user)
    events = appeal.events.select_related("actor").order_by("at", "id")
    if hide_internal:
        events = events.filter(internal=False)
    draft = request.session.pop(DRAFT_KEY, None)
    if not (isinstance(draft, dict) and draft.get("pk") == appeal.pk):
        draft = None
    allowed = services.allowed_actions(user, appeal)
    extras = _step_extras(appeal)
    actions = []
    for name, step in STEPS.items():
        if name not in allowed:
            continue
        initial = draft["data"] if draft and draft.get("action") == name else None
        actions.append({
            "name": name, "label": step.label, "primary": step.primary, "open": initial is not None,
            "form": step.form(None, None, appeal, user, initial), "extra": extras.get(name, ""),
        })
    visible = Appeal.objects.restrict(user, "view")
    from gulian.registry.models import Enterprise
    from gulian.risk.models import RiskItem

    context = {
        "appeal": appeal,
        "late": is_late(appeal),
        "events": list(events),
        "hide_internal": hide_internal,
        "attachments": list(appeal.attachments.all()),
        "related_enterprises": list(appeal.related_enterprises.select_related("region").order_by("name")),
        "related_regions": list(appeal.related_regions.order_by("code")),
        "duplicate_of": visible.filter(pk=appeal.duplicate_of_id).first() if appeal.duplicate_of_id else None,
        "near_duplicates": list(visible.filter(duplicate_of=appeal).only("pk", "tracking_number", "title")[:20]),
        "risk_item_visible": bool(appeal.risk_item_id)
        and RiskItem.objects.restrict(user, "view").filter(pk=appeal.risk_item_id).exists(),
        "owner_visible": bool(appeal.heldback_owner_id)
        and Enterprise.objects.restrict(user, "view").filter(pk=appeal.heldback_owner_id).exists(),
        "enterprise_visible": Enterprise.objects.restrict(user, "view").filter(pk=appeal.enterprise_id).exists(),
        "secondary_labels": [Category(c).label for c in appeal.secondary_categories or [] if c in Category.values],
        "stars": "★" * (appeal.rating or 0),
        "actions": actions,
        "primary_actions": [a for a in actions if a["primary"]],
        "form_actions": [a for a in actions if not a["primary"]],
    }
    return render(request, "appeals/appeal_detail.html", context)


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "；".join(m for msgs in error.message_dict.values() for m in msgs)
    return "；".join(error.messages)


def _form_errors(form) -> str:
    out = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        out.extend(f"{label}：{e}" if label else str(e) for e in errors)
    return "；".join(out)


def _keep_draft(request, appeal: Appeal, action: str) -> None:
    data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    request.session[DRAFT_KEY] = {"pk": appeal.pk, "action": action, "data": data}


@usable_required
@require_POST
def appeal_action(request, pk: int, action: str):
    """Run one step on the appeal through its service; errors become messages; back to the appeal's page."""
    step = STEPS.get(action)
    if step is None:
        raise Http404("未找到 / not found")
    user = request.user
    appeal = _scoped_appeal(user, pk)
    form = step.form(request.POST, request.FILES, appeal, user, None)
    back = redirect("appeals:appeal_detail", pk=appeal.pk)
    if not form.is_valid():
        messages.error(request, _("%(step)s未完成：%(why)s") % {"step": step.label, "why": _form_errors(form)})
        _keep_draft(request, appeal, action)
        return back
    try:
        step.run(user, appeal, form.cleaned_data)
    except OutOfScope as e:
        messages.error(request, str(e))
    except ValidationError as e:  # IllegalTransition included
        messages.error(request, _("%(step)s未完成：%(why)s") % {"step": step.label, "why": _error_text(e)})
        _keep_draft(request, appeal, action)
    else:
        messages.success(request, str(step.done))
    return back


@usable_required
@require_GET
def attachment(request, pk: int):
    """Download an attachment of an appeal the user may view (404 otherwise), under its original name."""
    att = AppealAttachment.objects.filter(
        pk=pk, appeal__in=Appeal.objects.restrict(request.user, "view").values("pk")
    ).first()
    if att is None:
        raise Http404("未找到 / not found")
    try:
        handle = att.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("未找到 / not found")
    response = FileResponse(handle, as_attachment=True, filename=att.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
