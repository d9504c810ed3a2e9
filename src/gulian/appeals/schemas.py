"""API schemas for appeals: ``AppealIn`` (filing), ``AppealOut`` / ``AppealDetailOut``, the bodies of the steps.

References follow docs/api.md: enterprises and users by ``id`` (an enterprise may also be named by its
USCC), regions by code, departments by code. The schemas check types only; the rules (text length,
categories, who may file for which enterprise, which step is legal now) are the services', which give
the same bilingual messages as the web pages.
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from gulian.appeals.models import Category, EventKind, Level, Status, Urgency

_CATEGORIES = "|".join(Category.values)


class AppealIn(Schema):
    """A new appeal; the enterprise by ``enterprise`` id or by ``uscc``."""

    enterprise: int | None = Field(None, description="企业 id（与 uscc 二选一，都给时以 id 为准）")
    uscc: str | None = Field(None, description="企业统一社会信用代码")
    title: str = Field("", description="标题（至多 100 字；空则取正文前 30 字）")
    text: str = Field(description="诉求内容（必填）")
    category: str = Field("", description=f"诉求类别 {_CATEGORIES}；空则采用自动分类的建议")
    urgency: str = Field(Urgency.NORMAL, description="|".join(Urgency.values))
    secondary_categories: list[str] = Field([], description="同时涉及的其他类别")
    related_enterprises: list[int] = Field(
        [], description="相关企业 id（须在本人可见范围内，或与本企业有供应关系，如境外供应商）"
    )
    related_uscc: list[str] = Field([], description="相关企业的统一社会信用代码（如省外供应商；须已登记）")
    related_regions: list[str] = Field([], description="涉及地区的行政区划代码")
    risk_item: int | None = Field(None, description="来自风险清单时：风险条目 id")
    heldback_owner: int | None = Field(None, description="来自受阻链主清单时：被拖累的链主企业 id")
    address: str = Field("", description="问题发生地址（可选）")


class AppealQuery(Schema):
    """The list's query parameters: those of gulian.appeals.filters.AppealFilter (which parses them)."""

    category: str | None = Field(None, description=_CATEGORIES)
    region: str | None = Field(None, description="企业所在区域代码或前缀（33、3301、330106、330100）")
    status: list[str] | None = Field(
        None, description="状态，可重复或逗号分隔；open = 待答复（已提交、已受理、办理中），answered = 已答复"
    )
    overdue: str | None = Field(None, description="true|false：当前已超期")
    escalated: str | None = Field(None, description="true|false：升级过")
    chain: str | None = Field(None, description="产业链编码：该链成员企业的诉求")
    level: str | None = Field(None, description="|".join(Level.values))
    department: str | None = Field(None, description="承办部门编码；none = 专班统筹")
    cross_region: str | None = Field(None, description="true|false：涉及本市以外的地区或企业")
    q: str | None = Field(None, description="受理编号（精确）或标题、内容包含")
    date_from: str | None = Field(None, description="提交日期起（YYYY-MM-DD，含）")
    date_to: str | None = Field(None, description="提交日期止（YYYY-MM-DD，含）")


class AppealOut(Schema):
    """An appeal: where it sits on the ladder, its deadlines and answer."""

    id: int
    tracking_number: str | None = Field(description="受理编号")
    enterprise: int = Field(alias="enterprise_id")
    enterprise_name: str = Field(alias="enterprise.name")
    submitted_by: int = Field(alias="submitted_by_id")
    channel: str = Field(description="web|api|open311|…")
    title: str
    text: str
    status: str = Field(description="|".join(Status.values))
    status_label: str = Field(alias="get_status_display")
    category: str
    category_label: str = Field(alias="get_category_display")
    category_confirmed: bool
    suggested_category: str = Field(description="自动分类建议的类别")
    confidence: float | None = Field(alias="suggestion_confidence", description="建议的置信度 0–1")
    secondary_categories: list[str]
    urgency: str
    address: str
    related_enterprises: list[int]
    related_regions: list[str]
    risk_item: int | None = Field(alias="risk_item_id")
    heldback_owner: int | None = Field(alias="heldback_owner_id")
    level: str = Field(description="|".join(Level.values))
    level_label: str = Field(alias="get_level_display")
    handling_region: str | None = Field(alias="handling_region_id", description="承办地区代码（部级、国务院专班为空）")
    department: str | None = Field(None, description="承办部门编码；空表示由该级专班统筹")
    unit: str = Field(alias="handler_label", description="承办单位，如「杭州市 · 交通运输部门」")
    assignee: int | None = Field(alias="assignee_id")
    created_at: dt.datetime
    updated_at: dt.datetime
    accept_due: dt.datetime | None = Field(description="受理时限")
    resolve_due: dt.datetime | None = Field(description="办结时限")
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool
    escalation_count: int
    reopen_count: int
    reply: str
    unresolvable_reason: str
    rating: int | None
    rating_comment: str
    duplicate_of: int | None = Field(alias="duplicate_of_id", description="疑似重复：24 小时内同一企业相近诉求的 id")
    duplicate_of_tracking_number: str | None = Field(None, alias="duplicate_of.tracking_number")

    @staticmethod
    def resolve_department(obj) -> str | None:
        """The department's code (None: the task force of that level)."""
        return obj.department.code if obj.department_id else None

    @staticmethod
    def resolve_related_enterprises(obj) -> list[int]:
        """Ids of the related enterprises (prefetched, or given by the API handler that just filed it)."""
        given = getattr(obj, "related_enterprise_ids", None)
        return sorted(given if given is not None else [e.pk for e in obj.related_enterprises.all()])

    @staticmethod
    def resolve_related_regions(obj) -> list[str]:
        """Codes of the regions involved (prefetched, or given by the API handler that just filed it)."""
        given = getattr(obj, "related_region_codes", None)
        return sorted(given if given is not None else [r.pk for r in obj.related_regions.all()])


class AppealSubmitOut(AppealOut):
    """A filed appeal and whether this request filed it (false: a retry with the same Idempotency-Key)."""

    created: bool


class AppealEventOut(Schema):
    """One step in the timeline."""

    id: int
    kind: str = Field(description="|".join(EventKind.values))
    kind_label: str = Field(alias="get_kind_display")
    at: dt.datetime
    actor: int | None = Field(alias="actor_id", description="操作人 id；空表示系统（路由、超期巡检）")
    actor_name: str | None = None
    text: str
    from_status: str
    to_status: str
    from_level: str
    to_level: str
    from_unit: str
    to_unit: str
    internal: bool = Field(description="仅内部可见（企业看不到）")

    @staticmethod
    def resolve_actor_name(obj) -> str | None:
        """The actor's full name, or the username."""
        return (obj.actor.get_full_name() or obj.actor.username) if obj.actor_id else None


class AppealAttachmentOut(Schema):
    """An attached file (its metadata; the file itself is served by the appeal page)."""

    id: int
    name: str
    content_type: str
    size: int
    uploaded_by: int = Field(alias="uploaded_by_id")
    uploaded_at: dt.datetime


class AppealDetailOut(AppealOut):
    """An appeal with its timeline, attachments and the steps the user may take now."""

    timeline: list[AppealEventOut] = Field(description="办理记录（企业一侧看不到内部记录）")
    attachments: list[AppealAttachmentOut]
    actions: list[str] = Field(description="当前用户现在可执行的操作（POST /api/appeals/{id}/<操作>）")


# --- the bodies of the steps ------------------------------------------------------------------------


class NoteIn(Schema):
    """accept, start, close: an optional note."""

    note: str = Field("", description="说明（可选）")


class ReplyIn(Schema):
    """resolve: the reply the enterprise reads."""

    reply: str = Field(description="答复意见")


class ReasonIn(Schema):
    """unresolvable, reopen, escalate: the reason (required)."""

    reason: str = Field(description="理由")


class RatingIn(Schema):
    """confirm: the enterprise's rating 1–5 and an optional comment."""

    rating: int = Field(description="满意度 1–5")
    comment: str = Field("", description="评价（至多 500 字）")


class TextIn(Schema):
    """ask, answer, meeting: the text."""

    text: str = Field(description="内容")


class CommentIn(Schema):
    """comment: a remark in the timeline; ``internal`` ones (officials only) are hidden from the enterprise."""

    text: str = Field(description="留言")
    internal: bool = Field(False, description="仅内部可见（企业一侧不能发）")


class TransferIn(Schema):
    """transfer: another department at the same level and region, with a reason."""

    department: str = Field(description="部门编码")
    reason: str = Field(description="转办理由")


class AssignIn(Schema):
    """assign (task force triage): a department at its level and/or the person in charge."""

    department: str | None = Field(None, description="部门编码")
    assignee: int | None = Field(None, description="经办人用户 id（须属于承办单位）")
    reason: str = Field("", description="说明")


class CategoryIn(Schema):
    """category: confirm or correct the category."""

    category: str = Field(description=_CATEGORIES)
