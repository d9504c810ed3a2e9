"""Scenario sweeps: one base scenario varied by lockdown length × region, run in parallel.

The core here takes engine inputs only (a :class:`~gulian.engine.network.SupplyNetwork`, engine
:class:`~gulian.engine.scenario.Scenario` objects, the watched firm indices), so the workers never
need Django or a database: the ``gulian risk sweep`` command builds the network from the registry
once and hands it over. Two back ends give the same table:

* local processes: :class:`concurrent.futures.ProcessPoolExecutor` (``spawn`` start method; each
  worker receives the network once, through the pool initializer, and limits numba's threads so
  that ``workers × threads`` does not exceed the machine's cores);
* Ray, when ``ray_address`` (``GULIAN_RAY_ADDRESS``) is set: ``ray.init(address=…)``, the network
  put once in Ray's object store, one task per variant. The value ``local`` starts a throw-away
  single-machine Ray instance (Ray ≥ 2.10 has no "local mode" any more; this is the nearest thing
  and what the tests use).

Variants (docs/risk-scenarios.md, "情景批量"): for every region prefix × lockdown length, the
base scenario with its lockdowns replaced by one lockdown of that region and length, taking the
start day and capacity loss of the base's first lockdown (day 0 and 100% when it has none); firm
stops, link cuts, recovery and steps are kept. Without regions the base's own lockdowns are kept
and only their length varies; without lengths only the region varies.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from gulian.engine.network import SupplyNetwork
from gulian.engine.propagate import PropagationParams, simulate
from gulian.engine.scenario import Lockdown, Scenario

COLUMNS = (
    "variant", "region", "lockdown_days", "lost_output", "owners_stalled", "owners_watched",
    "earliest_stall_day", "earliest_owner",
)  # fmt: skip
"""Columns of the sweep table (one row per variant, in variant order)."""


@dataclass(frozen=True)
class Variant:
    """One scenario of a sweep; ``region`` and ``lockdown_days`` are what was varied ('' / None = kept)."""

    name: str
    scenario: Scenario
    region: str = ""
    lockdown_days: int | None = None


def variants(base: Scenario, *, lockdown_days: Sequence[int] = (), regions: Sequence[str] = ()) -> list[Variant]:
    """The region × lockdown-length grid around ``base`` (rules in the module docstring)."""
    if any(int(d) < 1 for d in lockdown_days):
        raise ValueError("封控天数应为正整数 / lockdown days must be positive integers")
    for r in regions:
        if not (isinstance(r, str) and r.isdigit() and 1 <= len(r) <= 6):
            raise ValueError(f"区域应为 1–6 位行政区划代码前缀 / a region is 1–6 digits of a GB/T 2260 code: {r!r}")
    first = base.lockdowns[0] if base.lockdowns else Lockdown(region_prefix="", days=1, capacity_loss=1.0)
    out: list[Variant] = []
    for region in regions or [""]:
        for days in lockdown_days or [None]:
            if region:
                locks: tuple[Lockdown, ...] = (
                    Lockdown(region_prefix=region, days=int(days or first.days), capacity_loss=first.capacity_loss,
                             start=first.start),
                )  # fmt: skip
            else:
                locks = tuple(replace(lk, days=int(days)) for lk in base.lockdowns) if days else base.lockdowns
            label = "×".join(p for p in (region, f"{days}d" if days else "") if p) or (base.name or "base")
            name = f"{base.name}:{label}" if base.name else label
            out.append(Variant(name, replace(base, name=name, lockdowns=locks), region, int(days) if days else None))
    return out


def run_variant(
    net: SupplyNetwork, variant: Variant, params: PropagationParams | None = None, watch: Any = None
) -> dict[str, Any]:
    """Simulate one variant and return its table row (engine only; see :data:`COLUMNS`)."""
    watch_arr = np.zeros(0, dtype=np.int64) if watch is None else np.asarray(watch, dtype=np.int64)
    p = replace(params, steps=variant.scenario.steps) if params else PropagationParams(steps=variant.scenario.steps)
    res = simulate(net, variant.scenario, p, watch=watch_arr)
    stalled = np.flatnonzero(res.stall_day >= 0)
    earliest_day, earliest_owner = None, ""
    if stalled.size:
        k = int(stalled[np.argmin(res.stall_day[stalled])])
        earliest_day = int(res.stall_day[k])
        firm = int(watch_arr[k])
        earliest_owner = str(net.firm_ids[firm]) if net.firm_ids is not None else str(firm)
    return {
        "variant": variant.name,
        "region": variant.region,
        "lockdown_days": variant.lockdown_days,
        "lost_output": float(res.lost_output),
        "owners_stalled": int(stalled.size),
        "owners_watched": int(watch_arr.size),
        "earliest_stall_day": earliest_day,
        "earliest_owner": earliest_owner,
    }


# --- local processes ---------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(net: SupplyNetwork, params: PropagationParams | None, watch: Any, threads: int) -> None:
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    _WORKER.update(net=net, params=params, watch=watch)


def _worker_task(variant: Variant) -> dict[str, Any]:
    return run_variant(_WORKER["net"], variant, _WORKER["params"], _WORKER["watch"])


def _run_local(net, items, params, watch, workers) -> list[dict[str, Any]]:
    cores = os.cpu_count() or 1
    threads = max(1, cores // workers)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_init_worker,
        initargs=(net, params, watch, threads),
    ) as pool:  # fmt: skip
        return list(pool.map(_worker_task, items))


# --- Ray --------------------------------------------------------------------------------------------


def _ray_task(net: SupplyNetwork, variant: Variant, params: PropagationParams | None, watch: Any) -> dict[str, Any]:
    return run_variant(net, variant, params, watch)


def _run_ray(net, items, params, watch, workers, address: str) -> list[dict[str, Any]]:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if address == "local":
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    try:
        task = ray.remote(_ray_task)
        net_ref = ray.put(net)
        return list(ray.get([task.remote(net_ref, v, params, watch) for v in items]))
    finally:
        if started_here:
            ray.shutdown()


def run_sweep(
    net: SupplyNetwork,
    items: Iterable[Variant],
    *,
    params: PropagationParams | None = None,
    watch: Any = None,
    workers: int | None = None,
    ray_address: str | None = None,
) -> list[dict[str, Any]]:
    """Rows for ``items`` in order: on Ray when ``ray_address`` is given, else in local processes.

    ``workers`` defaults to the number of cores (capped at the number of variants); ``workers=1``
    without Ray runs in this process (no pool).
    """
    items = list(items)
    if not items:
        return []
    workers = max(1, min(workers or os.cpu_count() or 1, len(items)))
    if ray_address:
        return _run_ray(net, items, params, watch, workers, ray_address)
    if workers == 1:
        return [run_variant(net, v, params, watch) for v in items]
    return _run_local(net, items, params, watch, workers)


def write_table(rows: Sequence[dict[str, Any]], path: str | Path, columns: Sequence[str] = COLUMNS) -> Path:
    """Write rows as JSON (``.json``: a list of objects) or CSV (anything else; UTF-8 with BOM)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=2),
                        encoding="utf-8")  # fmt: skip
        return path
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: "" if r.get(c) is None else r.get(c) for c in columns})
    return path
