"""Importing enterprises, chains and links from messy real-looking files."""

from __future__ import annotations

import io
from decimal import Decimal
from unittest import mock

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from gulian.core import audit
from gulian.core.models import AuditRecord, Role
from gulian.core.uscc import ALPHABET, make
from gulian.registry.io import SYSTEM, import_file, write_template
from gulian.registry.io.parsers import _uscc_check
from gulian.registry.models import Chain, Enterprise, Membership, Segment, SupplyLink
from tests.conftest import next_uscc


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def xlsx(rows: dict[int, list], merged_title: str | None = None, width: int = 12) -> bytes:
    """A workbook with ``rows`` at their 1-based Excel row numbers (gaps stay blank)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet("名单")
    if merged_title:
        ws.merge_range(0, 0, 0, width - 1, merged_title, wb.add_format({"bold": True, "align": "center"}))
    for number, cells in rows.items():
        for c, value in enumerate(cells):
            if value is None:
                continue
            (ws.write_number if isinstance(value, int | float) else ws.write_string)(number - 1, c, value)
    wb.close()
    return buf.getvalue()


def rejected(result) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.code) for e in result.errors]


HEADER = [
    " 统一社会信用代码 ",
    "企业名称 ",
    "所在区域代码",
    "行业代码",
    "企业规模",
    "是否规上",
    "从业人数",
    "基期年产值（万元）",
    "联系人",
    "联系电话",
    "邮箱",
    "备注",
]


@pytest.fixture
def messy(two_cities):
    return build_messy(two_cities)


def build_messy(ns):
    """The workbook a city office really sends: title, notes, blank rows, full-width digits, mistakes."""
    good = next_uscc("330106")
    bad_check = next_uscc("330108")
    bad_check = bad_check[:17] + ALPHABET[(ALPHABET.index(bad_check[17]) + 1) % 31]
    rows = {
        3: ["说明：规上企业填“是”；产值单位万元；红色为必填项"],
        4: HEADER,
        5: [
            fullwidth(good),
            "杭州新材料科技有限公司",
            "330106",
            "39",
            "小型",
            "是",
            "１２０",
            "1,234.5",
            "王五",
            "0571-88886666",
            "wang@example.cn",
            "新增",
        ],
        7: [ns.hz_firm.uscc, "杭州甲公司", "330106", "C36", "大型", "是", 300, 5000, None, None, None, None],
        8: [bad_check, "校验码错误公司", "330108", "39", "小型", "否", 10, None, None, None, None, None],
        9: [
            next_uscc("330106"),
            "区域不存在公司",
            "339999",
            "39",
            "小型",
            "否",
            10,
            None,
            None,
            None,
            None,
            None,
        ],
        10: [
            next_uscc("330203"),
            "宁波新公司",
            "330203",
            "39",
            "中型",
            "是",
            50,
            None,
            None,
            None,
            None,
            None,
        ],
        11: [
            good,
            "杭州新材料科技有限公司（重复）",
            "330106",
            "39",
            "小型",
            "是",
            120,
            None,
            None,
            None,
            None,
            None,
        ],
        12: [ns.nb_firm.uscc, "宁波丙公司", "330203", "39", "大型", "是", 999, None, None, None, None, None],
        13: [
            next_uscc("330110"),
            "填错规模公司",
            "330110",
            "39",
            "巨型",
            "是",
            15,
            None,
            None,
            None,
            "not-an-email",
            None,
        ],
    }
    ns.good_uscc = good
    ns.data = xlsx(rows, merged_title="浙江省重点产业链企业名单（2020年2月）")
    return ns


EXPECTED = [
    (8, "统一社会信用代码", "uscc_checksum"),
    (9, "所在区域代码", "region_unknown"),
    (10, "所在区域代码", "out_of_scope"),
    (11, "统一社会信用代码", "duplicate"),
    (12, "统一社会信用代码", "out_of_scope"),
    (13, "企业规模", "choice"),
    (13, "邮箱", "email"),
]


def test_messy_workbook_is_reported_and_nothing_applied(messy):
    before = (Enterprise.objects.count(), AuditRecord.objects.count())
    result = import_file("enterprises", messy.data, "名单.xlsx", messy.hz)
    assert rejected(result) == EXPECTED
    assert result.header_row == 4 and result.ignored_columns == ["备注"]
    assert (result.created, result.updated, result.rejected, result.applied) == (1, 1, 6, False)
    assert (Enterprise.objects.count(), AuditRecord.objects.count()) == before
    messy.hz_firm.refresh_from_db()
    assert messy.hz_firm.employees is None
    dup = next(e for e in result.errors if e.code == "duplicate")
    assert dup.reason == "与第5行重复 / duplicates row 5"
    assert next(e for e in result.errors if e.row == 10).reason == "超出管辖范围 / outside your scope"


def test_partial_applies_good_rows_and_reimport_changes_nothing(messy):
    result = import_file("enterprises", messy.data, "名单.xlsx", messy.hz, partial=True)
    assert rejected(result) == EXPECTED
    assert (result.created, result.updated, result.applied) == (1, 1, True)
    new = Enterprise.objects.get(uscc=messy.good_uscc)
    assert (new.name, new.region_id, new.industry_id, new.scale, new.above_designated_size) == (
        "杭州新材料科技有限公司",
        "330106",
        "39",
        "small",
        True,
    )
    assert new.employees == 120 and new.baseline_output == Decimal("12345000.00")  # 1,234.5 万元
    messy.hz_firm.refresh_from_db()
    assert (messy.hz_firm.employees, messy.hz_firm.scale, messy.hz_firm.industry_id) == (300, "large", "36")
    assert messy.hz_firm.baseline_output == Decimal("50000000.00")
    records = list(AuditRecord.objects.order_by("seq"))
    assert [(r.action, r.object_pk) for r in records] == [
        ("import_create", str(new.pk)),
        ("import_update", str(messy.hz_firm.pk)),
    ]
    assert records[1].before["employees"] is None and records[1].after["employees"] == 300
    assert records[0].actor_name == messy.hz.username
    assert not Enterprise.objects.filter(uscc=messy.nb_firm.uscc, employees=999).exists()

    assert list(audit.verify()) == []

    again = import_file("enterprises", messy.data, "名单.xlsx", messy.hz, partial=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert AuditRecord.objects.count() == 2


def test_partial_import_is_one_transaction(messy):
    calls = []

    def failing(actor, changes):
        calls.append(len(changes))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(actor, changes)

    original = audit.record_many
    with (
        mock.patch("gulian.registry.io.base.audit.record_many", side_effect=failing),
        pytest.raises(RuntimeError),
    ):
        import_file("enterprises", messy.data, "名单.xlsx", messy.hz, partial=True)
    assert calls == [1, 1]  # the create was written and audited, then the update failed
    assert not Enterprise.objects.filter(uscc=messy.good_uscc).exists()
    assert AuditRecord.objects.count() == 0


def test_dry_run_counts_without_writing(messy):
    result = import_file("enterprises", messy.data, "名单.xlsx", messy.hz, partial=True, dry_run=True)
    assert (result.created, result.updated, result.applied, result.dry_run) == (1, 1, False, True)
    assert not Enterprise.objects.filter(uscc=messy.good_uscc).exists()


def test_csv_in_gbk_with_english_headers_and_title_line(two_cities):
    code = next_uscc("330106")
    text = (
        "杭州市企业名单,,,\r\n"
        "\r\n"
        "USCC,Enterprise name,Region code,Employees,Above designated size\r\n"
        f'{code},杭州（集团）有限公司 ,浙江省杭州市西湖区,"1,200",Y\r\n'
        f"{next_uscc('330106')},,330106,5,N\r\n"
        f"{next_uscc('330106')},西湖公司,西湖区,5,N\r\n"
    )
    result = import_file("enterprises", text.encode("gbk"), "list.csv", two_cities.hz)
    # the second firm has no name: row 5 as Excel numbers the records of this CSV
    assert rejected(result) == [(5, "Enterprise name", "required"), (6, "Region code", "region_ambiguous")]
    result = import_file("enterprises", text.encode("gbk"), "list.csv", two_cities.hz, partial=True)
    firm = Enterprise.objects.get(uscc=code)
    assert (firm.name, firm.region_id, firm.employees, firm.above_designated_size) == (
        "杭州（集团）有限公司",
        "330106",
        1200,
        True,
    )


def test_utf8_bom_csv_and_foreign_supplier_rows(two_cities):
    text = "统一社会信用代码,企业名称,国家/地区,所在区域代码\n,Bosch GmbH,德国,\n,Murata Manufacturing,JP,\n,无国别公司,,\n"
    result = import_file("enterprises", text.encode("utf-8-sig"), "f.csv", two_cities.hz, partial=True)
    assert rejected(result) == [(4, "统一社会信用代码", "required")]
    assert (result.created, result.unchanged) == (1, 1)  # Murata exists already
    assert Enterprise.objects.get(name="Bosch GmbH").country == "DE"
    # a liaison reads foreign firms (unchanged rows pass) but only task forces register them
    liaison = import_file(
        "enterprises", (text + ",Infineon AG,DE,\n").encode(), "f.csv", two_cities.liaison_hz
    )
    assert rejected(liaison) == [(4, "统一社会信用代码", "required"), (5, "国家/地区", "out_of_scope")]


def test_file_level_problems_are_reported_not_raised(two_cities):
    no_header = xlsx({1: ["随便写的表"], 2: ["a", "b"]})
    assert rejected(import_file("enterprises", no_header, "x.xlsx", two_cities.hz)) == [(0, "", "no_header")]
    only_name = "企业名称,从业人数\n甲,1\n".encode()
    links = import_file("links", only_name, "x.csv", two_cities.hz)
    assert [e.code for e in links.errors] == ["no_header"]
    missing = "投入品类别,客户信用代码\n钢材,x\n".encode()
    assert rejected(import_file("links", missing, "x.csv", two_cities.hz)) == [
        (1, "供应商信用代码", "missing_column")
    ]
    broken = import_file("enterprises", b"PK\x03\x04 not really a zip", "x.xlsx", two_cities.hz)
    assert [e.code for e in broken.errors] == ["unreadable"]


def test_template_example_row_is_skipped(two_cities):
    for kind in ("enterprises", "chains", "links"):
        buf = io.BytesIO()
        write_template(kind, buf)
        result = import_file(kind, buf.getvalue(), "模板.xlsx", two_cities.admin)
        assert result.ok and result.rows == 0, kind


def link_csv(rows: list[list[str]]) -> bytes:
    head = "供应商信用代码,供应商名称,供应商国家/地区,客户信用代码,投入品类别,年采购额（元）,占比,交货周期（天）,库存天数,有无替代\n"
    return (head + "".join(",".join(r) + "\n" for r in rows)).encode()


def test_links_import(two_cities):
    ns = two_cities
    hz, hz2, nb = ns.hz_firm.uscc, ns.hz_firm2.uscc, ns.nb_firm.uscc
    unknown = next_uscc("330106")
    data = link_csv(
        [
            [nb, "", "", hz, "电池", '"1,200,000"', "85%", "7", "12.5", "否"],  # 2 existing link: update
            [hz2, "", "", hz, "钢材", "", "85 %", "", "", "是"],  # 3 new, 市内
            ["", "Murata Manufacturing", "日本", hz, "电容", "", "０.８５", "30", "", ""],  # 4 new, 境外
            ["", "Murata Manufacturing", "JP", hz, "电容", "", "８５％", "", "", ""],  # 5 duplicate of 4
            [unknown, "", "", hz, "芯片", "", "", "", "", ""],  # 6 unknown supplier
            [hz2, "", "", nb, "电机", "", "1.5", "", "", ""],  # 7 share out of range
            [nb, "", "", ns.foreign_firm.name, "x", "", "", "", "", ""],  # 8 bad customer USCC
            [hz, "", "", hz, "自供", "", "", "", "", ""],  # 9 self link
        ]
    )
    nb_only = link_csv(
        [[ns.foreign_firm.uscc or "", "Murata Manufacturing", "JP", nb, "电容", "", "", "", "", "否"]]
    )
    result = import_file("links", data, "links.csv", ns.hz, partial=True)
    assert rejected(result) == [
        (5, "投入品类别", "duplicate"),
        (6, "供应商信用代码", "enterprise_unknown"),
        (7, "占比", "share_range"),
        (8, "客户信用代码", "uscc_length"),
        (9, "客户信用代码", "self_link"),
    ]
    assert (result.created, result.updated) == (2, 1)
    ns.hz_link.refresh_from_db()
    assert (ns.hz_link.annual_value, ns.hz_link.share, ns.hz_link.lead_time_days) == (
        Decimal("1200000.00"),
        Decimal("0.8500"),
        7,
    )
    assert ns.hz_link.inventory_days == Decimal("12.5")
    steel = SupplyLink.objects.get(customer=ns.hz_firm, input_category="钢材")
    assert (steel.scope, steel.share, steel.alternatives_known) == ("city", Decimal("0.85"), True)
    assert SupplyLink.objects.get(customer=ns.hz_firm, input_category="电容").scope == "foreign"
    # a Hangzhou user cannot touch a link between a foreign supplier and a Ningbo customer
    other = import_file("links", nb_only, "x.csv", ns.hz)
    assert rejected(other) == [(2, "客户信用代码", "out_of_scope")]
    again = import_file("links", data, "links.csv", ns.hz, partial=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    reprs = set(AuditRecord.objects.filter(action="import_create").values_list("object_repr", flat=True))
    assert reprs == {"杭州乙公司 → 杭州甲公司 (钢材)", "Murata Manufacturing → 杭州甲公司 (电容)"}
    assert list(audit.verify()) == []


def test_query_count_does_not_grow_with_rows(two_cities):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ns = two_cities
    firms = [ns.hz_firm, ns.hz_firm2, ns.nb_firm]
    counts = []
    for n in (1, 3, 30):  # the first run also creates the audit chain's head row
        rows = [
            [firms[k % 3].uscc, "", "", firms[(k + 1) % 3].uscc, f"品类{n}-{k}", "100", "10%", "", "", ""]
            for k in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            result = import_file("links", link_csv(rows), "l.csv", ns.hz)
        assert result.ok and result.created == n
        counts.append(len(ctx.captured_queries))
    assert counts[1] == counts[2]


def test_chains_import(two_cities):
    ns = two_cities
    data = xlsx(
        {
            1: [
                "产业链编码",
                "产业链名称",
                "所属区域代码",
                "链长",
                "环节",
                "环节顺序",
                "统一社会信用代码",
                "企业名称",
                "国家/地区",
                "角色",
            ],
            2: ["ic", "集成电路", "330000", "副省长 某某", "设计", 1, ns.hz_firm.uscc, None, None, "链主"],
            3: ["ic", None, None, None, "制造", 2, ns.nb_firm.uscc, None, None, "核心配套"],
            4: ["ic", None, None, None, "材料", 3, None, "Murata Manufacturing", "日本", "配套"],
            5: ["ic", "集成电路产业链", None, None, "封测", None, None, None, None, None],
            6: ["auto", None, None, None, "整车", None, ns.hz_firm.uscc, None, None, "核心配套企业"],
            7: ["auto", None, None, None, "电池", 1, ns.hz_firm2.uscc, None, None, "owner"],
        }
    )
    result = import_file("chains", data, "chains.xlsx", ns.province, partial=True)
    assert rejected(result) == [(5, "产业链名称", "chain_mismatch"), (7, "环节顺序", "segment_order")]
    chain = Chain.objects.get(code="ic")
    assert (chain.name, chain.region_id, chain.leader) == ("集成电路", "330000", "副省长 某某")
    assert list(chain.segments.values_list("order", "name")) == [(1, "设计"), (2, "制造"), (3, "材料")]
    roles = dict(Membership.objects.filter(chain=chain).values_list("enterprise__name", "role"))
    assert roles == {"杭州甲公司": "owner", "宁波丙公司": "core", "Murata Manufacturing": "supplier"}
    assert Membership.objects.get(chain=ns.chain, enterprise=ns.hz_firm).role == "core"  # owner → core
    assert (result.created, result.updated) == (3, 1)
    records = AuditRecord.objects.count()
    # the chain and its three segments (through the services), three new members, one role change
    assert records == 1 + 3 + 3 + 1
    again = import_file("chains", data, "chains.xlsx", ns.province, partial=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert AuditRecord.objects.count() == records
    assert Segment.objects.filter(chain=chain).count() == 3


def test_chain_scope(two_cities):
    ns = two_cities
    data = xlsx(
        {
            1: ["产业链编码", "产业链名称", "所属区域代码", "环节", "统一社会信用代码"],
            2: ["zj-chips", "全省芯片", "330000", "设计", ns.hz_firm.uscc],
            3: ["hz-chips", "杭州芯片", "330100", "设计", ns.hz_firm.uscc],
            4: ["hz-chips", None, None, "制造", ns.nb_firm.uscc],
            5: ["auto", None, None, "电池", None],
        }
    )
    result = import_file("chains", data, "c.xlsx", ns.hz, partial=True)
    # a city task force neither creates a provincial chain, nor adds another city's firm, nor edits
    # the provincial chain it can only read
    assert rejected(result) == [
        (2, "所属区域代码", "out_of_scope"),
        (4, "统一社会信用代码", "out_of_scope"),
        (5, "环节", "out_of_scope"),
    ]
    assert not Chain.objects.filter(code="zj-chips").exists()
    assert list(
        Membership.objects.filter(chain__code="hz-chips").values_list("enterprise__name", "role")
    ) == [("杭州甲公司", "supplier")]
    assert not Segment.objects.filter(chain=ns.chain, name="电池").exists()
    office = import_file("chains", data, "c.xlsx", ns.hz_enterprise)
    assert {e.code for e in office.errors} == {"out_of_scope"}


def test_city_user_cannot_write_the_other_city(two_cities):
    ns = two_cities
    data = xlsx(
        {
            1: ["统一社会信用代码", "企业名称", "所在区域代码", "从业人数"],
            2: [ns.nb_firm.uscc, "宁波丙公司", "330203", 1],
            3: [ns.hz_firm.uscc, "杭州甲公司", "330203", 1],
        }
    )  # moving a Hangzhou firm to Ningbo
    result = import_file("enterprises", data, "x.xlsx", ns.hz, partial=True)
    assert rejected(result) == [(2, "统一社会信用代码", "out_of_scope"), (3, "所在区域代码", "out_of_scope")]
    assert Enterprise.objects.get(pk=ns.hz_firm.pk).region_id == "330106"
    enterprise_user = import_file("enterprises", data, "x.xlsx", ns.hz_enterprise)
    assert {e.code for e in enterprise_user.errors} == {"out_of_scope"}


def test_liaison_creates_firms_assigned_to_themselves(two_cities):
    code = next_uscc("330106")
    data = f"统一社会信用代码,企业名称,所在区域代码\n{code},联络企业,330106\n".encode()
    result = import_file("enterprises", data, "x.csv", two_cities.liaison_hz)
    assert result.ok and result.created == 1
    assert Enterprise.objects.get(uscc=code).liaison == two_cities.liaison_hz


def test_uscc_fast_path_matches_stdnum():
    from stdnum.cn import uscc as stdnum_uscc

    for n in range(2000):
        body = "".join(ALPHABET[(n * 7 + i * 13) % 31] for i in range(8))
        code = make("330106", body)
        assert _uscc_check(code) == stdnum_uscc.calc_check_digit(code) == code[17]


def test_cli_import_reports_and_exits_1(messy, tmp_path):
    src, report = tmp_path / "名单.xlsx", tmp_path / "errors.xlsx"
    src.write_bytes(messy.data)
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(
            "import",
            "enterprises",
            str(src),
            "--user",
            messy.hz.username,
            "--errors",
            str(report),
            stdout=out,
        )
    assert exc.value.returncode == 1 and "拒绝 6 行" in str(exc.value)
    assert "第 8 行 / row 8\t统一社会信用代码" in out.getvalue()
    import polars as pl

    sheet = pl.read_excel(report, engine="calamine")
    assert sheet.height == 7 and sheet.row(0)[0] == 8
    assert not Enterprise.objects.filter(uscc=messy.good_uscc).exists()


def test_cli_import_as_system_writes_with_system_actor(two_cities, tmp_path):
    code = next_uscc("330203")
    src = tmp_path / "x.csv"
    src.write_text(f"统一社会信用代码,企业名称,所在区域代码\n{code},系统导入公司,330203\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import", "enterprises", str(src), stdout=out)
    assert "新增 1" in out.getvalue()
    record = AuditRecord.objects.get(action="import_create")
    assert (record.actor_id, record.actor_name) == (None, "system")
    with pytest.raises(CommandError):
        call_command("import", "enterprises", str(src), "--user", "nobody", stdout=io.StringIO())


def test_import_roles_for_system_actor_are_admin():
    assert SYSTEM.is_admin and SYSTEM.role == Role.ADMIN and str(SYSTEM) == "system"


def test_fast_insert_stores_what_bulk_create_stores(db):
    from gulian.core import bulk

    def firm(code):
        return Enterprise(
            uscc=code,
            name=f"企业{code[-4:]}",
            region_id="330106",
            industry_id="39",
            scale="small",
            above_designated_size=True,
            employees=12,
            baseline_output=Decimal("1234.50"),
            contact_email="a@b.cn",
        )

    fast, slow = firm(next_uscc("330106")), firm(next_uscc("330106"))
    bulk.insert(Enterprise, [fast])
    Enterprise.objects.bulk_create([slow])
    assert fast.pk and not fast._state.adding
    fields = [f.attname for f in Enterprise._meta.concrete_fields if f.attname not in ("id", "uscc", "name")]
    stored = {e["uscc"]: e for e in Enterprise.objects.values("uscc", *fields)}
    a, b = stored[fast.uscc], stored[slow.uscc]
    assert a["created_at"] == fast.created_at and b["created_at"] is not None
    assert {k: v for k, v in a.items() if k not in ("uscc", "created_at", "updated_at")} == {
        k: v for k, v in b.items() if k not in ("uscc", "created_at", "updated_at")
    }
    assert a["baseline_output"] == Decimal("1234.50")


def test_chain_name_clash_is_a_row_error(two_cities):
    data = "产业链编码,产业链名称,所属区域代码\nev,节能与新能源汽车,330000\nev2,新能源汽车,330000\nev3,新能源汽车,330000\n"
    result = import_file("chains", data.encode(), "c.csv", two_cities.province, partial=True)
    assert rejected(result) == [(2, "产业链名称", "chain_name_taken"), (4, "产业链名称", "chain_name_taken")]
    assert "编码 auto" in result.errors[0].reason and "编码 ev2" in result.errors[1].reason
    assert Chain.objects.filter(code="ev2").exists() and not Chain.objects.filter(code="ev").exists()


def test_a_failing_write_is_reported_and_rolled_back(two_cities):
    from django.db import IntegrityError

    code = next_uscc("330106")
    data = f"统一社会信用代码,企业名称,所在区域代码\n{code},甲,330106\n".encode()
    with mock.patch("gulian.registry.io.base.audit.record_many", side_effect=IntegrityError("UNIQUE failed")):
        result = import_file("enterprises", data, "x.csv", two_cities.hz)
    assert rejected(result) == [(0, "", "write_failed")] and not result.applied
    assert not Enterprise.objects.filter(uscc=code).exists()


def test_chain_office_maintains_its_own_chain(two_cities, make_user):
    ns = two_cities
    office = make_user(Role.CHAIN_OFFICE, "330000")
    office.chains.add(ns.chain)
    Chain.objects.create(code="other", name="其他链", region_id="330000")
    members = (
        "产业链编码,环节,统一社会信用代码,角色\n"
        f"auto,整车,{ns.hz_firm2.uscc},配套\n"
        f"other,,{ns.hz_firm2.uscc},配套\n"
    )
    result = import_file("chains", members.encode(), "m.csv", office, partial=True)
    assert rejected(result) == [(3, "产业链编码", "out_of_scope")]  # not its chain
    assert Membership.objects.filter(chain=ns.chain, enterprise=ns.hz_firm2, role="supplier").exists()
    firms = (
        "统一社会信用代码,企业名称,所在区域代码,从业人数\n"
        f"{ns.hz_firm.uscc},杭州甲公司,330106,88\n"
        f"{next_uscc('330106')},新公司,330106,5\n"
    )
    result = import_file("enterprises", firms.encode(), "e.csv", office, partial=True)
    assert rejected(result) == [(3, "所在区域代码", "out_of_scope")]  # chain offices register no firms
    assert Enterprise.objects.get(pk=ns.hz_firm.pk).employees == 88


def test_row_limit(two_cities, settings):
    settings.IMPORT_MAX_ROWS = 2
    rows = "".join(f"{next_uscc('330106')},企业{k},330106\n" for k in range(3))
    result = import_file(
        "enterprises", f"统一社会信用代码,企业名称,所在区域代码\n{rows}".encode(), "x.csv", two_cities.hz
    )
    assert rejected(result) == [(1, "", "too_many_rows")]
    assert result.errors[0].reason == "行数超过上限 2 / more rows than the limit of 2"
