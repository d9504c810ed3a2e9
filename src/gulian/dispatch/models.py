"""Daily dispatch: one report per enterprise per day (with versions), power readings, daily roll-ups.

Percentages are fractions (utilisation 0.85 = 85%). Dates are calendar days in Asia/Shanghai.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gulian.core.permissions import RestrictQuerySet
from gulian.registry.models import Chain, Enterprise, Segment


class Blocker(models.IntegerChoices):
    """Blockers (堵点) an enterprise reports; stored as bits of ``DailyReport.blockers``."""

    LABOUR = 1, _("用工")
    MATERIALS = 2, _("原材料/零部件")
    LOGISTICS = 4, _("物流")
    FUNDING = 8, _("资金")
    PPE = 16, _("防疫物资")
    ORDERS = 32, _("订单不足")
    CHAIN = 64, _("上下游未复工")
    ENERGY = 128, _("用能")
    OTHER = 256, _("其他")

    @classmethod
    def decode(cls, mask: int) -> list[Blocker]:
        """The blockers set in ``mask``."""
        return [b for b in cls if mask & b.value]

    @classmethod
    def encode(cls, blockers) -> int:
        """Bit mask of an iterable of Blocker values (ints)."""
        mask = 0
        for b in blockers:
            mask |= int(b)
        return mask


class Source(models.TextChoices):
    """How a report arrived."""

    WEB = "web", _("网页填报")
    API = "api", _("接口")
    IMPORT = "import", _("表格导入")


class ByEnterpriseQuerySet(RestrictQuerySet):
    """Rows that belong to an enterprise follow the enterprise's scope."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows whose enterprise the user may ``action`` (reports are written by the firm and its officials)."""
        return Q(enterprise__in=Enterprise.objects.domestic(user, action).values("pk"))


class DailyReport(models.Model):
    """The latest version of one enterprise's report for one day (history in DailyReportVersion)."""

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("日期"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    resumed = models.BooleanField(_("已复工"))
    utilisation = models.DecimalField(
        _("产能利用率"),
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(1.5)],
        help_text=_("0–150%，以小数存储"),
    )
    staff_on_duty = models.PositiveIntegerField(_("到岗人数"))
    staff_normal = models.PositiveIntegerField(_("正常用工人数"))
    staff_returned_outside = models.PositiveIntegerField(_("省外返岗人数"), null=True, blank=True)
    inventory_days = models.DecimalField(
        _("关键原材料库存天数"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    output_value = models.DecimalField(_("当日产值（元）"), max_digits=16, decimal_places=2, null=True, blank=True)
    order_change = models.DecimalField(
        _("订单变化"), max_digits=5, decimal_places=3, null=True, blank=True, help_text=_("较正常水平，-1–+∞，以小数存储")
    )
    blockers = models.PositiveIntegerField(_("堵点"), default=0, help_text=_("Blocker 位掩码"))
    blocker_note = models.TextField(_("堵点说明"), blank=True)
    late = models.BooleanField(_("迟报"), default=False)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.WEB)
    submitted_at = models.DateTimeField(_("提交时间"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ByEnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业日报")
        verbose_name_plural = _("企业日报")
        constraints = [models.UniqueConstraint(fields=["enterprise", "date"], name="one_report_per_day")]
        indexes = [models.Index(fields=["date", "enterprise"])]

    def __str__(self) -> str:
        return f"{self.enterprise_id}@{self.date} v{self.version}"


class DailyReportVersion(models.Model):
    """Every submitted version of a day's report, oldest first; the highest counts."""

    report = models.ForeignKey(DailyReport, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    late = models.BooleanField(default=False)
    source = models.CharField(max_length=8, choices=Source.choices)
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["report", "version"]
        constraints = [models.UniqueConstraint(fields=["report", "version"], name="report_version_unique")]


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key: a retried request with the same key gets the stored response."""

    key = models.CharField(max_length=128)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]


class PowerMeter(models.Model):
    """An electricity meter (户号) mapped to an enterprise's USCC."""

    meter_id = models.CharField(_("电表户号"), max_length=32, unique=True)
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="+")

    objects = ByEnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("电表")
        verbose_name_plural = _("电表")


class PowerReading(models.Model):
    """Daily kWh of one enterprise (the sum of its meters for that day)."""

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("日期"))
    kwh = models.DecimalField(_("用电量（千瓦时）"), max_digits=14, decimal_places=2)

    objects = ByEnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("日用电量")
        verbose_name_plural = _("日用电量")
        constraints = [models.UniqueConstraint(fields=["enterprise", "date"], name="one_power_reading_per_day")]
        indexes = [models.Index(fields=["date", "enterprise"])]


class RollupQuerySet(RestrictQuerySet):
    """Roll-up rows follow the region of their county."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows in the user's region subtree (chain offices: their chains; enterprises: none)."""
        from gulian.core.models import Role

        if action != "view" or user.role == Role.ENTERPRISE:
            return Q(pk__in=[])
        q = Q(county__startswith=user.scope_prefix)
        if user.role == Role.CHAIN_OFFICE and hasattr(self.model, "chain"):
            q &= Q(chain__in=user.chains.all())
        return q


class RollupMeasures(models.Model):
    """Additive measures of a roll-up cell; rates are ratios of these sums (docs/dispatch.md)."""

    date = models.DateField()
    county = models.CharField(max_length=6)  # GB/T 2260 county code; prefix-filter for any level
    scale = models.CharField(max_length=8, blank=True)
    above_size = models.BooleanField()
    expected = models.PositiveIntegerField(default=0)  # enterprises expected to report
    reporting = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    resumed = models.PositiveIntegerField(default=0)
    recovered = models.PositiveIntegerField(default=0)  # utilisation ≥ threshold
    output_weight = models.FloatField(default=0)  # Σ baseline output of reporting firms
    weighted_utilisation = models.FloatField(default=0)  # Σ baseline output × utilisation
    staff_on_duty = models.PositiveBigIntegerField(default=0)
    staff_normal = models.PositiveBigIntegerField(default=0)
    kwh = models.FloatField(default=0)  # Σ kWh of firms with a baseline
    kwh_baseline = models.FloatField(default=0)  # Σ baseline kWh of the same firms
    blockers = models.JSONField(default=dict)  # {blocker value: count}

    objects = RollupQuerySet.as_manager()

    class Meta:
        abstract = True


class RegionDay(RollupMeasures):
    """Date × county × scale × above-size: regional totals without double counting."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "county", "scale", "above_size"], name="region_day_cell")
        ]
        indexes = [models.Index(fields=["county", "date"])]


class ChainDay(RollupMeasures):
    """Date × county × chain × segment × scale × above-size: chain and segment slices."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["date", "county", "chain", "segment", "scale", "above_size"], name="chain_day_cell"
            )
        ]
        indexes = [models.Index(fields=["chain", "date"])]


class DirtyDay(models.Model):
    """A date whose roll-ups must be recomputed because reports or power readings for it changed."""

    date = models.DateField(primary_key=True)
    marked_at = models.DateTimeField(auto_now=True)
