"""Risk lists (断链断供风险清单), scenarios and their runs.

A ``RiskItem`` is one supplier (or input) whose failure would stop one or more chain owners. It
belongs to the region whose task force owns the list (``region``: normally the chain's region),
so a provincial list includes out-of-province and overseas suppliers. Items are grouped into the
four lists by ``scope`` (市内/省内/省外/境外) plus the overseas-dependence list
(``overseas_dependence``). ``fingerprint`` makes re-running a screen or nowcast update an item
rather than add a second one.

A ``Scenario`` is a saved disruption (YAML/JSON spec, docs/engine.md "Scenarios"); a
``ScenarioRun`` one background execution of it, with progress and a result summary.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Region, Role
from gulian.core.permissions import NOTHING, RestrictQuerySet
from gulian.registry.models import Chain, Enterprise, Segment
from gulian.registry.scope import LinkScope

OFFICIAL_ROLES = (Role.TASKFORCE, Role.HANDLER, Role.LIAISON, Role.CHAIN_OFFICE)


class Severity(models.TextChoices):
    """A risk item's severity."""

    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class RiskStatus(models.TextChoices):
    """Where a risk item is in its handling."""

    OPEN = "open", _("待处置")
    IN_PROGRESS = "in_progress", _("处置中")
    MITIGATED = "mitigated", _("已化解")
    DISMISSED = "dismissed", _("已排除")


OPEN_STATUSES = (RiskStatus.OPEN, RiskStatus.IN_PROGRESS)


class Mitigation(models.TextChoices):
    """How a risk is handled (the four measures of the lists)."""

    SUBSTITUTE = "substitute", _("替代")
    RESERVE = "reserve", _("储备")
    RESEARCH = "research", _("攻关")
    LOGISTICS = "logistics", _("物流")


class RiskSource(models.TextChoices):
    """What produced a risk item."""

    SCREEN = "screen", _("结构筛查")
    SIMULATION = "simulation", _("情景仿真")
    EXPOSURE = "exposure", _("暴露分析")
    NOWCAST = "nowcast", _("临近预测")
    MANUAL = "manual", _("人工登记")


def official_region_q(user, action: str, field: str = "region") -> Q:
    """Rows of the user's region subtree: task forces change, other officials read.

    Chain offices are limited to their chains; enterprises see no risk data (these are the
    government's internal lists).
    """
    p = user.scope_prefix
    in_region = Q(**{f"{field}__code__startswith": p}) if p else Q(**{f"{field}__isnull": False})
    if user.role == Role.TASKFORCE:
        return in_region
    if user.role == Role.CHAIN_OFFICE:
        return in_region & Q(chain__in=user.chains.all()) if action == "view" else NOTHING
    if user.role in OFFICIAL_ROLES and action == "view":
        return in_region
    return NOTHING


class RiskItemQuerySet(RestrictQuerySet):
    """Officials read the items of their region subtree; task forces change them (docs/access.md).

    An item on a list of a level above the user (a provincial chain's list, say) about a firm in the
    user's region is readable too, so a city task force sees the provincial findings on its own
    firms; changing it stays with the list's owners. A sibling city's list stays closed.
    """

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        q = official_region_q(user, action)
        p = user.scope_prefix
        if action == "view" and p and user.role in OFFICIAL_ROLES and q != NOTHING:
            code = user.region.code
            above = {code[:2] + "0000", code[:4] + "00"} - {code}
            own_firm = Q(region__code__in=above, enterprise__region__code__startswith=p)
            if user.role == Role.CHAIN_OFFICE:
                own_firm &= Q(chain__in=user.chains.all())
            q |= own_firm
        return q

    def open(self) -> RiskItemQuerySet:
        """Items not yet mitigated or dismissed."""
        return self.filter(status__in=OPEN_STATUSES)


class RiskItem(models.Model):
    """One entry of a risk list: a supplier or input whose failure stops chain owners."""

    region = models.ForeignKey(
        Region, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+",
        help_text=_("负责该清单的专班所在区域（通常为产业链所属区域）"),
    )
    chain = models.ForeignKey(
        Chain, verbose_name=_("产业链"), on_delete=models.CASCADE, related_name="risk_items", null=True, blank=True
    )
    segment = models.ForeignKey(
        Segment, verbose_name=_("环节"), on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("风险企业"), on_delete=models.CASCADE, related_name="risk_items"
    )
    input_category = models.CharField(_("投入品类别"), max_length=100, blank=True)
    affected_owners = models.ManyToManyField(
        Enterprise, verbose_name=_("受影响链主"), related_name="+", blank=True
    )
    scope = models.CharField(_("范围"), max_length=8, choices=LinkScope.choices, db_index=True)
    overseas_dependence = models.BooleanField(_("境外依赖"), default=False, db_index=True)
    title = models.CharField(_("风险描述"), max_length=200)
    detail = models.TextField(_("说明"), blank=True)
    days_to_impact = models.PositiveIntegerField(_("距影响天数"), null=True, blank=True)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    score = models.FloatField(_("风险分值"), default=0.0, help_text=_("用于排序：受影响链主产出占比等"))
    source = models.CharField(_("来源"), max_length=12, choices=RiskSource.choices, default=RiskSource.MANUAL)
    evidence = models.JSONField(_("依据"), default=dict, blank=True)
    department = models.CharField(_("责任部门"), max_length=64, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    status = models.CharField(_("状态"), max_length=12, choices=RiskStatus.choices, default=RiskStatus.OPEN)
    mitigation = models.CharField(_("处置方式"), max_length=12, choices=Mitigation.choices, blank=True)
    mitigation_note = models.TextField(_("处置措施"), blank=True)
    fingerprint = models.CharField(max_length=128, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RiskItemQuerySet.as_manager()

    class Meta:
        ordering = ["status", "days_to_impact", "-score", "id"]
        verbose_name = _("风险清单条目")
        verbose_name_plural = _("风险清单")
        constraints = [
            models.UniqueConstraint(fields=["region", "fingerprint"], name="risk_item_unique_fingerprint"),
        ]
        indexes = [models.Index(fields=["region", "status"]), models.Index(fields=["chain", "status"])]

    def __str__(self) -> str:
        return self.title


class ScenarioQuerySet(RestrictQuerySet):
    """Scenarios and runs: officials of the region subtree read them, task forces run and change them."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        if user.role == Role.CHAIN_OFFICE:
            p = user.scope_prefix
            return (Q(region__code__startswith=p) if p else Q()) if action == "view" else NOTHING
        return official_region_q(user, action)


class Scenario(models.Model):
    """A saved disruption scenario: lockdowns, firm stops, link cuts and recovery (docs/engine.md)."""

    region = models.ForeignKey(Region, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("情景名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    spec = models.JSONField(_("情景定义"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("情景")
        verbose_name_plural = _("情景")

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    """A scenario run's state."""

    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ScenarioRun(models.Model):
    """One background execution of a scenario (or a sweep of variants), with progress and results."""

    scenario = models.ForeignKey(Scenario, verbose_name=_("情景"), on_delete=models.CASCADE, related_name="runs")
    region = models.ForeignKey(Region, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.FloatField(_("进度"), default=0.0)
    message = models.CharField(_("进度说明"), max_length=200, blank=True)
    params = models.JSONField(_("运行参数"), default=dict, blank=True)
    result = models.JSONField(_("结果摘要"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("心跳时间"), null=True, blank=True, help_text=_("运行进程最近一次报告进度的时间"))
    pid = models.PositiveIntegerField(_("进程号"), null=True, blank=True)
    host = models.CharField(_("主机"), max_length=100, blank=True)

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("情景运行")
        verbose_name_plural = _("情景运行")

    def __str__(self) -> str:
        return f"{self.scenario} #{self.pk}"
