"""The registry: enterprises (by USCC), chains, segments, memberships and supply links.

Every queryset here has ``restrict(user, action)``; the rules are in
``restrict_q`` of each queryset and are summarised in docs/access.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Industry, Region, Role
from gulian.core.permissions import NOTHING, RestrictQuerySet
from gulian.core.uscc import USCCError
from gulian.core.uscc import validate as validate_uscc_code
from gulian.registry.scope import LinkScope, derive_scope

GOVERNMENT_ROLES = (Role.TASKFORCE, Role.HANDLER, Role.LIAISON, Role.CHAIN_OFFICE)


def validate_uscc(value: str) -> None:
    """Django validator wrapping :func:`gulian.core.uscc.validate`."""
    try:
        validate_uscc_code(value)
    except USCCError as e:
        raise ValidationError(str(e), code=f"uscc_{e.code}")


class Scale(models.TextChoices):
    """企业规模 (GB/T statistical size classes)."""

    LARGE = "large", _("大型")
    MEDIUM = "medium", _("中型")
    SMALL = "small", _("小型")
    MICRO = "micro", _("微型")


class EnterpriseQuerySet(RestrictQuerySet):
    """Who sees which enterprise (docs/access.md)."""

    def domestic_q(self, user, action: str) -> Q:
        """Enterprises in the user's own scope, without the foreign suppliers every official may read."""
        p = user.scope_prefix
        if user.role == Role.ENTERPRISE:
            return Q(pk=user.enterprise_id) if user.enterprise_id else NOTHING
        if user.role == Role.LIAISON:
            return Q(liaison=user)
        if user.role == Role.CHAIN_OFFICE:
            members = Membership.objects.filter(chain__in=user.chains.all()).values("enterprise")
            return Q(pk__in=members, region__code__startswith=p)
        if user.role == Role.TASKFORCE or (user.role == Role.HANDLER and action == "view"):
            return Q(region__code__startswith=p) if p else Q(region__isnull=False)
        return NOTHING

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        q = self.domestic_q(user, action)
        if user.role in GOVERNMENT_ROLES and (action == "view" or user.role == Role.TASKFORCE):
            # foreign suppliers belong to no region: officials read them, task forces maintain them
            q |= Q(country__isnull=False) & ~Q(country="CN")
        return q

    def domestic(self, user, action: str = "view") -> EnterpriseQuerySet:
        """Enterprises in the user's own scope (no foreign ones), for scoping links and memberships."""
        if not getattr(user, "is_usable", False):
            return self.none()
        return self if user.is_admin else self.filter(self.domestic_q(user, action))


class Enterprise(models.Model):
    """An enterprise, keyed by its USCC; a foreign supplier by country and name instead."""

    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True, validators=[validate_uscc]
    )
    name = models.CharField(_("企业名称"), max_length=200, db_index=True)
    country = models.CharField(_("国家/地区"), max_length=2, default="CN", help_text=_("ISO 3166 两位代码"))
    region = models.ForeignKey(
        Region, verbose_name=_("所在区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    industry = models.ForeignKey(
        Industry, verbose_name=_("所属行业"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scale = models.CharField(_("企业规模"), max_length=8, choices=Scale.choices, blank=True)
    above_designated_size = models.BooleanField(_("规上企业"), default=False)
    employees = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    baseline_output = models.DecimalField(
        _("基期年产值（元）"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    recovery_days = models.PositiveIntegerField(
        _("恢复周期（天）"),
        null=True,
        blank=True,
        help_text=_("停产后恢复供应所需天数（供应商调查，TTR）；空缺时按行业默认值"),
    )
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("联络员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="liaison_enterprises",
        limit_choices_to={"role": Role.LIAISON},
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        indexes = [models.Index(fields=["region", "name"]), models.Index(fields=["country", "name"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(country="CN", uscc__isnull=False, region__isnull=False) | ~Q(country="CN")),
                name="enterprise_domestic_has_uscc_and_region",
            ),
            models.UniqueConstraint(
                fields=["country", "name"], condition=Q(uscc__isnull=True), name="enterprise_foreign_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_foreign(self) -> bool:
        """True for a supplier outside China, located by country instead of region."""
        return self.country != "CN"

    def clean(self) -> None:
        """Domestic firms need a USCC and a region; foreign ones a country and no region."""
        errors = {}
        if self.country == "CN":
            if not self.uscc:
                errors["uscc"] = _("境内企业必须填写统一社会信用代码 / a domestic enterprise needs a USCC")
            if not self.region_id:
                errors["region"] = _("境内企业必须填写所在区域 / a domestic enterprise needs a region")
        else:
            self.region = None
            self.uscc = self.uscc or None
        if errors:
            raise ValidationError(errors)


class ChainQuerySet(RestrictQuerySet):
    """Chains are read by officials whose region the chain covers or who cover the chain's region."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        p = user.scope_prefix
        if user.role == Role.CHAIN_OFFICE:
            return Q(pk__in=user.chains.all())
        if user.role == Role.ENTERPRISE:
            if action != "view" or not user.enterprise_id:
                return NOTHING
            return Q(pk__in=Membership.objects.filter(enterprise_id=user.enterprise_id).values("chain"))
        if user.role == Role.TASKFORCE and action != "view":
            return Q(region__code__startswith=p)
        if user.role in GOVERNMENT_ROLES and action == "view":
            code = user.region.code if user.region_id else ""
            covering = [code[:2], code[:4], code] if code else []
            return Q(region__code__startswith=p) | Q(region__prefix__in=covering)
        return NOTHING


class Chain(models.Model):
    """An industrial chain (产业链) run at one level of government."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("产业链名称"), max_length=64)
    region = models.ForeignKey(Region, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    leader = models.CharField(_("链长"), max_length=64, blank=True, help_text=_("如：副省长 某某"))
    description = models.TextField(_("简介"), blank=True)
    task_force = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("专班成员"), blank=True, related_name="task_force_chains"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChainQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("产业链")
        verbose_name_plural = _("产业链")
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="chain_unique_name_in_region")]

    def __str__(self) -> str:
        return self.name


class ChainChildQuerySet(RestrictQuerySet):
    """Segments follow their chain."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        return Q(chain__in=Chain.objects.restrict(user, action).values("pk"))


class Segment(models.Model):
    """An ordered stage of a chain (环节): upstream materials → components → assembly → application."""

    chain = models.ForeignKey(Chain, verbose_name=_("产业链"), on_delete=models.CASCADE, related_name="segments")
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("环节名称"), max_length=64)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    objects = ChainChildQuerySet.as_manager()

    class Meta:
        ordering = ["chain", "order"]
        verbose_name = _("环节")
        verbose_name_plural = _("环节")
        constraints = [
            models.UniqueConstraint(fields=["chain", "order"], name="segment_unique_order"),
            models.UniqueConstraint(fields=["chain", "name"], name="segment_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    """An enterprise's role in a chain."""

    OWNER = "owner", _("链主企业")
    CORE = "core", _("核心配套企业")
    SUPPLIER = "supplier", _("配套企业")


class MembershipQuerySet(RestrictQuerySet):
    """A membership is visible when its chain is and its enterprise is in the user's own scope."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        chains = Chain.objects.restrict(user, action).values("pk")
        firms = Enterprise.objects.domestic(user, "view").values("pk")
        return Q(chain__in=chains) & (Q(enterprise__in=firms) | ~Q(enterprise__country="CN"))


class Membership(models.Model):
    """Enterprise × chain × segment × role."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="memberships"
    )
    chain = models.ForeignKey(Chain, verbose_name=_("产业链"), on_delete=models.CASCADE, related_name="memberships")
    segment = models.ForeignKey(
        Segment, verbose_name=_("环节"), null=True, blank=True, on_delete=models.SET_NULL, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=8, choices=MemberRole.choices, default=MemberRole.SUPPLIER)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["chain", "segment__order", "enterprise__name"]
        verbose_name = _("产业链成员")
        verbose_name_plural = _("产业链成员")
        constraints = [models.UniqueConstraint(fields=["enterprise", "chain"], name="membership_unique")]
        indexes = [models.Index(fields=["chain", "role"])]

    def __str__(self) -> str:
        return f"{self.chain} · {self.enterprise}"

    def clean(self) -> None:
        """The segment must belong to the same chain."""
        if self.segment_id and self.segment.chain_id != self.chain_id:
            raise ValidationError({"segment": _("环节不属于该产业链 / the segment belongs to another chain")})


class SupplyLinkQuerySet(RestrictQuerySet):
    """A link is visible/changeable when its supplier or its customer is in the user's own scope."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        firms = Enterprise.objects.domestic(user, action).values("pk")
        return Q(customer__in=firms) | Q(supplier__in=firms)


class SupplyLink(models.Model):
    """Supplier → customer for one input category."""

    supplier = models.ForeignKey(
        Enterprise, verbose_name=_("供应商"), on_delete=models.CASCADE, related_name="supplies"
    )
    customer = models.ForeignKey(Enterprise, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="inputs")
    input_category = models.CharField(_("投入品类别"), max_length=100)
    annual_value = models.DecimalField(_("年采购额（元）"), max_digits=18, decimal_places=2, null=True, blank=True)
    share = models.DecimalField(
        _("占该类投入比重"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("0–1，显示为百分比"),
    )
    lead_time_days = models.PositiveIntegerField(_("交货周期（天）"), null=True, blank=True)
    inventory_days = models.DecimalField(
        _("客户库存可用天数"), max_digits=7, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    alternatives_known = models.BooleanField(_("有可替代供应商"), default=False)
    scope = models.CharField(_("范围"), max_length=8, choices=LinkScope.choices, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SupplyLinkQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "input_category", "supplier"]
        verbose_name = _("供应关系")
        verbose_name_plural = _("供应关系")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "customer", "input_category"], name="link_unique_key"),
            models.CheckConstraint(condition=~Q(supplier=models.F("customer")), name="link_not_self"),
        ]
        indexes = [models.Index(fields=["supplier"]), models.Index(fields=["customer", "scope"])]

    def __str__(self) -> str:
        return f"{self.supplier} → {self.customer} ({self.input_category})"

    def derive_scope(self) -> str:
        """Set and return the scope from the two enterprises' regions."""
        s, c = self.supplier, self.customer
        self.scope = derive_scope(s.region_id, s.country, c.region_id)
        return self.scope

    def clean(self) -> None:
        """A firm does not supply itself."""
        if self.supplier_id and self.supplier_id == self.customer_id:
            raise ValidationError(_("供应商与客户不能相同 / supplier and customer must differ"))
