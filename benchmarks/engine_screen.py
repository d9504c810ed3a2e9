"""Benchmark the structural screen (gulian.engine.screen) on a generated Chung–Lu network.

Run as ``.venv/bin/python benchmarks/engine_screen.py [--firms 1000000 --links 5000000 --sectors 100
--owners 1000 --pick largest --k 3 --top 50]``; prints one JSON document.

The network is ``gulian.engine.generate.chung_lu`` (exponent 2.3, seed 2020). Chain owners are the
``--owners`` firms of largest output (``--pick largest``, like real chain owners) or a random sample
(``--pick random``). Regions: every firm gets one of 100 prefectures ``33xx00``/``32xx00`` so that a
high-risk prefix ("3301") and scopes are exercised; 5 % of links are marked overseas.

Baselines measured in the same run on the same matrix: one SciPy sparse mat-vec ``A @ x`` and one
``scipy.sparse.csgraph.breadth_first_order`` over the whole graph. Target: the full screen < 30 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import scipy.sparse.csgraph as csgraph

from gulian.engine import screen as scr
from gulian.engine.generate import chung_lu
from gulian.engine.network import SupplyNetwork
from gulian.engine.screen_explain import explain
from gulian.engine.types import Scope

TARGET_S = 30.0


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=1_000_000)
    ap.add_argument("--links", type=int, default=5_000_000)
    ap.add_argument("--sectors", type=int, default=100)
    ap.add_argument("--owners", type=int, default=1000)
    ap.add_argument("--pick", choices=("largest", "random"), default="largest")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--top", type=int, default=50)
    args = ap.parse_args()

    rng = np.random.default_rng(2020)
    base, gen_s = _timed(chung_lu, args.firms, args.links, args.sectors, rng=rng)
    region = np.where(rng.random(args.firms) < 0.8, 330000, 320000) + 100 * rng.integers(1, 51, size=args.firms)
    scope = rng.choice(np.array([0, 1, 2, 3], dtype=np.int8), p=[0.45, 0.3, 0.2, 0.05], size=base.n_links)
    net = SupplyNetwork(**{**base.__dict__, "region": region.astype(np.int64), "link_scope": scope})
    if args.pick == "largest":
        owners = np.argsort(-net.output, kind="stable")[: args.owners]
    else:
        owners = rng.choice(args.firms, size=args.owners, replace=False)

    x = rng.random(args.firms)
    net.links @ x  # warm up
    reps = [_timed(lambda: net.links @ x)[1] for _ in range(5)]
    matvec_s = float(np.median(reps))
    _, bfs_s = _timed(csgraph.breadth_first_order, net.links, int(owners[0]), directed=True, return_predecessors=False)

    params = scr.ScreenParams(k=args.k, high_risk=("3301",), top=args.top)
    scr.screen(net.subnetwork(np.arange(1000))[0], [0, 1], params)  # load the compiled kernels (Numba cache)
    # three full runs (the first also builds the network's cached indexes); the best is the figure,
    # because the other helpers' jobs on these shared cores only ever add time
    runs = []
    for _ in range(3):
        result, seconds = _timed(scr.screen, net, owners, params)
        runs.append(seconds)
    total_s = min(runs)
    parts: dict[str, float] = {}
    ss, parts["single_source_s"] = _timed(scr.single_source_inputs, net)
    _, parts["scope_share_s"] = _timed(scr.scope_shares, net)
    over, parts["overseas_upstream_s"] = _timed(
        scr.upstream_share, net, (net.link_scope == Scope.OVERSEAS) | net.foreign[net.link_supplier]
    )
    (crit, iters, conv), parts["criticality_s"] = _timed(scr.criticality, net, owners)
    doms, parts["chokepoints_s"] = _timed(scr.chokepoints, net, owners, args.k)
    sole, parts["sole_source_chains_s"] = _timed(scr.sole_source_chains, net, ss, owners, args.k)
    _, parts["explain_top_s"] = _timed(explain, net, result, sole, names=None, category_labels=net.sector_labels)

    sizes = np.array([d.subgraph_size for d in doms.values()])
    print(json.dumps({
        "benchmark": "engine_screen",
        "machine": f"{platform.machine()}, shared 2 cores (timings are upper bounds)",
        "firms": net.n_firms,
        "links": net.n_links,
        "sectors": args.sectors,
        "owners": int(owners.size),
        "owner_pick": args.pick,
        "k": args.k,
        "generate_s": round(gen_s, 2),
        "screen_s": round(total_s, 2),
        "screen_runs_s": [round(r, 2) for r in runs],
        "target_s": TARGET_S,
        "met": total_s < TARGET_S,
        "parts_s (each timed on its own)": {k: round(v, 3) for k, v in parts.items()},
        "baseline_matvec_ms": round(matvec_s * 1e3, 2),
        "baseline_bfs_ms": round(bfs_s * 1e3, 1),
        "screen_over_matvec": round(total_s / matvec_s, 1),
        "screen_over_bfs": round(total_s / bfs_s, 1),
        "criticality_iterations": iters,
        "converged": bool(result.converged),
        "k_tier_subgraph_firms": {"median": int(np.median(sizes)), "max": int(sizes.max()), "sum": int(sizes.sum())},
        "owners_with_chokepoints": int(sum(d.firms.size > 0 for d in doms.values())),
        "chokepoint_pairs": int(sum(d.firms.size for d in doms.values())),
        "single_source_links": int(ss.link.size),
        "sole_source_pairs": int(sole[0].size),
        "overseas_upstream_mean": round(float(over.upstream.mean()), 4),
        "findings": len(result.findings),
        "top_finding": result.findings[0].explanation_en if result.findings else None,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
