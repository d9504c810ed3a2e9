"""The exposure LPs: assembly and HiGHS solves (docs/engine/exposure.md, "The LP").

Used by :mod:`gulian.engine.exposure`. An LP covers a set of ``core`` firms with every constraint
of the model and a ``frontier`` of their other suppliers, which keep serving their own customers at
baseline and can add their spare capacity as far as their own input stocks and alternative sources
allow. With ``core`` = every relevant firm and no frontier it is the whole-network LP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from gulian.engine.types import EngineInputError, FloatArray, IndexArray

if TYPE_CHECKING:
    from gulian.engine.exposure import ExposureInput


@dataclass(frozen=True, eq=False)
class Model:
    """``min cost·v`` s.t. ``a_ub v ≤ b_ub``, ``lower ≤ v ≤ upper``; column 0 is ``t``."""

    cost: FloatArray
    a_ub: sp.csr_array
    b_ub: FloatArray
    lower: FloatArray
    upper: FloatArray
    firm_col: dict[int, int]  # core firm → column of its production p


def in_links(inp: ExposureInput, firms: IndexArray) -> IndexArray:
    """Positions in ``links.data`` of the links into ``firms``."""
    indptr, ids = inp.net.by_customer
    if not firms.size:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([ids[indptr[f]:indptr[f + 1]] for f in firms.tolist()])


def build(inp: ExposureInput, core: IndexArray, frontier: IndexArray, *, with_loss: bool) -> Model:
    """Assemble the TTS (``with_loss=False``: ``min −t``) or PI (``min Σ w_k x_k λ_k``) LP.

    Columns: ``t``; ``p_i`` per core and frontier firm; ``φ_e`` per link into a core firm;
    ``γ_e`` per link into a core or frontier firm with ``α_e > 0``; ``λ_k`` per core demand firm (PI).
    Rows as in docs/engine/exposure.md: capacity, sales, inputs per (customer, group), alternatives,
    lost demand; frontier firms get capacity ``p_i ≤ s_i t``, inputs from stock and alternatives
    only, and sales ``Σ (A_e/x_i) φ_e ≤ (Σ A_e/x_i) t + p_i`` over their links into the core.
    """
    net, x = inp.net, inp.scale
    sup, cus, val = net.link_supplier, net.link_customer, net.links.data
    firms = np.concatenate([core, frontier])
    m = firms.size
    colarr = np.full(net.n_firms, -1, dtype=np.int64)
    colarr[firms] = 1 + np.arange(m)
    is_core = np.zeros(net.n_firms, dtype=bool)
    is_core[core] = True
    rel = inp.relevant
    into_core = in_links(inp, core)
    into_core = into_core[(val[into_core] > 0) & rel[sup[into_core]]]
    into_front = in_links(inp, frontier)
    into_front = into_front[val[into_front] > 0]
    k = into_core.size
    alt_core = into_core[inp.alternative[into_core] > 0]
    alt_front = into_front[inp.alternative[into_front] > 0]
    alt = np.concatenate([alt_core, alt_front])
    ka = alt.size
    dem = core[inp.demand[core] > 0] if with_loss else np.zeros(0, dtype=np.int64)
    kd = dem.size
    phi0, gam0, lam0 = 1 + m, 1 + m + k, 1 + m + k + ka
    rows: list[Any] = []
    cols: list[Any] = []
    vals: list[Any] = []
    rhs: list[Any] = []

    def add(r: Any, c: Any, v: Any) -> None:
        rows.append(np.asarray(r, dtype=np.int64))
        cols.append(np.asarray(c, dtype=np.int64))
        vals.append(np.broadcast_to(np.asarray(v, dtype=np.float64), np.shape(r)).copy())

    ar = np.arange(m)
    # capacity: p_i − (1 + s_i) t ≤ 0 (core), p_i − s_i t ≤ 0 (frontier: extra output only)
    add(ar, 1 + ar, 1.0)
    add(ar, np.zeros(m), -(inp.spare[firms] + is_core[firms]))
    rhs.append(np.zeros(m))
    # sales: Σ (A_e/x_i) φ_e + (d_i/x_i) t − p_i − λ_i ≤ h_i (core);
    #        Σ (A_e/x_i) φ_e − (Σ A_e/x_i) t − p_i ≤ 0 (frontier)
    r0 = m
    row_of_sup = colarr[sup[into_core]] - 1
    add(r0 + row_of_sup, phi0 + np.arange(k), val[into_core] / x[sup[into_core]])
    base = np.bincount(row_of_sup, weights=val[into_core] / x[sup[into_core]], minlength=m)
    t_coef = np.where(is_core[firms], inp.demand[firms] / x[firms], -base)
    add(r0 + ar, np.zeros(m), t_coef)
    add(r0 + ar, 1 + ar, -1.0)
    if kd:
        add(r0 + colarr[dem] - 1, lam0 + np.arange(kd), -1.0)
    rhs.append(np.where(is_core[firms], inp.finished_days[firms], 0.0))
    r0 += m
    # inputs per (customer, group): p_j − Σ w_e (φ_e + γ_e) ≤ Σ w_e τ_e (frontier: no φ)
    links = np.concatenate([into_core, into_front])
    if links.size:
        _, grp = np.unique(np.column_stack([cus[links], inp.input_group[links]]), axis=0, return_inverse=True)
        grp = grp.ravel()
        ng = int(grp.max()) + 1
        w = val[links] / np.bincount(grp, weights=val[links], minlength=ng)[grp]
        owner = np.zeros(ng, dtype=np.int64)
        owner[grp] = cus[links]
        add(r0 + np.arange(ng), colarr[owner], 1.0)
        add(r0 + grp[:k], phi0 + np.arange(k), -w[:k])
        pos = np.concatenate([np.flatnonzero(inp.alternative[into_core] > 0),
                              k + np.flatnonzero(inp.alternative[into_front] > 0)])
        add(r0 + grp[pos], gam0 + np.arange(ka), -w[pos])
        rhs.append(np.bincount(grp, weights=w * inp.inventory_days[links], minlength=ng))
        r0 += ng
    # alternatives: γ_e − α_e t ≤ 0
    add(r0 + np.arange(ka), gam0 + np.arange(ka), 1.0)
    add(r0 + np.arange(ka), np.zeros(ka), -inp.alternative[alt])
    rhs.append(np.zeros(ka))
    r0 += ka
    # lost demand: λ_k − (d_k/x_k) t ≤ 0
    add(r0 + np.arange(kd), lam0 + np.arange(kd), 1.0)
    add(r0 + np.arange(kd), np.zeros(kd), -inp.demand[dem] / x[dem])
    rhs.append(np.zeros(kd))
    r0 += kd
    n_col = lam0 + kd
    a_ub = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, n_col))
    cost = np.zeros(n_col)
    if with_loss:
        cost[lam0:] = inp.loss_weight[dem] * x[dem]
    else:
        cost[0] = -1.0
    upper = np.full(n_col, np.inf)
    upper[0] = inp.horizon
    return Model(cost, a_ub, np.concatenate(rhs), np.zeros(n_col), upper,
                 dict(zip(core.tolist(), colarr[core].tolist(), strict=True)))  # fmt: skip


class Solver:
    """Solves a :class:`Model` again and again with a few column bounds changed."""

    def __init__(self, model: Model, solver: str = "auto") -> None:
        self.model = model
        self._highs: Any = None
        self._optimal: Any = None
        if solver not in ("auto", "warm", "linprog"):
            raise EngineInputError(f"solver: 应为 auto/warm/linprog / must be auto, warm or linprog, not {solver!r}")
        if solver != "linprog":
            try:
                self._highs, self._optimal = self._warm_start(model)
            except (ImportError, AttributeError):
                if solver == "warm":
                    raise
        self.backend = "warm" if self._highs is not None else "linprog"

    @staticmethod
    def _warm_start(model: Model) -> Any:
        # SciPy's bundled HiGHS (scipy.optimize._highspy, SciPy ≥ 1.15): the model stays in memory and
        # is re-solved by dual simplex from the previous basis after a bound change.
        from scipy.optimize._highspy import _core as hc

        highs = hc._Highs()
        highs.setOptionValue("output_flag", False)
        lp = hc.HighsLp()
        n_row, n_col = model.a_ub.shape
        lp.num_col_, lp.num_row_ = n_col, n_row
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = model.cost, model.lower, model.upper
        lp.row_lower_, lp.row_upper_ = np.full(n_row, -np.inf), model.b_ub
        csc = sp.csc_array(model.a_ub)
        mat = hc.HighsSparseMatrix()
        mat.format_, mat.num_col_, mat.num_row_ = hc.MatrixFormat.kColwise, n_col, n_row
        mat.start_, mat.index_, mat.value_ = csc.indptr, csc.indices, csc.data
        lp.a_matrix_ = mat
        highs.passModel(lp)
        return highs, hc.HighsModelStatus.kOptimal

    def solve(self, bounds: dict[int, tuple[float, float]]) -> float:
        """The optimal objective with column ``c`` bounded to ``bounds[c]`` (others as built)."""
        mdl = self.model
        if self._highs is None:
            lower, upper = mdl.lower.copy(), mdl.upper.copy()
            for c, (lo, hi) in bounds.items():
                lower[c], upper[c] = lo, hi
            res = linprog(mdl.cost, A_ub=mdl.a_ub, b_ub=mdl.b_ub, bounds=np.column_stack([lower, upper]),
                          method="highs")  # fmt: skip
            if res.status != 0:
                raise RuntimeError(f"exposure LP: HiGHS status {res.status} ({res.message})")
            return float(res.fun)
        h = self._highs
        for c, (lo, hi) in bounds.items():
            h.changeColBounds(int(c), float(lo), float(hi))
        h.run()
        status = h.getModelStatus()
        value = float(h.getInfo().objective_function_value)
        for c in bounds:
            h.changeColBounds(int(c), float(mdl.lower[c]), float(mdl.upper[c]))
        if status != self._optimal:
            raise RuntimeError(f"exposure LP: HiGHS status {status}")
        return value
