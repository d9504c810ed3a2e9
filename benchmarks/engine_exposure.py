"""Benchmark the exposure LPs (docs/engine/exposure.md) on a generated 5,000-node tiered chain.

Run as ``.venv/bin/python benchmarks/engine_exposure.py [--firms 5000] [--owners 20] [--sample 50]``;
prints one JSON document. Target: TTS of every node in < 60 s.

The network: ``--owners`` chain owners (with final demand) and four supplier tiers of growing size
(tier sizes ∝ 2 : 5 : 6 : 7 of the rest); every firm of tier k+1 sells to one firm of tier k (so
every firm feeds an owner), every firm of tier k buys from 1–3 more firms of tier k+1 (same-sector
suppliers substitute each other), and 5 % of firms also buy from a random firm two tiers down. Link inventory 3–20 days, spare capacity 10 %, alternative sources (α 0.2–0.6) on 20 % of
links, TTR 14–60 days. Baseline measured in the same run: one cold ``linprog`` solve of the
undisrupted whole-network LP (the unit), and the whole-network LP (``scope="network"``, warm
started) on ``--sample`` nodes, which also measures how far the default local TTS lies below it.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from scipy.optimize import linprog

from gulian.engine.exposure import exposure_input, local_survival_bound, performance_impact, time_to_survive
from gulian.engine.exposure_lp import build
from gulian.engine.network import from_arrays

TARGET_S = 60.0


def tiered(n_firms: int, n_owners: int, rng: np.random.Generator, n_sectors: int = 12):
    rest = n_firms - n_owners
    shares = np.array([2, 5, 6, 7], dtype=float)
    sizes = [n_owners, *np.floor(rest * shares / shares.sum()).astype(int)]
    sizes[-1] += n_firms - sum(sizes)
    start = np.cumsum([0, *sizes])
    sup, cus = [], []
    for k in range(len(sizes) - 1):
        below = np.arange(start[k + 1], start[k + 2])
        # every supplier of tier k+1 sells to one firm of tier k (so all firms feed an owner) ...
        sup.append(below)
        cus.append(rng.integers(start[k], start[k + 1], size=below.size))
        # ... and every firm of tier k buys from 1-3 more, and 5 % from a firm two tiers down.
        for j in range(start[k], start[k + 1]):
            m = int(rng.integers(1, 4))
            sup.append(rng.integers(start[k + 1], start[k + 2], size=m))
            cus.append(np.full(m, j))
            if k + 2 < len(sizes) and rng.random() < 0.05:
                sup.append(rng.integers(start[k + 2], start[k + 3], size=1))
                cus.append(np.full(1, j))
    s, c = np.concatenate(sup), np.concatenate(cus)
    value = rng.lognormal(0.0, 1.0, size=s.size)
    sector = rng.integers(0, n_sectors, size=n_firms)
    final = np.zeros(n_firms)
    inputs = np.bincount(c, weights=value, minlength=n_firms)
    final[:n_owners] = inputs[:n_owners] * 1.5
    return from_arrays(s, c, value, sector=sector, final_demand=final,
                       link_inventory_days=rng.uniform(3.0, 20.0, size=s.size))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, default=5000)
    ap.add_argument("--owners", type=int, default=20)
    ap.add_argument("--sample", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    net = tiered(args.firms, args.owners, rng)
    inp = exposure_input(
        net,
        ttr=rng.uniform(14.0, 60.0, size=net.n_firms),
        demand_nodes=np.arange(args.owners),
        spare=0.1,
        alternative=np.where(rng.random(net.n_links) < 0.2, rng.uniform(0.2, 0.6, size=net.n_links), 0.0),
    )
    t0 = time.perf_counter()
    model = build(inp, np.flatnonzero(inp.relevant), np.zeros(0, dtype=np.int64), with_loss=False)
    build_s = time.perf_counter() - t0

    # Unit: one cold linprog of the undisrupted whole-network LP.
    bounds = np.column_stack([model.lower, model.upper])
    t0 = time.perf_counter()
    base = linprog(model.cost, A_ub=model.a_ub, b_ub=model.b_ub, bounds=bounds, method="highs")
    unit_s = time.perf_counter() - t0
    assert base.status == 0 and abs(-base.fun - inp.horizon) < 1e-6

    t0 = time.perf_counter()
    tts = time_to_survive(inp)
    tts_s = time.perf_counter() - t0
    bound = local_survival_bound(inp)
    need = np.flatnonzero((bound < inp.horizon) & (bound > 0))

    # The whole-network LP on a sample: its time per node, and how far the local TTS is below it.
    sample = rng.choice(need, size=min(args.sample, need.size), replace=False)
    t0 = time.perf_counter()
    exact = time_to_survive(inp, sample, scope="network")
    network_per_node = (time.perf_counter() - t0) / sample.size
    assert np.all(tts[sample] <= exact + 1e-6)
    both = np.isfinite(exact) & np.isfinite(tts[sample])
    gap = (exact[both] - tts[sample][both]) / np.maximum(exact[both], 1e-9)

    t0 = time.perf_counter()
    pi = performance_impact(inp, tts=tts)
    pi_s = time.perf_counter() - t0
    flagged = int((tts < inp.ttr).sum())
    finite = tts[np.isfinite(tts)]

    print(json.dumps({
        "machine": f"{platform.processor() or platform.machine()}, shared 2 cores: timings are upper bounds",
        "network": {"firms": net.n_firms, "links": net.n_links, "owners": args.owners,
                    "lp_rows": model.a_ub.shape[0], "lp_cols": model.a_ub.shape[1], "lp_nnz": int(model.a_ub.nnz)},
        "build_network_lp_s": round(build_s, 3),
        "unit_cold_linprog_network_lp_s": round(unit_s, 4),
        "tts_all_nodes_local_s": round(tts_s, 2),
        "tts_target_s": TARGET_S,
        "tts_meets_target": tts_s < TARGET_S,
        "tts_lp_solves": int(need.size),
        "tts_local_per_node_ms": round(1000 * tts_s / max(need.size, 1), 2),
        "tts_local_per_node_in_units": round(tts_s / max(need.size, 1) / unit_s, 4),
        "network_lp_per_node_s": round(network_per_node, 3),
        "network_lp_per_node_in_units": round(network_per_node / unit_s, 2),
        "network_lp_all_nodes_estimate_s": round(network_per_node * need.size, 0),
        "local_vs_network_sample": {"nodes": int(sample.size), "equal": int(np.isclose(exact, tts[sample], rtol=1e-6, atol=1e-6).sum()),
                                    "median_relative_gap": float(np.median(gap)) if gap.size else 0.0,
                                    "max_relative_gap": float(gap.max()) if gap.size else 0.0},
        "pi_flagged_nodes_s": round(pi_s, 2),
        "flagged_nodes": flagged,
        "tts_days": {"zero": int((tts == 0).sum()), "finite": int(finite.size), "inf": int(np.isinf(tts).sum()),
                     "median_finite": float(np.median(finite)) if finite.size else None},
        "pi_total": float(pi.sum()),
    }, indent=2))


if __name__ == "__main__":
    main()
