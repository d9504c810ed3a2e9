"""Connects appeals to other apps: the held-back list's "open appeal" column, the risk item's 发起诉求 button."""

from __future__ import annotations


def enterprises_with_open_appeals(enterprise_ids: set[int]) -> set[int]:
    """The ids among ``enterprise_ids`` that have an open appeal of their own."""
    from gulian.appeals.models import Appeal

    return set(Appeal.objects.open().filter(enterprise_id__in=enterprise_ids).values_list("enterprise_id", flat=True))


def may_file_from_risk_item(user, item) -> bool:
    """The risk item's "发起诉求" button: for those who may file for the item's enterprise (its liaison, admins)."""
    from gulian.appeals.services import may_file_for

    return item.enterprise_id is not None and may_file_for(user, item.enterprise)


def connect() -> None:
    """Register with the held-back list's ``OPEN_ITEM_SOURCES`` and the risk item page's follow-up checks."""
    from gulian.dispatch import heldback
    from gulian.risk import views_lists

    heldback.OPEN_ITEM_SOURCES["appeal"] = enterprises_with_open_appeals
    views_lists.FOLLOW_UP_CHECKS["appeal"] = may_file_from_risk_item
