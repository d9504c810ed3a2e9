"""Chokepoints: dominators of a chain owner in its k-tier supply graph (docs/engine/screen.md).

The k-tier supply graph of owner ``o`` is the subgraph induced by ``N_k(o)``, the firms within ``k``
upstream links of ``o`` (``o`` is tier 0, its suppliers tier 1, …, breadth-first). Supply *enters*
``N_k(o)`` at every tier-``k`` firm (its own suppliers are not traced: the screen looks ``k`` tiers
deep) and at every firm with no supplier at all. A virtual root ``r`` feeds every entry firm, and
the links inside ``N_k(o)`` keep their supplier → customer direction (self-loops are ignored;
links into entry firms cannot change dominance and are skipped). A firm ``d ≠ o`` is a *chokepoint*
of ``o`` when it dominates ``o`` from ``r``: every supply path from an entry to ``o`` inside
``N_k(o)`` passes ``d``. The chokepoints are the ancestors of ``o`` in the dominator tree, computed
with the iterative algorithm of Cooper, Harvey & Kennedy (2001) over a reverse postorder.

Raising ``k`` never removes a chokepoint: a path entering ``N_{k+1}(o)`` beyond tier ``k`` reaches
``o`` through a tier-``k`` firm, which was already an entry of ``N_k(o)``. (The one exception: when
``N_{k+1}(o)`` is the owner's whole upstream closure and holds no firm without suppliers, supply is
circular, no entry exists, ``o`` is unreachable from ``r`` and it has no chokepoints.)

The per-owner work (breadth-first search, subgraph, depth-first postorder, dominator iteration) is
one Numba-compiled function, because chain owners are large firms whose 3-tier supply graphs reach
hundreds of thousands of firms on a national network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from gulian.engine.types import IndexArray


def gather(indptr: IndexArray, indices: IndexArray, rows: IndexArray) -> tuple[IndexArray, IndexArray]:
    """Positions in ``indices`` of the entries of ``rows``, and the index into ``rows`` of each.

    The vectorised concatenation of ``range(indptr[r], indptr[r + 1])`` over ``r`` in ``rows``.
    """
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    row_of = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[row_of] + offsets, row_of


@nb.njit(cache=True)
def _intersect(b1: int, b2: int, idom: np.ndarray, post: np.ndarray) -> int:  # pragma: no cover - compiled
    while b1 != b2:
        while post[b1] < post[b2]:
            b1 = idom[b1]
        while post[b2] < post[b1]:
            b2 = idom[b2]
    return b1


@nb.njit(cache=True)
def _owner_dominators(
    up_indptr: np.ndarray, up_sup: np.ndarray, owner: int, k: int, tier: np.ndarray, local: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Chokepoints of ``owner`` (nearest first), their tiers and |N_k|; ``tier``/``local`` are −1 scratch."""
    # 1. breadth-first search upstream to depth k
    nodes = np.empty(16, dtype=np.int64)
    nodes[0] = owner
    tier[owner] = 0
    m = 1
    head = 0
    while head < m:
        v = nodes[head]
        head += 1
        if tier[v] == k:
            continue
        for p in range(up_indptr[v], up_indptr[v + 1]):
            s = up_sup[p]
            if tier[s] < 0:
                tier[s] = tier[v] + 1
                if m == nodes.size:
                    grown = np.empty(2 * m, dtype=np.int64)
                    grown[:m] = nodes
                    nodes = grown
                nodes[m] = s
                m += 1
    for i in range(m):
        local[nodes[i]] = i
    root = m
    # 2. predecessors (local suppliers, or the root for entry firms) as CSR, successors from them
    pred_ptr = np.zeros(m + 2, dtype=np.int64)
    entry = np.zeros(m, dtype=np.bool_)
    for i in range(m):
        v = nodes[i]
        cnt = 0
        if tier[v] < k:  # all its suppliers are within N_k; tier-k firms are entries
            for p in range(up_indptr[v], up_indptr[v + 1]):
                if up_sup[p] != v:
                    cnt += 1
        entry[i] = cnt == 0
        pred_ptr[i + 1] = pred_ptr[i] + cnt + (1 if entry[i] else 0)
    pred_ptr[m + 1] = pred_ptr[m]
    preds = np.empty(pred_ptr[m], dtype=np.int64)
    succ_cnt = np.zeros(m + 1, dtype=np.int64)
    for i in range(m):
        v = nodes[i]
        q = pred_ptr[i]
        if entry[i]:
            preds[q] = root
            succ_cnt[root] += 1
            continue
        for p in range(up_indptr[v], up_indptr[v + 1]):
            s = up_sup[p]
            if s != v:
                preds[q] = local[s]
                succ_cnt[local[s]] += 1
                q += 1
    succ_ptr = np.zeros(m + 2, dtype=np.int64)
    for i in range(m + 1):
        succ_ptr[i + 1] = succ_ptr[i] + succ_cnt[i]
    succ = np.empty(succ_ptr[m + 1], dtype=np.int64)
    fill = succ_ptr[:-1].copy()
    for i in range(m):
        for q in range(pred_ptr[i], pred_ptr[i + 1]):
            u = preds[q]
            succ[fill[u]] = i
            fill[u] += 1
    # 3. depth-first postorder from the root
    post = np.full(m + 1, -1, dtype=np.int64)
    order = np.empty(m + 1, dtype=np.int64)
    seen = np.zeros(m + 1, dtype=np.bool_)
    stack = np.empty(m + 1, dtype=np.int64)
    cursor = np.empty(m + 1, dtype=np.int64)
    top = 0
    stack[0] = root
    cursor[0] = succ_ptr[root]
    seen[root] = True
    n_post = 0
    while top >= 0:
        v = stack[top]
        if cursor[top] < succ_ptr[v + 1]:
            w = succ[cursor[top]]
            cursor[top] += 1
            if not seen[w]:
                seen[w] = True
                top += 1
                stack[top] = w
                cursor[top] = succ_ptr[w]
        else:
            post[v] = n_post
            order[n_post] = v
            n_post += 1
            top -= 1
    # 4. Cooper–Harvey–Kennedy iteration in reverse postorder
    idom = np.full(m + 1, -1, dtype=np.int64)
    idom[root] = root
    changed = True
    while changed:
        changed = False
        for r in range(n_post - 2, -1, -1):
            b = order[r]
            new = -1
            for q in range(pred_ptr[b], pred_ptr[b + 1]):
                p = preds[q]
                if idom[p] == -1:
                    continue
                new = p if new == -1 else _intersect(p, new, idom, post)
            if idom[b] != new:
                idom[b] = new
                changed = True
    # 5. the owner's dominator chain, then reset the scratch arrays
    count = 0
    d = idom[0]
    while d != -1 and d != root:
        count += 1
        d = idom[d]
    firms = np.empty(count, dtype=np.int64)
    tiers = np.empty(count, dtype=np.int64)
    d = idom[0]
    for c in range(count):
        firms[c] = nodes[d]
        tiers[c] = tier[nodes[d]]
        d = idom[d]
    for i in range(m):
        tier[nodes[i]] = -1
        local[nodes[i]] = -1
    return firms, tiers, m


@dataclass(frozen=True)
class KTierDominators:
    """The chokepoints of one owner: ``firms[0]`` is the owner's immediate dominator, and so on up."""

    owner: int
    firms: IndexArray
    tiers: IndexArray
    subgraph_size: int
    """|N_k(owner)|, the owner included."""


def k_tier_dominators(
    up_indptr: IndexArray, up_indices: IndexArray, owners: IndexArray, k: int
) -> dict[int, KTierDominators]:
    """Chokepoints of each owner within ``k`` tiers (module docstring), nearest first.

    ``up_indptr``/``up_indices``: customer → supplier adjacency (``links`` transposed, CSR).
    """
    n = up_indptr.size - 1
    tier = np.full(n, -1, dtype=np.int64)
    local = np.full(n, -1, dtype=np.int64)
    indptr = np.ascontiguousarray(up_indptr, dtype=np.int64)
    indices = np.ascontiguousarray(up_indices, dtype=np.int64)
    out = {}
    for o in np.asarray(owners, dtype=np.int64).tolist():
        firms, tiers, m = _owner_dominators(indptr, indices, o, k, tier, local)
        out[o] = KTierDominators(o, firms, tiers, int(m))
    return out
