"""Export in the import shape, round trips, scope of exports, the import page and the CLI."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from django.urls import reverse

from gulian.core.models import AuditRecord, Role
from gulian.registry.io import export_file, import_file
from gulian.registry.models import Chain, Enterprise, Membership, Segment
from tests.conftest import make_link, next_uscc
from tests.registry.test_import import EXPECTED, build_messy

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def rich(two_cities):
    """two_cities with every field filled somewhere, awkward values included."""
    ns = two_cities
    Enterprise.objects.filter(pk=ns.hz_firm.pk).update(
        industry_id="36",
        scale="large",
        above_designated_size=True,
        employees=3200,
        baseline_output=Decimal("1234567890.12"),
        contact_name="张三",
        contact_phone="13800000000",
        contact_email="zhang@example.cn",
        address="杭州市西湖区文三路 1 号（东楼）",
    )
    Enterprise.objects.filter(pk=ns.nb_firm.pk).update(
        baseline_output=Decimal("99999999999999.99"), scale="micro"
    )
    Enterprise.objects.create(name="Infineon Technologies AG", country="DE", employees=50000)
    make_link(
        ns.foreign_firm,
        ns.hz_firm,
        "电容",
        share=Decimal("0.1234"),
        annual_value=Decimal("1234567.89"),
        lead_time_days=45,
        inventory_days=Decimal("12.5"),
        alternatives_known=True,
    )
    ns.hz_link.share = Decimal("1.0000")
    ns.hz_link.save()
    Segment.objects.create(chain=ns.chain, order=2, name="电池")  # a segment without members
    Chain.objects.create(code="ic", name="集成电路", region_id="330000", leader="副省长 某某")  # no segments
    m = Membership.objects.get(enterprise=ns.nb_firm)
    m.note = "宁波片区"
    m.save()
    Membership.objects.create(enterprise=ns.foreign_firm, chain=ns.chain, role="supplier")  # no segment
    return ns


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("kind", ["enterprises", "chains", "links"])
@pytest.mark.parametrize("who", ["admin", "province"])
def test_export_import_round_trip_changes_nothing(rich, kind, fmt, who):
    user = getattr(rich, who)
    out = io.BytesIO()
    count = export_file(kind, user, out, fmt)
    assert count > 0
    before = AuditRecord.objects.count()
    result = import_file(kind, out.getvalue(), f"export.{fmt}", user)
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 0, count)
    assert result.applied and AuditRecord.objects.count() == before


def test_exported_values_are_in_the_import_shape(rich):
    out = io.BytesIO()
    export_file("enterprises", rich.admin, out, "csv")
    text = out.getvalue().decode("utf-8-sig").splitlines()
    assert text[0].startswith("统一社会信用代码,企业名称,国家/地区,所在区域代码,行业代码,企业规模,是否规上")
    hz = next(line for line in text if line.startswith(rich.hz_firm.uscc))
    assert ",CN,330106,36,大型,是,3200,1234567890.12,张三,13800000000," in hz
    out = io.BytesIO()
    export_file("links", rich.admin, out, "xlsx")
    sheet = pl.read_excel(out.getvalue(), engine="calamine", infer_schema_length=0)
    murata = (
        sheet.filter(pl.col("投入品类别") == "电容")
        .filter(pl.col("客户名称") == "杭州甲公司")
        .row(0, named=True)
    )
    assert murata["供应商信用代码"] is None and murata["供应商国家/地区"] == "JP"
    assert (murata["占比"], murata["年采购额（元）"], murata["有无替代"]) == ("0.1234", "1234567.89", "是")


def test_city_user_exports_only_their_city(rich):
    out = io.BytesIO()
    export_file("enterprises", rich.hz, out, "csv")
    text = out.getvalue().decode("utf-8-sig")
    assert rich.hz_firm.uscc in text and rich.hz_firm2.uscc in text
    assert rich.nb_firm.uscc not in text and "宁波丙公司" not in text
    assert "Murata Manufacturing" in text  # foreign suppliers are readable by every official
    out = io.BytesIO()
    export_file("links", rich.hz, out, "csv")
    lines = out.getvalue().decode("utf-8-sig").splitlines()[1:]
    # nb→hz and hz2→nb touch Hangzhou; Murata→nb does not
    assert sorted(line.split(",")[6] for line in lines) == ["电容", "电机", "电池"]
    out = io.BytesIO()
    export_file("chains", rich.hz, out, "csv")
    chains = out.getvalue().decode("utf-8-sig")
    assert rich.hz_firm.uscc in chains and rich.nb_firm.uscc not in chains


def test_export_filters(rich):
    out = io.BytesIO()
    assert export_file("enterprises", rich.admin, out, "csv", {"region": "330110", "page": "2"}) == 1
    assert rich.hz_firm2.uscc in out.getvalue().decode("utf-8-sig")
    out = io.BytesIO()
    assert export_file("links", rich.admin, out, "csv", {"scope": "foreign"}) == 2


def login(client, user):
    client.force_login(user)
    return client


def test_import_page_upload_and_error_download(client, rich, settings, tmp_path):
    from tests.registry.test_import import xlsx

    settings.VAR_DIR = tmp_path
    login(client, rich.hz)
    page = client.get(reverse("registry:import"))
    assert page.status_code == 200 and "上传文件" in page.content.decode()
    data = xlsx(
        {
            1: ["统一社会信用代码", "企业名称", "所在区域代码"],
            2: [next_uscc("330106"), "页面导入公司", "330106"],
            3: [rich.nb_firm.uscc, "宁波丙公司", "330203"],
        }
    )
    upload = io.BytesIO(data)
    upload.name = "名单.xlsx"
    response = client.post(reverse("registry:import"), {"kind": "enterprises", "file": upload})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="count-rejected">1<' in html and "超出管辖范围 / outside your scope" in html
    assert not Enterprise.objects.filter(name="页面导入公司").exists()
    report = client.get(reverse("registry:import_errors"))
    assert report.status_code == 200
    sheet = pl.read_excel(b"".join(report.streaming_content), engine="calamine")
    assert sheet.row(0)[:2] == (3, "统一社会信用代码")
    upload.seek(0)
    response = client.post(
        reverse("registry:import"), {"kind": "enterprises", "file": upload, "partial": "on"}
    )
    assert 'id="count-created">1<' in response.content.decode()
    assert Enterprise.objects.filter(name="页面导入公司", region_id="330106").exists()


def test_import_page_messy_workbook(client, two_cities, settings, tmp_path):
    messy = build_messy(two_cities)
    settings.VAR_DIR = tmp_path
    login(client, messy.hz)
    upload = io.BytesIO(messy.data)
    upload.name = "名单.xlsx"
    html = client.post(reverse("registry:import"), {"kind": "enterprises", "file": upload}).content.decode()
    for row, column, _code in EXPECTED:
        assert f'<td class="num">{row}</td><td>{column}</td>' in html


def test_template_and_export_downloads(client, rich):
    login(client, rich.hz)
    template = client.get(reverse("registry:template", args=["links"]))
    assert template.status_code == 200 and "attachment" in template["Content-Disposition"]
    sheets = pl.read_excel(b"".join(template.streaming_content), sheet_id=0, engine="calamine")
    assert list(sheets) == ["供应关系", "填写说明"]
    assert sheets["供应关系"].columns[:4] == [
        "供应商信用代码",
        "供应商名称",
        "供应商国家/地区",
        "客户信用代码",
    ]
    export = client.get(
        reverse("registry:export", args=["enterprises"]), {"format": "csv", "region": "330110"}
    )
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert rich.hz_firm2.uscc in body and rich.hz_firm.uscc not in body
    assert client.get(reverse("registry:export", args=["enterprises"]), {"chain": "x"}).status_code == 400
    assert client.get(reverse("registry:template", args=["nope"])).status_code == 404


@pytest.mark.parametrize("name", ["import", "import_errors", "template"])
def test_other_roles_get_404(client, rich, name):
    args = ["enterprises"] if name == "template" else []
    login(client, rich.hz_enterprise)
    assert client.get(reverse(f"registry:{name}", args=args)).status_code == 404
    client.logout()
    assert client.get(reverse(f"registry:{name}", args=args)).status_code == 302  # to the login page


def test_enterprise_user_exports_only_itself(client, rich):
    login(client, rich.hz_enterprise)
    body = b"".join(
        client.get(reverse("registry:export", args=["enterprises"]), {"format": "csv"}).streaming_content
    )
    lines = body.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(rich.hz_firm.uscc)
    client.logout()
    assert client.get(reverse("registry:export", args=["enterprises"])).status_code == 302


def test_cli_export_and_template(rich, tmp_path):
    out = io.StringIO()
    call_command(
        "export",
        "enterprises",
        str(tmp_path / "hz.csv"),
        "--user",
        rich.hz.username,
        "--region",
        "3301",
        stdout=out,
    )
    assert "已导出 2 行" in out.getvalue()
    call_command("export", "chains", str(tmp_path / "chains.xlsx"), stdout=io.StringIO())
    chains = pl.read_excel(tmp_path / "chains.xlsx", engine="calamine", infer_schema_length=0)
    assert set(chains["产业链编码"]) == {"auto", "ic"}
    call_command("template", "chains", str(tmp_path / "t.xlsx"), stdout=io.StringIO())
    assert pl.read_excel(tmp_path / "t.xlsx", engine="calamine").columns[0] == "产业链编码"
    # a liaison exports only the firms assigned to them
    call_command(
        "export",
        "enterprises",
        str(tmp_path / "l.csv"),
        "--user",
        rich.liaison_hz.username,
        stdout=io.StringIO(),
    )
    assert rich.hz_firm.uscc in (tmp_path / "l.csv").read_text(encoding="utf-8-sig")
    assert rich.hz_firm2.uscc not in (tmp_path / "l.csv").read_text(encoding="utf-8-sig")


def test_cli_commands_are_documented():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in ("import", "export", "template"):
        assert f"## gulian {command}" in text
    for option in ("--user", "--partial", "--errors", "--dry-run", "--region"):
        assert option in text
    assert (DOCS / "import.md").exists()


def test_enterprise_role_sees_no_import_link(client, rich):
    login(client, rich.hz_enterprise)
    assert reverse("registry:import") not in client.get(reverse("home")).content.decode()
    assert rich.hz_enterprise.role == Role.ENTERPRISE
