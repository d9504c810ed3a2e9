"""Gulian's propagation against stored runs of Inoue's ProductionNetworkSimulator (proNet).

Fixtures come from benchmarks/pronet_fixtures.py; set GULIAN_PRONET_BIN to a proNet binary you built
to also compare on a fresh random network.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gulian.engine.generate import chung_lu
from gulian.engine.network import read_pronet, write_pronet
from gulian.engine.propagate import PropagationParams, Rationing, simulate
from gulian.engine.scenario import known_firm_stops, pronet_recovery, read_pronet_delta

DATA = Path(__file__).parent / "data" / "pronet"
CASES = json.loads((DATA / "cases.json").read_text(encoding="utf-8"))


def run_gulian(net_dir, delta, *, R, t, i, T, b, c, S):  # noqa: N803 (proNet option letters)
    net = read_pronet(*(net_dir / f"{x}.txt" for x in "ACPF"), inventory_days=i)
    scenario = known_firm_stops(net, read_pronet_delta(delta, recovery=pronet_recovery(b, c, S), steps=t))
    return simulate(net, scenario, PropagationParams(steps=t, tau=T, rationing=Rationing(R)))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_totals_match_pronet(case):
    res = run_gulian(DATA / case["net"], DATA / f"{case['name']}.delta.txt", **{k: case[k] for k in "RtiTbcS"})
    ref = np.loadtxt(DATA / f"{case['name']}.pact.txt")
    assert ref[0, 0] == -1 and ref.shape[0] == case["t"] + 1
    np.testing.assert_allclose(res.total_production, ref[:, 1], rtol=1e-6, atol=0)
    fc = np.loadtxt(DATA / f"{case['name']}.fc.txt")
    # proNet writes the initial final consumption with 6 significant digits, later days with 17.
    np.testing.assert_allclose(res.final_consumption[1:], fc[1:, 1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(res.final_consumption[0], fc[0, 1], rtol=1e-5)


def test_fixtures_exercise_shortages():
    """The stored runs are not trivial: most lose output and some lose more than 10 %."""
    drops = [np.loadtxt(DATA / f"{c['name']}.pact.txt")[:, 1] for c in CASES]
    lost = [1 - d.min() / d[0] for d in drops]
    assert sum(x > 1e-3 for x in lost) >= len(CASES) - 2
    assert max(lost) > 0.1


@pytest.mark.skipif(not os.environ.get("GULIAN_PRONET_BIN"), reason="set GULIAN_PRONET_BIN to a proNet binary to compare live")
@pytest.mark.parametrize("rationing", [0, 1, 2, 3])
def test_live_against_pronet_binary(tmp_path, rationing):
    rng = np.random.default_rng(int.from_bytes(os.urandom(4), "little"))
    net = chung_lu(500, 2500, 8, rng=rng)
    write_pronet(net, tmp_path)
    firms = rng.choice(net.n_firms, 50, replace=False)
    (tmp_path / "D.txt").write_text("".join(f"{k + 1} {rng.uniform(0.1, 1):.6f} {rng.integers(0, 5)}\n" for k in firms))
    cmd = [os.environ["GULIAN_PRONET_BIN"], "-m", "-t", "60", "-R", str(rationing), "-b", "0", "-c", "14", "-S", "3",
           "-i", "15", "-T", "6", "-d", "D.txt", "-X", "pact.txt", "-v", "va.txt", "A.txt", "C.txt", "P.txt", "F.txt"]
    subprocess.run(cmd, check=True, cwd=tmp_path, capture_output=True)
    ref = np.loadtxt(tmp_path / "pact.txt")[:, 1]
    res = run_gulian(tmp_path, tmp_path / "D.txt", R=rationing, t=60, i=15, T=6, b=0, c=14, S=3)
    np.testing.assert_allclose(res.total_production, ref, rtol=1e-6, atol=0)
