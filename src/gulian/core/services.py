"""Audited writes shared by every app's services.

A service checks scope through ``restrict()``, validates with the model's
``full_clean()``, writes, and appends an audit record in one transaction. An
object created or moved outside the actor's scope rolls the whole write back.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from gulian.core import audit


class OutOfScope(PermissionDenied):
    """The actor may not write this object (or not write it where it would land)."""

    def __init__(self, message: str | None = None):
        # translated when raised, so a page in English shows the English part alone
        super().__init__(message or _("超出管辖范围 / outside your scope"))


def get_scoped(queryset: models.QuerySet, user, action: str = "view", **lookup) -> models.Model:
    """One object through restrict(); Http404 when it does not exist or lies outside the user's scope."""
    obj = queryset.restrict(user, action).filter(**lookup).first()
    if obj is None:
        raise Http404("未找到 / not found")
    return obj


def _require_in_scope(actor, obj: models.Model, action: str) -> None:
    if not type(obj).objects.restrict(actor, action).filter(pk=obj.pk).exists():
        raise OutOfScope()


def create(actor, obj: models.Model, *, exclude_clean: list[str] | None = None) -> models.Model:
    """Validate, save and audit a new object that must land inside the actor's 'change' scope."""
    obj.full_clean(exclude=exclude_clean)
    with transaction.atomic():
        obj.save()
        _require_in_scope(actor, obj, "change")
        audit.record(actor, "create", obj, None, audit.snapshot(obj))
    return obj


def update(actor, obj: models.Model, changes: dict[str, Any], *, exclude_clean: list[str] | None = None):
    """Apply ``changes`` to an object in scope, validate, save, audit the fields that changed."""
    with transaction.atomic():
        _require_in_scope(actor, obj, "change")
        before = audit.snapshot(obj)
        for name, value in changes.items():
            setattr(obj, name, value)
        obj.full_clean(exclude=exclude_clean)
        obj.save()
        _require_in_scope(actor, obj, "change")  # it must not be moved out of scope either
        after = audit.snapshot(obj)
        diff = [k for k in after if before.get(k) != after[k] and k not in ("updated_at",)]
        if diff:
            audit.record(actor, "update", obj, {k: before[k] for k in diff}, {k: after[k] for k in diff})
    return obj


def delete(actor, obj: models.Model) -> None:
    """Delete an object in scope and audit what it was."""
    with transaction.atomic():
        _require_in_scope(actor, obj, "change")
        before = audit.snapshot(obj)
        audit.record(actor, "delete", obj, before, None)
        obj.delete()
