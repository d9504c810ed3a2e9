"""Benchmark the sector-level ARIO model (gulian.engine.ario) against BoARIO on the same table and event.

Run: ``.venv/bin/python benchmarks/engine_ario.py [--regions 49 --sectors 80 --steps 60 --boario-steps 20]``.
Prints one JSON object.

The table is a random, dense, consistent MRIO of EXIOBASE-like size (49 regions × 80 sectors = 3,920
industries): every ``Z`` entry positive, domestic blocks ten times heavier than foreign ones, final
demand in 49 regions × 3 categories, ``x = Z·1 + Y·1``. The event destroys 40 % of the productive
capital of 10 sectors in region 0 at step 5 for 5 steps, then linear recovery over 30 steps
(BoARIO ``EventKapitalRecover``; ``ARIOPsiModel`` with its defaults). Both models run in this process;
per-step times are wall-clock means over the steps run (BoARIO fewer steps: ~0.8 s each). The two
production paths are compared over the steps both ran. The machine is shared (2 cores, other jobs):
times are upper bounds. Target: Gulian ≥ 20× faster per step.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

from gulian.engine.ario import ArioParams, MrioTable, Shock, simulate


def random_mrio(n_regions: int, n_sectors: int, n_fd: int, rng: np.random.Generator) -> MrioTable:
    n = n_regions * n_sectors
    z = rng.random((n, n)) * rng.lognormal(0.0, 1.0, n)[:, None]
    region = np.repeat(np.arange(n_regions), n_sectors)
    z[region[:, None] == region[None, :]] *= 10.0  # domestic inputs dominate
    y = rng.random((n, n_regions * n_fd)) * z.sum(axis=1, keepdims=True) / (n_regions * n_fd) * 1.5
    regions = [f"R{r:02d}" for r in range(n_regions)]
    sectors = [f"S{s:02d}" for s in range(n_sectors)]
    return MrioTable.from_arrays(z, y, None, regions, sectors)


def to_iosystem(table: MrioTable, n_fd: int):  # noqa: ANN201 - pymrio type
    import pymrio

    rows = pd.MultiIndex.from_tuples(table.industries, names=["region", "sector"])
    cols = pd.MultiIndex.from_product([table.regions, [f"F{k}" for k in range(n_fd)]], names=["region", "category"])
    io = pymrio.IOSystem(Z=pd.DataFrame(table.Z, index=rows, columns=rows),
                         Y=pd.DataFrame(table.Y, index=rows, columns=cols))
    io.x = pymrio.calc_x(io.Z, io.Y)
    io.A = pymrio.calc_A(io.Z, io.x)
    return io


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--regions", type=int, default=49)
    parser.add_argument("--sectors", type=int, default=80)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--boario-steps", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(20200203)
    n_fd = 3
    t0 = time.perf_counter()
    table = random_mrio(args.regions, args.sectors, n_fd, rng)
    build_s = time.perf_counter() - t0
    n = table.n_regions * table.n_sectors
    params = ArioParams()
    capital = table.value_added * 4.0
    impact = np.zeros(n)
    impact[:10] = 0.4 * capital[:10]  # region 0, sectors 0..9
    shock = Shock("capital", impact, occurrence=5, duration=5, recovery_tau=30)

    simulate(table, shock, params, steps=3)  # warm-up (page faults, BLAS threads)
    t0 = time.perf_counter()
    ours = simulate(table, shock, params, steps=args.steps)
    gulian_ms = (time.perf_counter() - t0) / args.steps * 1e3

    result: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "table": {"regions": table.n_regions, "sectors": table.n_sectors, "industries": n,
                  "final_demand_columns": int(table.Y.shape[1]), "z_nonzero_share": float((table.Z > 0).mean()),
                  "build_s": round(build_s, 2)},
        "event": "capital −40% in 10 industries of region 0, steps 5–10, linear recovery 30 steps",
        "gulian": {"steps": args.steps, "ms_per_step": round(gulian_ms, 2),
                   "min_production_ratio": float((ours.production / ours.baseline).min())},
    }
    try:
        from boario.event import from_series
        from boario.extended_models import ARIOPsiModel
        from boario.simulation import Simulation
    except ImportError as exc:  # test-only extra (GPL)
        result["boario"] = {"skipped": f"boario not importable: {exc}"}
    else:
        warnings.filterwarnings("ignore")
        logging.getLogger("boario").setLevel(logging.ERROR)
        io = to_iosystem(table, n_fd)
        t0 = time.perf_counter()
        model = ARIOPsiModel(io)
        init_s = time.perf_counter() - t0
        series = pd.Series(impact, index=model.industries)  # same order: labels sort like ours
        sim = Simulation(model, n_temporal_units_to_sim=args.boario_steps)
        sim.add_event(from_series(series, event_type="recovery", occurrence=5, duration=5,
                                  recovery_tau=30, event_monetary_factor=10**6))
        t0 = time.perf_counter()
        sim.loop()
        boario_ms = (time.perf_counter() - t0) / args.boario_steps * 1e3
        theirs = sim.production_realised.to_numpy()[: args.boario_steps]
        mine = ours.production[: args.boario_steps]
        rel = np.abs(mine - theirs) / ours.baseline
        result["boario"] = {"steps": args.boario_steps, "init_s": round(init_s, 2), "ms_per_step": round(boario_ms, 1),
                            "max_relative_difference": float(rel.max())}
        result["speedup_per_step"] = round(boario_ms / gulian_ms, 1)
        result["target_speedup"] = 20
        result["meets_target"] = bool(boario_ms / gulian_ms >= 20)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
