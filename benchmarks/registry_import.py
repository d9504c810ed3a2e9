"""Benchmark: import a 100,000-row enterprise .xlsx and a 500,000-row supply-link .csv.

Run as ``GULIAN_DEMO=1 .venv/bin/python benchmarks/registry_import.py [--firms N] [--links M]``;
prints JSON. Each import runs end to end (read, validate, bulk write, audit
records) as the system administrator into a fresh SQLite database in a
temporary directory, then again with the same file (nothing changes, nothing
is written). Target: the .xlsx in under 15 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

CATEGORIES = ("钢材", "芯片", "电池", "电机", "塑料粒子", "线束", "玻璃", "轴承", "橡胶件", "包装材料")
SCALES = ("大型", "中型", "小型", "微型")


def _setup(workdir: Path) -> None:
    """Point Django at a fresh SQLite file in ``workdir`` and migrate (must run before django.setup())."""
    os.environ["GULIAN_VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("GULIAN_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gulian.settings")
    src = Path(__file__).resolve().parent.parent / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _usccs(n: int) -> list[str]:
    from gulian.core.models import Region
    from gulian.core.uscc import ALPHABET, make

    counties = list(
        Region.objects.filter(code__startswith="33", level="county").values_list("code", flat=True)
    )
    out = []
    for i in range(n):
        body = "".join(ALPHABET[(i // 31**k) % 31] for k in range(7))[::-1]
        out.append(make(counties[i % len(counties)], "B" + body))
    return out


def make_enterprise_xlsx(path: Path, usccs: list[str]) -> None:
    """A realistic list: title row, header, one row per firm (numbers as numbers, codes as text)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("企业名单")
    ws.write_string(0, 0, "浙江省重点产业链企业名单（基准测试）")
    header = [
        "统一社会信用代码",
        "企业名称",
        "所在区域代码",
        "行业代码",
        "企业规模",
        "是否规上",
        "从业人数",
        "基期年产值（元）",
        "联系人",
        "联系电话",
        "邮箱",
        "地址",
    ]
    ws.write_row(1, 0, header)
    for i, code in enumerate(usccs):
        r = i + 2
        ws.write_string(r, 0, code)
        ws.write_string(r, 1, f"浙江测试企业{i:06d}有限公司")
        ws.write_string(r, 2, code[2:8])
        ws.write_string(r, 3, str(13 + i % 30))
        ws.write_string(r, 4, SCALES[i % 4])
        ws.write_string(r, 5, "是" if i % 3 else "否")
        ws.write_number(r, 6, 20 + i % 900)
        ws.write_number(r, 7, 1_000_000 + i * 1000.5)
        ws.write_string(r, 8, "张三")
        ws.write_string(r, 9, f"1380000{i % 10000:04d}")
        ws.write_string(r, 10, f"firm{i}@example.cn")
        ws.write_string(r, 11, f"浙江省某某市某某路{i % 500}号")
    wb.close()


def make_link_csv(path: Path, usccs: list[str], n_links: int) -> None:
    """Links with unique (supplier, customer, category): customer k mod N, supplier a fixed stride away."""
    n = len(usccs)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "供应商信用代码",
                "客户信用代码",
                "投入品类别",
                "年采购额（元）",
                "占比",
                "交货周期（天）",
                "库存天数",
                "有无替代",
            ]
        )
        for k in range(n_links):
            customer = k % n
            supplier = (customer + (k // n + 1) * 9973) % n
            share = f"{(k % 90) + 10}%" if k % 2 else f"0.{(k % 90) + 10}"
            w.writerow(
                [
                    usccs[supplier],
                    usccs[customer],
                    CATEGORIES[k % len(CATEGORIES)],
                    50_000 + k % 1000 * 1000,
                    share,
                    3 + k % 30,
                    f"{k % 60}.5",
                    "是" if k % 4 == 0 else "否",
                ]
            )


def _timed_import(kind: str, path: Path) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result); SQLite runs in-process, so CPU covers it."""
    from gulian.registry.io import SYSTEM, import_file

    wall, cpu = time.perf_counter(), time.process_time()
    result = import_file(kind, path.read_bytes(), path.name, SYSTEM)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run(n_firms: int = 100_000, n_links: int = 500_000) -> dict:
    """Generate both files, import each into a fresh database, return the figures.

    Call it in a process where Django is not set up yet: it points the settings at a temporary
    SQLite file first.
    """
    workdir = Path(tempfile.mkdtemp(prefix="gulian-bench-"))
    try:
        _setup(workdir)
        figures: dict = {"firms": n_firms, "links": n_links}
        t = time.perf_counter()
        usccs = _usccs(n_firms)
        xlsx, links = workdir / "enterprises.xlsx", workdir / "links.csv"
        make_enterprise_xlsx(xlsx, usccs)
        figures["generate_xlsx_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        make_link_csv(links, usccs, n_links)
        figures["generate_csv_s"] = round(time.perf_counter() - t, 2)
        figures["xlsx_mb"] = round(xlsx.stat().st_size / 1e6, 1)
        figures["csv_mb"] = round(links.stat().st_size / 1e6, 1)
        for kind, path, rows in (("enterprises", xlsx, n_firms), ("links", links, n_links)):
            seconds, cpu, result = _timed_import(kind, path)
            assert result.ok and result.created == rows, (result.summary(), result.errors[:5])
            again, _cpu, result2 = _timed_import(kind, path)
            assert result2.ok and result2.unchanged == rows, result2.summary()
            figures[f"{kind}_import_s"] = round(seconds, 2)
            figures[f"{kind}_import_cpu_s"] = round(cpu, 2)
            figures[f"{kind}_rows_per_s"] = round(rows / seconds)
            figures[f"{kind}_reimport_unchanged_s"] = round(again, 2)
        from gulian.core.models import AuditRecord

        figures["audit_records"] = AuditRecord.objects.count()
        figures["xlsx_target_met"] = figures["enterprises_import_s"] < 15
        return figures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=500_000)
    args = parser.parse_args()
    print(json.dumps(run(args.firms, args.links), ensure_ascii=False, indent=2))
