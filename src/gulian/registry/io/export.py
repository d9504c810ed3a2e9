"""Export rows per kind, read through ``restrict(user, "view")`` and the shared filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gulian.registry.filters import ChainFilter, EnterpriseFilter, MembershipFilter, SupplyLinkFilter
from gulian.registry.io import enterprises, links
from gulian.registry.models import Chain, Enterprise, Membership, Segment, SupplyLink

ROLE_ZH = {"owner": "链主企业", "core": "核心配套企业", "supplier": "配套企业"}
FILTERS = {"enterprises": EnterpriseFilter, "links": SupplyLinkFilter, "chains": MembershipFilter}


def _clean(filter_class, filters: dict[str, Any] | None) -> dict[str, Any]:
    """Only the filter's own fields, blank values dropped (a GET query string carries everything)."""
    return {
        k: v for k, v in (filters or {}).items() if k in filter_class.model_fields and v not in ("", None)
    }


def export_rows(kind: str, user, filters: dict[str, Any] | None = None) -> Iterator[list]:
    """Rows in the import shape of ``kind`` for what ``user`` may view, narrowed by ``filters``.

    ``filters`` are the fields of the kind's filter class (registry/filters.py); for chains,
    the MembershipFilter fields plus ``q`` of ChainFilter. Raises pydantic's ValidationError
    for a malformed filter value.
    """
    if kind == "enterprises":
        qs = EnterpriseFilter(**_clean(EnterpriseFilter, filters)).filter(
            Enterprise.objects.restrict(user, "view")
        )
        return enterprises.export_rows(qs)
    if kind == "links":
        qs = SupplyLinkFilter(**_clean(SupplyLinkFilter, filters)).filter(
            SupplyLink.objects.restrict(user, "view")
        )
        return links.export_rows(qs)
    return _chain_rows(user, filters or {})


def _chain_rows(user, filters: dict[str, Any]) -> Iterator[list]:
    member_filter = _clean(MembershipFilter, filters)
    chains = ChainFilter(**_clean(ChainFilter, {"q": filters.get("q")})).filter(
        Chain.objects.restrict(user, "view")
    )
    if "chain" in member_filter:
        chains = chains.filter(pk=member_filter["chain"])
    chain_info = {c[0]: c[1:] for c in chains.values_list("pk", "code", "name", "region_id", "leader")}
    members = MembershipFilter(**member_filter).filter(Membership.objects.restrict(user, "view"))
    members = members.filter(chain_id__in=list(chain_info)).values_list(
        "chain_id",
        "segment_id",
        "enterprise__uscc",
        "enterprise__name",
        "enterprise__country",
        "role",
        "note",
    )
    by_segment: dict[tuple[int, int | None], list[list]] = {}
    for chain_id, segment_id, code, name, country, role, note in members.order_by(
        "enterprise__uscc", "enterprise__name"
    ).iterator(chunk_size=5000):
        by_segment.setdefault((chain_id, segment_id), []).append(
            [code or "", name, country, ROLE_ZH[role], note]
        )
    segments: dict[int, list[tuple]] = {}
    for seg in Segment.objects.filter(chain_id__in=list(chain_info)).values_list(
        "chain_id", "pk", "name", "order"
    ):
        segments.setdefault(seg[0], []).append(seg[1:])
    # Chain-only and segment-only rows carry the chains' structure; a member filter leaves them out.
    structure = not (set(member_filter) - {"chain"})
    for chain_id, (code, name, region, leader) in sorted(chain_info.items(), key=lambda kv: kv[1][0]):
        head = [code, name, region, leader]
        wrote = False
        for member in by_segment.get((chain_id, None), []):
            wrote = True
            yield head + ["", None, *member]
        for seg_id, seg_name, order in sorted(segments.get(chain_id, []), key=lambda s: s[2]):
            members_here = by_segment.get((chain_id, seg_id), [])
            for member in members_here:
                yield head + [seg_name, order, *member]
            if not members_here and structure:
                yield head + [seg_name, order, "", "", "", "", ""]
            wrote = wrote or bool(members_here) or structure
        if not wrote and structure:
            yield head + ["", None, "", "", "", "", ""]
