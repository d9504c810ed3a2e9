"""Firm-level propagation of supply shocks, day by day (docs/engine.md, "Propagation").

The dynamic model of Hallegatte (2008) and Henriet & Hallegatte (2008) as modified by Inoue & Todo
(2019, 2020) and implemented in Inoue's ProductionNetworkSimulator (proNet). Each day ``t``:

1. capacity ``cap_i = (1 − δ_i(t))·x0_i`` from the scenario's shocks and recovery rule;
2. inventories ``S_e ← max(S_e + O*_e − S_e·(P_c/x0_c)·(A_cσ/S_cσ), 0)`` (inputs of one sector
   are used in proportion to their stocks: substitutable within a sector);
3. orders ``O_e = max(a_e·P_c/x0_c + (n_e·a_e·P_c/x0_c − S_e)/τ, 0)``;
4. demand ``D_i = c_i + Σ_e∈out(i) O_e``;
5. capacity from inputs ``P^max_i = min(cap_i, min_σ S_iσ/A_iσ·x0_i)`` (Leontief across sectors);
6. production ``P_i = min(P^max_i, D_i)``;
7. rationing of ``P_i`` among final demand and customers (:class:`Rationing`) gives deliveries O*.

``P_c`` in 2–3 is yesterday's production. ``x0 = c + Σ_j A[i, j]`` (proNet corrects the given output
to this). Stocks are held in customer-major link order, orders and deliveries in supplier-major
(CSR) order (:class:`Layout`, :mod:`gulian.engine.kernels`). With ``substitution``, unmet orders
move to other firms of the supplier's sector after a delay (:class:`Substitution`; not in proNet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum

import numba as nb
import numpy as np
import numpy.typing as npt

from gulian.engine import kernels, rationing
from gulian.engine.network import SupplyNetwork
from gulian.engine.scenario import CapacityShocks, Scenario, ShockClock, capacity_shocks, link_cuts
from gulian.engine.types import EngineInputError, FloatArray, IndexArray


class Rationing(IntEnum):
    """How a short supplier shares its production (proNet ``-R``; docs/engine.md, eq. 7)."""

    PROPORTIONAL = 0
    FINAL_LAST = 1
    SMALL_FIRST = 2
    SMALL_FIRST_FINAL_LAST = 3


@dataclass(frozen=True)
class PropagationParams:
    """Model parameters; proNet's option in brackets (docs/engine/propagate.md, "Parameters and defaults").

    ``steps`` days (-t), ``tau`` inventory restoration time τ in days (-T), ``rationing`` (-R),
    ``order`` rule (-o: 0 normal, 1 target fixed at baseline, 2 no negative restoration),
    ``threshold`` for a watched firm's stall (share of baseline output), ``keep_firms`` keeps the
    daily output of every firm (and the diagnostics ``shipments``, ``min_inventory``).
    ``substitution`` switches unmet orders to other firms of the supplier's sector that have spare
    capacity once a link has been short ``substitution_delay`` days running; ``substitution_share``
    is the share of its spare capacity a firm offers (not in proNet; :class:`Substitution`).
    ``spare_capacity`` h lets a firm produce up to ``(1 + h)·(1 − δ)·x0`` when orders exceed its
    baseline, to restore inventories after a shock (Hallegatte's overproduction; proNet has none:
    0 keeps proNet's results; docs/engine/propagate.md, "Spare capacity").
    """

    steps: int = 60
    tau: float = 6.0
    rationing: Rationing = Rationing.SMALL_FIRST
    substitution: bool = False
    substitution_delay: int = 7
    substitution_share: float = 1.0
    threshold: float = 0.9
    keep_firms: bool = False
    order: int = 0
    spare_capacity: float = 0.0


@dataclass
class SimulationResult:
    """Daily results; index 0 of every time axis is the initial state (proNet's step −1)."""

    total_production: FloatArray
    final_consumption: FloatArray
    group_production: dict[str, FloatArray]
    watch: IndexArray
    watch_production: FloatArray
    stall_day: IndexArray
    stall_cause: IndexArray
    root_cause: IndexArray
    lost_output: float
    firm_production: FloatArray | None = None
    baseline: FloatArray = field(default_factory=lambda: np.zeros(0))
    shipments: FloatArray | None = None
    min_inventory: float = float("nan")


@dataclass(frozen=True)
class Layout:
    """Firms renumbered by sector, links in one supplier-major order (docs/engine/propagate.md, "Speed").

    Internal firm ``i`` is network firm ``order[i]`` (firms sorted by sector, stably; ``rank`` is the
    inverse). Internal link ``e`` is network link ``link[e]`` (its ``net.links`` position): supplier
    ``s``'s links are ``sup_ptr[s]:sup_ptr[s+1]`` in their network order, with daily value ``a``,
    internal customer ``cust`` and target days ``n_link``. Groups (input sector, customer) are sorted
    by (sector, customer): ``gidx`` per link, ``grp_cust`` and ``a_sec`` (``Σ a``). ``n_link_kernel``
    is ``n_link``, or empty when every link has the same target ``n_all``.
    ``sec_link``/``sec_grp`` are each sector's links and groups, and ``chunk_sec`` splits the
    sectors into chunks of about equal links for :func:`kernels.link_pass`,
    ``blk_ptr``/``block`` the groups into customer blocks for :func:`kernels.pmax_pass`, and
    ``chunk_ptr`` the suppliers into runs of equal work for :func:`rationing.supplier_pass`.
    """

    order: IndexArray
    rank: IndexArray
    link: IndexArray
    a: FloatArray
    sup_ptr: IndexArray
    cust: IndexArray
    n_link: FloatArray
    gidx: npt.NDArray[np.int32] | IndexArray
    grp_cust: npt.NDArray[np.int32] | IndexArray
    a_sec: FloatArray
    n_all: float
    n_link_kernel: FloatArray
    chunk_sec: IndexArray
    sec_link: IndexArray
    sec_grp: IndexArray
    blk_ptr: IndexArray
    block: int
    chunk_ptr: IndexArray
    max_deg: int

    @property
    def sup(self) -> IndexArray:
        """Internal supplier of each link."""
        return np.repeat(np.arange(self.sup_ptr.size - 1), np.diff(self.sup_ptr))


BLOCK = 1 << 15
"""Customers per block of :func:`kernels.pmax_pass`: their running minimum (256 KiB) stays in L2."""


def layout(net: SupplyNetwork, n_link_net: FloatArray | None = None) -> Layout:
    """Renumber firms by sector and group links by (sector, customer) (O(E log E), once per run)."""
    n, e = net.n_firms, net.n_links
    sector = net.sector.astype(np.int64)
    order = np.argsort(sector, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    indptr = net.links.indptr.astype(np.int64)
    deg = np.diff(indptr)[order]
    sup_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=sup_ptr[1:])
    link = np.repeat(indptr[:-1][order] - sup_ptr[:-1], deg) + np.arange(e, dtype=np.int64)
    cust = rank[net.links.indices[link]]
    link_sec = np.repeat(sector[order], deg)
    grp_key, gidx = np.unique(link_sec * max(n, 1) + cust, return_inverse=True)
    n_sec = net.n_sectors
    grp_cust = grp_key % max(n, 1)
    grp_cust = grp_cust.astype(np.int32) if n < 2**31 - 1 else grp_cust
    a = net.links.data[link].astype(np.float64)
    gidx = gidx.astype(np.int32) if grp_key.size < 2**31 - 1 else gidx.astype(np.int64)
    days = net.effective_link_inventory_days() if n_link_net is None else n_link_net
    n_link = days[link].astype(np.float64)
    uniform = bool(n_link.size == 0 or np.all(n_link == n_link[0]))
    # Whole sectors per link_pass chunk, balanced by links (a sector's groups belong to one thread).
    sec_link = np.searchsorted(link_sec, np.arange(n_sec + 1))
    sec_grp = np.searchsorted(grp_key, np.arange(n_sec + 1) * max(n, 1))
    n_chunks = max(1, 4 * max(1, nb.get_num_threads()))
    pick = np.unique(np.searchsorted(sec_link, np.linspace(0, e, n_chunks + 1), side="left"))
    pick = np.unique(np.concatenate([[0], np.clip(pick, 0, n_sec), [n_sec]]))
    n_blocks = max(1, -(-n // BLOCK))
    bounds = np.arange(n_sec)[:, None] * max(n, 1) + np.minimum(np.arange(n_blocks + 1) * BLOCK, n)[None, :]
    blk_ptr = np.searchsorted(grp_key, bounds).astype(np.int64)
    return Layout(
        order=order,
        rank=rank,
        link=link,
        a=a,
        sup_ptr=sup_ptr,
        cust=cust,
        n_link=n_link,
        gidx=gidx,
        grp_cust=grp_cust,
        a_sec=np.asarray(np.bincount(gidx, weights=a, minlength=grp_key.size), dtype=np.float64),  # in link order
        n_all=float(n_link[0]) if n_link.size else 0.0,
        n_link_kernel=np.zeros(0) if uniform else n_link,
        chunk_sec=pick.astype(np.int64),
        sec_link=sec_link.astype(np.int64),
        sec_grp=sec_grp.astype(np.int64),
        blk_ptr=blk_ptr,
        block=BLOCK,
        chunk_ptr=_chunks(deg, max(1, min(n, 16 * max(1, nb.get_num_threads())))),
        max_deg=int(deg.max()) if deg.size else 0,
    )


def _chunks(deg: IndexArray, n_chunks: int) -> IndexArray:
    """Split firms 0..N−1 into about ``n_chunks`` contiguous runs of equal work ``Σ (deg + 1)``."""
    work = np.cumsum(deg + 1)
    bounds = np.searchsorted(work, np.linspace(0, work[-1] if work.size else 0, n_chunks + 1)[1:-1])
    return np.unique(np.concatenate([[0], bounds, [deg.size]])).astype(np.int64)


class Substitution:
    """New-supplier substitution after a delay (docs/engine/propagate.md, "Supplier substitution").

    After rationing on day ``t``, a link is *short* when ``O*_e < (1 − 10⁻⁹)·O_e``; ``k_e`` counts its
    consecutive short days (today included). Links with ``k_e > delay`` (delay 0: from the first
    short day; delay 7: from the eighth) place their unmet orders ``u_e = O_e − O*_e`` with the
    pool of firms of the supplier's sector σ. Each firm offers
    ``spare_i = share·max(P^max_i − P_i, 0)`` (input-feasible capacity left idle by today's demand).
    With ``U_σ = Σ u_e`` and ``S_σ = Σ spare_i`` the pool serves ``f_σ = min(1, S_σ/U_σ)`` of every
    unmet order (``O*_e += f_σ·u_e``) and each firm of the pool produces its share
    ``spare_i·f_σ·U_σ/S_σ`` more (``P_i`` += that), so flows stay conserved. The rule is
    deterministic (no random draw); the substitute delivery goes into the short link's stock.
    """

    def __init__(self, sector: IndexArray, link_sector: IndexArray, params: PropagationParams) -> None:
        """Per-link streak counters; ``sector`` per firm and ``link_sector`` (the supplier's) per link."""
        if params.substitution_delay < 0 or not 0.0 <= params.substitution_share <= 1.0:
            raise EngineInputError(
                "substitution: 替代延迟须 ≥ 0，产能份额须在 0..1 / "
                "substitution_delay must be ≥ 0 and substitution_share in 0..1"
            )
        self.delay = int(params.substitution_delay)
        self.share = float(params.substitution_share)
        self.sector = sector.astype(np.int64)
        self.link_sector = link_sector.astype(np.int32)
        self.n_sectors = int(self.sector.max()) + 1 if self.sector.size else 0
        self.streak = np.zeros(link_sector.size, dtype=np.int32)
        self.served = 0.0  # Σ over days of substitute deliveries (diagnostics)

    def apply(self, orders: FloatArray, delivered: FloatArray, p_max: FloatArray, p_act: FloatArray) -> None:
        """Count short days, then serve eligible unmet orders from the sector pools (in place)."""
        need = kernels.substitution_need(orders, delivered, self.streak, self.delay, self.link_sector, self.n_sectors)
        if not need.any():
            return
        spare = self.share * np.maximum(p_max - p_act, 0.0)
        pool = np.bincount(self.sector, weights=spare, minlength=self.n_sectors)
        frac = np.divide(pool, need, out=np.zeros_like(pool), where=need > 0.0)
        np.minimum(frac, 1.0, out=frac)
        kernels.substitution_serve(orders, delivered, self.streak, self.delay, self.link_sector, frac)
        used = np.divide(frac * need, pool, out=np.zeros_like(pool), where=pool > 0.0)
        p_act += spare * used[self.sector]
        self.served += float(np.sum(frac * need))


def _group_labels(groups: Mapping[str, IndexArray] | None, n: int) -> dict[str, tuple[IndexArray, int]]:
    out = {}
    for name, labels in (groups or {}).items():
        arr = np.asarray(labels, dtype=np.int64)
        if arr.shape != (n,):
            raise EngineInputError(f"groups[{name!r}]: expected {n} labels, got shape {arr.shape}")
        out[name] = (arr, int(arr.max()) + 1 if arr.size and arr.max() >= 0 else 0)
    return out


def _root_causes(
    watch: IndexArray, kind: IndexArray, cause: IndexArray, shocked: np.ndarray
) -> IndexArray:
    """Follow first-stall causes upstream to the firm whose own capacity loss started it."""
    roots = np.full(watch.size, -1, dtype=np.int64)
    for k, w in enumerate(watch.tolist()):
        cur, seen = int(w), set()
        while cur >= 0 and cur not in seen:
            seen.add(cur)
            if kind[cur] == 1:
                roots[k] = cur
                break
            if kind[cur] == 2:
                cur = int(cause[cur])
                continue
            if kind[cur] == -1 and shocked[cur]:  # never stalled, but its capacity was cut
                roots[k] = cur
            break
    return roots


class _Binding:
    """Indexes for :func:`kernels.binding_suppliers`: each customer's groups, each group's links."""

    def __init__(self, lay: Layout) -> None:
        self.lay = lay
        self.cust_groups = np.argsort(lay.grp_cust, kind="stable")
        self.cust_gptr = np.zeros(lay.sup_ptr.size, dtype=np.int64)
        np.cumsum(np.bincount(lay.grp_cust, minlength=lay.sup_ptr.size - 1), out=self.cust_gptr[1:])
        self.grp_links = np.argsort(lay.gidx, kind="stable")
        self.grp_lptr = np.zeros(lay.a_sec.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(lay.gidx, minlength=lay.a_sec.size), out=self.grp_lptr[1:])
        self.sup = lay.sup

    def why(self, firms, s_sec, stock, x0, cap, demand):  # noqa: ANN001, ANN201 (arrays, see kernels)
        """``(kind, supplier)`` per firm (internal numbering; kernels.binding_suppliers)."""
        lay = self.lay
        return kernels.binding_suppliers(
            firms, self.cust_gptr, self.cust_groups, self.grp_lptr, self.grp_links, lay.a_sec, s_sec, stock,
            lay.a, lay.n_link, self.sup, x0, cap, demand,
        )


def _capacity_today(clock: ShockClock, t: int, x0: FloatArray, delta: FloatArray, cap: FloatArray) -> None:
    """``cap_i = (1 − δ_i(t))·x0_i`` for the shocked firms only (the others keep ``x0``).

    Same values as ``x0 * (1 − clock.today(t))`` without allocating and scattering over all N firms
    each day (``ShockClock.today`` sets the shocks starting on day ``t`` in ``clock.cur``).
    """
    sh = clock.shocks
    starting = sh.start == t
    if starting.any():
        clock.cur[starting] = sh.loss[starting]
    kernels.scatter_capacity(sh.firm, clock.cur, x0, delta, cap)


def simulate(
    net: SupplyNetwork,
    scenario: Scenario,
    params: PropagationParams | None = None,
    *,
    rng: np.random.Generator | None = None,
    groups: Mapping[str, IndexArray] | None = None,
    watch: IndexArray | None = None,
    initial_inventory_days: FloatArray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Run ``scenario`` on ``net`` (docs/engine.md, "Propagation"; module doc for the equations).

    ``params`` defaults to ``PropagationParams(steps=scenario.steps)``. The model is deterministic;
    ``rng`` is accepted for API symmetry and not drawn from. ``groups`` maps a name to per-firm labels
    (−1 = none) and gives production per label; ``watch`` firms get a stall day (the first day ``t``,
    0-based as proNet's steps, with ``P < threshold·x0``; result index ``t + 1``), the direct supplier
    that bound them that day and the upstream firm whose capacity loss started it.
    ``initial_inventory_days`` (per firm, NaN = target) sets the starting stocks.
    """
    del rng  # substitution's pooled rule is deterministic; nothing is drawn
    params = params or PropagationParams(steps=scenario.steps)
    if params.rationing not in tuple(Rationing):
        raise EngineInputError(f"rationing: expected 0..3, got {params.rationing!r}")
    if params.tau <= 0 or params.steps < 0 or params.order not in (0, 1, 2):
        raise EngineInputError("params: tau must be > 0, steps ≥ 0, order in 0..2")
    if not 0.0 <= params.spare_capacity <= 1.0:
        raise EngineInputError("spare_capacity 应在 0–1 之间 / spare_capacity must be within 0..1")
    n = net.n_firms
    lay = layout(net)
    sector = net.sector.astype(np.int64)[lay.order]
    substitute = Substitution(sector, sector[lay.sup], params) if params.substitution else None
    # Everything below is in the layout's numbering; results are mapped back to the network's.
    net_shocks: CapacityShocks = capacity_shocks(net, scenario)
    shocks = replace(net_shocks, firm=lay.rank[net_shocks.firm])
    cuts = link_cuts(net, scenario)
    cut_net = np.unique(cuts.link)
    internal_link = np.empty(net.n_links, dtype=np.int64)
    internal_link[lay.link] = np.arange(net.n_links)
    cut_links = internal_link[cut_net]
    c_fin = net.final_demand.astype(np.float64)[lay.order]
    x0 = kernels.baseline_output(lay.a, lay.sup_ptr, c_fin)
    init_days = lay.n_link.copy()
    if initial_inventory_days is not None:
        days = np.asarray(initial_inventory_days, dtype=np.float64)
        if days.shape != (n,):
            raise EngineInputError(f"initial_inventory_days: expected {n} values, got shape {days.shape}")
        per_link = days[lay.order][lay.cust]
        init_days = np.where(np.isnan(per_link), init_days, np.maximum(per_link, 0.0))
    stock = lay.a * init_days
    s_sec = np.asarray(np.bincount(lay.gidx, weights=stock, minlength=lay.grp_cust.size), dtype=np.float64)
    gtab = np.zeros((lay.grp_cust.size, 2))  # per group: kernels.USE, PC
    x0g = x0[lay.grp_cust]
    x0_link = x0[lay.cust]
    orders = lay.a.copy()  # O_e per link
    delivered = lay.a.copy()  # O*_e per link (separate arrays: each pass reads one and writes the other)
    p_act = x0.copy()
    p_max = x0.copy()
    demand = x0.copy()
    c_served = c_fin.copy()
    steps = int(params.steps)

    labels = {name: (lab[lay.order], g) for name, (lab, g) in _group_labels(groups, n).items()}
    group_out = {name: np.zeros((steps + 1, g)) for name, (_, g) in labels.items()}
    watch_arr = np.zeros(0, dtype=np.int64) if watch is None else np.asarray(watch, dtype=np.int64)
    if watch_arr.size and (watch_arr.min() < 0 or watch_arr.max() >= n):
        raise EngineInputError(f"watch: firm index outside 0..{n - 1}")
    watch_int = lay.rank[watch_arr]
    track = watch_arr.size > 0
    first_day = np.full(n, -1, dtype=np.int64)
    first_kind = np.full(n, -1, dtype=np.int64)
    first_cause = np.full(n, -1, dtype=np.int64)
    floor = params.threshold * x0

    total = np.zeros(steps + 1)
    final = np.zeros(steps + 1)
    watch_prod = np.zeros((steps + 1, watch_arr.size))
    firm_prod = np.zeros((steps + 1, n)) if params.keep_firms else None
    shipped = np.zeros(steps + 1) if params.keep_firms else None  # diagnostics, with keep_firms
    min_stock = [float(stock.min()) if stock.size else np.inf]

    def record(k: int) -> None:
        total[k] = p_act.sum()
        final[k] = c_served.sum()
        for name, (lab, g) in labels.items():
            m = lab >= 0
            group_out[name][k] = np.bincount(lab[m], weights=p_act[m], minlength=g)
        watch_prod[k] = p_act[watch_int]
        if firm_prod is not None and shipped is not None:
            firm_prod[k] = p_act[lay.rank]
            shipped[k] = delivered.sum()
            min_stock.append(float(stock.min()) if stock.size else np.inf)

    record(0)
    clock = ShockClock(shocks, n)
    full = x0 * (1.0 + params.spare_capacity)  # the most a firm can make: x0 when h = 0, as in proNet
    cap = full.copy()
    delta = np.zeros(n)
    binding = _Binding(lay) if track else None
    for t in range(steps):
        if shocks.firm.size:
            _capacity_today(clock, t, full, delta, cap)
        kernels.group_prep(p_act, lay.grp_cust, x0g, gtab, lay.a_sec, s_sec, lay.blk_ptr, lay.block)
        kernels.link_pass(
            lay.a, x0_link, lay.n_link_kernel, lay.n_all, lay.gidx, gtab, s_sec, stock, orders, delivered,
            lay.chunk_sec, lay.sec_link, lay.sec_grp, float(params.tau), int(params.order),
        )
        kernels.pmax_pass(x0g, lay.a_sec, s_sec, lay.grp_cust, lay.blk_ptr, lay.block, cap, p_max)
        rationing.supplier_pass(
            lay.a, orders, delivered, lay.sup_ptr, lay.chunk_ptr, lay.max_deg, c_fin, p_max, p_act, demand, c_served,
            int(params.rationing),
        )
        if cut_links.size:
            factor = cuts.factor(t, net.n_links)
            if factor is not None:
                delivered[cut_links] *= factor[cut_net]
        if substitute is not None:
            substitute.apply(orders, delivered, p_max, p_act)
        if binding is not None:
            new = np.flatnonzero((p_act < floor) & (first_day < 0))
            if new.size:
                kind, cause = binding.why(new, s_sec, stock, x0, cap, demand)
                first_day[new], first_kind[new], first_cause[new] = t, kind, cause
        record(t + 1)
        clock.end_of_day(t)
        if progress is not None:
            progress(t + 1, steps)

    shocked = np.zeros(n, dtype=bool)
    shocked[shocks.firm[shocks.loss > 0]] = True
    stall_day = first_day[watch_int]
    stall_cause = np.where(first_kind[watch_int] == 2, first_cause[watch_int], -1)
    roots = _root_causes(watch_int, first_kind, first_cause, shocked)
    roots[stall_day < 0] = -1
    stall_cause = np.where(stall_cause >= 0, lay.order[np.maximum(stall_cause, 0)], -1)
    roots = np.where(roots >= 0, lay.order[np.maximum(roots, 0)], -1)
    return SimulationResult(
        total_production=total,
        final_consumption=final,
        group_production=group_out,
        watch=watch_arr,
        watch_production=watch_prod,
        stall_day=stall_day,
        stall_cause=stall_cause,
        root_cause=roots,
        lost_output=float(np.sum(total[0] - total[1:])),
        firm_production=firm_prod,
        baseline=x0[lay.rank],
        shipments=shipped,
        min_inventory=min(min_stock),
    )
