"""``gulian risk simulate --pronet``: proNet's files in, its PAct totals out (docs/cli.md)."""

import argparse
import io
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management.base import CommandError

from gulian.risk.commands import simulate as cmd

DATA = Path(__file__).parent / "data" / "pronet"


class FakeCommand:
    def __init__(self):
        self.stdout, self.stderr = io.StringIO(), io.StringIO()


def parse(argv):
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    return vars(parser.parse_args(argv))


def files(net):
    return [str(DATA / net / f"{x}.txt") for x in "ACPF"]


def test_pronet_mode_writes_pact_totals(tmp_path):
    case = next(c for c in json.loads((DATA / "cases.json").read_text()) if c["rec"] == "example" and c["R"] == 2)
    out = tmp_path / "totals.csv"
    argv = ["--pronet", *files("n2000"), "--delta", str(DATA / f"{case['name']}.delta.txt"), "--steps", "60",
            "--rationing", "2", "--recovery", "proportional", "--recovery-days", "14", "--recovery-delay", "14",
            "--inventory-days", "15", "--tau", "6", "--out", str(out)]
    cmd.run(FakeCommand(), parse(argv))
    lines = out.read_text().splitlines()
    assert lines[0] == "step,total_production" and lines[1].startswith("-1,")
    got = np.loadtxt(out, delimiter=",", skiprows=1)
    ref = np.loadtxt(DATA / f"{case['name']}.pact.txt")
    np.testing.assert_array_equal(got[:, 0], ref[:, 0])
    np.testing.assert_allclose(got[:, 1], ref[:, 1], rtol=1e-6)


def test_pronet_defaults_are_pronets():
    opts = parse(["--pronet", *files("chain3")])
    fake = FakeCommand()
    cmd.run(fake, opts)
    rows = fake.stdout.getvalue().splitlines()
    assert len(rows) == 1 + 11  # header, step -1 and proNet's default 10 steps


def test_bad_files_are_command_errors(tmp_path):
    bad = tmp_path / "D.txt"
    bad.write_text("1 2.5\n")
    with pytest.raises(CommandError, match="0..1"):
        cmd.run(FakeCommand(), parse(["--pronet", *files("chain3"), "--delta", str(bad)]))
    with pytest.raises(CommandError, match="needs days"):
        cmd.run(FakeCommand(), parse(["--pronet", *files("chain3"), "--recovery", "uniform"]))
