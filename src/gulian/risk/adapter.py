"""Registry → engine: the supply network of a set of chains as a :class:`SupplyNetwork`.

The network holds every member of the selected chains and every supplier reachable upstream from
them through ``SupplyLink`` rows (all tiers the registry knows). Chains are chosen through
``Chain.objects.restrict(user, "view")``; the firms upstream are included whatever their region,
because a chain's risk usually lies outside the region that runs it. Pages show those firms the way
the held-back list does (name and status), never their reported figures.

Values (docs/engine.md, "The registry network"):

- link value per day ``A_ij = annual_value / 365``; without ``annual_value``:
  ``share × 0.6 × x0_j`` when the link's share of its input category is known (0.6 = a typical ratio
  of intermediate input to output in manufacturing), else the median known daily link value;
- baseline output per day ``x0_i = max(baseline_output / 365, Σ_j A_ij)``; without
  ``baseline_output``: ``max(Σ_j A_ij / 0.7, Σ_k A_ki / 0.6, 1)``; final demand ``c_i = x0_i − Σ_j A_ij``,
  so the baseline is a steady state;
- sector = GB/T 4754 division (two digits) of the firm's industry, else its section, else "未知";
- inventory days per link = ``SupplyLink.inventory_days`` (NaN → the engine's default target).

A fixed number of queries, whatever the number of chains and firms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from gulian.engine.network import SupplyNetwork, from_arrays
from gulian.engine.types import IndexArray, Scope
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, SupplyLink
from gulian.registry.scope import LinkScope

INPUT_RATIO = 0.6
"""Typical intermediate input ÷ output in manufacturing (used only where values are missing)."""
SALES_RATIO = 0.7
"""Assumed share of a firm's output sold to other firms when its output is unknown."""
SCOPE_CODES = {
    LinkScope.CITY: Scope.CITY,
    LinkScope.PROVINCE: Scope.PROVINCE,
    LinkScope.DOMESTIC: Scope.OUT_OF_PROVINCE,
    LinkScope.FOREIGN: Scope.OVERSEAS,
}
UNKNOWN_SECTOR = "未知"


@dataclass
class RegistryNetwork:
    """A :class:`SupplyNetwork` with the registry ids and groupings behind it."""

    net: SupplyNetwork
    enterprise_ids: np.ndarray
    index: dict[int, int]
    names: list[str]
    owners: IndexArray
    owner_chains: dict[int, list[int]]
    chains: list[Chain]
    chain_groups: dict[str, IndexArray]
    segment_groups: dict[str, IndexArray]
    segment_labels: dict[str, list[str]]
    region_groups: IndexArray
    region_labels: list[str]
    link_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Registry id of one ``SupplyLink`` behind each engine link (in ``net.links.data`` order)."""

    def firm(self, enterprise_id: int) -> int:
        """Firm index of an enterprise (KeyError when it is not in the network)."""
        return self.index[enterprise_id]


def select_chains(*, user=None, region=None, chains: Iterable[Chain | str] | None = None) -> list[Chain]:
    """The chains to build: ``chains`` (objects or codes) within the user's view, else all visible ones.

    ``region`` keeps chains whose own region lies in it or covers it.
    """
    qs = Chain.objects.restrict(user, "view") if user is not None else Chain.objects.all()
    if chains is not None:
        codes = [c.code if isinstance(c, Chain) else str(c) for c in chains]
        qs = qs.filter(code__in=codes)
    if region is not None:
        covering = [region.code[:2], region.code[:4], region.code]
        qs = qs.filter(region__code__startswith=region.prefix) | qs.filter(region__prefix__in=covering)
    return list(qs.select_related("region").order_by("code").distinct())


def _sector(industry: str | None) -> str:
    if not industry:
        return UNKNOWN_SECTOR
    return industry[:2] if industry[0].isdigit() else industry


def _upstream(start: set[int], links: np.ndarray) -> set[int]:
    """Every firm reachable upstream from ``start`` through links ``(supplier, customer)``."""
    suppliers_of: dict[int, list[int]] = {}
    for s, c in links.tolist():
        suppliers_of.setdefault(c, []).append(s)
    seen, frontier = set(start), list(start)
    while frontier:
        nxt = []
        for c in frontier:
            for s in suppliers_of.get(c, ()):
                if s not in seen:
                    seen.add(s)
                    nxt.append(s)
        frontier = nxt
    return seen


def build_network(*, user=None, region=None, chains: Iterable[Chain | str] | None = None) -> RegistryNetwork:
    """The network of the selected chains and everything upstream of them (module docstring)."""
    chosen = select_chains(user=user, region=region, chains=chains)
    members = list(
        Membership.objects.filter(chain__in=chosen).values_list("enterprise_id", "chain_id", "segment_id", "role")
    )
    rows = list(
        SupplyLink.objects.values_list(
            "id", "supplier_id", "customer_id", "annual_value", "share", "inventory_days", "scope"
        )
    )
    pairs = np.array([(r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 2)
    firms = sorted(_upstream({m[0] for m in members}, pairs))
    index = {pk: k for k, pk in enumerate(firms)}
    info = {
        r[0]: r[1:]
        for r in Enterprise.objects.filter(pk__in=firms).values_list(
            "id", "name", "industry_id", "region_id", "country", "baseline_output"
        )
    }
    n = len(firms)
    kept = [r for r in rows if r[1] in index and r[2] in index]
    sup = np.array([index[r[1]] for r in kept], dtype=np.int64)
    cus = np.array([index[r[2]] for r in kept], dtype=np.int64)
    annual = np.array([np.nan if r[3] is None else float(r[3]) for r in kept])
    share = np.array([np.nan if r[4] is None else float(r[4]) for r in kept])
    inv = np.array([np.nan if r[5] is None else float(r[5]) for r in kept])
    scope = np.array([SCOPE_CODES.get(r[6], Scope.UNKNOWN) for r in kept], dtype=np.int8)

    # several input categories of one supplier → customer pair are one engine link
    order = np.lexsort((cus, sup))
    sup, cus, annual, share, inv, scope = sup[order], cus[order], annual[order], share[order], inv[order], scope[order]
    link_ids = np.array([r[0] for r in kept], dtype=np.int64)[order]
    first = np.ones(sup.size, dtype=bool)
    first[1:] = (sup[1:] != sup[:-1]) | (cus[1:] != cus[:-1])
    starts = np.flatnonzero(first)

    baseline = np.array([np.nan if info[pk][4] is None else float(info[pk][4]) / 365 for pk in firms])
    value = annual / 365
    known = value[np.isfinite(value)]
    median = float(np.median(known)) if known.size else 1.0
    missing = ~np.isfinite(value)
    estimate = share * INPUT_RATIO * baseline[cus]
    value[missing] = np.where(np.isfinite(estimate[missing]), estimate[missing], median)
    if sup.size:
        value = np.add.reduceat(value, starts)
        inv = np.fmin.reduceat(inv, starts)  # the shortest cover of the pair's inputs
        sup, cus, scope, link_ids = sup[first], cus[first], scope[first], link_ids[first]
    sales = np.bincount(sup, weights=value, minlength=n)
    inputs = np.bincount(cus, weights=value, minlength=n)
    fallback = np.maximum.reduce([sales / SALES_RATIO, inputs / INPUT_RATIO, np.ones(n)])
    output = np.where(np.isfinite(baseline), np.maximum(baseline, sales), fallback)

    sector_names = [_sector(info[pk][1]) for pk in firms]
    labels, sector = np.unique(np.array(sector_names, dtype=object).astype(str), return_inverse=True)
    region_codes = [info[pk][2] or "" for pk in firms]
    net = from_arrays(
        sup, cus, value,
        sector=sector,
        output=output,
        final_demand=output - sales,
        region=[int(code) if code else 0 for code in region_codes],
        foreign=[info[pk][3] != "CN" for pk in firms],
        link_inventory_days=inv,
        link_scope=scope,
        firm_ids=np.array(firms, dtype=np.int64),
        sector_labels=[str(s) for s in labels],
    )
    return _groups(net, firms, index, [info[pk][0] for pk in firms], region_codes, chosen, members, link_ids)


def _groups(net, firms, index, names, region_codes, chosen, members, link_ids) -> RegistryNetwork:
    n = len(firms)
    by_id = {c.pk: c for c in chosen}
    chain_groups = {c.code: np.full(n, -1, dtype=np.int64) for c in chosen}
    segment_groups = {c.code: np.full(n, -1, dtype=np.int64) for c in chosen}
    segment_ids = {c.code: sorted({m[2] for m in members if m[1] == c.pk and m[2]}) for c in chosen}
    owners: dict[int, list[int]] = {}
    for pk, chain_id, segment_id, role in members:
        code = by_id[chain_id].code
        chain_groups[code][index[pk]] = 0
        if segment_id:
            segment_groups[code][index[pk]] = segment_ids[code].index(segment_id)
        if role == MemberRole.OWNER:
            owners.setdefault(index[pk], []).append(chain_id)
    from gulian.registry.models import Segment

    seg_names = dict(Segment.objects.filter(chain__in=chosen).values_list("id", "name"))
    prefectures = sorted({code[:4] for code in region_codes if code})
    pref_index = {p: k for k, p in enumerate(prefectures)}
    region_groups = np.array([pref_index[c[:4]] if c else -1 for c in region_codes], dtype=np.int64)
    return RegistryNetwork(
        net=net,
        enterprise_ids=np.array(firms, dtype=np.int64),
        index=index,
        names=names,
        owners=np.array(sorted(owners), dtype=np.int64),
        owner_chains=owners,
        chains=chosen,
        chain_groups=chain_groups,
        segment_groups=segment_groups,
        segment_labels={code: [seg_names[s] for s in ids] for code, ids in segment_ids.items()},
        region_groups=region_groups,
        region_labels=[p + "00" for p in prefectures],
        link_ids=link_ids,
    )
