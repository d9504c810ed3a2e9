"""Formatting for the registry pages: money in 万元/亿元, fractions as %, scope badges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html

from gulian.registry.scope import LinkScope

register = template.Library()
_SCOPE_LABELS = dict(LinkScope.choices)


def _scaled(value, divisor: int, places: int) -> str:
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value) / divisor
    except (InvalidOperation, TypeError, ValueError):
        return "—"
    return intcomma(f"{amount:.{places}f}")


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元 with one decimal: 1234567 -> 123.5."""
    return _scaled(value, 10_000, 1)


@register.filter
def yi(value) -> str:
    """Yuan shown in 亿元 with two decimals: 250000000 -> 2.50."""
    return _scaled(value, 100_000_000, 2)


@register.filter
def percent(value, places: int = 1) -> str:
    """A 0..1 fraction shown as a percentage: 0.35 -> 35.0%."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(places)}f}%"


@register.simple_tag
def scope_badge(scope: str):
    """A coloured 市内/省内/省外/境外 badge."""
    return format_html(
        '<span class="badge scope-{}">{}</span>', scope, _SCOPE_LABELS.get(scope, scope or "—")
    )


@register.filter
def count(value) -> str:
    """A whole number with thousands separators, or — when missing: 12345 -> 12,345."""
    return "—" if value is None or value == "" else intcomma(value)
