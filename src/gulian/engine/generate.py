"""Synthetic supply networks for tests and benchmarks (docs/engine.md, "Generated networks").

:func:`chung_lu` draws a directed scale-free network in the Chung–Lu way: each link's supplier and
customer are drawn independently with probabilities proportional to expected degrees
``w_i ∝ (i + 1)^(−1/(γ−1))`` (γ = ``exponent``), with independent random orderings for out- and
in-degree so that hubs on the supply side are not the same firms as hubs on the buying side.
Self-loops and repeated pairs are dropped, so the network has at most ``n_links`` links.
"""

from __future__ import annotations

import numpy as np

from gulian.engine.network import DEFAULT_INVENTORY_DAYS, SupplyNetwork, from_arrays


def _weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Expected-degree weights ``(i + 1)^(−1/(γ−1))``, shuffled, normalised to sum 1."""
    w = (np.arange(n, dtype=np.float64) + 1.0) ** (-1.0 / (exponent - 1.0))
    rng.shuffle(w)
    return w / w.sum()


def chung_lu(
    n_firms: int,
    n_links: int,
    n_sectors: int,
    *,
    rng: np.random.Generator,
    exponent: float = 2.3,
    final_share: float = 0.3,
    inventory_days: float = DEFAULT_INVENTORY_DAYS,
) -> SupplyNetwork:
    """A scale-free network in a consistent baseline (docs/engine.md, "Generated networks").

    Link values are log-normal (σ = 1). Each firm's final demand is chosen so that output covers
    its inputs and a ``final_share`` of output goes to final demand on average:
    ``c_i = max(Σ_k A[k, i] − Σ_j A[i, j], 0) + final_share · (Σ_j A[i, j] + 1)``, and
    ``x0_i = Σ_j A[i, j] + c_i``; so value added is never negative and the baseline is a steady state.
    """
    out_p = _weights(n_firms, exponent, rng)
    in_p = _weights(n_firms, exponent, rng)
    sup = rng.choice(n_firms, size=n_links, p=out_p)
    cus = rng.choice(n_firms, size=n_links, p=in_p)
    keep = sup != cus
    pairs = np.unique(sup[keep] * np.int64(n_firms) + cus[keep])
    sup, cus = pairs // n_firms, pairs % n_firms
    value = rng.lognormal(mean=0.0, sigma=1.0, size=sup.size)
    sector = rng.integers(0, n_sectors, size=n_firms)
    sales = np.bincount(sup, weights=value, minlength=n_firms)
    inputs = np.bincount(cus, weights=value, minlength=n_firms)
    final = np.maximum(inputs - sales, 0.0) + final_share * (sales + 1.0)
    return from_arrays(
        sup,
        cus,
        value,
        sector=sector,
        output=sales + final,
        final_demand=final,
        inventory_days=inventory_days,
    )
