"""Enterprise appeals (企业诉求): the appeal, where it sits on the ladder, its timeline and notices.

An ``Appeal`` is one problem an enterprise raised. It sits at one ``level`` of the ladder
(county → city → province → ministry → State Council task force, ``LADDER``) with one handling
unit there: a ``Department`` in ``handling_region`` (a department handler's inbox), or, when
``department`` is empty, the task force of that region (its board). The national levels have no
region. Every step (submitted, accepted, transferred, escalated, replied, rated, closed, reopened,
comments, questions, case-meeting notes) is an ``AppealEvent`` in the appeal's timeline, and also
an audit record. docs/appeals.md describes the workflow; docs/access.md the rules below.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Region, Role
from gulian.core.permissions import NOTHING, RestrictQuerySet
from gulian.registry.models import Enterprise, Membership


class Category(models.TextChoices):
    """诉求类别 (the eleven kinds the 2020 task forces sorted problems into)."""

    LOGISTICS = "logistics", _("物流运输")
    LABOUR = "labour", _("用工")
    FINANCE = "finance", _("资金融资")
    SUPPLY = "supply", _("原材料/零部件供应")
    EPIDEMIC = "epidemic", _("防疫物资")
    PERMITS = "permits", _("审批证照")
    ENERGY = "energy", _("用能")
    TECHNOLOGY = "technology", _("技术/专家")
    MARKET = "market", _("订单/市场")
    POLICY = "policy", _("政策兑现")
    OTHER = "other", _("其他")


class Urgency(models.TextChoices):
    """紧急程度: sets the deadlines (settings.APPEALS_SLA)."""

    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class Status(models.TextChoices):
    """Lifecycle: submitted → accepted → in progress → resolved | unresolvable → confirmed → closed."""

    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已解决")
    UNRESOLVABLE = "unresolvable", _("无法解决")
    CONFIRMED = "confirmed", _("已确认")
    CLOSED = "closed", _("已销号")


OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS)
ANSWERED_STATUSES = (Status.RESOLVED, Status.UNRESOLVABLE)


class Level(models.TextChoices):
    """Rungs of the escalation ladder (县→市→省→部→国务院专班)."""

    COUNTY = "county", _("县级")
    CITY = "city", _("市级")
    PROVINCE = "province", _("省级")
    MINISTRY = "ministry", _("部级")
    STATE_COUNCIL = "state_council", _("国务院专班")


LADDER = [Level.COUNTY, Level.CITY, Level.PROVINCE, Level.MINISTRY, Level.STATE_COUNCIL]
NATIONAL_LEVELS = (Level.MINISTRY, Level.STATE_COUNCIL)


class Department(models.Model):
    """A kind of government department (交通运输, 人力社保 …); it exists at every level of the ladder.

    A department handler's ``User.department`` holds the ``code``; their region says which
    county's, city's or province's department they work in (no region: the ministry).
    """

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("部门名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """路由表: appeals of ``category`` at ``level`` go to ``department`` (maintained by administrators)."""

    category = models.CharField(_("诉求类别"), max_length=16, choices=Category.choices)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    department = models.ForeignKey(Department, verbose_name=_("承办部门"), on_delete=models.PROTECT)

    class Meta:
        ordering = ["category", "level"]
        verbose_name = _("路由规则")
        verbose_name_plural = _("路由表")
        constraints = [models.UniqueConstraint(fields=["category", "level"], name="routing_unique_category_level")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} · {self.get_level_display()} → {self.department}"


class AppealQuerySet(RestrictQuerySet):
    """Who sees and acts on which appeal (docs/access.md, "Appeals").

    - view: an enterprise user its own enterprise's; a liaison those of the enterprises assigned
      to them; a department handler those routed to their department inside their region; a task
      force those of enterprises in its region and those handled in its region; a chain office
      those of its chains' members in its region; administrators all.
    - handle (accept, work, reply, transfer, escalate): the unit the appeal sits with now — the
      handler of that department in exactly that region, or that region's task force when no
      department is assigned (national levels: users without a region).
    - triage (assign, transfer, escalate, close): a task force for appeals handled in its region
      subtree.
    - follow (answer, confirm, rate, reopen): the enterprise's own users, its liaison, the submitter.
    """

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        p = user.scope_prefix
        if action == "view":
            return self._view_q(user, p)
        if action == "handle":
            return self._handle_q(user)
        if action == "triage":
            if user.role != Role.TASKFORCE:
                return NOTHING
            return Q(handling_region__code__startswith=p) if p else Q()
        if action == "follow":
            return self._follow_q(user)
        return NOTHING

    @staticmethod
    def _follow_q(user) -> Q:
        if user.role == Role.ENTERPRISE:
            return Q(enterprise_id=user.enterprise_id) if user.enterprise_id else NOTHING
        if user.role == Role.LIAISON:
            return Q(enterprise__liaison=user) | Q(submitted_by=user)
        return NOTHING

    @staticmethod
    def _view_q(user, p: str) -> Q:
        if user.role in (Role.ENTERPRISE, Role.LIAISON):
            return AppealQuerySet._follow_q(user)
        if user.role == Role.HANDLER:
            if not user.department:
                return NOTHING
            return Q(department__code=user.department) & (Q(handling_region__code__startswith=p) if p else Q())
        if user.role == Role.TASKFORCE:
            return (Q(enterprise__region__code__startswith=p) | Q(handling_region__code__startswith=p)) if p else Q()
        if user.role == Role.CHAIN_OFFICE:
            members = Membership.objects.filter(chain__in=user.chains.all()).values("enterprise")
            return Q(enterprise__in=members) & (Q(enterprise__region__code__startswith=p) if p else Q())
        return NOTHING

    @staticmethod
    def _handle_q(user) -> Q:
        here = Q(handling_region_id=user.region_id) if user.region_id else Q(level__in=NATIONAL_LEVELS)
        if user.role == Role.HANDLER and user.department:
            return here & Q(department__code=user.department)
        if user.role == Role.TASKFORCE:
            return here & Q(department__isnull=True)
        return NOTHING

    def open(self) -> AppealQuerySet:
        """Appeals still waiting for an answer."""
        return self.filter(status__in=OPEN_STATUSES)


class Appeal(models.Model):
    """One enterprise problem (一事一议), from intake to 销号."""

    tracking_number = models.CharField(_("受理编号"), max_length=24, unique=True, null=True, blank=True)
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="appeals")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="+"
    )
    # A client-chosen key (form token, Idempotency-Key header, Open311 token): a retried submission
    # with the same key returns the first appeal instead of filing a second one.
    client_token = models.CharField(max_length=64, blank=True, editable=False)
    channel = models.CharField(_("渠道"), max_length=16, default="web", editable=False)

    title = models.CharField(_("标题"), max_length=100)
    text = models.TextField(_("诉求内容"))
    category = models.CharField(_("诉求类别"), max_length=16, choices=Category.choices)
    secondary_categories = models.JSONField(_("涉及其他类别"), default=list, blank=True)
    suggested_category = models.CharField(_("建议类别"), max_length=16, choices=Category.choices, blank=True)
    suggestion_confidence = models.FloatField(_("建议置信度"), null=True, blank=True)
    category_confirmed = models.BooleanField(_("类别已确认"), default=False)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    related_enterprises = models.ManyToManyField(
        Enterprise, verbose_name=_("相关企业"), blank=True, related_name="+"
    )
    related_regions = models.ManyToManyField(Region, verbose_name=_("涉及地区"), blank=True, related_name="+")
    risk_item = models.ForeignKey(
        "risk.RiskItem", verbose_name=_("关联风险条目"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="appeals",
    )
    heldback_owner = models.ForeignKey(
        Enterprise, verbose_name=_("受阻链主"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("来自受阻链主清单时：被拖累的链主企业"),
    )

    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices, default=Level.COUNTY)
    handling_region = models.ForeignKey(
        Region, verbose_name=_("承办地区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("承办部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="appeals",
        help_text=_("留空表示由该级专班统筹"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    accept_due = models.DateTimeField(_("受理时限"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("办结时限"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    overdue = models.BooleanField(_("已超期"), default=False, db_index=True)
    overdue_since = models.DateTimeField(_("超期时间"), null=True, blank=True)
    escalation_count = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重启次数"), default=0)

    reply = models.TextField(_("答复意见"), blank=True)
    unresolvable_reason = models.TextField(_("无法解决原因"), blank=True)
    rating = models.PositiveSmallIntegerField(
        _("满意度"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("疑似重复"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="near_duplicates",
        help_text=_("同一企业24小时内内容相近的诉求：标记并关联，不合并"),
    )

    objects = AppealQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("企业诉求")
        verbose_name_plural = _("企业诉求")
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "client_token"], condition=~Q(client_token=""), name="appeal_unique_client_token"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "level"]),
            models.Index(fields=["department", "handling_region", "status"]),
            models.Index(fields=["enterprise", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number or '—'} {self.title}"

    @property
    def is_open(self) -> bool:
        """Waiting for an answer (submitted, accepted or in progress)."""
        return self.status in OPEN_STATUSES

    @property
    def handler_label(self) -> str:
        """Who holds it now, e.g. "杭州市 · 交通运输部门" or "浙江省 · 专班"."""
        from gulian.appeals.routing import unit_label

        return unit_label(self.level, self.handling_region, self.department)


def _attachment_path(instance: AppealAttachment, filename: str) -> str:
    # never the user's file name on disk: only the extension survives, under a random name
    import secrets
    from pathlib import PurePath

    return f"appeals/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{PurePath(filename).suffix.lower()}"


class AppealAttachment(models.Model):
    """A file attached to an appeal (type and size checked in services.check_attachment)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    """What happened in an appeal's timeline."""

    SUBMITTED = "submitted", _("提交")
    ROUTED = "routed", _("分派")
    CATEGORY = "category", _("确认类别")
    ASSIGNED = "assigned", _("指定承办")
    ACCEPTED = "accepted", _("受理")
    STARTED = "started", _("开始办理")
    TRANSFERRED = "transferred", _("转办")
    ESCALATED = "escalated", _("升级")
    RESOLVED = "resolved", _("答复：已解决")
    UNRESOLVABLE = "unresolvable", _("答复：无法解决")
    CONFIRMED = "confirmed", _("企业确认")
    CLOSED = "closed", _("销号")
    REOPENED = "reopened", _("重新办理")
    COMMENT = "comment", _("留言")
    QUESTION = "question", _("询问企业")
    ANSWER = "answer", _("企业答复")
    MEETING = "meeting", _("会商记录")
    OVERDUE = "overdue", _("超期")
    DUPLICATE = "duplicate", _("疑似重复")
    ATTACHMENT = "attachment", _("上传附件")


class AppealEvent(models.Model):
    """One timestamped step in an appeal's timeline (also in the audit log)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事项"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    text = models.TextField(_("内容/理由"), blank=True)
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    from_level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    to_level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    from_unit = models.CharField(_("原承办"), max_length=120, blank=True)
    to_unit = models.CharField(_("新承办"), max_length=120, blank=True)
    # internal notes (case-meeting minutes, a department's remarks) are hidden from the enterprise
    internal = models.BooleanField(_("仅内部可见"), default=False)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        indexes = [models.Index(fields=["appeal", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class NotificationQuerySet(RestrictQuerySet):
    """A user's own notifications."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action``: their own."""
        return Q(recipient=user)


class Notification(models.Model):
    """An in-app notice (站内通知); also e-mailed when the recipient has an address."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=16, choices=EventKind.choices)
    message = models.CharField(_("内容"), max_length=300)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.message


class WebhookDelivery(models.Model):
    """An outbound webhook call (signed with HMAC-SHA256), retried by the sweep until delivered."""

    event = models.ForeignKey(AppealEvent, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["delivered_at"])]

    def __str__(self) -> str:
        return f"webhook {self.pk} ({'delivered' if self.delivered_at else 'pending'})"
