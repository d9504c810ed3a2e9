"""Appeals API under /api/appeals: file an appeal, list and read them, take each step of the workflow.

Reads go through ``Appeal.objects.restrict(user, "view")`` (an appeal outside it is a 404, like a missing
one); every write is a call to gulian.appeals.services, which checks the right to act (OutOfScope → 403),
whether the step is legal now (``IllegalTransition`` → 409 here) and the input (ValidationError → 422),
and audits. A record named in a request body that the user may not see is a 422 on that field, worded
the same whether it exists or not (docs/api.md, "Errors"). docs/api.md lists the routes, docs/appeals.md
the workflow.
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Header, Query, Router
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from gulian.appeals import services
from gulian.appeals.filters import AppealFilter
from gulian.appeals.models import Appeal, AppealEvent, Department
from gulian.appeals.schemas import (
    AppealAttachmentOut,
    AppealDetailOut,
    AppealIn,
    AppealOut,
    AppealQuery,
    AppealSubmitOut,
    AssignIn,
    CategoryIn,
    CommentIn,
    NoteIn,
    RatingIn,
    ReasonIn,
    ReplyIn,
    TextIn,
    TransferIn,
)
from gulian.core.api import PAGE
from gulian.core.models import Region, Role, User
from gulian.core.schemas import ErrorOut
from gulian.core.services import get_scoped
from gulian.core.uscc import compact as compact_uscc
from gulian.registry.models import Enterprise, SupplyLink
from gulian.risk.models import RiskItem

router = Router(tags=["appeals"])

READ_ERRORS = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
STEP_ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
KEY_MAX = 64  # Appeal.client_token
ENTERPRISE_SIDE = (Role.ENTERPRISE, Role.LIAISON)

# services.allowed_actions() names → the action names of POST /api/appeals/{id}/<action>
ACTION_NAMES = {
    "accept": "accept",
    "start": "start",
    "resolve": "resolve",
    "declare_unresolvable": "unresolvable",
    "confirm": "confirm",
    "close": "close",
    "reopen": "reopen",
    "comment": "comment",
    "ask": "ask",
    "answer": "answer",
    "meeting_note": "meeting",
    "transfer": "transfer",
    "escalate": "escalate",
    "assign": "assign",
    "confirm_category": "category",
    "add_attachment": "attachments",
}


def _not_found(which: str = "") -> str:
    """The same words for a missing record and one outside the scope (``which`` names one of several)."""
    message = _("不存在或不在管辖范围内 / does not exist or is outside your scope")
    return f"{message}: {which}" if which else message


SELECTED = ("enterprise", "handling_region", "department", "duplicate_of")


def _appeals():
    return Appeal.objects.select_related(*SELECTED).prefetch_related(
        Prefetch("related_enterprises", queryset=Enterprise.objects.only("pk")),
        Prefetch("related_regions", queryset=Region.objects.only("code")),
    )


def _detail(user, pk: int) -> Appeal:
    """The appeal with its timeline (without internal notes for the enterprise side) and the user's steps."""
    events = AppealEvent.objects.select_related("actor")
    if user.role in ENTERPRISE_SIDE:
        events = events.filter(internal=False)
    appeal = (
        _appeals()
        .prefetch_related(Prefetch("events", queryset=events, to_attr="timeline"), "attachments")
        .get(pk=pk)
    )
    appeal.actions = sorted(ACTION_NAMES.get(a, a) for a in services.allowed_actions(user, appeal))
    return appeal


# --- filing -------------------------------------------------------------------------------------


def _enterprise(user, payload: AppealIn) -> Enterprise:
    """The enterprise the appeal is for: by id, by USCC, or an enterprise user's own; 422 if not visible."""
    visible = Enterprise.objects.select_related("region").restrict(user, "view")  # routing reads the region
    if payload.enterprise is not None:
        name, firm = "enterprise", visible.filter(pk=payload.enterprise).first()
    elif payload.uscc:
        name, firm = "uscc", visible.filter(uscc=compact_uscc(payload.uscc)).first()
    elif user.role == Role.ENTERPRISE and user.enterprise_id:
        name, firm = "enterprise", visible.filter(pk=user.enterprise_id).first()
    else:
        raise ValidationError({"enterprise": [_("请给出企业 id 或统一社会信用代码 / enterprise or uscc is required")]})
    if firm is None:
        raise ValidationError({name: [_not_found()]})
    return firm


def _references(user, firm: Enterprise, payload: AppealIn) -> dict:
    """Related enterprises and regions, risk item and held-back owner resolved; all problems in one 422.

    An enterprise may be named by id when the user may view it or when it is the filing enterprise's
    supplier or customer (an enterprise user sees its links, not the firms at their other end), and by
    USCC when it is registered at all (USCCs are public; a supplier in another province is typical).
    """
    errors: dict[str, list[str]] = {}
    wanted = set(payload.related_enterprises) | ({payload.heldback_owner} if payload.heldback_owner else set())
    known: dict[int, Enterprise] = {}
    if wanted:
        links = SupplyLink.objects.filter(Q(customer=firm) | Q(supplier=firm)).values_list("supplier_id", "customer_id")
        linked = {pk for pair in links for pk in pair}
        reachable = Enterprise.objects.filter(Q(pk__in=wanted) & (Q(pk__in=linked) | Q(
            pk__in=Enterprise.objects.restrict(user, "view").values("pk"))))
        known = {e.pk: e for e in reachable}
    related = []
    for pk in payload.related_enterprises:
        if pk in known:
            related.append(known[pk])
        else:
            errors.setdefault("related_enterprises", []).append(_not_found(str(pk)))
    if payload.related_uscc:
        codes = [compact_uscc(c) for c in payload.related_uscc]
        by_code = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=codes)}
        for raw, code in zip(payload.related_uscc, codes, strict=True):
            if code in by_code:
                related.append(by_code[code])
            else:
                errors.setdefault("related_uscc", []).append(
                    _("未登记的统一社会信用代码 / no registered enterprise has this USCC: %s") % raw
                )
    regions = []
    if payload.related_regions:
        by_code = Region.objects.in_bulk(payload.related_regions)
        for code in payload.related_regions:
            if code in by_code:
                regions.append(by_code[code])
            else:
                errors.setdefault("related_regions", []).append(_("未知的行政区划代码 / unknown region code: %s") % code)
    risk_item = None
    if payload.risk_item is not None:
        risk_item = RiskItem.objects.restrict(user, "view").filter(pk=payload.risk_item).first()
        if risk_item is None:
            errors.setdefault("risk_item", []).append(_not_found())
    owner = None
    if payload.heldback_owner is not None:
        owner = known.get(payload.heldback_owner)
        if owner is None:
            errors.setdefault("heldback_owner", []).append(_not_found())
    if errors:
        raise ValidationError(errors)
    unique = list({e.pk: e for e in related}.values())
    return {"related_enterprises": unique, "related_regions": regions, "risk_item": risk_item, "heldback_owner": owner}


@router.post(
    "",
    response={200: AppealSubmitOut, 201: AppealSubmitOut, **WRITE_ERRORS},
    summary="提交诉求（新建 201；带相同 Idempotency-Key 的重试返回原诉求 200）",
)
def create_appeal(
    request,
    payload: AppealIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    """File an appeal: a tracking number at once, the category suggested, routed, deadlines set."""
    user = request.auth
    key = (idempotency_key or "").strip()
    if len(key) > KEY_MAX:
        raise ValidationError(
            {"Idempotency-Key": [_("Idempotency-Key 至多 %(n)d 个字符 / the Idempotency-Key header is at most "
                                   "%(n)d characters") % {"n": KEY_MAX}]}
        )  # fmt: skip
    firm = _enterprise(user, payload)
    refs = _references(user, firm, payload)
    result = services.submit(
        user, enterprise=firm, title=payload.title, text=payload.text, category=payload.category,
        urgency=payload.urgency, secondary_categories=payload.secondary_categories, client_token=key,
        channel="api", address=payload.address, **refs,
    )
    if result.created:
        # read back as stored (one query); the related records are those just given, less the enterprise itself
        appeal = Appeal.objects.select_related(*SELECTED).get(pk=result.appeal.pk)
        appeal.related_enterprise_ids = [e.pk for e in refs["related_enterprises"] if e.pk != firm.pk]
        appeal.related_region_codes = [r.pk for r in refs["related_regions"]]
    else:
        appeal = _appeals().get(pk=result.appeal.pk)
        response["Idempotent-Replayed"] = "true"
    appeal.created = result.created
    return (201 if result.created else 200), appeal


# --- reading ------------------------------------------------------------------------------------


@router.get("", response=list[AppealOut], summary="诉求列表（按管辖范围，可过滤）")
@paginate(PageNumberPagination, **PAGE)
def list_appeals(request, filters: Query[AppealQuery]):
    """Appeals the user may view, filtered by AppealFilter's parameters; a bad value is a 422."""
    # AppealQuery documents the parameters; AppealFilter (shared with the pages) parses them
    qs = AppealFilter.from_params(request.GET, strict=True).apply(_appeals().restrict(request.auth, "view"))
    return qs.order_by("-created_at", "-id")


@router.get("/{id}", response={200: AppealDetailOut, **READ_ERRORS}, summary="一件诉求及其办理记录")
def get_appeal(request, id: int):
    """One appeal with its timeline; the enterprise side does not see internal notes."""
    appeal = get_scoped(Appeal.objects.all(), request.auth, id=id)
    return _detail(request.auth, appeal.pk)


# --- the steps ----------------------------------------------------------------------------------


def _step(request, id: int, run):
    """Run ``run(user, appeal)`` on a visible appeal; 409 for a step not allowed from its status."""
    user = request.auth
    appeal = get_scoped(Appeal.objects.all(), user, id=id)
    try:
        run(user, appeal)
    except services.IllegalTransition as e:
        return 409, {"detail": " ".join(e.messages)}
    return 200, _detail(user, appeal.pk)


def _department(code: str | None, field: str = "department") -> Department | None:
    if not code:
        return None
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise ValidationError({field: [_("未知的部门编码 / unknown department: %s") % code]})
    return department


STEP = {"response": {200: AppealDetailOut, **STEP_ERRORS}}


@router.post("/{id}/accept", **STEP, summary="受理（已提交 → 已受理）")
def accept_appeal(request, id: int, payload: NoteIn | None = None):
    """The handling unit takes the appeal."""
    return _step(request, id, lambda u, a: services.accept(u, a, (payload or NoteIn()).note))


@router.post("/{id}/start", **STEP, summary="开始办理（已受理 → 办理中）")
def start_appeal(request, id: int, payload: NoteIn | None = None):
    """The handling unit starts work."""
    return _step(request, id, lambda u, a: services.start(u, a, (payload or NoteIn()).note))


@router.post("/{id}/resolve", **STEP, summary="答复：已解决（须有答复意见）")
def resolve_appeal(request, id: int, payload: ReplyIn):
    """The reply that solves the problem."""
    return _step(request, id, lambda u, a: services.resolve(u, a, payload.reply))


@router.post("/{id}/unresolvable", **STEP, summary="答复：无法解决（须说明原因）")
def unresolvable_appeal(request, id: int, payload: ReasonIn):
    """The answer that it cannot be solved, with the reason."""
    return _step(request, id, lambda u, a: services.declare_unresolvable(u, a, payload.reason))


@router.post("/{id}/confirm", **STEP, summary="企业确认并评价（1–5 分）")
def confirm_appeal(request, id: int, payload: RatingIn):
    """The enterprise confirms the answer and rates it."""
    return _step(request, id, lambda u, a: services.confirm(u, a, payload.rating, payload.comment))


@router.post("/{id}/close", **STEP, summary="销号（已确认 → 已销号）")
def close_appeal(request, id: int, payload: NoteIn | None = None):
    """The handling unit or a task force closes a confirmed appeal."""
    return _step(request, id, lambda u, a: services.close(u, a, (payload or NoteIn()).note))


@router.post("/{id}/reopen", **STEP, summary="重新办理（答复后期限内，须说明理由）")
def reopen_appeal(request, id: int, payload: ReasonIn):
    """The enterprise reopens an answered or closed appeal within the window."""
    return _step(request, id, lambda u, a: services.reopen(u, a, payload.reason))


@router.post("/{id}/comment", **STEP, summary="留言（官方可发内部留言）")
def comment_appeal(request, id: int, payload: CommentIn):
    """A remark in the timeline."""
    return _step(request, id, lambda u, a: services.comment(u, a, payload.text, internal=payload.internal))


@router.post("/{id}/ask", **STEP, summary="询问企业")
def ask_appeal(request, id: int, payload: TextIn):
    """The handling unit asks the enterprise a question."""
    return _step(request, id, lambda u, a: services.ask(u, a, payload.text))


@router.post("/{id}/answer", **STEP, summary="企业补充答复")
def answer_appeal(request, id: int, payload: TextIn):
    """The enterprise answers a question."""
    return _step(request, id, lambda u, a: services.answer(u, a, payload.text))


@router.post("/{id}/meeting", **STEP, summary="会商记录（仅内部可见）")
def meeting_appeal(request, id: int, payload: TextIn):
    """Case-meeting notes by the handling unit or a task force above it."""
    return _step(request, id, lambda u, a: services.meeting_note(u, a, payload.text))


@router.post("/{id}/transfer", **STEP, summary="转办到同级另一部门（须说明理由）")
def transfer_appeal(request, id: int, payload: TransferIn):
    """To another department at the same level and region."""
    department = _department(payload.department)
    if department is None:
        raise ValidationError({"department": [_("请选择另一个部门 / choose a different department")]})
    return _step(request, id, lambda u, a: services.transfer(u, a, department, payload.reason))


@router.post("/{id}/escalate", **STEP, summary="升级到上一级专班（须说明理由）")
def escalate_appeal(request, id: int, payload: ReasonIn):
    """Up one rung of the ladder: county → city → province → ministry → State Council task force."""
    return _step(request, id, lambda u, a: services.escalate(u, a, payload.reason))


@router.post("/{id}/assign", **STEP, summary="专班分派：承办部门和/或经办人")
def assign_appeal(request, id: int, payload: AssignIn):
    """Task-force triage at its level."""
    department = _department(payload.department)
    assignee = None
    if payload.assignee is not None:
        assignee = User.objects.restrict(request.auth, "view").filter(pk=payload.assignee).first()
        if assignee is None:
            raise ValidationError({"assignee": [_not_found()]})
    return _step(
        request, id, lambda u, a: services.assign(u, a, department=department, assignee=assignee, reason=payload.reason)
    )


@router.post("/{id}/category", **STEP, summary="确认或更正类别")
def category_appeal(request, id: int, payload: CategoryIn):
    """The handler confirms or corrects the category (the classifier learns from corrections)."""
    return _step(request, id, lambda u, a: services.confirm_category(u, a, payload.category))


@router.post(
    "/{id}/attachments",
    response={201: AppealAttachmentOut, **WRITE_ERRORS},
    summary="上传附件（multipart，字段 file；类型与大小受限）",
)
def upload_appeal_attachment(request, id: int, file: File[UploadedFile]):
    """A file for the appeal: the enterprise side or the handling unit; type by extension and content."""
    appeal = get_scoped(Appeal.objects.all(), request.auth, id=id)
    return 201, services.add_attachment(request.auth, appeal, file)
