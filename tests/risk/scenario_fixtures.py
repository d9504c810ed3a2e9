"""A small registry for scenario runs: the two_cities chain with values and inventories.

Hangzhou owner ← Ningbo core supplier (5 days of stock) ← Hangzhou firm 2; Murata (JP) → Ningbo.
Locking Ningbo down stalls the owner after its 5 days of battery stock, because of the Ningbo firm.
"""

from __future__ import annotations

from decimal import Decimal

NINGBO_LOCKDOWN = {
    "name": "宁波封控",
    "lockdowns": [{"region_prefix": "3302", "days": 20, "capacity_loss": 1.0}],
    "recovery": {"kind": "immediate"},
    "steps": 30,
}


def with_values(ns):
    """two_cities with annual values, baseline outputs and a 5-day battery stock at the owner."""
    for link, value, days in ((ns.hz_link, "3650000", "5"), (ns.nb_link, "1825000", "10"), (ns.foreign_link, "365000", "10")):
        link.annual_value, link.inventory_days = Decimal(value), Decimal(days)
        link.save()
    for firm, output in ((ns.hz_firm, "36500000"), (ns.nb_firm, "7300000"), (ns.hz_firm2, "3650000")):
        firm.baseline_output = Decimal(output)
        firm.save()
    return ns
