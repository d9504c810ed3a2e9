"""API schemas for the registry: ``<X>In`` (create), ``<X>Patch`` (partial update), ``<X>Out``.

Other records are referenced by key: enterprises, chains, segments and users by id, regions and
industries by code. Outputs carry the referenced record's name next to its key so that a client
needs no second request; the ``alias`` of an output field is the attribute path it is read from
(the handlers select_related those records, so a list costs the same number of queries at any
size). Money is a decimal string in yuan (exact cents); ``share`` is a number 0..1.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

Money = Decimal | None


# --- enterprises -------------------------------------------------------------------------------


class EnterprisePatch(Schema):
    """Fields of an enterprise that a PATCH may change; omitted fields stay as they are."""

    uscc: str | None = Field(None, description="统一社会信用代码（18 位）；境外企业留空")
    name: str | None = Field(None, max_length=200)
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166 两位代码，境内为 CN")
    region: str | None = Field(None, description="所在区域代码（境内企业必填）")
    industry: str | None = Field(None, description="GB/T 4754 行业代码")
    scale: str | None = Field(None, description="large|medium|small|micro 或空")
    above_designated_size: bool | None = None
    employees: int | None = Field(None, ge=0)
    baseline_output: Money = Field(None, ge=0, description="基期年产值（元）")
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    address: str | None = None
    liaison: int | None = Field(None, description="联络员用户 id")


class EnterpriseIn(EnterprisePatch):
    """A new enterprise: a domestic one needs uscc and region, a foreign one a country."""

    name: str = Field(max_length=200)
    country: str = Field("CN", min_length=2, max_length=2)
    scale: str = ""
    above_designated_size: bool = False
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    address: str = ""


class EnterpriseOut(Schema):
    """An enterprise as the API returns it."""

    id: int
    uscc: str | None
    name: str
    country: str
    region: str | None = Field(alias="region_id")
    region_name: str | None = Field(None, alias="region.full_name")
    industry: str | None = Field(alias="industry_id")
    industry_name: str | None = Field(None, alias="industry.name")
    scale: str
    scale_label: str = Field(alias="get_scale_display")
    above_designated_size: bool
    employees: int | None
    baseline_output: Money
    contact_name: str
    contact_phone: str
    contact_email: str
    address: str
    liaison: int | None = Field(alias="liaison_id")
    created_at: dt.datetime
    updated_at: dt.datetime


# --- chains and segments -----------------------------------------------------------------------


class SegmentBrief(Schema):
    """A segment inside a chain's output."""

    id: int
    order: int
    name: str


class ChainPatch(Schema):
    """Fields of a chain that a PATCH may change."""

    code: str | None = Field(None, max_length=32, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str | None = Field(None, max_length=64)
    region: str | None = Field(None, description="所属区域代码（链长制所在层级）")
    leader: str | None = Field(None, max_length=64)
    description: str | None = None


class ChainIn(ChainPatch):
    """A new chain, optionally with its ordered segment names."""

    code: str = Field(max_length=32, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(max_length=64)
    region: str
    leader: str = ""
    description: str = ""
    segments: list[str] = Field([], description="环节名称，按上游到下游顺序")


class ChainOut(Schema):
    """A chain with its segments in order."""

    id: int
    code: str
    name: str
    region: str = Field(alias="region_id")
    region_name: str = Field(alias="region.full_name")
    leader: str
    description: str
    segments: list[SegmentBrief] = Field(description="按顺序（上游在前）")


class SegmentPatch(Schema):
    """Fields of a segment that a PATCH may change."""

    name: str | None = Field(None, max_length=64)
    order: int | None = Field(None, ge=0)
    description: str | None = Field(None, max_length=200)


class SegmentIn(SegmentPatch):
    """A new segment of a chain; without ``order`` it goes last."""

    chain: int
    name: str = Field(max_length=64)
    description: str = Field("", max_length=200)


class SegmentOut(Schema):
    """A segment (环节) of a chain."""

    id: int
    chain: int = Field(alias="chain_id")
    chain_name: str = Field(alias="chain.name")
    order: int
    name: str
    description: str


# --- memberships -------------------------------------------------------------------------------


class MembershipPatch(Schema):
    """Fields of a membership that a PATCH may change."""

    segment: int | None = Field(None, description="环节 id（须属于同一产业链）")
    role: str | None = Field(None, description="owner|core|supplier")
    note: str | None = Field(None, max_length=200)


class MembershipIn(MembershipPatch):
    """An enterprise joining a chain (one membership per enterprise and chain)."""

    enterprise: int
    chain: int
    role: str = Field("supplier", description="owner|core|supplier")
    note: str = Field("", max_length=200)


class MembershipOut(Schema):
    """Enterprise × chain × segment × role."""

    id: int
    enterprise: int = Field(alias="enterprise_id")
    enterprise_name: str = Field(alias="enterprise.name")
    chain: int = Field(alias="chain_id")
    chain_name: str = Field(alias="chain.name")
    segment: int | None = Field(alias="segment_id")
    segment_name: str | None = Field(None, alias="segment.name")
    role: str
    role_label: str = Field(alias="get_role_display")
    note: str


# --- supply links ------------------------------------------------------------------------------


class SupplyLinkPatch(Schema):
    """Fields of a supply link that a PATCH may change (its two ends may not change)."""

    input_category: str | None = Field(None, min_length=1, max_length=100)
    annual_value: Money = Field(None, ge=0, description="年采购额（元）")
    share: Decimal | None = Field(None, ge=0, le=1, description="占该类投入比重，0–1（至多 4 位小数）")
    lead_time_days: int | None = Field(None, ge=0)
    inventory_days: Decimal | None = Field(None, ge=0, description="客户库存可用天数（1 位小数）")
    alternatives_known: bool | None = None


class SupplyLinkIn(SupplyLinkPatch):
    """A new supply link supplier → customer for one input category."""

    supplier: int
    customer: int
    input_category: str = Field(min_length=1, max_length=100)
    alternatives_known: bool = False


class SupplyLinkOut(Schema):
    """A supply link with its derived scope (四清单)."""

    id: int
    supplier: int = Field(alias="supplier_id")
    supplier_name: str = Field(alias="supplier.name")
    customer: int = Field(alias="customer_id")
    customer_name: str = Field(alias="customer.name")
    input_category: str
    annual_value: Money
    share: float | None
    lead_time_days: int | None
    inventory_days: float | None
    alternatives_known: bool
    scope: str = Field(description="city|province|domestic|foreign")
    scope_label: str = Field(alias="get_scope_display", description="市内|省内|省外|境外")
    created_at: dt.datetime
    updated_at: dt.datetime
