"""What a daily report holds and the rules it must meet; shared by the API, the web form and imports.

A submission is always a whole report for the day: an optional field that is left out is empty
(``None``), it does not keep an earlier value. :func:`normalise` turns loosely typed input (JSON
numbers, strings, form decimals, parsed spreadsheet cells) into the model's values and lists every
problem as a :class:`Problem` (field, reason code, parameters). Rules (docs/dispatch.md):

* ``resumed`` (复工), ``staff_on_duty`` and ``staff_normal`` are required;
* ``utilisation`` is a fraction 0–1.5 (0–150%); it is required for a firm that has resumed, and a
  firm that has not resumed reports 0 (left out means 0, anything else is rejected);
* ``staff_normal`` is at least 1; staff on duty and staff returned from outside the province are at
  most :data:`STAFF_RATIO` times the normal staff (a typing error guard, not a labour rule);
* ``order_change`` is a fraction of normal orders, from -1 (-100%) up;
* ``blockers`` are codes (``labour`` …), Chinese labels (用工 …) or bit values, in a list or as one
  separated string; ``blocker_note`` is free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from gulian.dispatch.models import Blocker

FIELDS = (
    "resumed",
    "utilisation",
    "staff_on_duty",
    "staff_normal",
    "staff_returned_outside",
    "inventory_days",
    "output_value",
    "order_change",
    "blockers",
    "blocker_note",
)
STAFF_RATIO = 2
MAX_STAFF = 10_000_000
NOTE_MAX = 1000

# name -> (decimal places, minimum, maximum, reason code when out of range); the maxima are the columns'
DECIMALS: dict[str, tuple[int, Decimal, Decimal, str]] = {
    "utilisation": (3, Decimal(0), Decimal("1.5"), "utilisation_range"),
    "inventory_days": (1, Decimal(0), Decimal("99999.9"), "too_large"),
    "output_value": (2, Decimal(0), Decimal("99999999999999.99"), "too_large"),
    "order_change": (3, Decimal(-1), Decimal("99.999"), "order_change_range"),
}
INTEGERS = ("staff_on_duty", "staff_normal", "staff_returned_outside")

# reason code -> (Chinese, English); {placeholders} come from Problem.params
REASONS: dict[str, tuple[str, str]] = {
    "required": ("必填项为空", "this field is required"),
    "boolean": ("应为 是/否", "must be yes or no"),
    "number": ("不是有效数字", "not a number"),
    "integer": ("应为整数", "must be a whole number"),
    "negative": ("不能为负数", "must not be negative"),
    "too_large": ("数值过大", "the number is too large"),
    "too_long": ("超过{max}个字符", "longer than {max} characters"),
    "utilisation_range": (
        "产能利用率应在0–150%之间（可写 0.85 或 85%）",
        "utilisation must be 0–150% (0.85 or 85%)",
    ),
    "idle_utilisation": (
        "未复工企业的产能利用率应为0",
        "an enterprise that has not resumed reports 0% utilisation",
    ),
    "staff_normal_zero": ("正常用工人数应大于0", "normal staff must be at least 1"),
    "staff_ratio": (
        "不应超过正常用工人数的{ratio}倍",
        "must not exceed {ratio} times the normal staff",
    ),
    "order_change_range": (
        "订单变化应不低于-100%（可写 -0.2 或 -20%）",
        "order change must be -100% or more (-0.2 or -20%)",
    ),
    "blocker_unknown": (
        "无法识别的堵点“{name}”，可填：用工、原材料/零部件、物流、资金、防疫物资、订单不足、上下游未复工、用能、其他",
        "unknown blocker “{name}”; use labour, materials, logistics, funding, ppe, orders, chain, energy, other",
    ),
    "date": ("不是有效日期（如 2020-02-10）", "not a valid date (e.g. 2020-02-10)"),
    "date_future": ("日期不能晚于今天", "the date is in the future"),
    "date_mismatch": ("与指定的填报日期 {date} 不一致", "differs from the report date given, {date}"),
    "enterprise_required": ("须给出企业 id 或统一社会信用代码", "give the enterprise id or its USCC"),
    "enterprise_scope": (
        "企业不存在或不在管辖范围内",
        "no such enterprise, or it is outside your scope",
    ),
    "duplicate_report": (
        "与第{first}项是同一企业同一天的日报",
        "the same enterprise and day as item {first}",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One rejected field of a report: the field name, a key of :data:`REASONS` and its parameters."""

    field: str
    code: str
    params: tuple[tuple[str, object], ...] = ()

    @property
    def message(self) -> str:
        """'中文 / English', as every user-visible error in Gulian."""
        zh, en = REASONS[self.code]
        params = dict(self.params)
        return f"{zh.format(**params)} / {en.format(**params)}"


def problem(field: str, code: str, **params) -> Problem:
    """A Problem with keyword parameters."""
    return Problem(field, code, tuple(sorted(params.items())))


class InvalidValueError(ValueError):
    """A value that cannot be read; ``code`` is a key of :data:`REASONS`."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(code)


# --- blockers -------------------------------------------------------------------------------------

BLOCKER_CODES = {b.name.lower(): b.value for b in Blocker}
# Chinese labels as written on the 2020 forms, with the short forms liaisons use. They do not go
# through gettext: a spreadsheet written in Chinese must import the same in an English session.
BLOCKER_ZH = {
    Blocker.LABOUR: "用工",
    Blocker.MATERIALS: "原材料/零部件",
    Blocker.LOGISTICS: "物流",
    Blocker.FUNDING: "资金",
    Blocker.PPE: "防疫物资",
    Blocker.ORDERS: "订单不足",
    Blocker.CHAIN: "上下游未复工",
    Blocker.ENERGY: "用能",
    Blocker.OTHER: "其他",
}
BLOCKER_ALIASES = {
    "缺工": Blocker.LABOUR,
    "招工": Blocker.LABOUR,
    "用工短缺": Blocker.LABOUR,
    "原材料": Blocker.MATERIALS,
    "零部件": Blocker.MATERIALS,
    "原材料零部件": Blocker.MATERIALS,
    "原材料、零部件": Blocker.MATERIALS,
    "运输": Blocker.LOGISTICS,
    "物流运输": Blocker.LOGISTICS,
    "融资": Blocker.FUNDING,
    "资金紧张": Blocker.FUNDING,
    "口罩": Blocker.PPE,
    "防疫": Blocker.PPE,
    "订单": Blocker.ORDERS,
    "上下游": Blocker.CHAIN,
    "配套未复工": Blocker.CHAIN,
    "产业链上下游未复工": Blocker.CHAIN,
    "用电": Blocker.ENERGY,
    "能源": Blocker.ENERGY,
    "其它": Blocker.OTHER,
}
NO_BLOCKER = {"", "无", "没有", "-", "—", "/", "none", "no"}
_SPLIT = re.compile(r"[,，、;；\s]+")


@cache
def _blocker_names() -> dict[str, int]:
    """Every accepted spelling (normalised) → bit value, the English labels of the translation included."""
    from django.utils import translation

    names: dict[str, int] = {}
    with translation.override("en"):
        names.update({_key(str(b.label)): b.value for b in Blocker})
    names.update({_key(label): int(b) for b, label in BLOCKER_ZH.items()})
    names.update({_key(alias): int(b) for alias, b in BLOCKER_ALIASES.items()})
    names.update(BLOCKER_CODES)
    names.update({str(b.value): b.value for b in Blocker})
    return names


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def blocker_mask(value: Any) -> int:
    """The bit mask of blockers given as a mask, a list of codes/labels/values, or one separated string."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise InvalidValueError("blocker_unknown", name=str(value))
    if isinstance(value, int):
        if value < 0 or value & ~Blocker.encode(Blocker):
            raise InvalidValueError("blocker_unknown", name=str(value))
        return value
    if isinstance(value, str):
        # "原材料/零部件" keeps its slash: only commas, 、, semicolons and spaces separate blockers
        if _SPLIT.sub("", value).lower() in NO_BLOCKER:
            return 0
        whole = _blocker_names().get(_key(value))
        parts: Iterable[Any] = [value] if whole is not None else [p for p in _SPLIT.split(value) if p]
    else:
        parts = value
    mask = 0
    names = _blocker_names()
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            mask |= blocker_mask(part)
            continue
        found = names.get(_key(str(part)))
        if found is None:
            if _key(str(part)) in NO_BLOCKER:
                continue
            raise InvalidValueError("blocker_unknown", name=str(part))
        mask |= found
    return mask


def blocker_codes(mask: int) -> list[str]:
    """Codes of the blockers in ``mask``, in the form's order (``labour``, ``materials`` …)."""
    return [b.name.lower() for b in Blocker if mask & b.value]


def blocker_labels_zh(mask: int) -> list[str]:
    """Chinese labels of the blockers in ``mask`` (for spreadsheets, whatever the UI language)."""
    return [BLOCKER_ZH[b] for b in Blocker if mask & b.value]


# --- values -----------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise InvalidValueError("number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # 0.85, not 0.84999999999999997779…
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        percent = text.endswith("%")
        try:
            number = Decimal(text.rstrip("%").strip())
        except InvalidOperation:
            raise InvalidValueError("number")
        if percent:
            number /= 100
    else:
        raise InvalidValueError("number")
    if not number.is_finite():
        raise InvalidValueError("number")
    return number


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        d = _decimal(value)
        if d != d.to_integral_value():
            raise InvalidValueError("integer")
        number = int(d)
    if number < 0:
        raise InvalidValueError("negative")
    if number > MAX_STAFF:
        raise InvalidValueError("too_large")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"是", "true", "yes", "y", "1", "已复工"}:
            return True
        if text in {"否", "false", "no", "n", "0", "未复工"}:
            return False
    raise InvalidValueError("boolean")


def _quantized(name: str, value: Any) -> Decimal:
    places, low, high, code = DECIMALS[name]
    number = _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if number < low:
        raise InvalidValueError("negative" if code == "too_large" else code)
    if number > high:
        raise InvalidValueError(code)
    return number


def _read(name: str, value: Any) -> Any:
    """One field's value in the model's type; InvalidValueError when it cannot be."""
    if name == "resumed":
        return _boolean(value)
    if name in DECIMALS:
        return _quantized(name, value)
    if name in INTEGERS:
        return _integer(value)
    if name == "blockers":
        return blocker_mask(value)
    text = "" if value is None else " ".join(str(value).split())
    if len(text) > NOTE_MAX:
        raise InvalidValueError("too_long", max=NOTE_MAX)
    return text


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


INVALID = object()  # a field that failed its own check; the cross-field rules skip it


def normalise(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The report's field values (every name of :data:`FIELDS`) and the problems found, if any."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in FIELDS:
        raw = data.get(name)
        if _blank(raw) and name not in ("blockers", "blocker_note"):
            values[name] = None
            continue
        try:
            values[name] = _read(name, raw)
        except InvalidValueError as e:
            problems.append(problem(name, e.code, **e.params))
            values[name] = INVALID
    problems += _cross_checks(values)
    return values, problems


def _cross_checks(v: dict[str, Any]) -> list[Problem]:
    out = []
    for name in ("resumed", "staff_on_duty", "staff_normal"):
        if v[name] is None:
            out.append(problem(name, "required"))
    if v["resumed"] is False:
        if v["utilisation"] is None:
            v["utilisation"] = Decimal("0.000")  # not working: nothing produced
        elif v["utilisation"] is not INVALID and v["utilisation"] != 0:
            out.append(problem("utilisation", "idle_utilisation"))
    elif v["resumed"] is True and v["utilisation"] is None:
        out.append(problem("utilisation", "required"))
    normal = v["staff_normal"]
    if isinstance(normal, int):
        if normal == 0:
            out.append(problem("staff_normal", "staff_normal_zero"))
        else:
            for name in ("staff_on_duty", "staff_returned_outside"):
                if isinstance(v[name], int) and v[name] > STAFF_RATIO * normal:
                    out.append(problem(name, "staff_ratio", ratio=STAFF_RATIO))
    return out


def snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON kept in a DailyReportVersion: decimals as exact strings, blockers as their mask."""
    return {
        name: (str(values[name]) if isinstance(values[name], Decimal) else values[name]) for name in FIELDS
    }
