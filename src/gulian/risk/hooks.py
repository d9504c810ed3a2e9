"""Connects the risk lists to other apps (the held-back list's "open risk item" column)."""

from __future__ import annotations


def enterprises_with_open_items(enterprise_ids: set[int]) -> set[int]:
    """The ids among ``enterprise_ids`` that are the subject of an open risk item."""
    from gulian.risk.models import RiskItem

    return set(
        RiskItem.objects.open().filter(enterprise_id__in=enterprise_ids).values_list("enterprise_id", flat=True)
    )


def connect() -> None:
    """Register with ``gulian.dispatch.heldback.OPEN_ITEM_SOURCES``."""
    from gulian.dispatch import heldback

    heldback.OPEN_ITEM_SOURCES["risk"] = enterprises_with_open_items
