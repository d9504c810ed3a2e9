"""Filters shared by the API, the web pages and the CLI (one class per model).

Each is a django-ninja ``FilterSchema``: ``EnterpriseFilter(**request.GET.dict()).filter(qs)``
works in a view as well as in an API handler.
"""

from __future__ import annotations

from ninja import Field, FilterSchema


class EnterpriseFilter(FilterSchema):
    """Filter enterprises by text, region subtree, industry, scale, chain."""

    q: str | None = Field(None, q=["name__icontains", "uscc__icontains"], description="名称或信用代码包含")
    region: str | None = Field(None, q="region__code__startswith", description="区域代码前缀，如 3301")
    industry: str | None = Field(None, q="industry__code__startswith", description="行业代码前缀，如 39")
    scale: str | None = Field(None, q="scale", description="large|medium|small|micro")
    above_designated_size: bool | None = Field(None, q="above_designated_size", description="规上企业")
    country: str | None = Field(None, q="country", description="ISO 3166 两位代码")
    chain: int | None = Field(None, q="memberships__chain_id", description="产业链 id")
    liaison: int | None = Field(None, q="liaison_id", description="联络员用户 id")


class ChainFilter(FilterSchema):
    """Filter chains by text and region subtree."""

    q: str | None = Field(None, q=["name__icontains", "code__icontains"])
    region: str | None = Field(None, q="region__code__startswith")


class SegmentFilter(FilterSchema):
    """Filter segments by chain."""

    chain: int | None = Field(None, q="chain_id")


class MembershipFilter(FilterSchema):
    """Filter memberships by chain, segment, role, enterprise."""

    chain: int | None = Field(None, q="chain_id")
    segment: int | None = Field(None, q="segment_id")
    role: str | None = Field(None, q="role", description="owner|core|supplier")
    enterprise: int | None = Field(None, q="enterprise_id")
    region: str | None = Field(None, q="enterprise__region__code__startswith")


class SupplyLinkFilter(FilterSchema):
    """Filter supply links by either end, scope, category, region of the customer."""

    supplier: int | None = Field(None, q="supplier_id")
    customer: int | None = Field(None, q="customer_id")
    enterprise: int | None = Field(None, q=["supplier_id", "customer_id"], description="任一端企业 id")
    scope: str | None = Field(None, q="scope", description="city|province|domestic|foreign")
    input_category: str | None = Field(None, q="input_category__icontains")
    region: str | None = Field(None, q="customer__region__code__startswith", description="客户所在区域前缀")
    chain: int | None = Field(None, q="customer__memberships__chain_id", description="客户所在产业链 id")
