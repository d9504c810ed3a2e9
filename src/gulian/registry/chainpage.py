"""Read model of the chain page: segments, members by role, scope mixes and the supply graph.

Built in a fixed number of queries whatever the chain's size: members come back
as one list of tuples (grouped and capped in Python), link totals are
aggregated in the database, and the graph's edges are fetched only among the
members drawn.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from gulian.core.regionview import enterprise_q
from gulian.registry.models import Chain, MemberRole, Membership, Segment, SupplyLink
from gulian.registry.scope import LinkScope, derive_scope

MEMBERS_PER_GROUP = 40  # rows listed per segment and role; the rest are counted and linked
GRAPH_NODES = 300  # members drawn: the largest by output, plus every chain owner
GRAPH_EDGES = 3000
SCOPE_ORDER = [LinkScope.CITY, LinkScope.PROVINCE, LinkScope.DOMESTIC, LinkScope.FOREIGN]
SCOPE_COLORS = {"city": "#15803d", "province": "#1d4ed8", "domestic": "#d97706", "foreign": "#b91c1c"}
ROLE_ORDER = [MemberRole.OWNER, MemberRole.CORE, MemberRole.SUPPLIER]
NO_SEGMENT = 0


@dataclass
class Member:
    """One member as listed on the page."""

    membership_id: int
    enterprise_id: int
    name: str
    region_name: str
    country: str
    output: float | None  # yuan; a float because it is only drawn and shown rounded
    role: str
    segment_id: int
    scope: str  # where the member sits relative to the chain's region


@dataclass
class RoleGroup:
    """The members of one segment with one role: the first rows, the count and their output."""

    role: str
    label: str
    members: list[Member] = field(default_factory=list)
    count: int = 0
    output: float = 0.0

    @property
    def hidden(self) -> int:
        """Members counted but not listed."""
        return self.count - len(self.members)


@dataclass
class SegmentBlock:
    """A segment of the chain with its members grouped by role."""

    pk: int
    order: int
    name: str
    description: str
    groups: list[RoleGroup]

    @property
    def count(self) -> int:
        """All members of the segment."""
        return sum(g.count for g in self.groups)


@dataclass
class ScopeRow:
    """One line of a 市内/省内/省外/境外 summary."""

    scope: str
    label: str
    count: int
    value: Decimal | None
    share: float


def _members(user, chain: Chain, prefix: str) -> list[Member]:
    qs = Membership.objects.restrict(user, "view").filter(chain=chain)
    if prefix:
        qs = qs.filter(enterprise_q(prefix, "enterprise__"))
    # output read as a float: Django's Decimal conversion of 5,000 rows costs more than the query
    output = Cast("enterprise__baseline_output", FloatField())
    rows = qs.order_by(
        F("enterprise__baseline_output").desc(nulls_last=True), "enterprise__name"
    ).values_list(
        "pk",
        "enterprise_id",
        "enterprise__name",
        "enterprise__region_id",
        "enterprise__region__name",
        "enterprise__country",
        output,
        "role",
        "segment_id",
    )
    return [
        Member(pk, eid, name, rname or country, country, output, role, seg or NO_SEGMENT,
               derive_scope(rcode, country, chain.region_id))
        for pk, eid, name, rcode, rname, country, output, role, seg in rows
    ]  # fmt: skip


def _blocks(segments: list[Segment], members: list[Member]) -> list[SegmentBlock]:
    labels = dict(MemberRole.choices)
    groups: dict[tuple[int, str], RoleGroup] = {}
    for m in members:  # members come sorted by output, so each group keeps its largest firms
        g = groups.get((m.segment_id, m.role))
        if g is None:
            g = groups[(m.segment_id, m.role)] = RoleGroup(m.role, str(labels.get(m.role, m.role)))
        g.count += 1
        g.output += m.output or 0
        if len(g.members) < MEMBERS_PER_GROUP:
            g.members.append(m)
    stages = [(s.pk, s.order, s.name, s.description) for s in segments]
    if any(m.segment_id == NO_SEGMENT for m in members):
        stages.append((NO_SEGMENT, 0, _("未分环节"), ""))
    return [
        SegmentBlock(pk, order, name, desc,
                     [groups.get((pk, r)) or RoleGroup(r, str(labels[r])) for r in ROLE_ORDER])
        for pk, order, name, desc in stages
    ]  # fmt: skip


def _scope_rows(counts: dict[str, tuple[int, Decimal | None]]) -> list[ScopeRow]:
    labels = dict(LinkScope.choices)
    total = sum(n for n, _v in counts.values()) or 1
    return [
        ScopeRow(s, str(labels[s]), counts.get(s, (0, None))[0], counts.get(s, (0, None))[1],
                 counts.get(s, (0, None))[0] / total)
        for s in SCOPE_ORDER
    ]  # fmt: skip


def chain_links(user, chain: Chain, prefix: str = ""):
    """The chain's links: inputs bought by its members (same rule as SupplyLinkFilter's ``chain``)."""
    qs = SupplyLink.objects.restrict(user, "view").filter(customer__memberships__chain=chain)
    return qs.filter(enterprise_q(prefix, "customer__")) if prefix else qs


def _link_mix(user, chain: Chain, prefix: str) -> list[ScopeRow]:
    rows = (
        chain_links(user, chain, prefix)
        .order_by()
        .values("scope")
        .annotate(n=Count("pk"), v=Sum("annual_value"))
    )
    return _scope_rows({r["scope"]: (r["n"], r["v"]) for r in rows})


def _member_mix(members: list[Member]) -> list[ScopeRow]:
    counts = Counter(m.scope for m in members)
    return _scope_rows({s: (n, None) for s, n in counts.items()})


def _symbol_size(output: float | None, largest: float) -> float:
    """Node size from 6 to 40 px, by the square root of output so that area tracks output."""
    if not output or largest <= 0:
        return 6.0
    return round(6 + 34 * math.sqrt(output / largest), 1)


SYMBOLS = {MemberRole.OWNER: "diamond", MemberRole.CORE: "roundRect", MemberRole.SUPPLIER: "circle"}


def _graph(user, segments: list[Segment], members: list[Member], detail_url: str) -> dict:
    drawn = members[:GRAPH_NODES]
    seen = {m.enterprise_id for m in drawn}
    drawn += [m for m in members[GRAPH_NODES:] if m.role == MemberRole.OWNER and m.enterprise_id not in seen]
    order = {s.pk: i for i, s in enumerate(segments)}
    categories = [{"name": s.name} for s in segments]
    if any(m.segment_id == NO_SEGMENT for m in drawn):
        order[NO_SEGMENT] = len(categories)
        categories.append({"name": _("未分环节")})
    largest = max((m.output or 0.0 for m in drawn), default=0.0)
    role_labels = dict(MemberRole.choices)
    nodes = [
        {
            "id": str(m.enterprise_id),
            "name": m.name,
            "value": m.output or 0.0,
            "symbolSize": _symbol_size(m.output, largest),
            "symbol": SYMBOLS.get(m.role, "circle"),
            "category": order.get(m.segment_id, 0),
            "role": str(role_labels.get(m.role, m.role)),
            "region": m.region_name,
            "url": f"{detail_url}{m.enterprise_id}/",
        }
        for m in drawn
    ]
    ids = [m.enterprise_id for m in drawn]
    # Candidates first, then restrict() on their keys: with the scope test and the two id lists in one
    # WHERE, SQLite pairs every in-scope firm with every drawn id (~250 ms at 5,000 members instead of ~10).
    among_drawn = SupplyLink.objects.filter(supplier_id__in=ids, customer_id__in=ids).values("pk")
    edges = (
        SupplyLink.objects.restrict(user, "view")
        .filter(pk__in=among_drawn)
        .order_by(F("annual_value").desc(nulls_last=True))
        .values_list("supplier_id", "customer_id", "scope", "annual_value", "input_category")[:GRAPH_EDGES]
    )
    links = [
        {"source": str(s), "target": str(c), "scope": scope, "value": float(v or 0), "category": cat,
         "lineStyle": {"color": SCOPE_COLORS.get(scope, "#999")}}
        for s, c, scope, v, cat in edges
    ]  # fmt: skip
    scope_labels = {s: str(label) for s, label in LinkScope.choices}
    return {
        "categories": categories,
        "nodes": nodes,
        "links": links,
        "scopes": [{"code": s, "label": scope_labels[s], "color": SCOPE_COLORS[s]} for s in SCOPE_ORDER],
        "labels": {"output": _("基期年产值（亿元）"), "role": _("角色"), "region": _("区域"),
                   "input": _("投入品"), "value": _("年采购额（万元）")},
    }  # fmt: skip


@dataclass
class ChainPage:
    """Everything the chain page shows."""

    segments: list[SegmentBlock]
    member_count: int
    role_counts: dict[str, int]
    member_mix: list[ScopeRow]
    link_mix: list[ScopeRow]
    link_count: int
    link_value: Decimal
    graph: dict
    graph_capped: bool


def build(user, chain: Chain, prefix: str, detail_url: str) -> ChainPage:
    """The chain page for ``user``, narrowed to ``prefix`` when the region switcher chose one."""
    segments = list(Segment.objects.restrict(user, "view").filter(chain=chain).order_by("order"))
    members = _members(user, chain, prefix)
    link_mix = _link_mix(user, chain, prefix)
    roles = defaultdict(int)
    for m in members:
        roles[m.role] += 1
    graph = _graph(user, segments, members, detail_url)
    return ChainPage(
        segments=_blocks(segments, members),
        member_count=len(members),
        role_counts={str(r): roles.get(r, 0) for r in ROLE_ORDER},
        member_mix=_member_mix(members),
        link_mix=link_mix,
        link_count=sum(r.count for r in link_mix),
        link_value=sum((r.value or Decimal(0) for r in link_mix), Decimal(0)),
        graph=graph,
        graph_capped=len(graph["nodes"]) < len(members),
    )
