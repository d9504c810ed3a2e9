"""Connects appeals to other apps (the held-back list's "open appeal" column)."""

from __future__ import annotations


def enterprises_with_open_appeals(enterprise_ids: set[int]) -> set[int]:
    """The ids among ``enterprise_ids`` that have an open appeal of their own."""
    from gulian.appeals.models import Appeal

    return set(Appeal.objects.open().filter(enterprise_id__in=enterprise_ids).values_list("enterprise_id", flat=True))


def connect() -> None:
    """Register with ``gulian.dispatch.heldback.OPEN_ITEM_SOURCES``."""
    from gulian.dispatch import heldback

    heldback.OPEN_ITEM_SOURCES["appeal"] = enterprises_with_open_appeals
