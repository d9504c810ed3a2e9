"""Filters shared by the API, the web pages and the CLI (one class per model).

Each is a django-ninja ``FilterSchema``: ``EnterpriseFilter(**request.GET.dict()).filter(qs)``
works in a view as well as in an API handler.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema


class EnterpriseFilter(FilterSchema):
    """Filter enterprises by text, region subtree, industry, scale, chain."""

    q: Annotated[str | None, FilterLookup(["name__icontains", "uscc__icontains"])] = Field(
        None, description="名称或信用代码包含"
    )
    region: Annotated[str | None, FilterLookup("region__code__startswith")] = Field(
        None, description="区域代码前缀，如 3301"
    )
    industry: Annotated[str | None, FilterLookup("industry__code__startswith")] = Field(
        None, description="行业代码前缀，如 39"
    )
    scale: Annotated[str | None, FilterLookup("scale")] = Field(None, description="large|medium|small|micro")
    above_designated_size: Annotated[bool | None, FilterLookup("above_designated_size")] = Field(
        None, description="规上企业"
    )
    country: Annotated[str | None, FilterLookup("country")] = Field(None, description="ISO 3166 两位代码")
    chain: Annotated[int | None, FilterLookup("memberships__chain_id")] = Field(None, description="产业链 id")
    liaison: Annotated[int | None, FilterLookup("liaison_id")] = Field(None, description="联络员用户 id")


class ChainFilter(FilterSchema):
    """Filter chains by text and region subtree."""

    q: Annotated[str | None, FilterLookup(["name__icontains", "code__icontains"])] = None
    region: Annotated[str | None, FilterLookup("region__code__startswith")] = None


class SegmentFilter(FilterSchema):
    """Filter segments by chain."""

    chain: Annotated[int | None, FilterLookup("chain_id")] = None


class MembershipFilter(FilterSchema):
    """Filter memberships by chain, segment, role, enterprise."""

    chain: Annotated[int | None, FilterLookup("chain_id")] = None
    segment: Annotated[int | None, FilterLookup("segment_id")] = None
    role: Annotated[str | None, FilterLookup("role")] = Field(None, description="owner|core|supplier")
    enterprise: Annotated[int | None, FilterLookup("enterprise_id")] = None
    region: Annotated[str | None, FilterLookup("enterprise__region__code__startswith")] = None


class SupplyLinkFilter(FilterSchema):
    """Filter supply links by either end, scope, category, region of the customer."""

    supplier: Annotated[int | None, FilterLookup("supplier_id")] = None
    customer: Annotated[int | None, FilterLookup("customer_id")] = None
    enterprise: Annotated[int | None, FilterLookup(["supplier_id", "customer_id"])] = Field(
        None, description="任一端企业 id"
    )
    scope: Annotated[str | None, FilterLookup("scope")] = Field(
        None, description="city|province|domestic|foreign"
    )
    input_category: Annotated[str | None, FilterLookup("input_category__icontains")] = None
    region: Annotated[str | None, FilterLookup("customer__region__code__startswith")] = Field(
        None, description="客户所在区域前缀"
    )
    chain: Annotated[int | None, FilterLookup("customer__memberships__chain_id")] = Field(
        None, description="客户所在产业链 id"
    )
