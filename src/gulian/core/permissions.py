"""restrict(): the single gate for every read and write.

Each model's queryset implements ``restrict_q(user, action)`` returning a ``Q``
for the rows that ``user`` may ``action`` ("view", "change", "add", "delete",
or a model-specific verb). ``Model.objects.restrict(user, action)`` applies it.
An anonymous, inactive or unapproved user gets nothing; an administrator
everything. Views fetch single objects through it, so an out-of-scope record
is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

NOTHING = Q(pk__in=[])


class RestrictQuerySet(models.QuerySet):
    """QuerySet with ``restrict(user, action)``; subclasses define ``restrict_q``."""

    def restrict_q(self, user, action: str) -> Q:  # pragma: no cover - each model overrides
        """The ``Q`` of rows ``user`` may ``action``; each model's queryset defines it."""
        raise NotImplementedError(f"{self.model.__name__} defines no restrict_q")

    def restrict(self, user, action: str = "view") -> RestrictQuerySet:
        """Rows ``user`` may ``action``; none for an anonymous, inactive or unapproved user."""
        if user is None or not getattr(user, "is_usable", False):
            return self.none()
        if user.is_admin:
            return self
        q = self.restrict_q(user, action)
        if q == NOTHING:
            return self.none()
        return self.filter(q).distinct() if getattr(q, "needs_distinct", False) else self.filter(q)


def can(user, obj: models.Model, action: str) -> bool:
    """True when ``user`` may ``action`` the saved object ``obj``."""
    return type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()
