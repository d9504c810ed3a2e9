"""Registry benchmarks: imports (100k-row .xlsx, 500k-row .csv) and the chain page at 5,000 members.

Run: ``make bench`` or ``GULIAN_DEMO=1 .venv/bin/python benchmarks/registry.py``. Prints one JSON object.
Each part runs in its own subprocess with a fresh SQLite database in a temporary directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ["registry_import.py", "registry_chain_page.py"]


def run_part(script: str) -> dict:
    env = dict(os.environ, GULIAN_DEMO="1")
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, str(HERE / script)], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-5:]}
    # each part prints one JSON object (possibly indented) after any progress lines
    text = out.stdout
    return json.loads(text[text.index("\n{") + 1 :] if not text.startswith("{") else text)


def main() -> None:
    import platform

    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    for script in PARTS:
        result[script.removesuffix(".py")] = run_part(script)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
