"""Who may write what in an import, decided in bulk.

Existing records are checked against ``restrict(user, action)`` in chunks of
primary keys (a few queries for a whole file, never one per row). Records that
do not exist yet cannot be run through a queryset, so :func:`may_place` states
the same rule as ``EnterpriseQuerySet.restrict_q`` for where a new or moved
enterprise may land; after writing, :func:`assert_in_scope` re-checks every
written row through ``restrict()`` and rolls the import back if the two ever
disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import models

from gulian.core.models import Role
from gulian.core.services import OutOfScope

CHUNK = 5000  # below SQLite's 32,766 bound variables, and small enough for PostgreSQL plans


class SystemActor:
    """The administrator a management command runs as when no --user is given (audit actor "system")."""

    pk = None
    id = None
    username = ""  # audit.record_many writes "system" for an actor without a name
    role = Role.ADMIN
    region_id = None
    enterprise_id = None
    is_admin = True
    is_superuser = True
    is_usable = True
    is_authenticated = True
    is_active = True
    scope_prefix = ""

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()


def chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    """Successive lists of at most ``size`` items."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def pks_within(queryset: models.QuerySet, pks: Iterable[int]) -> set[int]:
    """The subset of ``pks`` present in ``queryset`` (already restricted), queried in chunks."""
    found: set[int] = set()
    for batch in chunks(sorted(set(pks))):
        found.update(queryset.filter(pk__in=batch).values_list("pk", flat=True))
    return found


def may_place(user, region: str | None, country: str = "CN") -> bool:
    """May ``user`` create an enterprise here, or move one here? Mirrors EnterpriseQuerySet.restrict_q."""
    if user.is_admin:
        return True
    if country != "CN":
        return user.role == Role.TASKFORCE  # task forces maintain the foreign suppliers
    if user.role not in (Role.TASKFORCE, Role.LIAISON):
        return False  # chain offices and others change existing members only
    return bool(region) and region.startswith(user.scope_prefix)


def assert_in_scope(queryset: models.QuerySet, user, pks: Iterable[int]) -> None:
    """Raise OutOfScope (rolling the transaction back) unless every pk is in ``queryset.restrict(user, 'change')``."""
    wanted = set(pks)
    if user.is_admin or not wanted:
        return
    allowed = pks_within(queryset.restrict(user, "change"), wanted)
    if allowed != wanted:
        raise OutOfScope()


def actor_for(username: str | None):
    """The actor of a management command: the named usable user, or SYSTEM; LookupError names the problem."""
    from gulian.core.models import User

    if not username:
        return SYSTEM
    user = User.objects.filter(username=username).first()
    if user is None:
        raise LookupError(f"用户不存在 / no such user: {username}")
    if not user.is_usable:
        raise LookupError(f"用户未启用或未审核 / user is inactive or not approved: {username}")
    return user
