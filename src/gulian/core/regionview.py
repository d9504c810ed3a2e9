"""The region a user chose to look at (region switcher), as used by the pages.

The middleware (gulian.core.middleware) keeps the choice in the session and
guarantees it lies inside the user's scope. Pages apply it on top of
``restrict()``: restrict() decides what a user may see, the switcher only
narrows what they look at.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from gulian.core.models import Region


def narrowed_prefix(request) -> str:
    """The chosen region's prefix when it is narrower than the user's own scope, else ''.

    When nothing narrower was chosen the pages add no filter: restrict() already limits
    to the scope, and a region filter there would hide foreign suppliers, which have none.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    prefix = getattr(request, "view_prefix", "") or ""
    return prefix if prefix and prefix != user.scope_prefix else ""


def enterprise_q(prefix: str, field: str = "") -> Q:
    """Enterprises (at ``field``) located in the prefix's subtree, plus foreign ones (no region)."""
    if not prefix:
        return Q()
    return Q(**{f"{field}region__code__startswith": prefix}) | (
        Q(**{f"{field}region__isnull": True}) & ~Q(**{f"{field}country": "CN"})
    )


def chain_q(prefix: str) -> Q:
    """Chains run in the prefix's subtree or at a level that covers it (a provincial chain for a city)."""
    if not prefix:
        return Q()
    covering = {prefix[:2], prefix[:4], prefix}
    return Q(region__code__startswith=prefix) | Q(region__prefix__in=covering)


@dataclass(frozen=True)
class RegionOption:
    """One entry of the region switcher."""

    code: str
    label: str
    depth: int
    selected: bool

    @property
    def indent(self) -> str:
        """Ideographic spaces and a corner that show the level in a plain <select>."""
        return "\u3000" * (self.depth - 1) + "└ " if self.depth else ""


def _ancestor_codes(code: str) -> list[str]:
    """Province and prefecture codes above a region code, then the code itself."""
    return list(dict.fromkeys([code[:2] + "0000", code[:4] + "00", code]))


def region_options(request) -> list[RegionOption]:
    """Switcher entries: own scope, the path down to the chosen region, and the chosen region's children.

    One query: a province user sees the province, then picks a prefecture, then a county.
    """
    user = request.user
    own = user.region if user.region_id else None
    own_prefix = user.scope_prefix
    current = getattr(request, "view_region", None)
    current_code = current.code if current is not None else ""
    path = [c for c in _ancestor_codes(current_code) if own is None or c != own.code] if current_code else []
    children = Q(parent_id=current_code) if current_code else Q(level="province")
    rows = Region.objects.filter(Q(code__in=path) | children).only(
        "code", "name", "level", "prefix", "parent"
    )
    by_code = {r.code: r for r in rows}
    root_label = (own.full_name or own.name) if own else _("全国")
    root_selected = not current_code or (own is not None and current_code == own.code)
    options = [RegionOption("", root_label, 0, root_selected)]
    depth = 1
    for code in path:
        region = by_code.get(code)
        if region is not None and region.prefix.startswith(own_prefix):
            options.append(RegionOption(code, region.name, depth, code == current_code))
            depth += 1
    kids = sorted(
        (
            r
            for r in rows
            if r.code not in path and r.prefix.startswith(own_prefix) and r.code != current_code
        ),
        key=lambda r: r.code,
    )
    options.extend(RegionOption(r.code, r.name, depth, False) for r in kids)
    return options
