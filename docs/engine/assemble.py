"""Assemble docs/engine.md from the sections in docs/engine/*.md (headings demoted one level).

Run with `make engine-doc` after editing a section; tests/test_docs.py checks the two agree.
"""
import re
from pathlib import Path

root = Path(__file__).resolve().parents[1]
order = ["network", "adapter", "screen", "propagate", "exposure", "nowcast", "ario"]
titles = {}
parts = []
for name in order:
    text = (root / "engine" / f"{name}.md").read_text()
    lines = text.splitlines()
    first = next((l for l in lines if l.startswith("#")), name)
    title = first.lstrip("#").strip()
    titles[name] = title
    out = []
    in_code = False
    for l in lines:
        if l.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"^#{1,5} ", l):
            level = len(l) - len(l.lstrip("#"))
            if l is first or l == first:
                l = "## " + l.lstrip("#").strip()
            else:
                l = "#" * min(level + 1, 6) + " " + l.lstrip("#").strip()
        out.append(l)
    parts.append("\n".join(out).strip() + "\n")

def anchor(t):
    t = t.lower()
    t = re.sub(r"[^\w\- ]", "", t)
    return t.replace(" ", "-")

head = """# The engine (gulian.engine): equations, parameters, defaults and references

This is the model maths behind the risk pages and `gulian risk` commands. The code's docstrings
point here; every equation, parameter, default, assumption and reference is in one of the sections
below. `gulian.engine` is pure numpy/scipy (numba for the hot loops) and never imports Django; the
registry adapter (`gulian.risk.adapter`) turns the registry into the engine's arrays. The sections
are also kept as separate files in `docs/engine/` (this file is assembled from them: edit those and
run `make engine-doc`).

Contents:

""" + "\n".join(f"- [{titles[n]}](#{anchor(titles[n])})" for n in order) + "\n\n"


def assembled() -> str:
    """The text docs/engine.md should have."""
    return head + "\n".join(parts)


if __name__ == "__main__":
    (root / "engine.md").write_text(assembled())
    print(f"wrote {root / 'engine.md'}")
