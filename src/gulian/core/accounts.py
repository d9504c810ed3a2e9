"""Account services: enterprise self-registration, approval by the region's officials, API tokens.

These are the only writers of accounts from the web pages. Each write is audited;
self-registration has no signed-in actor, so it is recorded under the name
``self-registration`` (no actor id).
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gulian.core import audit
from gulian.core.models import ApiToken, Region, Role, User
from gulian.core.services import OutOfScope
from gulian.core.uscc import USCCError
from gulian.core.uscc import validate as validate_uscc

# Stands in for the actor of a self-registration in the audit log (no user is signed in yet).
SELF_REGISTRATION = SimpleNamespace(username="self-registration", pk=None)

# Fields of a user the audit log keeps (never the password hash).
USER_AUDIT_FIELDS = (
    "username",
    "role",
    "region_id",
    "enterprise_id",
    "approved",
    "approved_by_id",
    "is_active",
)
APPROVER_ROLES = (Role.TASKFORCE, Role.LIAISON)


def _user_snapshot(user: User) -> dict:
    return audit.snapshot(user, USER_AUDIT_FIELDS)


def region_from_uscc(uscc: str) -> Region | None:
    """The current region named by positions 3–8 of a USCC, or None (former code, or 100000 national)."""
    return Region.objects.filter(code=uscc[2:8]).first()


def _find_or_create_enterprise(uscc: str, name: str, contact: dict, region_code: str | None):
    from gulian.registry.models import Enterprise

    enterprise = Enterprise.objects.filter(uscc=uscc).first()
    if enterprise is not None:
        return enterprise  # an existing record is bound, not overwritten: the approver checks the claim
    region = region_from_uscc(uscc)
    if region is None and region_code:
        region = Region.objects.filter(code=region_code).first()
    if region is None:
        message = _(
            "信用代码中的区划已撤销或为全国级，请填写企业所在区域 / "
            "the USCC's region code is not a current region: give the enterprise's region"
        )
        raise ValidationError({"region": ValidationError(message, code="region_required")})
    enterprise = Enterprise(uscc=uscc, name=name, country="CN", region=region, **contact)
    enterprise.full_clean()
    enterprise.save()
    audit.record(SELF_REGISTRATION, "create", enterprise, None, audit.snapshot(enterprise))
    return enterprise


def register_enterprise_user(
    uscc: str,
    enterprise_name: str,
    contact_name: str,
    phone: str,
    email: str,
    username: str,
    password: str,
    region_code: str | None = None,
) -> User:
    """Register an unapproved enterprise account, binding it to (or creating) the enterprise with ``uscc``.

    Raises ``ValidationError`` keyed by field: ``uscc`` (naming the failed check), ``region`` (when the
    USCC's region is not current and none was chosen), ``username`` or ``password``.
    """
    try:
        uscc = validate_uscc(uscc)
    except USCCError as e:
        raise ValidationError(
            {"uscc": ValidationError(e.localized(), code=f"uscc_{e.code}")}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            {"username": ValidationError(_("用户名已被使用 / this username is taken"), code="taken")}
        )
    candidate = User(username=username, email=email, first_name=contact_name, phone=phone)
    try:
        validate_password(password, candidate)
    except ValidationError as e:
        raise ValidationError({"password": e.error_list})
    contact = {"contact_name": contact_name, "contact_phone": phone, "contact_email": email}
    with transaction.atomic():
        enterprise = _find_or_create_enterprise(uscc, enterprise_name, contact, region_code)
        user = User(
            username=username,
            email=email,
            first_name=contact_name,
            phone=phone,
            role=Role.ENTERPRISE,
            region=enterprise.region,
            enterprise=enterprise,
            approved=False,
        )
        user.set_password(password)
        user.save()
        audit.record(SELF_REGISTRATION, "register", user, None, _user_snapshot(user))
    return user


def pending_approvals(actor):
    """Self-registered accounts waiting for ``actor``'s decision (empty for roles that do not approve)."""
    if not (getattr(actor, "is_admin", False) or getattr(actor, "role", None) in APPROVER_ROLES):
        return User.objects.none()
    return (
        User.objects.restrict(actor, "approve")
        .filter(approved=False, is_active=True, role=Role.ENTERPRISE)
        .select_related("enterprise", "enterprise__region")
        .order_by("date_joined")
    )


def _require_approvable(actor, user: User) -> None:
    if not pending_approvals(actor).filter(pk=user.pk).exists():
        raise OutOfScope()


def approve_user(actor, user: User) -> User:
    """Approve a pending account in the actor's region (liaison, task force or administrator)."""
    with transaction.atomic():
        _require_approvable(actor, user)
        before = _user_snapshot(user)
        user.approved, user.approved_by = True, actor
        user.save(update_fields=["approved", "approved_by"])
        audit.record(actor, "approve", user, before, _user_snapshot(user))
    return user


def reject_user(actor, user: User, reason: str) -> User:
    """Reject a pending account: it is deactivated (kept for the record) and the reason audited."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(_("请填写驳回理由 / give a reason"), code="required")})
    with transaction.atomic():
        _require_approvable(actor, user)
        before = _user_snapshot(user)
        user.is_active, user.approved_by = False, actor
        user.save(update_fields=["is_active", "approved_by"])
        audit.record(actor, "reject", user, before, {**_user_snapshot(user), "reason": reason})
    return user


def issue_token(actor: User, name: str) -> tuple[ApiToken, str]:
    """Issue an API token for ``actor`` and return it with its key (shown once, never stored)."""
    name = (name or "").strip()[:64]
    if not name:
        raise ValidationError(
            {"name": ValidationError(_("请填写令牌名称 / give the token a name"), code="required")}
        )
    with transaction.atomic():
        token, key = ApiToken.issue(actor, name)
        audit.record(actor, "create", token, None, audit.snapshot(token, ("user_id", "name", "prefix")))
    return token, key


def revoke_token(actor: User, token: ApiToken) -> None:
    """Delete one of the actor's own tokens."""
    if token.user_id != actor.pk:
        raise OutOfScope()
    with transaction.atomic():
        audit.record(actor, "delete", token, audit.snapshot(token, ("user_id", "name", "prefix")), None)
        token.delete()


def own_tokens(actor: User):
    """The actor's tokens, newest first."""
    return ApiToken.objects.restrict(actor, "view").filter(user=actor).order_by("-created_at")


def token_is_live(token: ApiToken) -> bool:
    """False once a token has expired."""
    return token.expires_at is None or token.expires_at > timezone.now()
