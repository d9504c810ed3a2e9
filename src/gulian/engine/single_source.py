"""Single sources and sole-source chains for the screen (docs/engine/screen.md, "Single-source inputs").

A link ``i → j`` is a single source when it is the only link into ``j`` of its input category and the
customer knows no alternative; firm ``i`` is on a sole-source chain of owner ``o`` when at most ``k``
single-source links lead from ``i`` to ``o``. Under Leontief production across input categories
(docs/engine.md), losing either stops the customer once its inventory of that input is used up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gulian.engine.dominators import gather
from gulian.engine.network import SupplyNetwork
from gulian.engine.types import BoolArray, EngineInputError, FloatArray, IndexArray


@dataclass(frozen=True)
class SingleSourceInputs:
    """Customer × category pairs served by one supplier; arrays aligned, sorted by supplier."""

    customer: IndexArray
    category: IndexArray
    supplier: IndexArray
    link: IndexArray
    """Position of the link in ``net.links.data``."""
    value: FloatArray
    share: FloatArray
    """The link's value over the customer's total intermediate input."""
    link_mask: BoolArray = field(repr=False)
    """Per link of the network: True when it is a single source."""


def single_source_inputs(
    net: SupplyNetwork,
    category: IndexArray | None = None,
    alternatives: BoolArray | None = None,
) -> SingleSourceInputs:
    """Customer × category groups with exactly one supplier link (and no known alternative).

    ``category`` (per link, aligned with ``net.links.data``) defaults to the supplier's sector;
    ``alternatives`` (per link) marks links whose customer knows another source.
    """
    e = net.n_links
    cat = net.sector[net.link_supplier] if category is None else np.asarray(category, dtype=np.int64)
    alt = np.zeros(e, dtype=bool) if alternatives is None else np.asarray(alternatives, dtype=bool)
    if cat.shape != (e,) or alt.shape != (e,):
        raise EngineInputError(f"category/alternatives: expected one value per link ({e})")
    cus = net.link_customer
    key = cus * (int(cat.max(initial=0)) + 1) + cat
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    mask = (counts[inv] == 1) & ~alt & (net.links.data > 0)
    link = np.flatnonzero(mask)
    inputs = net.input_totals
    value = net.links.data[link]
    return SingleSourceInputs(
        customer=cus[link],
        category=cat[link],
        supplier=net.link_supplier[link],
        link=link,
        value=value,
        share=value / np.maximum(inputs[cus[link]], np.finfo(float).tiny),
        link_mask=mask,
    )


def single_source_from_rows(
    net: SupplyNetwork,
    supplier: IndexArray,
    customer: IndexArray,
    category: IndexArray,
    alternatives: BoolArray | None = None,
) -> SingleSourceInputs:
    """Single sources from per-category rows where one engine link may carry several categories.

    Registry links are supplier × customer × input category, merged into one engine link per pair.
    A (customer, category) with one row (and no known alternative) is single-sourced; its share is
    that of the pair's engine link. Rows naming a pair that is not a link are an error.
    """
    sup, cus, cat = (np.asarray(a, dtype=np.int64) for a in (supplier, customer, category))
    alt = np.zeros(sup.size, dtype=bool) if alternatives is None else np.asarray(alternatives, dtype=bool)
    if not (sup.shape == cus.shape == cat.shape == alt.shape):
        raise EngineInputError("rows: supplier, customer, category, alternatives lengths differ")
    lo, hi = net.links.indptr[sup], net.links.indptr[sup + 1]
    link = np.empty(sup.size, dtype=np.int64)
    for r in range(sup.size):  # one searchsorted per row: the registry's rows, not a national network
        pos = int(lo[r]) + int(np.searchsorted(net.links.indices[lo[r]:hi[r]], cus[r]))
        if pos >= hi[r] or net.links.indices[pos] != cus[r]:
            raise EngineInputError(f"rows: {int(sup[r])} → {int(cus[r])} is not a link of the network")
        link[r] = pos
    key = cus * (int(cat.max(initial=0)) + 1) + cat
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    single = (counts[inv] == 1) & ~alt & (net.links.data[link] > 0)
    order = np.flatnonzero(single)[np.argsort(link[single], kind="stable")]
    mask = np.zeros(net.n_links, dtype=bool)
    mask[link[order]] = True
    value = net.links.data[link[order]]
    return SingleSourceInputs(
        customer=cus[order],
        category=cat[order],
        supplier=sup[order],
        link=link[order],
        value=value,
        share=value / np.maximum(net.input_totals[cus[order]], np.finfo(float).tiny),
        link_mask=mask,
    )


def sole_source_chains(
    net: SupplyNetwork, ss: SingleSourceInputs, owners: IndexArray, k: int
) -> tuple[IndexArray, IndexArray, IndexArray]:
    """``(owner, firm, next_hop)`` for every firm linked to an owner by ≤ k single-source links.

    ``next_hop`` is the customer through which the firm was first reached (breadth-first), so
    following it leads to the owner by the fewest links.
    """
    order = np.argsort(ss.customer, kind="stable")
    indptr = np.zeros(net.n_firms + 1, dtype=np.int64)
    np.cumsum(np.bincount(ss.customer, minlength=net.n_firms), out=indptr[1:])
    sup = ss.supplier[order]
    mark = np.full(net.n_firms, -1, dtype=np.int64)
    out_o, out_f, out_h = [], [], []
    for q, o in enumerate(np.asarray(owners, dtype=np.int64).tolist()):
        mark[o] = q
        frontier = np.array([o], dtype=np.int64)
        for _ in range(k):
            pos, row_of = gather(indptr, sup, frontier)
            cand, via = sup[pos], frontier[row_of]
            fresh = mark[cand] != q
            cand, via = cand[fresh], via[fresh]
            if cand.size == 0:
                break
            cand, first = np.unique(cand, return_index=True)
            mark[cand] = q
            out_o.append(np.full(cand.size, o, dtype=np.int64))
            out_f.append(cand)
            out_h.append(via[first])
            frontier = cand
    if not out_o:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(out_o), np.concatenate(out_f), np.concatenate(out_h)
