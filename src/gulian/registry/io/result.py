"""What an import reports: rejected rows (row, column, value, reason) and counts."""

from __future__ import annotations

from dataclasses import dataclass, field

# reason code -> (Chinese, English); {placeholders} are filled from RowError.params.
REASONS: dict[str, tuple[str, str]] = {
    "required": ("必填项为空", "this column is required"),
    "uscc_length": ("统一社会信用代码应为18位", "a USCC has 18 characters"),
    "uscc_format": ("统一社会信用代码含非法字符", "the USCC contains characters that are not allowed"),
    "uscc_checksum": ("统一社会信用代码第18位校验码错误", "the USCC check digit (position 18) is wrong"),
    "uscc_org_code": (
        "统一社会信用代码第9–17位组织机构代码校验错误",
        "the organisation code in positions 9–17 fails its check",
    ),
    "uscc_region": (
        "统一社会信用代码第3–8位不是有效的行政区划代码",
        "positions 3–8 of the USCC are not a region code",
    ),
    "region_unknown": ("行政区划代码不存在", "unknown region code"),
    "region_ambiguous": (
        "区域名称不唯一，请填写六位代码或含省市的全称",
        "ambiguous region name; give the 6-digit code or the full name",
    ),
    "industry_unknown": ("行业代码不存在（GB/T 4754-2017）", "unknown industry code (GB/T 4754-2017)"),
    "country_unknown": ("国家/地区无法识别", "unknown country"),
    "out_of_scope": ("超出管辖范围", "outside your scope"),
    "choice": ("取值无效，可填：{choices}", "invalid value; use one of: {choices}"),
    "number": ("不是有效数字", "not a number"),
    "integer": ("应为整数", "must be a whole number"),
    "negative": ("不能为负数", "must not be negative"),
    "share_range": ("占比应在0–1之间，或写成百分数如85%", "share must be 0–1 or a percentage such as 85%"),
    "too_long": ("超过{max}个字符", "longer than {max} characters"),
    "email": ("邮箱格式不正确", "not a valid e-mail address"),
    "duplicate": ("与第{first}行重复", "duplicates row {first}"),
    "foreign_region": ("境外企业不填所在区域", "a foreign enterprise has no region"),
    "foreign_needs_country": ("无信用代码时须填写境外国家/地区", "without a USCC give the foreign country"),
    "enterprise_unknown": ("企业未登记，请先导入企业名单", "enterprise not registered; import it first"),
    "self_link": ("供应商与客户不能相同", "supplier and customer must differ"),
    "chain_mismatch": (
        "与第{first}行同一产业链的{what}不一致",
        "differs from row {first} for the same chain ({what})",
    ),
    "chain_name_taken": (
        "该区域已有同名产业链（编码 {chain}）",
        "a chain of this name exists in the region (code {chain})",
    ),
    "segment_order": ("环节顺序与已有环节“{other}”冲突", "segment order clashes with segment “{other}”"),
    "no_header": ("未找到表头行，请使用下载的模板", "no header row found; please use the template"),
    "missing_column": ("缺少必需的列", "a required column is missing"),
    "duplicate_column": ("列重复", "this column appears twice"),
    "unreadable": ("无法读取文件：{detail}", "cannot read the file: {detail}"),
    "write_failed": (
        "写入失败，未写入任何数据，请重试：{detail}",
        "writing failed, nothing was written; retry: {detail}",
    ),
    "too_many_rows": ("行数超过上限 {max}", "more rows than the limit of {max}"),
}


@dataclass(frozen=True)
class RowError:
    """One rejected cell: Excel row number (1-based, title rows counted), header as in the file, reason."""

    row: int
    column: str
    code: str
    value: str = ""
    params: tuple[tuple[str, object], ...] = ()

    @property
    def reason_zh(self) -> str:
        """The reason in Chinese."""
        return REASONS[self.code][0].format(**dict(self.params))

    @property
    def reason_en(self) -> str:
        """The reason in English."""
        return REASONS[self.code][1].format(**dict(self.params))

    @property
    def reason(self) -> str:
        """'中文 / English', as every user-visible error in Gulian."""
        return f"{self.reason_zh} / {self.reason_en}"


def row_error(row: int, column: str, code: str, value: str = "", **params) -> RowError:
    """Build a RowError with keyword parameters for the message."""
    return RowError(row, column, code, value or "", tuple(sorted(params.items())))


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, no header, a required column missing)."""

    def __init__(self, error: RowError):
        self.error = error
        super().__init__(error.reason)


@dataclass
class ImportResult:
    """Outcome of an import: counts, rejected rows, and whether anything was written."""

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    header_row: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Number of distinct rows with at least one error."""
        return len({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.errors

    def summary(self) -> str:
        """One line in Chinese and English for the CLI and the page."""
        state = (
            "已写入 / applied"
            if self.applied
            else ("试运行，未写入 / dry run, nothing written" if self.dry_run else "未写入 / nothing written")
        )
        return (
            f"{state}：新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}，拒绝 {self.rejected} 行"
            f" / created {self.created}, updated {self.updated}, unchanged {self.unchanged},"
            f" rejected {self.rejected} rows"
        )
