"""Engine benchmarks (issue #4): propagation, screen, exposure LP and sector ARIO, one JSON object.

Run: ``make bench-engine`` or ``.venv/bin/python benchmarks/engine.py [--parts propagate,screen,...]``.
Each part is its own script (``engine_<part>.py``, runnable alone with its own options) and runs in its
own subprocess, so one part's memory does not weigh on the next. Every part reports its figures with a
baseline measured in the same run (a sparse mat-vec, a single LP, BoARIO), as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ["propagate", "screen", "exposure", "ario"]


def run_part(part: str, extra: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / f"engine_{part}.py"), *extra], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-5:]}
    text = out.stdout
    return json.loads(text[text.index("\n{") + 1 :] if not text.startswith("{") else text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    args, extra = parser.parse_known_args()
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    for part in args.parts.split(","):
        if part not in PARTS:
            parser.error(f"unknown part {part!r}")
        result[part] = run_part(part, extra)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
