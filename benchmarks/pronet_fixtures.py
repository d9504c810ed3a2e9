"""Generate proNet comparison fixtures: networks, delta files and the reference simulator's outputs.

Runs a ProductionNetworkSimulator (proNet) binary that YOU built from Hiroyasu Inoue's public
repository (e.g. ``g++ -std=c++11 -O3 -o proNet proNet.cpp``); this script neither builds nor
contains proNet code. It writes, under ``--out`` (default tests/engine/data/pronet/):

- ``<net>/A.txt C.txt P.txt F.txt``: generated networks in proNet's input format;
- ``<case>.delta.txt`` and ``<case>.pact.txt`` / ``<case>.fc.txt``: proNet's outputs per option set;
- ``cases.json``: one entry per case with its network and options.

Usage: python benchmarks/pronet_fixtures.py --pronet-bin /path/to/proNet [--out DIR]
Prints a JSON summary (cases, sizes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gulian.engine.generate import chung_lu  # noqa: E402
from gulian.engine.network import SupplyNetwork, from_arrays, write_pronet  # noqa: E402


def rounded(net: SupplyNetwork) -> SupplyNetwork:
    """The same network with values rounded to 4 decimals (short files, exact decimal input)."""
    value = np.maximum(np.round(net.links.data, 4), 1e-4)
    c = np.round(net.final_demand, 4)
    sales = np.bincount(net.link_supplier, weights=value, minlength=net.n_firms)
    return from_arrays(net.link_supplier, net.link_customer, value, sector=net.sector, output=sales + c, final_demand=c)


def networks(rng: np.random.Generator) -> dict[str, SupplyNetwork]:
    """Edge cases and generated scale-free networks."""
    nets = {
        # A → B → C, C sells to final demand only; A has no suppliers.
        "chain3": from_arrays([0, 1], [1, 2], [10.0, 10.0], sector=[0, 1, 2], final_demand=[1.0, 2.0, 10.0]),
        # One hub supplying 120 customers, which also trade among themselves a little.
        "star": star(rng),
        "n50": rounded(chung_lu(50, 250, 3, rng=rng)),
        "n300": rounded(chung_lu(300, 1500, 10, rng=rng)),
        "n2000": rounded(chung_lu(2000, 9000, 20, rng=rng)),
    }
    return nets


def star(rng: np.random.Generator) -> SupplyNetwork:
    n = 121
    sup = [0] * 120 + list(rng.integers(1, n, 60))
    cus = list(range(1, n)) + list(rng.integers(1, n, 60))
    keep = [(s, c) for s, c in zip(sup, cus, strict=True) if s != c]
    pairs = sorted(set(keep))
    value = np.round(rng.lognormal(0.0, 1.0, len(pairs)), 4) + 1e-4
    sector = np.concatenate([[0], rng.integers(1, 4, n - 1)])
    c = np.round(rng.uniform(0.5, 5.0, n), 4)
    return from_arrays([p[0] for p in pairs], [p[1] for p in pairs], value, sector=sector, final_demand=c)


RECOVERIES = {
    "none": {},
    "prop": {"b": 0, "c": 10, "S": 3},
    "uniform": {"b": 1, "c": 12, "S": 0},
    "immediate": {"b": 2, "c": 1, "S": 5},
    "exp": {"b": 4, "c": 8, "S": 2},
}


def cases() -> list[dict]:
    """Option sets per network (inventory ≥ 5 days and τ ≥ 3: see docs/engine/propagate.md)."""
    out = []
    for r in range(4):
        out.append({"net": "chain3", "R": r, "t": 40, "i": 5, "T": 6, "rec": "none", "delta": "first"})
        out.append({"net": "star", "R": r, "t": 40, "i": 5, "T": 3, "rec": "prop", "delta": "hub"})
        for rec in ("none", "prop"):
            out.append({"net": "n50", "R": r, "t": 60, "i": 15, "T": 6, "rec": rec, "delta": "random"})
        for rec, inv, tau in (("uniform", 5, 3), ("immediate", 10, 6), ("exp", 15, 10)):
            out.append({"net": "n300", "R": r, "t": 60, "i": inv, "T": tau, "rec": rec, "delta": "random"})
    # The example options on the largest network.
    for r in range(4):
        out.append({"net": "n2000", "R": r, "t": 60, "i": 15, "T": 6, "rec": "example", "delta": "random"})
    return out


def delta_lines(case: dict, net: SupplyNetwork, rng: np.random.Generator) -> list[str]:
    if case["delta"] == "first":
        return ["1 0.8"]
    if case["delta"] == "hub":
        return ["1 0.6 2"]
    k = max(1, net.n_firms // 10)
    firms = rng.choice(net.n_firms, k, replace=False)
    starts_zero = case["rec"] == "exp"  # proNet's exponential path counts days from day 0
    return [
        f"{i + 1} {rng.uniform(0.1, 1.0):.4f} {0 if starts_zero else int(rng.integers(0, 5))}" for i in firms
    ]


def run_pronet(binary: Path, net_dir: Path, case: dict, delta: Path, pact: Path, fc: Path) -> None:
    rec = {"b": 0, "c": 14, "S": 14} if case["rec"] == "example" else RECOVERIES[case["rec"]]
    cmd = [str(binary), "-m", "-t", str(case["t"]), "-R", str(case["R"]), "-i", str(case["i"]), "-T", str(case["T"])]
    for opt in ("b", "c", "S"):
        if opt in rec:
            cmd += [f"-{opt}", str(rec[opt])]
    with tempfile.TemporaryDirectory() as tmp:
        cmd += ["-d", str(delta), "-X", str(pact), "-f", str(fc), "-v", str(Path(tmp) / "va.txt")]
        cmd += [str(net_dir / f"{x}.txt") for x in "ACPF"]
        subprocess.run(cmd, check=True, cwd=tmp, capture_output=True)
    case.update({"b": rec.get("b", -1), "c": rec.get("c", 0), "S": rec.get("S", 0)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pronet-bin", required=True, type=Path, help="a proNet binary you built")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "engine" / "data" / "pronet")
    parser.add_argument("--seed", type=int, default=20200215)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    nets = networks(rng)
    for name, net in nets.items():
        write_pronet(net, args.out / name)
    manifest = []
    for k, case in enumerate(cases()):
        name = f"{k:02d}_{case['net']}_R{case['R']}_{case['rec']}"
        delta = args.out / f"{name}.delta.txt"
        delta.write_text("\n".join(delta_lines(case, nets[case["net"]], rng)) + "\n", encoding="utf-8")
        pact, fc = args.out / f"{name}.pact.txt", args.out / f"{name}.fc.txt"
        run_pronet(args.pronet_bin, args.out / case["net"], case, delta, pact, fc)
        manifest.append({"name": name, **case})
    (args.out / "cases.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(json.dumps({"cases": len(manifest), "networks": {k: [v.n_firms, v.n_links] for k, v in nets.items()}, "bytes": size}))


if __name__ == "__main__":
    main()
