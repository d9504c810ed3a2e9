"""Propagation speed: ms per simulated day on a 1M-firm Chung–Lu network, against a SciPy mat-vec.

Prints JSON. The unit is a scipy.sparse CSR mat-vec of the same link matrix timed in the same run;
with ``--pronet-bin`` it also times a proNet binary you built on a smaller network, and Gulian on
that same network. Timings on a shared machine are upper bounds.

Usage: python benchmarks/engine_propagate.py [--firms 1000000 --links 5000000 --steps 180]
       [--pronet-bin PATH --pronet-firms 100000 --pronet-steps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gulian.engine.generate import chung_lu  # noqa: E402
from gulian.engine.network import from_arrays, write_pronet  # noqa: E402
from gulian.engine.propagate import PropagationParams, Rationing, layout, simulate  # noqa: E402
from gulian.engine.scenario import Lockdown, Recovery, Scenario  # noqa: E402


def regional(net, rng):
    """The network with firms spread over 11 prefectures of Zhejiang (for a lockdown scenario)."""
    codes = np.array([330100, 330200, 330300, 330400, 330500, 330600, 330700, 330800, 330900, 331000, 331100])
    return from_arrays(net.link_supplier, net.link_customer, net.links.data, sector=net.sector,
                       final_demand=net.final_demand, region=rng.choice(codes, net.n_firms))  # fmt: skip


SCENARIO = Scenario(lockdowns=(Lockdown("3301", days=14, capacity_loss=0.8),), recovery=Recovery("proportional", 30, 0))


def per_step(net, steps, rationing, substitution=False):
    """(seconds per simulated day, setup seconds, result): a run of ``steps`` minus a run of 0 days."""
    params = PropagationParams(steps=steps, rationing=rationing, substitution=substitution)
    simulate(net, SCENARIO, PropagationParams(steps=2, rationing=rationing, substitution=substitution))  # warm up
    t0 = time.perf_counter()
    simulate(net, SCENARIO, PropagationParams(steps=0, rationing=rationing, substitution=substitution))
    t1 = time.perf_counter()
    res = simulate(net, SCENARIO, params)
    t2 = time.perf_counter()
    return ((t2 - t1) - (t1 - t0)) / steps, t1 - t0, res


def matvec(net, repeat=20):
    x = np.ones(net.n_firms)
    a = net.links
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        a @ x
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--firms", type=int, default=1_000_000)
    p.add_argument("--links", type=int, default=5_000_000)
    p.add_argument("--sectors", type=int, default=100)
    p.add_argument("--steps", type=int, default=180)
    p.add_argument("--pronet-bin", type=Path)
    p.add_argument("--pronet-firms", type=int, default=100_000)
    p.add_argument("--pronet-steps", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(2020)
    t = time.perf_counter()
    net = regional(chung_lu(args.firms, args.links, args.sectors, rng=rng, exponent=2.3), rng)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    layout(net)
    lay_s = time.perf_counter() - t
    load0 = os.getloadavg()[0]
    mv0 = matvec(net)
    step, setup, res = per_step(net, args.steps, Rationing.SMALL_FIRST)
    mv1 = matvec(net)
    step0, _, _ = per_step(net, min(args.steps, 30), Rationing.PROPORTIONAL)
    step_sub, _, res_sub = per_step(net, min(args.steps, 30), Rationing.SMALL_FIRST, substitution=True)
    mv2 = matvec(net)
    mv = float(np.median([mv0, mv1, mv2]))  # the unit: timed before, between and after the runs
    import numba

    out = {
        "firms": net.n_firms, "links": net.n_links, "sectors": args.sectors, "steps": args.steps,
        "threads": numba.get_num_threads(), "loadavg_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "generate_s": round(gen, 2), "layout_s": round(lay_s, 2), "setup_s": round(setup, 2),
        "ms_per_step_R2": round(step * 1e3, 2), "ms_per_step_R0": round(step0 * 1e3, 2),
        "ms_per_step_R2_substitution": round(step_sub * 1e3, 2),
        "matvec_ms": round(mv * 1e3, 2), "matvec_ms_each": [round(x * 1e3, 2) for x in (mv0, mv1, mv2)],
        "ratio_step_to_matvec_R2": round(step / mv, 1), "ratio_step_to_matvec_R0": round(step0 / mv, 1),
        "ratio_step_to_matvec_R2_substitution": round(step_sub / mv, 1),
        "total_s_R2": round(step * args.steps + setup, 2), "total_s_R2_steps_only": round(step * args.steps, 2),
        "deepest_loss": round(1 - float(res.total_production.min() / res.total_production[0]), 4),
        "deepest_loss_30d": round(1 - float(res.total_production[:31].min() / res.total_production[0]), 4),
        "deepest_loss_30d_substitution": round(1 - float(res_sub.total_production.min() / res_sub.total_production[0]), 4),
    }  # fmt: skip
    if args.pronet_bin:
        small = regional(chung_lu(args.pronet_firms, args.pronet_firms * 5, args.sectors, rng=rng), rng)
        g_step, _, _ = per_step(small, 30, Rationing.SMALL_FIRST)
        with tempfile.TemporaryDirectory() as tmp:
            write_pronet(small, tmp)
            hit = np.flatnonzero(small.region == 330100)
            Path(tmp, "D.txt").write_text("".join(f"{i + 1} 0.8\n" for i in hit))
            base = [str(args.pronet_bin), "-m", "-R", "2", "-b", "0", "-c", "30", "-S", "13", "-d", "D.txt",
                    "-X", "pact.txt", "-v", "va.txt", "A.txt", "C.txt", "P.txt", "F.txt"]  # fmt: skip
            walls = []
            for steps in (0, args.pronet_steps):
                t = time.perf_counter()
                subprocess.run(base[:1] + ["-t", str(steps)] + base[1:], cwd=tmp, check=True, capture_output=True)
                walls.append(time.perf_counter() - t)
        pn_step = (walls[1] - walls[0]) / args.pronet_steps
        out["pronet"] = {
            "firms": small.n_firms, "links": small.n_links, "steps": args.pronet_steps,
            "pronet_ms_per_step_R2": round(pn_step * 1e3, 1), "gulian_ms_per_step_R2": round(g_step * 1e3, 2),
            "speedup": round(pn_step / g_step, 1),
        }  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
