"""Reference data (regions, industries), users with role and scope, API tokens, the audit log."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gulian.core.permissions import RestrictQuerySet


class RegionLevel(models.TextChoices):
    """GB/T 2260 levels."""

    PROVINCE = "province", _("省级")
    PREFECTURE = "prefecture", _("地级")
    COUNTY = "county", _("县级")


def region_prefix(code: str, level: str) -> str:
    """The code prefix that covers a region's subtree: 33, 3301 or 330106."""
    if level == RegionLevel.PROVINCE:
        return code[:2]
    return code[:4] if level == RegionLevel.PREFECTURE else code


class RegionQuerySet(RestrictQuerySet):
    """Regions are public reference data; restrict() narrows to the user's subtree when asked to."""

    def within(self, prefix: str) -> RegionQuerySet:
        """Regions whose code starts with ``prefix`` (all for the empty prefix)."""
        return self.filter(code__startswith=prefix) if prefix else self

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        if action == "view":
            return Q()  # reference data: everyone signed in may read it
        return Q() if user.is_admin else Q(pk__in=[])


class Region(models.Model):
    """A GB/T 2260 administrative division (current list)."""

    code = models.CharField(_("代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    prefix = models.CharField(_("前缀"), max_length=6, db_index=True, editable=False)
    full_name = models.CharField(_("全称"), max_length=128, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """Keep ``prefix`` in step with code and level."""
        self.prefix = region_prefix(self.code, self.level)
        super().save(*args, **kwargs)

    def contains(self, code: str | None) -> bool:
        """True when the region with ``code`` lies in this region's subtree."""
        return code is not None and code.startswith(self.prefix)


class IndustryLevel(models.TextChoices):
    """GB/T 4754-2017 levels."""

    SECTION = "section", _("门类")
    DIVISION = "division", _("大类")
    GROUP = "group", _("中类")
    CLASS = "class", _("小类")


class IndustryQuerySet(RestrictQuerySet):
    """Industries are public reference data."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        if action == "view":
            return Q()
        return Q() if user.is_admin else Q(pk__in=[])


class Industry(models.Model):
    """A GB/T 4754-2017 category: section (A–T), division (2 digits), group (3), class (4)."""

    code = models.CharField(_("代码"), max_length=4, primary_key=True)
    name = models.CharField(_("名称"), max_length=128)
    level = models.CharField(_("级别"), max_length=10, choices=IndustryLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = IndustryQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("国民经济行业")
        verbose_name_plural = _("国民经济行业")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Role(models.TextChoices):
    """User roles (DESIGN.md, 'Who uses it')."""

    ENTERPRISE = "enterprise", _("企业用户")
    LIAISON = "liaison", _("联络员")
    HANDLER = "handler", _("部门办理人")
    TASKFORCE = "taskforce", _("专班")
    CHAIN_OFFICE = "chain_office", _("链长办")
    ADMIN = "admin", _("管理员")


class UserQuerySet(RestrictQuerySet):
    """restrict() for users: admins all; task forces and liaisons their region's users; others themselves."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        p = user.scope_prefix
        if action == "view" and user.role in (Role.TASKFORCE, Role.LIAISON):
            return Q(pk=user.pk) | Q(region__code__startswith=p) | Q(enterprise__region__code__startswith=p)
        if action == "approve" and user.role in (Role.TASKFORCE, Role.LIAISON):
            # accounts that enterprises registered themselves, in the approver's region
            return Q(role=Role.ENTERPRISE, enterprise__region__code__startswith=p)
        return Q(pk=user.pk)


class GulianUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Django's user manager plus restrict()."""


class User(AbstractUser):
    """A person with one role, a region scope (GB/T 2260 prefix) and an optional chain scope."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.ENTERPRISE)
    region = models.ForeignKey(
        Region,
        verbose_name=_("管辖区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("留空表示全国"),
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name=_("所属企业"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )
    department = models.CharField(_("部门"), max_length=64, blank=True)
    chains = models.ManyToManyField("registry.Chain", verbose_name=_("负责产业链"), blank=True, related_name="offices")
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    approved = models.BooleanField(_("已审核"), default=True)
    approved_by = models.ForeignKey(
        "self", verbose_name=_("审核人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = GulianUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def is_admin(self) -> bool:
        """Administrators (and Django superusers) see everything."""
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def scope_prefix(self) -> str:
        """GB/T 2260 prefix of the user's region; empty means the whole country."""
        return self.region.prefix if self.region_id else ""

    @property
    def is_usable(self) -> bool:
        """Signed in, active and approved: only such a user sees anything."""
        return self.is_authenticated and self.is_active and (self.approved or self.is_admin)


class ApiTokenQuerySet(RestrictQuerySet):
    """Tokens are visible to their owner only (and administrators)."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        return Q() if user.is_admin else Q(user=user)


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=64)
    prefix = models.CharField(max_length=8, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    @staticmethod
    def hash_key(key: str) -> str:
        """SHA-256 of a token key (keys are random, so no salt or slow hash is needed)."""
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """Create a token and return it with its one-time visible key."""
        key = "gl_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[:8], digest=cls.hash_key(key))
        return token, key


class AuditHead(models.Model):
    """The single row that serialises appends to the audit chain: last sequence number and hash."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)


class AuditRecordQuerySet(RestrictQuerySet):
    """Only administrators read the audit log through the UI/API."""

    def restrict_q(self, user, action: str) -> Q:
        """Rows ``user`` may ``action`` (rules in the class docstring)."""
        return Q() if (user.is_admin and action == "view") else Q(pk__in=[])


class AuditRecord(models.Model):
    """One write: who, when, which object, before and after. ``hash`` chains it to the previous record."""

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    # No database constraint and no cascade: deleting a user must not rewrite (and so break) its records.
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32)
    model = models.CharField(max_length=64, db_index=True)
    object_pk = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
