"""Risk exposure (风险暴露): time-to-survive, performance impact and the REI ranking.

After Simchi-Levi, Schmidt & Wei (HBR 2014) and Simchi-Levi et al. (Interfaces 45(5), 2015, Ford).
The maths is in docs/engine.md, "Exposure" (written up in docs/engine/exposure.md). In short, for a
node ``n`` knocked out at day 0, over a window of ``t`` days, with production ``p_i`` and link
deliveries ``φ_e`` counted in days of baseline output/flow and alternative deliveries ``γ_e``:

* capacity        ``p_i ≤ (1 + s_i) t``, and ``p_n = 0``;
* sales           ``Σ_{e ∈ out(i)} (A_e / x_i) φ_e + (d_i / x_i) t − λ_i ≤ h_i``;
* inputs (BOM)    ``p_j − Σ_{e ∈ g} w_e (φ_e + γ_e) ≤ Σ_{e ∈ g} w_e τ_e`` per customer ``j`` and
  input group ``g`` (``w_e = A_e / Σ_{e' ∈ g} A_e'``: Leontief across groups, substitutable within);
* alternatives    ``γ_e ≤ α_e t``.

TTS_n = max t (with ``λ = 0``, ``t ≤ H``); PI_n = min Σ_k w_k x_k λ_k with ``t = TTR_n`` and
``λ_k ≤ (d_k / x_k) t``; REI_n = PI_n / max_m PI_m. ``scope="local"`` (default) solves, per node, the
LP of its descendants and their direct suppliers (conservative: TTS ≤ the whole-network LP's, and
small); ``scope="network"`` the whole-network LP. LPs are solved by the HiGHS solver shipped in
SciPy, warm-started from the undisrupted basis between nodes when SciPy exposes it (``solver="warm"``),
else one :func:`scipy.optimize.linprog` call per node (``solver="linprog"``); both give the same optimum.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from gulian.engine.exposure_lp import Model, Solver, build, in_links
from gulian.engine.network import SupplyNetwork
from gulian.engine.types import BoolArray, EngineInputError, FloatArray, IndexArray

DEFAULT_HORIZON = 365.0
"""Days; a TTS that reaches the horizon is reported as ``inf`` ("survives at least H days")."""

TTR_DEFAULTS_PATH = Path(__file__).parent / "data" / "ttr_defaults.csv"
FALLBACK_TTR = 30.0
"""TTR (days) when neither a survey value nor an industry default is known."""

_DIVISION_SECTION = (
    (1, 5, "A"), (6, 12, "B"), (13, 43, "C"), (44, 46, "D"), (47, 50, "E"), (51, 52, "F"), (53, 60, "G"),
    (61, 62, "H"), (63, 65, "I"), (66, 69, "J"), (70, 70, "K"), (71, 72, "L"), (73, 75, "M"), (76, 79, "N"),
    (80, 82, "O"), (83, 83, "P"), (84, 85, "Q"), (86, 90, "R"), (91, 96, "S"), (97, 97, "T"),
)  # GB/T 4754-2017: divisions (两位大类) of each section (门类)


def load_ttr_defaults(path: str | Path = TTR_DEFAULTS_PATH) -> dict[str, float]:
    """GB/T 4754 code (section letter or 2-digit division) → default TTR days, from the CSV table."""
    with open(path, encoding="utf-8") as fh:
        return {row["code"].strip(): float(row["ttr_days"]) for row in csv.DictReader(fh)}


def industry_ttr(code: str | None, table: dict[str, float] | None = None) -> float:
    """Default TTR for a GB/T 4754 code: its division (first two digits), else its section, else 30 days."""
    table = load_ttr_defaults() if table is None else table
    if not code:
        return FALLBACK_TTR
    code = str(code).strip().upper()
    if code[:1].isalpha():
        return table.get(code[:1], FALLBACK_TTR)
    if code[:2] in table:
        return table[code[:2]]
    division = int(code[:2]) if code[:2].isdigit() else -1
    section = next((s for lo, hi, s in _DIVISION_SECTION if lo <= division <= hi), "")
    return table.get(section, FALLBACK_TTR)


@dataclass(frozen=True, eq=False)
class ExposureInput:
    """A network with everything the exposure LPs need; build it with :func:`exposure_input`.

    Per firm: ``demand`` d (daily value that must reach final demand), ``ttr`` (days),
    ``spare`` s (spare capacity, fraction of output), ``finished_days`` h (finished goods, days of
    output), ``loss_weight`` w (value of a unit of lost demand), ``scale`` x (baseline daily output
    used to normalise, ``max(x0, sales to firms + d)``). Per link (``net.links.data`` order):
    ``alternative`` α (alternative-source capacity, fraction of the link's flow), ``inventory_days``
    τ, ``input_group`` (links into one customer with equal group are substitutable).
    """

    net: SupplyNetwork
    demand: FloatArray
    ttr: FloatArray
    spare: FloatArray
    finished_days: FloatArray
    loss_weight: FloatArray
    scale: FloatArray
    alternative: FloatArray
    inventory_days: FloatArray
    input_group: IndexArray
    horizon: float

    @cached_property
    def relevant(self) -> BoolArray:
        """Firms with a supply path to a firm with demand (only they can matter)."""
        n = self.net.n_firms
        # Reverse graph plus a virtual sink (index n) pointing at every demand firm.
        rows = np.concatenate([self.net.link_customer, np.full(int((self.demand > 0).sum()), n)])
        cols = np.concatenate([self.net.link_supplier, np.flatnonzero(self.demand > 0)])
        g = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1))
        reached = breadth_first_order(g, n, directed=True, return_predecessors=False)
        mask = np.zeros(n + 1, dtype=bool)
        mask[reached] = True
        return mask[:n]


def _vector(name: str, value: Any, size: int, default: float) -> FloatArray:
    arr = np.full(size, default if value is None else np.nan, dtype=np.float64)
    if value is not None:
        v = np.asarray(value, dtype=np.float64)
        if v.ndim and v.shape != (size,):
            raise EngineInputError(f"{name}: 应有 {size} 个值 / expected {size} values, got shape {v.shape}")
        arr[:] = v
    if not np.all(np.isfinite(arr)) or (size and arr.min() < 0):
        raise EngineInputError(f"{name}: 须为有限非负数 / values must be finite and ≥ 0")
    return arr


def exposure_input(
    net: SupplyNetwork,
    *,
    ttr: float | Sequence[float] | FloatArray,
    demand: Sequence[float] | FloatArray | None = None,
    demand_nodes: Sequence[int] | IndexArray | None = None,
    spare: float | Sequence[float] | FloatArray = 0.0,
    alternative: float | Sequence[float] | FloatArray = 0.0,
    inventory_days: Sequence[float] | FloatArray | None = None,
    finished_days: float | Sequence[float] | FloatArray = 0.0,
    loss_weight: float | Sequence[float] | FloatArray = 1.0,
    substitution: str = "sector",
    horizon: float | None = None,
) -> ExposureInput:
    """Validate and assemble the exposure inputs (docs/engine/exposure.md, "Inputs").

    ``demand`` defaults to ``net.final_demand``; with ``demand_nodes`` only those firms' demand
    counts (e.g. the chain owners'). ``inventory_days`` defaults to
    ``net.effective_link_inventory_days()``. ``substitution``: ``"sector"`` (links into a customer
    from suppliers of one sector substitute each other, as in Inoue & Todo) or ``"link"`` (every
    link is its own input: only inventories and alternative sources replace it). ``horizon``
    defaults to ``max(365, 2 · max TTR)`` days.
    """
    n, e = net.n_firms, net.n_links
    d = _vector("demand", net.final_demand if demand is None else demand, n, 0.0)
    if demand_nodes is not None:
        nodes = np.asarray(demand_nodes, dtype=np.int64)
        if nodes.size and (nodes.min() < 0 or nodes.max() >= n):
            raise EngineInputError(f"demand_nodes: 企业序号越界 / firm index outside 0..{n - 1}")
        keep = np.zeros(n, dtype=bool)
        keep[nodes] = True
        d = np.where(keep, d, 0.0)
    if not d.sum() > 0:
        raise EngineInputError("demand: 没有需保障的最终需求 / no final demand to protect (all zero)")
    ttr_arr = _vector("ttr", ttr, n, 0.0)
    if substitution == "sector":
        group = net.sector[net.link_supplier].astype(np.int64)
    elif substitution == "link":
        group = np.arange(e, dtype=np.int64)
    else:
        raise EngineInputError(f"substitution: 应为 sector 或 link / must be 'sector' or 'link', not {substitution!r}")
    h = float(max(DEFAULT_HORIZON, 2.0 * float(ttr_arr.max(initial=0.0)))) if horizon is None else float(horizon)
    if not (math.isfinite(h) and h > 0):
        raise EngineInputError("horizon: 须为正数 / must be a positive number of days")
    return ExposureInput(
        net=net,
        demand=d,
        ttr=ttr_arr,
        spare=_vector("spare", spare, n, 0.0),
        finished_days=_vector("finished_days", finished_days, n, 0.0),
        loss_weight=_vector("loss_weight", loss_weight, n, 1.0),
        scale=np.maximum(net.output, net.sales_to_firms + d),
        alternative=_vector("alternative", alternative, e, 0.0),
        inventory_days=_vector(
            "inventory_days", net.effective_link_inventory_days() if inventory_days is None else inventory_days, e, 0.0
        ),
        input_group=group,
        horizon=h,
    )


# --- per node -------------------------------------------------------------------------------------

SCOPES = ("local", "network")


def _problem(inp: ExposureInput, node: int, scope: str, with_loss: bool) -> tuple[Model, int]:
    """The LP for ``node``: its relevant descendants as core and their other suppliers as frontier."""
    net, rel = inp.net, inp.relevant
    down = breadth_first_order(net.links, node, directed=True, return_predecessors=False)
    core = np.sort(down[rel[down]]).astype(np.int64)
    into = in_links(inp, core)
    suppliers = np.unique(net.link_supplier[into[net.links.data[into] > 0]])
    frontier = np.setdiff1d(suppliers, core).astype(np.int64)
    model = build(inp, core, frontier, with_loss=with_loss)
    return model, model.firm_col[node]


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise EngineInputError(f"scope: 应为 local 或 network / must be 'local' or 'network', not {scope!r}")


def _nodes(inp: ExposureInput, nodes: Sequence[int] | IndexArray | None) -> IndexArray:
    n = inp.net.n_firms
    arr = np.arange(n, dtype=np.int64) if nodes is None else np.asarray(nodes, dtype=np.int64).ravel()
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise EngineInputError(f"nodes: 企业序号越界 / firm index outside 0..{n - 1}")
    return arr


def local_survival_bound(inp: ExposureInput) -> FloatArray:
    """A lower bound on each node's TTS from its direct customers' stocks and alternatives only.

    Everyone else runs at baseline; customer ``j`` replaces the lost flow ``A_e`` of input group
    ``g`` by alternative sources ``Σ_{e'∈g} α_e' A_e'`` and draws the gap ``δ_g`` from its stock
    ``S_g = Σ_{e'∈g} A_e' τ_e'``: feasible for ``t ≤ S_g / δ_g``, so TTS_n ≥ min_j S_g / δ_g.
    A firm with its own final demand ``d_n`` also needs ``t ≤ h_n x_n / d_n`` (its finished goods):
    without finished goods it gets 0, which is then its exact TTS.
    """
    net = inp.net
    sup, cus, val = net.link_supplier, net.link_customer, net.links.data
    _, grp = np.unique(np.column_stack([cus, inp.input_group]), axis=0, return_inverse=True)
    grp = grp.ravel()
    ng = int(grp.max()) + 1 if grp.size else 0
    cover = np.bincount(grp, weights=inp.alternative * val, minlength=ng)
    stock = np.bincount(grp, weights=inp.inventory_days * val, minlength=ng)
    gap = val - cover[grp]
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.where(gap > 1e-12 * np.maximum(val, 1e-300), stock[grp] / gap, np.inf)
    rel = inp.relevant
    days[~rel[cus]] = np.inf
    bound = np.full(net.n_firms, np.inf)
    np.minimum.at(bound, sup, days)
    own = inp.demand > 0  # n's own final demand draws on its finished goods only: t ≤ h_n x_n / d_n
    bound[own] = np.minimum(bound[own], inp.finished_days[own] * inp.scale[own] / inp.demand[own])
    return bound


def _solve(
    inp: ExposureInput, nodes: IndexArray, scope: str, solver: str, ttr: FloatArray | None
) -> FloatArray:
    """Objective per node: ``−t*`` (TTS LP, ``ttr`` None) or the least loss with ``t = ttr`` (PI LP)."""
    with_loss = ttr is not None
    out = np.zeros(nodes.size)
    if not nodes.size:
        return out
    if scope == "network":
        model = build(inp, np.flatnonzero(inp.relevant), np.zeros(0, dtype=np.int64), with_loss=with_loss)
        lp = Solver(model, solver)
    for i, n in enumerate(nodes.tolist()):
        if scope == "local":
            model, col = _problem(inp, n, scope, with_loss)
            lp = Solver(model, solver)
        else:
            col = model.firm_col[n]
        bounds = {col: (0.0, 0.0)}
        if ttr is not None:
            bounds[0] = (float(ttr[i]), float(ttr[i]))
        out[i] = lp.solve(bounds)
    return out


def time_to_survive(
    inp: ExposureInput,
    nodes: Sequence[int] | IndexArray | None = None,
    *,
    scope: str = "local",
    solver: str = "auto",
) -> FloatArray:
    """TTS per node in ``nodes`` (default all): max ``t`` of the LP with the node's capacity 0.

    ``scope="network"``: one LP over every relevant firm (the exact optimum of the model; chain-sized
    graphs). ``scope="local"`` (default): the node's descendants with every constraint, their other
    suppliers as a frontier that keeps its baseline customers and adds spare output from its own
    stocks and alternatives, everyone else at baseline — a feasible plan of the network LP, so
    ``TTS_local ≤ TTS_network``, and far smaller LPs (docs/engine/exposure.md, "Scope").
    ``inf``: the node reaches no demand, or the network survives the horizon. Nodes whose
    :func:`local_survival_bound` reaches the horizon, and demand firms without finished goods (TTS
    0), skip the LP: both values are exact.
    """
    _check_scope(scope)
    arr = _nodes(inp, nodes)
    out = np.full(arr.size, np.inf)
    bound = local_survival_bound(inp)
    zero = (inp.demand > 0) & (inp.finished_days == 0)
    out[zero[arr]] = 0.0
    todo = np.flatnonzero(inp.relevant[arr] & (bound[arr] < inp.horizon) & ~zero[arr])
    t = -_solve(inp, arr[todo], scope, solver, None)
    out[todo] = np.where(t >= inp.horizon * (1 - 1e-9), np.inf, np.maximum(t, 0.0))
    return out


def performance_impact(
    inp: ExposureInput,
    nodes: Sequence[int] | IndexArray | None = None,
    *,
    tts: FloatArray | None = None,
    scope: str = "local",
    solver: str = "auto",
) -> FloatArray:
    """PI per node: the least weighted final demand lost while the node is down for its TTR.

    ``min Σ_k w_k x_k λ_k`` with ``t = TTR_n`` (docs/engine/exposure.md, "Performance impact").
    0 without an LP where ``tts ≥ TTR`` (pass ``tts`` from :func:`time_to_survive` to reuse it).
    """
    _check_scope(scope)
    arr = _nodes(inp, nodes)
    tts_arr = time_to_survive(inp, arr, scope=scope, solver=solver) if tts is None else np.asarray(tts, np.float64)
    if tts_arr.shape != arr.shape:
        raise EngineInputError(f"tts: 应有 {arr.size} 个值 / expected {arr.size} values")
    out = np.zeros(arr.size)
    todo = np.flatnonzero(tts_arr < inp.ttr[arr])
    out[todo] = np.maximum(_solve(inp, arr[todo], scope, solver, inp.ttr[arr[todo]]), 0.0)
    return out


@dataclass(frozen=True)
class ExposureResult:
    """Per evaluated node (aligned with ``nodes``): TTS, TTR, flag, shortage, PI, REI; ``order`` ranks them."""

    nodes: IndexArray
    tts: FloatArray
    ttr: FloatArray
    at_risk: BoolArray
    shortage: FloatArray
    pi: FloatArray
    rei: FloatArray
    order: IndexArray
    method: str


def rank(nodes: IndexArray, tts: FloatArray, ttr: FloatArray, pi: FloatArray, method: str) -> ExposureResult:
    """Flags, shortage ``max(TTR − TTS, 0)``, ``REI = PI / max PI`` and the ranking.

    Ranked by REI, then shortage (both descending), then TTS (ascending), then node index.
    """
    at_risk = tts < ttr
    shortage = np.where(at_risk, ttr - np.minimum(tts, ttr), 0.0)
    top = float(pi.max(initial=0.0))
    rei = pi / top if top > 0 else np.zeros_like(pi)
    order = np.lexsort((nodes, tts, -shortage, -rei)).astype(np.int64)
    return ExposureResult(nodes, tts, ttr, at_risk, shortage, pi, rei, order, method)


def exposure(
    inp: ExposureInput,
    nodes: Sequence[int] | IndexArray | None = None,
    *,
    scope: str = "local",
    solver: str = "auto",
) -> ExposureResult:
    """TTS and PI per node from the LPs, flagged and ranked (docs/engine/exposure.md)."""
    arr = _nodes(inp, nodes)
    tts = time_to_survive(inp, arr, scope=scope, solver=solver)
    pi = performance_impact(inp, arr, tts=tts, scope=scope, solver=solver)
    return rank(arr, tts, inp.ttr[arr].copy(), pi, f"lp-{scope}")


def exposure_by_propagation(
    inp: ExposureInput,
    nodes: Sequence[int] | IndexArray | None = None,
    *,
    params: Any = None,
    rng: np.random.Generator | None = None,
    extra_days: int = 30,
) -> ExposureResult:
    """Estimate TTS and PI by simulating each node's stop with :func:`gulian.engine.propagate.simulate`.

    Node ``n`` stops fully for ``ceil(TTR_n)`` days and then comes back at once; the firms with
    demand are watched. TTS ≈ the first day a watched firm's output falls below the threshold
    (``inf`` if none does within ``TTR + extra_days``); PI ≈ Σ_days Σ_k w_k (d_k / x_k) ·
    (x_k − x_k(t))⁺, the watched firms' lost output scaled to their final sales. Whole networks:
    the dynamics (orders, rationing, inventories) replace the LP's perfect rerouting, so TTS is
    lower (more pessimistic) and PI larger than the LP's, except where the model's substitution helps.
    """
    from gulian.engine.propagate import PropagationParams, simulate
    from gulian.engine.scenario import FirmStop, Recovery, Scenario

    arr = _nodes(inp, nodes)
    net = inp.net
    watch = np.flatnonzero(inp.demand > 0).astype(np.int64)
    x0 = net.output[watch]
    share = np.divide(inp.demand[watch], x0, out=np.zeros(watch.size), where=x0 > 0)
    weight = inp.loss_weight[watch] * share
    tts = np.full(arr.size, np.inf)
    pi = np.zeros(arr.size)
    relevant = inp.relevant
    for i, n in enumerate(arr):
        if not relevant[n]:
            continue
        days = max(1, math.ceil(float(inp.ttr[n])))
        firm: str | int = int(n) if net.firm_ids is None else str(net.firm_ids[n])
        scenario = Scenario(
            name=f"exposure-{n}",
            firm_stops=(FirmStop(firm=firm, start=0, days=days, capacity_loss=1.0),),
            recovery=Recovery(kind="immediate"),
            steps=days + extra_days,
        )
        p = PropagationParams(steps=scenario.steps) if params is None else params
        res = simulate(net, scenario, p, rng=rng, watch=watch)
        stall = res.stall_day[res.stall_day >= 0]
        # Step index 1 is day 0 (index 0 is the initial state): a stall at index s means s − 1 days survived.
        tts[i] = float(stall.min() - 1) if stall.size else np.inf
        lost = np.clip(x0[None, :] - res.watch_production[1:], 0.0, None)
        pi[i] = float((lost * weight[None, :]).sum())
    return rank(arr, np.maximum(tts, 0.0), inp.ttr[arr].copy(), pi, "propagation")
