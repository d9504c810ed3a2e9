"""Why a firm is critical: owner shares, paths and the bilingual text of each screen finding.

For a finding's firm ``i`` the owner shares ``r = Σ_{t≥1} (Mᵀ)ᵗ e_i`` (row ``i`` of ``L − I``,
docs/engine/screen.md) are computed by pushing ``e_i`` downstream step by step, dropping entries below
``explain_tol`` (so the shares shown are lower bounds, exact when nothing was dropped) for at most
:data:`MAX_STEPS` steps. Alongside, each step keeps the largest path product reaching each firm and
its predecessor, which gives the *strongest path* ``i → … → owner`` named in the explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numba as nb
import numpy as np
import scipy.sparse as sp

from gulian.engine.dominators import gather
from gulian.engine.network import SupplyNetwork
from gulian.engine.types import FloatArray, IndexArray, Scope

if TYPE_CHECKING:
    from gulian.engine.screen import Finding, OwnerLink, ScreenResult

MAX_STEPS = 100
"""Tiers followed downstream when explaining a finding."""


@nb.njit(cache=True)
def _grow(arr: np.ndarray, need: int) -> np.ndarray:  # pragma: no cover - compiled
    if need <= arr.size:
        return arr
    out = np.empty(max(need, 2 * arr.size), dtype=arr.dtype)
    out[: arr.size] = arr
    return out


@nb.njit(cache=True)
def _push_kernel(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, start: int, tol: float, max_steps: int,
    val: np.ndarray, best: np.ndarray, pred: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Steps of the pruned push: ``(step_ptr, firm, share, best product, predecessor)`` per step.

    ``val``/``best`` are zero/−1 scratch arrays of length N, ``pred`` any int array of length N; they
    are restored before returning.
    """
    f_idx = np.array([start], dtype=np.int64)
    f_val = np.ones(1)
    f_best = np.ones(1)
    step_ptr = np.zeros(max_steps + 1, dtype=np.int64)
    s_idx = np.empty(64, dtype=np.int64)
    s_val = np.empty(64)
    s_best = np.empty(64)
    s_pred = np.empty(64, dtype=np.int64)
    touched = np.empty(64, dtype=np.int64)
    n_steps = 0
    total = 0
    for _ in range(max_steps):
        cnt = 0
        for a in range(f_idx.size):
            u = f_idx[a]
            for p in range(indptr[u], indptr[u + 1]):
                j = indices[p]
                if best[j] < 0.0:
                    best[j] = 0.0
                    touched = _grow(touched, cnt + 1)
                    touched[cnt] = j
                    cnt += 1
                val[j] += f_val[a] * data[p]
                c = f_best[a] * data[p]
                if c > best[j]:
                    best[j] = c
                    pred[j] = u
        kept = 0
        for t in range(cnt):
            if val[touched[t]] >= tol:
                kept += 1
        nf_idx = np.empty(kept, dtype=np.int64)
        q = 0
        for t in range(cnt):
            j = touched[t]
            if val[j] >= tol:
                nf_idx[q] = j
                q += 1
        nf_idx.sort()
        nf_val = np.empty(kept)
        nf_best = np.empty(kept)
        s_idx = _grow(s_idx, total + kept)
        s_val = _grow(s_val, total + kept)
        s_best = _grow(s_best, total + kept)
        s_pred = _grow(s_pred, total + kept)
        for q in range(kept):
            j = nf_idx[q]
            nf_val[q] = val[j]
            nf_best[q] = best[j]
            s_idx[total + q] = j
            s_val[total + q] = val[j]
            s_best[total + q] = best[j]
            s_pred[total + q] = pred[j]
        for t in range(cnt):
            j = touched[t]
            val[j] = 0.0
            best[j] = -1.0
        if kept == 0:
            break
        total += kept
        n_steps += 1
        step_ptr[n_steps] = total
        f_idx, f_val, f_best = nf_idx, nf_val, nf_best
    return step_ptr[: n_steps + 1], s_idx[:total], s_val[:total], s_best[:total], s_pred[:total]


class _Push:
    """The pruned downstream push from one firm (module docstring)."""

    def __init__(self, m: sp.csr_array, start: int, tol: float, scratch: tuple[FloatArray, FloatArray, IndexArray]) -> None:
        ptr, idx, val, best, pred = _push_kernel(m.indptr, m.indices, m.data, start, tol, MAX_STEPS, *scratch)
        self.steps = [(idx[a:b], best[a:b], pred[a:b]) for a, b in zip(ptr[:-1].tolist(), ptr[1:].tolist(), strict=True)]
        if idx.size:
            firms, inv = np.unique(idx, return_inverse=True)
            self.firms, self.share = firms, np.bincount(inv, weights=val).astype(np.float64)
        else:
            self.firms, self.share = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)

    def share_of(self, firm: int) -> float:
        k = int(np.searchsorted(self.firms, firm))
        return float(self.share[k]) if k < self.firms.size and self.firms[k] == firm else 0.0

    def strongest_path(self, start: int, target: int) -> tuple[int, ...] | None:
        """``start → … → target`` with the largest product of ``M`` among the pushed walks."""
        best_t, best_v = -1, 0.0
        for t, (idx, best, _) in enumerate(self.steps):
            k = int(np.searchsorted(idx, target))
            if k < idx.size and idx[k] == target and best[k] > best_v:
                best_t, best_v = t, float(best[k])
        if best_t < 0:
            return None
        path = [target]
        node = target
        for t in range(best_t, -1, -1):
            idx, _, pred = self.steps[t]
            node = int(pred[int(np.searchsorted(idx, node))])
            path.append(node)
        return tuple(path[::-1])


def _bfs_path(up_indptr: IndexArray, up_sup: IndexArray, firm: int, owner: int, k: int) -> tuple[int, ...]:
    """Fewest-links path ``firm → … → owner`` found upstream from the owner within k tiers."""
    parent = {owner: owner}
    frontier = np.array([owner], dtype=np.int64)
    for _ in range(k):
        pos, row_of = gather(up_indptr, up_sup, frontier)
        nxt = []
        for s, via in zip(up_sup[pos].tolist(), frontier[row_of].tolist(), strict=True):
            if s not in parent:
                parent[s] = via
                nxt.append(s)
        if firm in parent:
            break
        frontier = np.asarray(nxt, dtype=np.int64)
    if firm not in parent:
        return (firm, owner)
    path = [firm]
    while path[-1] != owner:
        path.append(parent[path[-1]])
    return tuple(path)


def _sole_path(firm: int, owner: int, lookup: dict[tuple[int, int], int]) -> tuple[int, ...]:
    path = [firm]
    while path[-1] != owner:
        path.append(lookup[(owner, path[-1])])
    return tuple(path)


def _link_scope(net: SupplyNetwork, supplier: int, customer: int | None) -> Scope:
    lo, hi = int(net.links.indptr[supplier]), int(net.links.indptr[supplier + 1])
    if hi == lo:
        return Scope.UNKNOWN
    if customer is None:
        pos = lo + int(np.argmax(net.links.data[lo:hi]))
    else:
        pos = lo + int(np.searchsorted(net.links.indices[lo:hi], customer))
        if pos >= hi or net.links.indices[pos] != customer:
            return Scope.UNKNOWN
    return Scope(int(net.link_scope[pos]))


def explain(
    net: SupplyNetwork,
    result: ScreenResult,
    sole: tuple[IndexArray, IndexArray, IndexArray],
    *,
    names: Sequence[str] | None,
    category_labels: Sequence[str],
) -> tuple[Finding, ...]:
    """The top ``result.params.top`` findings, ranked, with owners, paths and text."""
    from gulian.engine.screen import Finding, OwnerLink, leontief_matrix, transposed

    p = result.params
    top = result.ranking()[: p.top]
    if top.size == 0:
        return ()
    m = leontief_matrix(net, p.damping)
    m.indices = m.indices.astype(np.int64)
    m.indptr = m.indptr.astype(np.int64)
    scratch = (np.zeros(net.n_firms), np.full(net.n_firms, -1.0), np.zeros(net.n_firms, dtype=np.int64))
    up_indptr, up_sup, _ = transposed(net)
    if names is None:
        names = [str(x) for x in net.firm_ids] if net.firm_ids is not None else None

    def nm(i: int) -> str:
        return str(names[i]) if names is not None else f"#{i}"

    wanted = set(top.tolist())
    choke_of: dict[int, list[int]] = {}
    for o, d in result.chokepoints.items():
        for f in d.firms.tolist():
            if f in wanted:
                choke_of.setdefault(f, []).append(o)
    sel = np.isin(sole[1], top)
    sole_of: dict[int, list[int]] = {}
    for o, f in zip(sole[0][sel].tolist(), sole[1][sel].tolist(), strict=True):
        sole_of.setdefault(f, []).append(o)
    sole_owners = set(sole[0][sel].tolist())
    osel = np.isin(sole[0], list(sole_owners))
    hop = dict(zip(zip(sole[0][osel].tolist(), sole[1][osel].tolist(), strict=True), sole[2][osel].tolist(), strict=True))
    ss = result.single_source
    owner_set = set(result.owners.tolist())
    findings = []
    for rank, i in enumerate(top.tolist(), start=1):
        push = _Push(m, i, p.explain_tol, scratch)
        chk, sol = set(choke_of.get(i, [])), set(sole_of.get(i, []))
        candidates = set(push.firms[np.isin(push.firms, result.owners)].tolist()) | chk | sol
        candidates.discard(i)

        def weight(o: int, chk: set[int] = chk, sol: set[int] = sol, push: _Push = push) -> float:
            return float(net.output[o]) * (1.0 if o in chk or o in sol else push.share_of(o))

        links: list[OwnerLink] = []
        for o in sorted(candidates, key=lambda o: (-weight(o), o))[: p.explain_owners]:
            if o in sol:
                path = _sole_path(i, o, hop)
            else:
                path = push.strongest_path(i, o) or _bfs_path(up_indptr, up_sup, i, o, p.k)
            links.append(OwnerLink(o, float(net.output[o]), push.share_of(o), o in chk, o in sol, path))
        lo, hi = np.searchsorted(ss.supplier, [i, i + 1])
        rows = sorted(range(int(lo), int(hi)), key=lambda r: (-ss.share[r], r))
        single = tuple(
            (int(ss.customer[r]), _label(int(ss.category[r]), category_labels), float(ss.share[r])) for r in rows[:5]
        )
        scope = _link_scope(net, i, links[0].path[1] if links and len(links[0].path) > 1 else None)
        reasons = tuple(
            code
            for code, on in (
                ("chokepoint", bool(chk)),
                ("sole_source", bool(sol)),
                ("single_source", hi > lo),
                ("high_risk", bool(result.high_risk_firm[i])),
                ("overseas", bool(net.foreign[i]) or scope == Scope.OVERSEAS),
                ("criticality", result.criticality[i] > 0),
            )
            if on
        )
        f = Finding(
            rank=rank, firm=i, name=nm(i), score=float(result.score[i]), criticality=float(result.criticality[i]),
            chokepoint_output=float(result.chokepoint_output[i]), sole_source_output=float(result.sole_source_output[i]),
            owners=tuple(links), chokepoint_owners=tuple(sorted(chk)), sole_source_owners=tuple(sorted(sol)),
            single_source_for=single, n_single_source=int(hi - lo), scope=scope, region=int(net.region[i]),
            foreign=bool(net.foreign[i]), high_risk=bool(result.high_risk_firm[i]),
            overseas_upstream=float(result.overseas.upstream[i]), high_risk_upstream=float(result.high_risk.upstream[i]),
            reasons=reasons, explanation_zh="", explanation_en="",
        )
        zh, en = describe(f, nm, p.k, i in owner_set)
        findings.append(Finding(**{**f.__dict__, "explanation_zh": zh, "explanation_en": en}))
    return tuple(findings)


def _label(category: int, labels: Sequence[str]) -> str:
    return labels[category] if 0 <= category < len(labels) else str(category)


def describe(f: Finding, name: Callable[[int], str], k: int, is_owner: bool) -> tuple[str, str]:
    """The Chinese and English explanation of a finding (``name(index)`` names a firm)."""
    zh = [f"{f.name}：约 {f.score:,.0f} 元/日的链主产出依赖该企业。"]
    en = [f"{f.name}: about {f.score:,.0f} yuan/day of chain-owner output depends on this firm."]
    if is_owner:
        zh.append("它本身也是链主。")
        en.append("It is itself a chain owner.")
    for link in f.owners:
        path = " → ".join(name(x) for x in link.path)
        tier = len(link.path) - 1
        if link.chokepoint:
            kz, ke = f"断点：{k} 层内的全部供应路径都经过它", f"chokepoint: every supply path within {k} tiers passes it"
        elif link.sole_source:
            kz, ke = "唯一来源链：沿途每一环都是唯一供应商", "sole-source chain: each step is the only supplier of its input"
        else:
            kz, ke = "投入份额逐层传导", "input shares traced through the tiers"
        big = link.share >= 0.001
        pz = f"其产出价值的 {link.share:.1%} 经过该企业" if big else "其产出价值经过该企业的不足 0.1%"
        pe = f"{link.share:.1%}" if big else "under 0.1%"
        zh.append(f"链主 {name(link.owner)}（第 {tier} 层，{kz}）：路径 {path}；{pz}")
        en.append(f"Owner {name(link.owner)} (tier {tier}, {ke}): path {path}; {pe} of its output value passes this firm")
        if link.chokepoint or link.sole_source:
            zh.append(f"，该企业停供则其约 {link.output:,.0f} 元/日的产出在库存用尽后全部停止。")
            en.append(f", but if this firm stops, all its {link.output:,.0f} yuan/day stop once inventories run out.")
        else:
            zh.append("。")
            en.append(".")
    if f.chokepoint_owners:
        zh.append(f"共是 {len(f.chokepoint_owners)} 家链主的断点。")
        en.append(f"Chokepoint of {len(f.chokepoint_owners)} owner(s) in all.")
    if f.sole_source_owners:
        zh.append(f"在 {len(f.sole_source_owners)} 家链主的唯一来源链上。")
        en.append(f"On the sole-source chain of {len(f.sole_source_owners)} owner(s).")
    if f.single_source_for:
        c, cat, s = f.single_source_for[0]
        zh.append(f"它是 {f.n_single_source} 项投入的唯一供应商，如 {name(c)} 的“{cat}”（占其投入 {s:.0%}）。")
        en.append(f"Only supplier of {f.n_single_source} input(s), e.g. {cat} of {name(c)} ({s:.0%} of its inputs).")
    else:
        zh.append("其客户的同类投入另有供应商。")
        en.append("Its customers have other suppliers of the same inputs.")
    zh.append(f"供应范围：{f.scope.label}。")
    en.append(f"Scope: {f.scope.name.lower().replace('_', '-')}.")
    if f.high_risk:
        zh.append(f"位于高风险地区（{f.region}）。")
        en.append(f"Located in a high-risk region ({f.region}).")
    if f.overseas_upstream >= 0.01:
        zh.append(f"其投入价值的 {f.overseas_upstream:.0%} 在某一层经过境外供应。")
        en.append(f"{f.overseas_upstream:.0%} of its input value crosses an overseas link at some tier.")
    if f.high_risk_upstream >= 0.01:
        zh.append(f"其投入价值的 {f.high_risk_upstream:.0%} 来自高风险地区（含各层）。")
        en.append(f"{f.high_risk_upstream:.0%} of its input value comes from high-risk regions (all tiers).")
    return "".join(zh), " ".join(en).replace(" ,", ",").replace(" .", ".")
