"""Per-import cell parsers that need reference data: regions, industries, countries, USCCs.

:class:`Parsers` loads the reference tables once per import and parses whole
columns at a time with a memo per column, since most cells of a column repeat
(the same county, industry or 是/否 thousands of times).
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug

from gulian.core import uscc
from gulian.core.models import Industry, Region
from gulian.registry.io.reader import Table
from gulian.registry.io.result import RowError, row_error
from gulian.registry.io.text import (
    CellError,
    ascii_fold,
    choice_parser,
    clean_code,
    clean_text,
    header_key,
    limited_text,
    parse_amount,
    parse_bool,
    parse_int,
    parse_share,
)

MISSING = object()  # blank cell: on an update the stored value is kept
INVALID = object()  # cell rejected; its RowError is in Parsed.errors

SCALES = {
    "大型": "large",
    "大": "large",
    "large": "large",
    "中型": "medium",
    "中": "medium",
    "medium": "medium",
    "小型": "small",
    "小": "small",
    "small": "small",
    "微型": "micro",
    "微": "micro",
    "micro": "micro",
}
ROLES = {
    "链主": "owner",
    "链主企业": "owner",
    "龙头企业": "owner",
    "owner": "owner",
    "chain owner": "owner",
    "核心配套": "core",
    "核心配套企业": "core",
    "核心": "core",
    "core": "core",
    "core supplier": "core",
    "配套": "supplier",
    "配套企业": "supplier",
    "supplier": "supplier",
}
COUNTRY_ALIASES = {
    "中国": "CN",
    "中国大陆": "CN",
    "中华人民共和国": "CN",
    "境内": "CN",
    "台湾": "TW",
    "中国台湾": "TW",
    "香港": "HK",
    "中国香港": "HK",
    "澳门": "MO",
    "中国澳门": "MO",
    "韩国": "KR",
    "朝鲜": "KP",
    "俄罗斯": "RU",
    "越南": "VN",
    "老挝": "LA",
    "伊朗": "IR",
    "叙利亚": "SY",
    "坦桑尼亚": "TZ",
    "玻利维亚": "BO",
    "委内瑞拉": "VE",
    "摩尔多瓦": "MD",
    "捷克": "CZ",
    "usa": "US",
    "uk": "GB",
}
_SECTION_PREFIXED = re.compile(r"^[A-T](\d{2,4})$")
_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_USCC_SHAPE = re.compile(r"^[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}$")
_USCC_VALUE = {c: i for i, c in enumerate(uscc.ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31 (GB 32100)


def _uscc_check(code: str) -> str:
    """Check character (position 18) of a well-formed USCC, as stdnum.cn.uscc.calc_check_digit."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return uscc.ALPHABET[(31 - total) % 31]


@cache
def country_codes() -> dict[str, str]:
    """Normalised country names (ISO codes, English and Chinese names, common short forms) → ISO alpha-2."""
    import pycountry

    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    table: dict[str, str] = {}
    for c in pycountry.countries:
        names = [c.alpha_2, c.alpha_3, c.name, zh.gettext(c.name)]
        names += [getattr(c, a) for a in ("common_name", "official_name") if hasattr(c, a)]
        for name in names:
            table.setdefault(header_key(name), c.alpha_2)
    table.update({header_key(k): v for k, v in COUNTRY_ALIASES.items()})
    return table


class Parsers:
    """Parsers by the names used in columns.Column.parser, bound to this database's reference data."""

    def __init__(self, user):
        self.regions = {
            code: prefix
            for code, prefix in Region.objects.restrict(user, "view").values_list("code", "prefix")
        }
        names = Region.objects.restrict(user, "view").values_list("code", "name", "full_name")
        counts = Counter(n for _c, n, _f in names)
        # a bare name such as 西湖区 exists in several cities: None marks it as ambiguous
        self.region_names: dict[str, str | None] = {n: (c if counts[n] == 1 else None) for c, n, _f in names}
        self.region_names.update({f: c for c, _n, f in names if f})
        self.industries = set(Industry.objects.restrict(user, "view").values_list("code", flat=True))
        self._fixed = {
            "name": limited_text(200),
            "text32": limited_text(32),
            "text64": limited_text(64),
            "text100": limited_text(100),
            "text200": limited_text(200),
            "int": parse_int,
            "days": lambda v: parse_amount(v, 1),
            "share": parse_share,
            "bool": parse_bool,
            "scale": choice_parser(SCALES, "大型/中型/小型/微型"),
            "role": choice_parser(ROLES, "链主/核心配套/配套"),
            "uscc": self.uscc,
            "region": self.region,
            "industry": self.industry,
            "country": self.country,
            "email": self.email,
            "slug": self.slug,
        }

    def get(self, name: str, factor: int = 1):
        """The parse function for a column (money columns carry their 元/万元 factor)."""
        if name == "money":
            return lambda v: parse_amount(v, 2, factor)
        return self._fixed[name]

    @staticmethod
    def uscc(value: str) -> str:
        """A valid compact USCC; the error code names the failed check."""
        code = value.upper()
        # Fast path for the common, well-formed case; anything else goes through core.uscc.validate,
        # which accepts full-width or dashed input and names the failed check.
        if _USCC_SHAPE.fullmatch(code) and code[17] == _uscc_check(code):
            if uscc.is_valid_org_code(code[8:17]) and uscc.is_known_region(code[2:8]):
                return code
        try:
            return uscc.validate(value)
        except uscc.USCCError as e:
            raise CellError(f"uscc_{e.code}")

    def region(self, value: str) -> str:
        """An existing GB/T 2260 code, or a region's full name or unambiguous name."""
        code = clean_code(value)
        if code in self.regions:
            return code
        name = clean_text(value)
        if name not in self.region_names:
            raise CellError("region_unknown")
        found = self.region_names[name]
        if found is None:
            raise CellError("region_ambiguous")
        return found

    def industry(self, value: str) -> str:
        """An existing GB/T 4754 code; 'C39' is read as division 39."""
        code = clean_code(value)
        m = _SECTION_PREFIXED.fullmatch(code)
        if code not in self.industries and m:
            code = m.group(1)
        if code not in self.industries:
            raise CellError("industry_unknown")
        return code

    @staticmethod
    def country(value: str) -> str:
        """ISO 3166 alpha-2 from a code or an English or Chinese name."""
        found = country_codes().get(header_key(value))
        if found is None:
            raise CellError("country_unknown")
        return found

    @staticmethod
    def email(value: str) -> str:
        """A syntactically valid e-mail address (max 254 characters, as EmailField)."""
        text = clean_text(ascii_fold(value))
        if len(text) > 254:
            raise CellError("too_long", max=254)
        if _PLAIN_EMAIL.fullmatch(text):  # a subset of what Django's validator accepts, checked much faster
            return text
        try:
            validate_email(text)
        except ValidationError:
            raise CellError("email")
        return text

    @staticmethod
    def slug(value: str) -> str:
        """A chain code: letters, digits, '-' and '_' (at most 32)."""
        text = clean_text(ascii_fold(value))
        try:
            validate_slug(text)
        except ValidationError:
            raise CellError("choice", choices="a-z 0-9 - _")
        if len(text) > 32:
            raise CellError("too_long", max=32)
        return text


class Parsed:
    """A table's columns parsed: values (or MISSING / INVALID) and the errors per row index."""

    def __init__(self, table: Table, parsers: Parsers):
        self.table = table
        self.rows = table.row_numbers
        self.columns: dict[str, list] = {}
        self.errors: dict[int, list[RowError]] = {}
        for key, fc in table.columns.items():
            self.columns[key] = self._parse_column(
                fc.header, parsers.get(fc.spec.parser, fc.factor), table.values[key]
            )

    def _parse_column(self, header: str, parse, raw: list[str | None]) -> list:
        limit = getattr(parse, "max_length", None)
        if limit is not None:  # free text, already trimmed by the reader: only the length can be wrong
            out = [MISSING if v is None else v for v in raw]
            for i, v in enumerate(raw):
                if v is not None and len(v) > limit:
                    self.add(i, header, "too_long", v, max=limit)
                    out[i] = INVALID
            return out
        memo: dict[str, object] = {}
        out = []
        for i, cell in enumerate(raw):
            if cell is None:
                out.append(MISSING)
                continue
            value = memo.get(cell, MISSING)
            if value is MISSING:
                try:
                    value = parse(cell)
                except CellError as e:
                    value = e
                memo[cell] = value
            if isinstance(value, CellError):
                self.add(i, header, value.code, cell, **value.params)
                value = INVALID
            out.append(value)
        return out

    def add(self, index: int, column: str, code: str, value: str = "", **params) -> None:
        """Record an error for the row at ``index``."""
        self.errors.setdefault(index, []).append(row_error(self.rows[index], column, code, value, **params))

    def get(self, key: str, index: int):
        """The parsed value, MISSING when the column is absent or the cell blank, INVALID when rejected."""
        col = self.columns.get(key)
        return MISSING if col is None else col[index]

    def raw(self, key: str, index: int) -> str:
        """The cell as written (for error reports)."""
        col = self.table.values.get(key)
        return (col[index] or "") if col is not None else ""

    def header(self, key: str, default: str = "") -> str:
        """The file's header text for ``key``."""
        return self.table.header(key, default)

    def present(self, index: int, keys) -> dict:
        """Values this row gives for ``keys`` (blank and rejected cells left out).

        ``keys`` is a tuple of column keys, or a dict of column key → name to use in the result.
        """
        out = {}
        columns = self.columns
        names = keys if isinstance(keys, dict) else dict(zip(keys, keys, strict=True))
        for key, name in names.items():
            col = columns.get(key)
            if col is not None:
                value = col[index]
                if value is not MISSING and value is not INVALID:
                    out[name] = value
        return out
