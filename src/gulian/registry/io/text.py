"""Cell-value normalisation for imports: what Chinese offices actually type into spreadsheets.

Full-width digits and letters (`１２０`, `ＡＢ`), `％`, thousands separators, stray
spaces and non-breaking spaces, `85%` for a fraction, 是/否 for booleans. Each
parser takes the raw cell text and returns a value or raises :class:`CellError`
whose ``code`` names the problem (the import report translates it).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Full-width ASCII block (！ to ～) maps onto ASCII by a fixed offset; U+3000 is the ideographic space.
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}
_SPACES = re.compile(r"\s+")
_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_TRUE = {"是", "y", "yes", "true", "t", "1", "有", "√", "✓", "✔", "对"}
_FALSE = {"否", "n", "no", "false", "f", "0", "无", "×", "✗", "✘", "没有"}


class CellError(ValueError):
    """A cell that cannot be read as its column's type; ``code`` is a key of result.REASONS."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(code)


def ascii_fold(value: str) -> str:
    """Turn full-width characters and ideographic/non-breaking spaces into ASCII."""
    return value.translate(_FULLWIDTH)


def clean_text(value: str | None) -> str:
    """Trim surrounding whitespace (ideographic spaces included) and collapse inner runs of whitespace.

    Full-width punctuation inside names (（集团）) is kept: it is part of the registered name.
    """
    if value is None:
        return ""
    value = value.replace("\u3000", " ").replace("\xa0", " ")
    return _SPACES.sub(" ", value).strip()


def clean_code(value: str) -> str:
    """A code-like cell (region, industry, ISO country): ASCII, no spaces, upper case."""
    return _SPACES.sub("", ascii_fold(value)).upper()


def header_key(value: str | None) -> str:
    """Normalise a header cell for matching: NFKC, lower case, no spaces, no required-markers or colons."""
    if not value:
        return ""
    value = unicodedata.normalize("NFKC", str(value)).lower()
    return re.sub(r"[\s*:：]+", "", value)


def strip_unit(key: str) -> str:
    """A normalised header without its trailing unit in brackets: 年采购额(元) → 年采购额."""
    return re.sub(r"\([^)]*\)$", "", key)


def parse_decimal(value: str, places: int, factor: int = 1) -> Decimal:
    """A decimal from '1,234.5', '１２３４．５', '1 234' or Excel's '1234.5'; rounded half-up to ``places``."""
    if _PLAIN_NUMBER.fullmatch(value):  # what Excel gives for a number cell: skip the clean-up
        text = value
    else:
        text = _SPACES.sub("", ascii_fold(value)).replace(",", "").replace("，", "")
        text = text.replace("¥", "").replace("￥", "").removesuffix("元")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError("number")
    if not number.is_finite():
        raise CellError("number")
    return (number * factor).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def parse_amount(value: str, places: int = 2, factor: int = 1) -> Decimal:
    """A non-negative amount (yuan, days)."""
    number = parse_decimal(value, places, factor)
    if number < 0:
        raise CellError("negative")
    return number


def parse_int(value: str) -> int:
    """A non-negative whole number; '120', '１２０', '1,200' and Excel's '120.0' are accepted."""
    number = parse_decimal(value, 6)
    if number != number.to_integral_value():
        raise CellError("integer")
    if number < 0:
        raise CellError("negative")
    return int(number)


def parse_share(value: str) -> Decimal:
    """A fraction 0..1 from '0.85', '85%', '85 %', '８５％'; stored with four decimals."""
    text = _SPACES.sub("", ascii_fold(value))
    percent = text.endswith("%")
    number = parse_decimal(text.rstrip("%"), 8)
    if percent:
        number /= 100
    if number < 0 or number > 1:
        raise CellError("share_range")
    return number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def parse_bool(value: str) -> bool:
    """是/否, Y/N, 1/0, true/false, 有/无, √/×."""
    text = clean_code(value).lower()
    if text in _TRUE or value.strip() in _TRUE:
        return True
    if text in _FALSE or value.strip() in _FALSE:
        return False
    raise CellError("choice", choices="是/否")


def choice_parser(mapping: dict[str, str], shown: str):
    """A parser that maps any alias (case- and width-insensitive) onto a stored choice value."""
    folded = {header_key(k): v for k, v in mapping.items()}

    def parse(value: str) -> str:
        found = folded.get(header_key(value))
        if found is None:
            raise CellError("choice", choices=shown)
        return found

    return parse


def limited_text(max_length: int):
    """A parser for free text that must fit the model field."""

    def parse(value: str) -> str:
        text = clean_text(value)
        if len(text) > max_length:
            raise CellError("too_long", max=max_length)
        return text

    parse.max_length = max_length  # lets Parsed check cleaned text by length alone, without a call per cell
    return parse


def format_share(share: Decimal | None) -> str:
    """'85%' for Decimal('0.8500'), '12.34%' for 0.1234; empty for None."""
    if share is None:
        return ""
    percent = (share * 100).normalize()
    return f"{percent:f}%"


def format_decimal(value: Decimal | None) -> str:
    """A decimal without exponent or trailing zeros ('1234.5'); empty for None."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text
