"""Scope of a supply link (四清单): where the supplier sits relative to the customer."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# Hong Kong, Macao and Taiwan carry GB/T 2260 codes but are 境外 for customs and logistics.
OUTSIDE_MAINLAND = ("71", "81", "82")


class LinkScope(models.TextChoices):
    """市内 / 省内 / 省外 / 境外 relative to the customer."""

    CITY = "city", _("市内")
    PROVINCE = "province", _("省内")
    DOMESTIC = "domestic", _("省外")
    FOREIGN = "foreign", _("境外")


def derive_scope(supplier_region: str | None, supplier_country: str, customer_region: str | None) -> str:
    """Scope of a link from the supplier's and customer's region codes (None for a foreign firm)."""
    if supplier_country != "CN" or not supplier_region or not customer_region:
        return LinkScope.FOREIGN
    if supplier_region[:2] in OUTSIDE_MAINLAND or customer_region[:2] in OUTSIDE_MAINLAND:
        return LinkScope.FOREIGN if supplier_region[:2] != customer_region[:2] else LinkScope.CITY
    if supplier_region[:4] == customer_region[:4]:
        return LinkScope.CITY
    if supplier_region[:2] == customer_region[:2]:
        return LinkScope.PROVINCE
    return LinkScope.DOMESTIC
