"""Structural screen of a supply network (docs/engine/screen.md; merged into docs/engine.md, "Screen").

For a set of chain owners the screen measures, without simulating time:

- **single-source inputs**: customer × input category served by exactly one supplier (category =
  the supplier's sector unless a per-link category is given; links with a known alternative do not
  count);
- **scope dependence**: each firm's input share by link scope (市内/省内/省外/境外/未知), and the share
  of its input value that crossed an overseas link at any tier (``u = d + Wᵀ(θ ∘ u)``, below);
- **high-risk regions**: firms whose GB/T 2260 code starts with a given prefix; each firm's direct
  input share from them and the share through all tiers (same recursion);
- **chokepoints**: for each owner, the firms through which every supply path within ``k`` tiers
  passes (dominators; :mod:`gulian.engine.dominators`);
- **sole-source chains**: firms linked to an owner within ``k`` tiers by a chain of single-source
  inputs (under Leontief production across input categories, losing any of them stops the owner);
- **criticality**: ``h = Σ_{t≥1} Mᵗ v`` with ``M[i, j] = A[i, j] / x̃_j`` = (input share
  ``A[i, j] / Σ_k A[k, j]``) × (intermediate share ``θ_j = Σ_k A[k, j] / x̃_j``), ``x̃_j = max(x0_j,
  Σ_k A[k, j])`` and ``v_o = x0_o`` for owners, 0 elsewhere: the Leontief total requirement of each
  firm's output for the owners' output, yuan per day. In an acyclic network ``h_i = Σ_o x0_o P_o(i)``
  where ``P_o(i)`` is the share of ``o``'s output value whose cost, traced upstream by cost shares,
  passes ``i``.

Firms are ranked by ``score = max(h, chokepoint output, sole-source output)`` (owner output in yuan
per day that depends on the firm), and the top ones are explained in Chinese and English
(:mod:`gulian.engine.screen_explain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from gulian.engine.dominators import KTierDominators, k_tier_dominators
from gulian.engine.network import SupplyNetwork
from gulian.engine.single_source import (  # noqa: F401 - part of this module's API
    SingleSourceInputs,
    single_source_from_rows,
    single_source_inputs,
    sole_source_chains,
)
from gulian.engine.types import BoolArray, EngineInputError, FloatArray, IndexArray, Scope

SCOPE_COLUMNS = (Scope.CITY, Scope.PROVINCE, Scope.OUT_OF_PROVINCE, Scope.OVERSEAS, Scope.UNKNOWN)
"""Column order of :attr:`ScreenResult.scope_share`."""


@dataclass(frozen=True)
class ScreenParams:
    """Screen options; every default is in docs/engine/screen.md."""

    k: int = 3
    """Tiers for chokepoints and sole-source chains (1 = direct suppliers only)."""
    high_risk: tuple[str, ...] = ()
    """GB/T 2260 prefixes of high-risk regions ("33" a province, "3301" a prefecture, …)."""
    damping: float | None = None
    """None: ``θ_j`` from the data; a number β in (0, 1]: ``M = β · input shares`` instead."""
    top: int = 50
    """Findings to explain (the ranked list)."""
    tol: float = 1e-10
    """Convergence: stop when an iteration adds less than ``tol`` × the current total."""
    max_iter: int = 2000
    explain_tol: float = 1e-4
    """Owner shares below this are pruned when explaining a finding (so shown shares are lower bounds)."""
    explain_owners: int = 3
    """Owners named per finding."""

    def __post_init__(self) -> None:
        """Reject options that make no sense, naming them."""
        if self.k < 1:
            raise EngineInputError(f"k 应 ≥ 1 / k must be ≥ 1: {self.k}")
        if self.damping is not None and not 0 < self.damping <= 1:
            raise EngineInputError(f"damping 应在 (0, 1] / damping must be in (0, 1]: {self.damping}")
        for p in self.high_risk:
            if not (str(p).isdigit() and 1 <= len(str(p)) <= 6):
                raise EngineInputError(f"高风险地区应为 GB/T 2260 代码前缀 / high-risk region must be a GB/T 2260 prefix: {p!r}")
        if self.top < 0 or self.explain_owners < 1:
            raise EngineInputError("top ≥ 0, explain_owners ≥ 1")


@dataclass(frozen=True)
class Dependence:
    """Input share of flagged links: direct, and through all tiers (first passage, never > 1)."""

    direct: FloatArray
    upstream: FloatArray
    iterations: int
    converged: bool


@dataclass(frozen=True)
class OwnerLink:
    """One chain owner that depends on a finding's firm."""

    owner: int
    output: float
    """The owner's baseline output ``x0_o`` (yuan per day)."""
    share: float
    """``(L − I)[firm, owner]`` (pruned below ``explain_tol``, so a lower bound)."""
    chokepoint: bool
    sole_source: bool
    path: tuple[int, ...]
    """firm → … → owner: the strongest path (largest product of ``M``), else the shortest one."""


@dataclass(frozen=True)
class Finding:
    """One ranked firm and why it matters; ``explanation_zh``/``_en`` are ready to show."""

    rank: int
    firm: int
    name: str
    score: float
    criticality: float
    chokepoint_output: float
    sole_source_output: float
    owners: tuple[OwnerLink, ...]
    chokepoint_owners: tuple[int, ...]
    sole_source_owners: tuple[int, ...]
    single_source_for: tuple[tuple[int, str, float], ...]
    """(customer, category label, share of the customer's inputs), largest share first (≤ 5)."""
    n_single_source: int
    scope: Scope
    """Scope of the firm's link on the path to its first owner (its link of largest value if none)."""
    region: int
    foreign: bool
    high_risk: bool
    overseas_upstream: float
    high_risk_upstream: float
    reasons: tuple[str, ...]
    """Codes: "chokepoint", "sole_source", "single_source", "high_risk", "overseas", "criticality"."""
    explanation_zh: str
    explanation_en: str

    def to_row(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """A flat, JSON/CSV-safe dict (owners by name when ``names`` is given)."""

        def nm(i: int) -> str:
            return str(names[i]) if names is not None else str(i)

        return {
            "rank": self.rank,
            "firm": self.name,
            "score": round(self.score, 2),
            "criticality": round(self.criticality, 2),
            "chokepoint_output": round(self.chokepoint_output, 2),
            "sole_source_output": round(self.sole_source_output, 2),
            "chokepoint_owners": ";".join(nm(o) for o in self.chokepoint_owners),
            "sole_source_owners": ";".join(nm(o) for o in self.sole_source_owners),
            "single_source_inputs": self.n_single_source,
            "scope": self.scope.label,
            "region": self.region,
            "high_risk": self.high_risk,
            "overseas_upstream": round(self.overseas_upstream, 4),
            "high_risk_upstream": round(self.high_risk_upstream, 4),
            "reasons": ";".join(self.reasons),
            "explanation_zh": self.explanation_zh,
            "explanation_en": self.explanation_en,
        }


@dataclass(frozen=True)
class ScreenResult:
    """Everything the screen measured; per-firm arrays have length N."""

    params: ScreenParams
    owners: IndexArray
    criticality: FloatArray
    chokepoint_output: FloatArray
    sole_source_output: FloatArray
    score: FloatArray
    single_source: SingleSourceInputs
    scope_share: FloatArray
    """(N, 5) input share by link scope, columns :data:`SCOPE_COLUMNS`; rows of firms without inputs are 0."""
    overseas: Dependence
    high_risk_firm: BoolArray
    high_risk: Dependence
    chokepoints: dict[int, KTierDominators]
    findings: tuple[Finding, ...]
    iterations: int
    converged: bool

    def ranking(self) -> IndexArray:
        """Firms with a positive score, highest first; ties by chokepoint, sole-source, criticality, index."""
        pos = np.flatnonzero(self.score > 0)
        keys = (pos, -self.criticality[pos], -self.sole_source_output[pos], -self.chokepoint_output[pos])
        return pos[np.lexsort((*keys, -self.score[pos]))]


# --- measures -----------------------------------------------------------------------------------------


def scope_shares(net: SupplyNetwork) -> FloatArray:
    """(N, 5): each firm's intermediate input value by link scope over its total (columns SCOPE_COLUMNS)."""
    inputs = np.maximum(net.input_totals, np.finfo(float).tiny)
    cols = [
        np.bincount(net.link_customer, weights=net.links.data * (net.link_scope == s), minlength=net.n_firms)
        for s in SCOPE_COLUMNS
    ]
    return np.column_stack(cols) / inputs[:, None]


def pass_through(net: SupplyNetwork, damping: float | None = None) -> FloatArray:
    """``θ_j = Σ_k A[k, j] / max(x0_j, Σ_k A[k, j])`` (0 without inputs), or ``damping`` everywhere."""
    inputs = net.input_totals
    if damping is not None:
        return np.where(inputs > 0, damping, 0.0)
    scale = np.maximum(net.output, inputs)
    return np.divide(inputs, scale, out=np.zeros_like(inputs), where=scale > 0)


def upstream_share(
    net: SupplyNetwork, flagged: BoolArray, *, damping: float | None = None, tol: float = 1e-10, max_iter: int = 2000
) -> Dependence:
    """Share of each firm's input value that crossed a flagged link, directly and at any tier.

    ``u_j = Σ_i a_ij [g_ij + (1 − g_ij) θ_i u_i]`` with ``a_ij = A[i, j] / Σ_k A[k, j]``: an upstream
    walk from ``j`` by input shares, continuing at an unflagged supplier ``i`` with probability
    ``θ_i`` (its intermediate share) and stopping at the first flagged link. Iterated from 0; the
    iterates increase and stay ≤ 1, so they converge.
    """
    flagged = np.asarray(flagged, dtype=bool)
    if flagged.shape != (net.n_links,):
        raise EngineInputError(f"flagged: expected one value per link ({net.n_links})")
    inputs = net.input_totals
    inv = np.divide(1.0, inputs, out=np.zeros_like(inputs), where=inputs > 0)
    a = net.links.data * inv[net.link_customer]
    direct = np.bincount(net.link_customer, weights=a * flagged, minlength=net.n_firms).astype(np.float64)
    w = sp.csr_array((a * ~flagged, net.links.indices, net.links.indptr), shape=net.links.shape)
    wt = w.T  # CSC view, no copy
    theta = pass_through(net, damping)
    u = direct.copy()
    for it in range(1, max_iter + 1):
        nxt = direct + wt @ (theta * u)
        delta = float(np.abs(nxt - u).sum())
        u = nxt
        if delta <= tol * max(float(u.sum()), 1.0):
            return Dependence(direct, u, it, True)
    return Dependence(direct, u, max_iter, False)


def high_risk_firms(net: SupplyNetwork, prefixes: Sequence[str]) -> BoolArray:
    """Firms whose six-digit region code starts with any of ``prefixes`` (code 0 never matches)."""
    out = np.zeros(net.n_firms, dtype=bool)
    for p in prefixes:
        p = str(p)
        scale = 10 ** (6 - len(p))
        out |= (net.region // scale == int(p)) & (net.region >= 100000)
    return out


def leontief_matrix(net: SupplyNetwork, damping: float | None = None) -> sp.csr_array:
    """``M[i, j] = θ_j · A[i, j] / Σ_k A[k, j]`` (= ``A[i, j] / x̃_j`` when θ comes from the data), CSR like ``links``."""
    theta = pass_through(net, damping)
    inputs = net.input_totals
    col = np.divide(theta, inputs, out=np.zeros_like(inputs), where=inputs > 0)
    data = net.links.data * col[net.link_customer]
    return sp.csr_array((data, net.links.indices, net.links.indptr), shape=net.links.shape)


def criticality(
    net: SupplyNetwork, owners: IndexArray, *, damping: float | None = None, tol: float = 1e-10, max_iter: int = 2000
) -> tuple[FloatArray, int, bool]:
    """``h = Σ_{t≥1} Mᵗ v`` (module docstring): iterate ``h ← M (v + h)`` from 0; ``(h, iterations, converged)``."""
    m = leontief_matrix(net, damping)
    v = np.zeros(net.n_firms)
    v[owners] = net.output[owners]
    h = np.zeros(net.n_firms)
    for it in range(1, max_iter + 1):
        nxt = m @ (v + h)
        delta = float(np.abs(nxt - h).sum())
        h = nxt
        if delta <= tol * max(float(h.sum()), 1.0):
            return h, it, True
    return h, max_iter, False


def transposed(net: SupplyNetwork) -> tuple[IndexArray, IndexArray, IndexArray]:
    """Customer → supplier adjacency ``(indptr, suppliers, link positions)`` from ``net.by_customer``."""
    indptr, link_ids = net.by_customer
    return indptr, net.link_supplier[link_ids], link_ids


def chokepoints(net: SupplyNetwork, owners: IndexArray, k: int) -> dict[int, KTierDominators]:
    """Dominators of each owner in its k-tier supply graph (:mod:`gulian.engine.dominators`)."""
    indptr, suppliers, _ = transposed(net)
    return k_tier_dominators(indptr, suppliers, np.unique(owners), k)


def _check_owners(net: SupplyNetwork, owners: IndexArray | Sequence[int]) -> IndexArray:
    arr = np.unique(np.asarray(owners, dtype=np.int64))
    if arr.size and (arr.min() < 0 or arr.max() >= net.n_firms):
        raise EngineInputError(f"owners: firm index outside 0..{net.n_firms - 1}")
    return arr


def screen(
    net: SupplyNetwork,
    owners: IndexArray | Sequence[int],
    params: ScreenParams = ScreenParams(),
    *,
    category: IndexArray | None = None,
    category_labels: Sequence[str] = (),
    alternatives: BoolArray | None = None,
    single_source: SingleSourceInputs | None = None,
    names: Sequence[str] | None = None,
) -> ScreenResult:
    """Run every measure for the chain ``owners`` (firm indices) and explain the top ``params.top``.

    ``category``/``alternatives`` are per link (see :func:`single_source_inputs`); ``category_labels``
    name category indices (default: ``net.sector_labels`` when categories are sectors); ``names``
    name firms in explanations (default: ``net.firm_ids``, else ``#index``). ``single_source`` replaces
    the computed single sources (e.g. :func:`single_source_from_rows` for registry data).
    """
    from gulian.engine.screen_explain import explain

    own = _check_owners(net, owners)
    ss = single_source if single_source is not None else single_source_inputs(net, category, alternatives)
    shares = scope_shares(net)
    overseas_links = (net.link_scope == Scope.OVERSEAS) | net.foreign[net.link_supplier]
    opts = {"damping": params.damping, "tol": params.tol, "max_iter": params.max_iter}
    overseas = upstream_share(net, overseas_links, **opts)  # type: ignore[arg-type]
    risky = high_risk_firms(net, params.high_risk)
    high = upstream_share(net, risky[net.link_supplier], **opts)  # type: ignore[arg-type]
    crit, iterations, converged = criticality(net, own, **opts)  # type: ignore[arg-type]
    doms = chokepoints(net, own, params.k)
    choke_out = np.zeros(net.n_firms)
    for o, d in doms.items():
        choke_out[d.firms] += net.output[o]
    sole = sole_source_chains(net, ss, own, params.k)
    sole_out = np.bincount(sole[1], weights=net.output[sole[0]], minlength=net.n_firms).astype(np.float64)
    score = np.maximum(crit, np.maximum(choke_out, sole_out))
    labels = tuple(category_labels) or (net.sector_labels if category is None else ())
    result = ScreenResult(
        params=params,
        owners=own,
        criticality=crit,
        chokepoint_output=choke_out,
        sole_source_output=sole_out,
        score=score,
        single_source=ss,
        scope_share=shares,
        overseas=overseas,
        high_risk_firm=risky,
        high_risk=high,
        chokepoints=doms,
        findings=(),
        iterations=max(iterations, overseas.iterations, high.iterations),
        converged=converged and overseas.converged and high.converged,
    )
    findings = explain(net, result, sole, names=names, category_labels=labels)
    return ScreenResult(**{**result.__dict__, "findings": findings})
