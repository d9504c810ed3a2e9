"""Column specifications of the three import/export shapes: enterprises, chains, links.

Each column has a Chinese header (used by templates and exports), an English header
and aliases; all of them are recognised on import after :func:`text.header_key`
normalisation (full-width → ASCII, no spaces, lower case), and also without a
trailing unit in brackets. A header naming 万元 scales money columns by 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass

from gulian.registry.io.text import header_key, strip_unit


@dataclass(frozen=True)
class Column:
    """One column: key (model-ish name), headers, the parser that reads it, and notes for the template."""

    key: str
    zh: str
    en: str
    parser: str
    aliases: tuple[str, ...] = ()
    note: str = ""
    example: str = ""
    required: str = ""  # "" optional, "always" on every row, "new" when creating

    def names(self) -> tuple[str, ...]:
        """Every header text that means this column."""
        return (self.zh, self.en, self.key, *self.aliases)


COUNTRY_NOTE = "境内企业填 CN 或留空；境外企业填 ISO 两位代码或中文名，如 JP、日本"

ENTERPRISE_COLUMNS = (
    Column(
        "uscc",
        "统一社会信用代码",
        "USCC",
        "uscc",
        ("信用代码", "社会信用代码", "统一代码", "credit code", "unified social credit code"),
        "18位；境内企业必填，是更新已有企业的依据；全角字符可识别",
        "91330106MA27XA1B0B",
        "domestic",
    ),
    Column(
        "name",
        "企业名称",
        "Enterprise name",
        "name",
        ("名称", "单位名称", "企业", "name", "enterprise", "company"),
        "工商登记名称；境外企业以国家/地区+名称识别",
        "【示例】杭州某某科技有限公司",
        "new",
    ),
    Column(
        "country",
        "国家/地区",
        "Country",
        "country",
        ("国家", "国别", "国家或地区", "country/region"),
        COUNTRY_NOTE,
        "CN",
    ),
    Column(
        "region",
        "所在区域代码",
        "Region code",
        "region",
        ("区县代码", "区域代码", "行政区划代码", "所在地区代码", "所在区域", "region code"),
        "GB/T 2260 六位代码（区县级），须在您的管辖范围内；境外企业留空",
        "330106",
        "domestic",
    ),
    Column(
        "industry",
        "行业代码",
        "Industry code",
        "industry",
        ("国民经济行业代码", "所属行业代码", "行业", "industry code"),
        "GB/T 4754-2017 门类字母或2–4位代码，如 39",
        "39",
    ),
    Column(
        "scale",
        "企业规模",
        "Scale",
        "scale",
        ("规模", "size"),
        "大型/中型/小型/微型（或 large/medium/small/micro）",
        "中型",
    ),
    Column(
        "above_designated_size",
        "是否规上",
        "Above designated size",
        "bool",
        ("规上企业", "是否规模以上", "是否规模以上企业", "规上", "above designated size"),
        "是/否",
        "是",
    ),
    Column(
        "employees",
        "从业人数",
        "Employees",
        "int",
        ("员工人数", "职工人数", "用工人数", "人数"),
        "整数",
        "320",
    ),
    Column(
        "baseline_output",
        "基期年产值（元）",
        "Baseline output (yuan)",
        "money",
        ("基期年产值", "年产值", "产值", "baseline output"),
        "单位：元；表头写“万元”时按万元换算",
        "125000000",
    ),
    Column("contact_name", "联系人", "Contact", "text64", ("contact name",), "", "张三"),
    Column(
        "contact_phone",
        "联系电话",
        "Phone",
        "text32",
        ("电话", "手机", "联系方式", "手机号码", "phone", "contact phone"),
        "",
        "13800000000",
    ),
    Column(
        "contact_email",
        "邮箱",
        "E-mail",
        "email",
        ("电子邮箱", "联系邮箱", "email", "e-mail", "contact email"),
        "",
        "contact@example.cn",
    ),
    Column(
        "address",
        "地址",
        "Address",
        "text200",
        ("企业地址", "注册地址", "通讯地址", "经营地址", "address"),
        "",
        "杭州市西湖区文三路1号",
    ),
)

CHAIN_COLUMNS = (
    Column(
        "chain_code",
        "产业链编码",
        "Chain code",
        "slug",
        ("链编码", "产业链代码", "chain"),
        "字母、数字、短横线，如 auto",
        "auto",
        "always",
    ),
    Column(
        "chain_name",
        "产业链名称",
        "Chain name",
        "text64",
        ("产业链", "chain name"),
        "新建产业链时必填",
        "【示例】节能与新能源汽车",
        "new",
    ),
    Column(
        "chain_region",
        "所属区域代码",
        "Chain region code",
        "region",
        ("产业链所属区域", "产业链区域代码", "chain region"),
        "产业链所在层级的区域代码，如 330000",
        "330000",
        "new",
    ),
    Column("leader", "链长", "Chain leader", "text64", ("chain leader",), "如：副省长 某某", "副省长 某某"),
    Column(
        "segment",
        "环节",
        "Segment",
        "text64",
        ("环节名称", "segment name"),
        "上游材料→零部件→整车→应用",
        "整车",
    ),
    Column(
        "segment_order",
        "环节顺序",
        "Segment order",
        "int",
        ("顺序", "order"),
        "整数，从1开始；留空则排在最后",
        "1",
    ),
    Column(
        "uscc",
        "统一社会信用代码",
        "USCC",
        "uscc",
        ("信用代码", "社会信用代码", "企业信用代码"),
        "成员企业；境外企业留空并填名称和国家/地区",
        "91330106MA27XA1B0B",
    ),
    Column(
        "name",
        "企业名称",
        "Enterprise name",
        "name",
        ("成员企业", "企业", "enterprise"),
        "境外企业必填；境内企业仅供阅读",
        "杭州某某科技有限公司",
    ),
    Column("country", "国家/地区", "Country", "country", ("国家", "国别"), COUNTRY_NOTE, "CN"),
    Column(
        "role",
        "角色",
        "Role",
        "role",
        ("企业角色", "链上角色", "成员角色"),
        "链主/核心配套/配套（或 owner/core/supplier）；默认配套",
        "链主企业",
    ),
    Column("note", "备注", "Note", "text200", (), "", ""),
)

LINK_COLUMNS = (
    Column(
        "supplier_uscc",
        "供应商信用代码",
        "Supplier USCC",
        "uscc",
        ("供应商统一社会信用代码", "供应商代码", "供方信用代码"),
        "境内供应商必填；境外供应商留空并填名称和国家/地区",
        "91330203MA2AB0C14R",
    ),
    Column(
        "supplier_name",
        "供应商名称",
        "Supplier name",
        "name",
        ("供应商", "供方", "供方名称", "supplier"),
        "境外供应商必填；境内供应商仅供阅读",
        "宁波某某电池有限公司",
    ),
    Column(
        "supplier_country",
        "供应商国家/地区",
        "Supplier country",
        "country",
        ("供应商国家", "供方国家"),
        COUNTRY_NOTE,
        "CN",
    ),
    Column(
        "customer_uscc",
        "客户信用代码",
        "Customer USCC",
        "uscc",
        ("客户统一社会信用代码", "采购方信用代码", "需方信用代码"),
        "境内客户必填",
        "91330106MA27XA1B0B",
    ),
    Column(
        "customer_name",
        "客户名称",
        "Customer name",
        "name",
        ("客户", "采购方", "需方", "customer"),
        "仅供阅读（境外客户必填）",
        "杭州某某汽车有限公司",
    ),
    Column(
        "customer_country",
        "客户国家/地区",
        "Customer country",
        "country",
        ("客户国家", "需方国家"),
        COUNTRY_NOTE,
        "CN",
    ),
    Column(
        "input_category",
        "投入品类别",
        "Input category",
        "text100",
        ("投入品", "采购品类", "产品类别", "物料类别", "input"),
        "同一供应商、客户、类别为一条关系",
        "【示例】动力电池",
        "always",
    ),
    Column(
        "annual_value",
        "年采购额（元）",
        "Annual value (yuan)",
        "money",
        ("年采购额", "采购额", "annual purchases"),
        "单位：元；表头写“万元”时按万元换算",
        "36000000",
    ),
    Column(
        "share",
        "占比",
        "Share",
        "share",
        ("占该类投入比重", "采购占比", "比重", "份额"),
        "该类投入中来自此供应商的比重：0.85、85% 均可",
        "85%",
    ),
    Column(
        "lead_time_days",
        "交货周期（天）",
        "Lead time (days)",
        "int",
        ("交货周期", "交期", "lead time"),
        "整数",
        "7",
    ),
    Column(
        "inventory_days",
        "库存天数",
        "Inventory days",
        "days",
        ("库存可用天数", "客户库存可用天数", "inventory"),
        "客户现有库存可用天数",
        "12.5",
    ),
    Column(
        "alternatives_known",
        "有无替代",
        "Alternatives known",
        "bool",
        ("有无替代供应商", "是否有替代", "有可替代供应商", "alternatives"),
        "是/否",
        "否",
    ),
)

KIND_COLUMNS: dict[str, tuple[Column, ...]] = {
    "enterprises": ENTERPRISE_COLUMNS,
    "chains": CHAIN_COLUMNS,
    "links": LINK_COLUMNS,
}

KIND_LABELS = {"enterprises": "企业名单", "chains": "产业链成员", "links": "供应关系"}

# At least one column of each group must be in the file.
REQUIRED_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "enterprises": (("uscc", "name"),),
    "chains": (("chain_code",),),
    "links": (("supplier_uscc", "supplier_name"), ("customer_uscc", "customer_name"), ("input_category",)),
}

# The column whose 【示例】 prefix marks the template's example row, which imports skip.
EXAMPLE_MARKER = "【示例】"
EXAMPLE_COLUMN = {"enterprises": "name", "chains": "chain_name", "links": "input_category"}


def header_lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    """Normalised header text → column, including unit-less forms ('年采购额' for '年采购额（元）')."""
    table: dict[str, Column] = {}
    for col in columns:
        for name in col.names():
            key = header_key(name)
            table.setdefault(key, col)
            table.setdefault(strip_unit(key), col)
    return table


def match_header(cell: str | None, lookup: dict[str, Column]) -> Column | None:
    """The column a header cell names, or None."""
    key = header_key(cell)
    if not key:
        return None
    return lookup.get(key) or lookup.get(strip_unit(key))


def money_factor(header: str) -> int:
    """10,000 when the header says the amounts are in 万元, else 1."""
    return 10_000 if "万元" in header_key(header) else 1
