"""Registry → engine: build a :class:`~gulian.engine.network.SupplyNetwork` from the registry.

The firms are the selected chains' members plus every supplier reachable upstream from them
through ``SupplyLink`` (all tiers); the links are the registry's links among those firms. Everything
is read with a fixed number of ``values_list`` queries (chains, segments, memberships, links,
enterprises) and assembled with numpy, so the demo's 23,000 firms and 100,000 links take seconds.
When ``user`` is given every query goes through ``restrict(user, "view")``: a Hangzhou task force
builds the network it can see (docs/engine.md, "The registry network").

Mapping (per firm ``i``, per link ``i → j``):

- sector = the firm's GB/T 4754 division (2 digits, from any finer code); fallback the section
  letter; else ``"unknown"``. ``sector_labels`` are the sorted distinct labels.
- region = ``int(region code)``, 0 for foreign firms or a missing region; foreign = country ≠ "CN".
- link value per day ``A[i, j]`` = ``annual_value / 365``. A link without ``annual_value`` gets an
  equal share of the customer's unexplained input ``max(x0_j · INPUT_SHARE − known inputs_j, 0)``
  (``x0_j`` from its baseline output); when that is unknown or zero, the median known daily link
  value (1 yuan/day when the registry has no value at all). Several input categories between the
  same two firms are summed into one engine link.
- output per day ``x0_i`` = ``max(baseline_output / 365, sales_i)`` where the baseline is set (a firm
  cannot sell more than it makes); otherwise ``max(sales_i, inputs_i / INPUT_SHARE)``: intermediate
  inputs are taken to be ``INPUT_SHARE`` of gross output, the rest of the output beyond sales to
  registered customers is final demand. Final demand ``c_i = x0_i − sales_i``.
- link inventory days = ``SupplyLink.inventory_days`` (NaN = the customer's target ``n``; where
  several categories are summed, the smallest known value, as the input that runs out first
  stops a Leontief producer); per-firm target ``n`` = ``inventory_days`` (default 15, proNet's -i).
- link scope: 市内/省内/省外/境外 → :class:`~gulian.engine.types.Scope` CITY/PROVINCE/OUT_OF_PROVINCE/OVERSEAS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.db.models import FloatField, Q
from django.db.models.functions import Cast
from scipy.sparse.csgraph import breadth_first_order

from gulian.core.models import Region
from gulian.engine.network import DEFAULT_INVENTORY_DAYS, SupplyNetwork, from_arrays
from gulian.engine.types import BoolArray, FloatArray, IndexArray, Scope
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, Segment, SupplyLink
from gulian.registry.scope import LinkScope

DAYS_PER_YEAR = 365.0
INPUT_SHARE = 0.75
"""Intermediate inputs as a share of gross output where a firm's output is unknown (China's 2017
input-output table gives 0.7–0.8 for manufacturing divisions)."""
UNKNOWN_SECTOR = "unknown"
SPARE_CAPACITY = 0.25
"""Registry runs let firms produce up to 25% above baseline to refill stocks after a shock
(Hallegatte 2008's overproduction bound of 1.25; China's industrial capacity utilisation was
76.6% in 2019 (NBS), i.e. about 30% headroom). The engine's default is 0, as in proNet."""
MIN_INVENTORY_DAYS = 1.0
"""Floor of a link's inventory days: a daily model cannot hold less than one day's delivery."""
SCOPE_CODES = {
    LinkScope.CITY: Scope.CITY,
    LinkScope.PROVINCE: Scope.PROVINCE,
    LinkScope.DOMESTIC: Scope.OUT_OF_PROVINCE,
    LinkScope.FOREIGN: Scope.OVERSEAS,
}
ROLE_CODES = {MemberRole.OWNER: 0, MemberRole.CORE: 1, MemberRole.SUPPLIER: 2}


@dataclass(frozen=True)
class LinkRecords:
    """The registry's links as loaded, one row per ``SupplyLink`` (before pairs are summed).

    ``position`` is the row's engine link (index into ``net.links.data``); ``category`` indexes
    ``categories``; NaN marks a missing number.
    """

    pk: IndexArray
    supplier: IndexArray
    customer: IndexArray
    category: IndexArray
    categories: tuple[str, ...]
    value: FloatArray
    value_known: BoolArray
    share: FloatArray
    lead_time_days: FloatArray
    inventory_days: FloatArray
    alternatives_known: BoolArray
    scope: np.ndarray
    position: IndexArray


@dataclass(frozen=True)
class Memberships:
    """Chain memberships of the network's firms: firm index, chain position, segment pk (−1), role code."""

    firm: IndexArray
    chain: IndexArray
    segment: IndexArray
    role: IndexArray


@dataclass
class RegistryNetwork:
    """A ``SupplyNetwork`` with the registry ids and groupings needed to turn results into risk items.

    Per firm index: ``enterprise_ids``, ``names``, ``recovery_days`` (NaN = not surveyed),
    ``output_known``. ``index`` maps an enterprise pk to its firm index (:meth:`firm`). ``owners``:
    firm indices of chain owners; ``owner_chains``: owner index → chain pks. Groupings (label −1 =
    none): ``chain_groups[code]`` (0 = member), ``segment_groups[code]`` (position in
    ``segment_ids[code]``), ``region_groups`` by prefecture (``region_labels``, 6-digit codes),
    ``province_groups`` (``province_labels``). ``link_ids``: the SupplyLink pk of each engine link
    (the first where several input categories were summed); ``links``: every SupplyLink row.
    """

    net: SupplyNetwork
    enterprise_ids: np.ndarray
    index: dict[int, int]
    owners: IndexArray
    chains: list[Chain]
    chain_groups: dict[str, IndexArray]
    segment_groups: dict[str, IndexArray]
    segment_ids: dict[str, list[int]]
    region_groups: IndexArray
    region_labels: list[str]
    province_groups: IndexArray
    province_labels: list[str]
    owner_chains: dict[int, list[int]]
    link_ids: IndexArray
    names: list[str]
    recovery_days: FloatArray
    output_known: BoolArray
    links: LinkRecords
    memberships: Memberships
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_firms(self) -> int:
        """N."""
        return self.net.n_firms

    def groups(self) -> dict[str, IndexArray]:
        """All groupings for ``simulate(groups=...)``: ``chain:<code>``, ``segment:<code>``, ``prefecture``, ``province``."""
        out = {f"chain:{k}": v for k, v in self.chain_groups.items()}
        out.update({f"segment:{k}": v for k, v in self.segment_groups.items()})
        out["prefecture"] = self.region_groups
        out["province"] = self.province_groups
        return out

    def firm(self, enterprise_id: int) -> int:
        """Firm index of an enterprise pk (KeyError when it is not in the network)."""
        return self.index[int(enterprise_id)]

    firm_index = firm

    def chain_of_owner(self, firm: int) -> list[Chain]:
        """The chains in which firm ``firm`` is an owner."""
        m = self.memberships
        sel = (m.firm == firm) & (m.role == ROLE_CODES[MemberRole.OWNER])
        return [self.chains[int(c)] for c in m.chain[sel]]

    def segment_of(self, firm: int, chain: Chain | None = None) -> int | None:
        """Segment pk of the firm's membership (in ``chain`` when given), or None."""
        m = self.memberships
        sel = m.firm == firm
        if chain is not None:
            sel &= m.chain == next((k for k, c in enumerate(self.chains) if c.pk == chain.pk), -1)
        segs = m.segment[sel]
        segs = segs[segs >= 0]
        return int(segs[0]) if segs.size else None


def _region_prefix(region: Region | str | None) -> str:
    if region is None:
        return ""
    if isinstance(region, Region):
        return region.prefix
    code = str(region)
    if len(code) == 6:  # a full code: its subtree prefix, as Region.prefix does
        return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    return code


def _select_chains(user, prefix: str, chains: Iterable[Any] | None) -> list[Chain]:
    qs = Chain.objects.restrict(user, "view") if user is not None else Chain.objects.all()
    qs = qs.select_related("region")
    if chains is not None:
        items = list(chains)
        pks = [c.pk for c in items if isinstance(c, Chain)] + [c for c in items if isinstance(c, int)]
        codes = [c for c in items if isinstance(c, str)]
        return list(qs.filter(Q(pk__in=pks) | Q(code__in=codes)).order_by("code"))
    if prefix:
        # chains run inside the region, and the province's/nation's chains that cover it
        covering = [prefix[:2], prefix[:4], prefix]
        qs = qs.filter(Q(region__code__startswith=prefix) | Q(region__prefix__in=covering))
    return list(qs.order_by("code"))


def _sector_label(industry: str | None) -> str:
    if not industry:
        return UNKNOWN_SECTOR
    return industry[:2] if industry[:2].isdigit() else industry[:1]


def _upstream(n: int, sup: IndexArray, cus: IndexArray, seeds: IndexArray) -> IndexArray:
    """Firms reachable from ``seeds`` by walking customer → supplier (seeds included), sorted."""
    if seeds.size == 0:
        return seeds
    # a virtual root n points at every seed; edges run customer → supplier
    rows = np.concatenate([cus, np.full(seeds.size, n)])
    cols = np.concatenate([sup, seeds])
    graph = sp.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n + 1, n + 1))
    order = breadth_first_order(graph, n, directed=True, return_predecessors=False)
    return np.sort(order[order != n]).astype(np.int64)


def _uniform_within_sector(days: FloatArray, value: FloatArray, customer: IndexArray, sector: IndexArray,
                           n_sectors: int) -> FloatArray:
    """Value-weighted mean inventory days per (customer, supplier sector); NaN where none is known.

    The engine draws a customer's stocks of one input sector down in proportion to the stocks
    (Inoue & Todo's substitutable suppliers), which keeps the baseline a steady state only when the
    links of one customer and sector hold the same days of cover; so they get their mean.
    """
    if not days.size:
        return days
    key = customer * n_sectors + sector
    _, group = np.unique(key, return_inverse=True)
    known = ~np.isnan(days)
    num = np.bincount(group[known], weights=(days * value)[known], minlength=group.max() + 1)
    den = np.bincount(group[known], weights=value[known], minlength=group.max() + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = num / den
    return np.where(den[group] > 0, mean[group], np.nan)


def build_network(
    *,
    user=None,
    region: Region | str | None = None,
    chains: Iterable[Any] | None = None,
    inventory_days: float = DEFAULT_INVENTORY_DAYS,
) -> RegistryNetwork:
    """Build the engine network of ``chains`` (Chain objects, pks or codes; default: all visible).

    ``region`` (a Region or GB/T 2260 code/prefix) keeps the chains that run in or cover that
    region and only their members located there (suppliers upstream are followed anywhere).
    ``user`` scopes every query through ``restrict(user, "view")``. See the module docstring for
    how registry fields become engine arrays.
    """
    prefix = _region_prefix(region)
    chain_list = _select_chains(user, prefix, chains)
    chain_pos = {c.pk: k for k, c in enumerate(chain_list)}

    links_qs = SupplyLink.objects.restrict(user, "view") if user is not None else SupplyLink.objects.all()
    members_qs = Membership.objects.restrict(user, "view") if user is not None else Membership.objects.all()
    members_qs = members_qs.filter(chain__in=list(chain_pos))
    if prefix:
        members_qs = members_qs.filter(enterprise__region__code__startswith=prefix)
    member_rows = list(members_qs.values_list("enterprise_id", "chain_id", "segment_id", "role"))
    segment_rows = list(
        Segment.objects.filter(chain__in=list(chain_pos)).order_by("chain_id", "order").values_list("pk", "chain_id")
    )
    link_rows = list(
        links_qs.annotate(
            v=Cast("annual_value", FloatField()), s=Cast("share", FloatField()), d=Cast("inventory_days", FloatField())
        ).values_list("pk", "supplier_id", "customer_id", "input_category", "v", "s", "lead_time_days", "d",
                      "alternatives_known", "scope")
    )
    firm_q = Q(pk__in=links_qs.values("supplier_id")) | Q(pk__in=links_qs.values("customer_id"))
    firm_q |= Q(pk__in=members_qs.values("enterprise_id"))
    firm_rows = list(
        Enterprise.objects.filter(firm_q)
        .annotate(b=Cast("baseline_output", FloatField()))
        .order_by("pk")
        .values_list("pk", "region_id", "country", "industry_id", "b", "recovery_days", "name")
    )

    # --- every firm the user can see, then keep the members and their upstream ------------------
    all_pk = np.array([r[0] for r in firm_rows], dtype=np.int64)
    m_all = len(all_pk)

    def pos(pks: list[int] | np.ndarray) -> IndexArray:
        p = np.searchsorted(all_pk, np.asarray(pks, dtype=np.int64))
        return np.minimum(p, max(m_all - 1, 0))

    lk = list(zip(*link_rows, strict=True)) if link_rows else [()] * 10
    l_sup, l_cus = pos(list(lk[1])), pos(list(lk[2]))
    ok = (all_pk[l_sup] == np.asarray(lk[1], dtype=np.int64)) & (all_pk[l_cus] == np.asarray(lk[2], dtype=np.int64))
    if link_rows and not ok.all():  # only possible if a firm vanished between the two queries
        l_sup, l_cus = l_sup[ok], l_cus[ok]
        lk = [tuple(np.asarray(column, dtype=object)[ok]) for column in lk]
    mm = list(zip(*member_rows, strict=True)) if member_rows else [()] * 4
    seeds = np.unique(pos(list(mm[0]))) if member_rows else np.zeros(0, dtype=np.int64)
    keep = _upstream(m_all, l_sup, l_cus, seeds)
    new = np.full(m_all, -1, dtype=np.int64)
    new[keep] = np.arange(keep.size)
    n = int(keep.size)

    # --- firms ---------------------------------------------------------------------------------
    rows = [firm_rows[k] for k in keep.tolist()]
    enterprise_ids = all_pk[keep]
    region_code = np.array([int(r[1]) if r[1] else 0 for r in rows], dtype=np.int64)
    foreign = np.array([r[2] != "CN" for r in rows], dtype=bool)
    labels, sector = np.unique(np.array([_sector_label(r[3]) for r in rows] or [UNKNOWN_SECTOR]), return_inverse=True)
    sector = sector[:n].astype(np.int64)
    baseline = np.array([r[4] for r in rows], dtype=float) / DAYS_PER_YEAR
    recovery = np.array([r[5] for r in rows], dtype=float)
    names = [r[6] for r in rows]

    # --- links among the kept firms --------------------------------------------------------------
    inside = (new[l_sup] >= 0) & (new[l_cus] >= 0) if link_rows else np.zeros(0, dtype=bool)
    sup, cus = new[l_sup[inside]], new[l_cus[inside]]

    def col(k: int, dtype: Any = float) -> np.ndarray:
        return np.asarray(lk[k], dtype=dtype)[inside] if link_rows else np.zeros(0, dtype=dtype)

    value = col(4) / DAYS_PER_YEAR
    known = ~np.isnan(value)
    known_in = np.bincount(cus[known], weights=value[known], minlength=n)
    unknown_count = np.bincount(cus[~known], minlength=n)
    gap = np.maximum(np.nan_to_num(baseline) * INPUT_SHARE - known_in, 0.0) / np.maximum(unknown_count, 1)
    fallback = float(np.median(value[known])) if known.any() else 1.0
    fill = np.where(gap[cus] > 0, gap[cus], fallback)
    value = np.where(known, value, fill)
    # The daily model uses today what arrived by yesterday: one day of stock is the least it can
    # represent, so just-in-time links (0–1 day) get one day (docs/engine/adapter.md).
    link_inv = np.maximum(col(7), MIN_INVENTORY_DAYS)
    scope = np.array([SCOPE_CODES.get(s, Scope.UNKNOWN) for s in col(9, object)], dtype=np.int8)
    cat_labels, category = np.unique(np.asarray(col(3, object), dtype=str), return_inverse=True)

    # one engine link per (supplier, customer): sum values, keep the smallest known inventory days
    key = sup * max(n, 1) + cus
    order = np.argsort(key, kind="stable")
    ukey, start, position_sorted = np.unique(key[order], return_index=True, return_inverse=True)
    position = np.empty_like(order)
    position[order] = position_sorted
    u_val = np.add.reduceat(value[order], start) if order.size else np.zeros(0)
    u_inv = np.fmin.reduceat(link_inv[order], start) if order.size else np.zeros(0)
    u_scope = scope[order][start]
    u_sup, u_cus = ukey // max(n, 1), ukey % max(n, 1)

    u_inv = _uniform_within_sector(u_inv, u_val, u_cus, sector[u_sup], int(sector.max()) + 1 if n else 1)

    sales = np.bincount(u_sup, weights=u_val, minlength=n)
    inputs = np.bincount(u_cus, weights=u_val, minlength=n)
    has_base = ~np.isnan(baseline)
    output = np.where(has_base, np.maximum(np.nan_to_num(baseline), sales), np.maximum(sales, inputs / INPUT_SHARE))
    net = from_arrays(
        u_sup, u_cus, u_val, sector=sector, output=output, final_demand=output - sales,
        inventory_days=inventory_days, region=region_code, foreign=foreign,
        link_inventory_days=u_inv, link_scope=u_scope, firm_ids=enterprise_ids, sector_labels=labels.tolist(),
    )

    # --- groupings -------------------------------------------------------------------------------
    m_firm = new[pos(list(mm[0]))] if member_rows else np.zeros(0, dtype=np.int64)
    m_chain = np.array([chain_pos[c] for c in mm[1]], dtype=np.int64)
    m_seg = np.array([s if s is not None else -1 for s in mm[2]], dtype=np.int64)
    m_role = np.array([ROLE_CODES.get(r, 2) for r in mm[3]], dtype=np.int64)
    segment_ids: dict[str, list[int]] = {c.code: [] for c in chain_list}
    for seg_pk, chain_id in segment_rows:
        segment_ids[chain_list[chain_pos[chain_id]].code].append(seg_pk)
    chain_groups, segment_groups = {}, {}
    for k, c in enumerate(chain_list):
        sel = m_chain == k
        g = np.full(n, -1, dtype=np.int64)
        g[m_firm[sel]] = 0
        chain_groups[c.code] = g
        seg_label = {pk: j for j, pk in enumerate(segment_ids[c.code])}
        s = np.full(n, -1, dtype=np.int64)
        s[m_firm[sel]] = [seg_label.get(int(x), -1) for x in m_seg[sel]]
        segment_groups[c.code] = s
    region_groups, region_labels = {}, {}
    for name, digits in (("province", 2), ("prefecture", 4)):
        codes = np.where(region_code > 0, region_code // 10 ** (6 - digits), -1)
        uniq, lab = np.unique(codes, return_inverse=True)
        lab = lab.astype(np.int64) - int(uniq.size and uniq[0] == -1)
        region_groups[name] = lab
        region_labels[name] = [str(u).ljust(6, "0") for u in uniq if u >= 0]
    is_owner = m_role == ROLE_CODES[MemberRole.OWNER]
    owners = np.unique(m_firm[is_owner]).astype(np.int64)
    owner_chains: dict[int, list[int]] = {}
    for f, k in zip(m_firm[is_owner].tolist(), m_chain[is_owner].tolist(), strict=True):
        owner_chains.setdefault(int(f), []).append(chain_list[k].pk)
    link_pk = col(0, np.int64)
    link_ids = link_pk[order][start] if order.size else np.zeros(0, dtype=np.int64)

    return RegistryNetwork(
        net=net,
        enterprise_ids=enterprise_ids,
        index={int(pk): i for i, pk in enumerate(enterprise_ids.tolist())},
        owners=owners,
        chains=chain_list,
        chain_groups=chain_groups,
        segment_groups=segment_groups,
        segment_ids=segment_ids,
        region_groups=region_groups["prefecture"],
        region_labels=region_labels["prefecture"],
        province_groups=region_groups["province"],
        province_labels=region_labels["province"],
        owner_chains=owner_chains,
        link_ids=link_ids.astype(np.int64),
        names=names,
        recovery_days=recovery,
        output_known=has_base,
        links=LinkRecords(
            pk=link_pk, supplier=sup, customer=cus, category=category.astype(np.int64),
            categories=tuple(cat_labels.tolist()), value=value, value_known=known, share=col(5),
            lead_time_days=np.asarray([np.nan if x is None else x for x in col(6, object)], dtype=float),
            inventory_days=link_inv, alternatives_known=col(8, bool), scope=scope, position=position.astype(np.int64),
        ),
        memberships=Memberships(firm=m_firm, chain=m_chain, segment=m_seg, role=m_role),
    )
