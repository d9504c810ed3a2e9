"""Schemas of the risk lists: the filter shared by pages, API and export, and the API's in/out shapes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import Q
from ninja import Field, FilterLookup, FilterSchema, Schema

from gulian.registry.scope import LinkScope

LIST_KEYS = ("city", "province", "domestic", "foreign", "overseas")
"""The four lists (市内/省内/省外/境外, by scope) and the overseas-dependence list."""


def list_q(key: str | None) -> Q:
    """Items of one list: a scope, or ``overseas`` for the overseas-dependence list."""
    if not key:
        return Q()
    if key == "overseas":
        return Q(overseas_dependence=True)
    if key in LinkScope.values:
        return Q(scope=key)
    return Q(pk__in=[])


class RiskItemFilter(FilterSchema):
    """Filter risk items by list, chain, segment, status, severity, source, department, text, region."""

    list: Literal["city", "province", "domestic", "foreign", "overseas"] | None = Field(
        None, description="city|province|domestic|foreign（四清单）或 overseas（境外依赖清单）"
    )
    chain: Annotated[int | None, FilterLookup("chain_id")] = Field(None, description="产业链 id")
    segment: Annotated[int | None, FilterLookup("segment_id")] = Field(None, description="环节 id")
    status: Annotated[str | None, FilterLookup("status")] = Field(
        None, description="open|in_progress|mitigated|dismissed"
    )
    open: bool | None = Field(None, description="true：仅待处置与处置中")
    severity: Annotated[str | None, FilterLookup("severity")] = Field(None, description="high|medium|low")
    source: Annotated[str | None, FilterLookup("source")] = Field(
        None, description="screen|simulation|exposure|nowcast|manual"
    )
    department: Annotated[str | None, FilterLookup("department__icontains")] = Field(None, description="责任部门包含")
    mitigation: Annotated[str | None, FilterLookup("mitigation")] = Field(
        None, description="substitute|reserve|research|logistics"
    )
    enterprise: Annotated[int | None, FilterLookup("enterprise_id")] = Field(None, description="风险企业 id")
    q: Annotated[str | None, FilterLookup(["title__icontains", "enterprise__name__icontains"])] = Field(
        None, description="描述或企业名称包含"
    )
    region: Annotated[str | None, FilterLookup("region__code__startswith")] = Field(
        None, description="清单所属区域代码前缀"
    )

    def filter_list(self, value: str | None) -> Q:
        """The four lists by scope, ``overseas`` by the overseas-dependence flag."""
        return list_q(value)

    def filter_open(self, value: bool | None) -> Q:
        """``true``: items still being worked; ``false``: closed ones."""
        if value is None:
            return Q()
        q = Q(status__in=("open", "in_progress"))
        return q if value else ~q


class RiskItemOut(Schema):
    """A risk item as the API returns it; related records by id with their names."""

    id: int
    region: str = Field(alias="region_id")
    chain: int | None = Field(alias="chain_id")
    chain_name: str | None = None
    segment: int | None = Field(alias="segment_id")
    segment_name: str | None = None
    enterprise: int = Field(alias="enterprise_id")
    enterprise_name: str = Field(alias="enterprise.name")
    input_category: str
    affected_owners: list[int]
    scope: str
    overseas_dependence: bool
    title: str
    detail: str
    days_to_impact: int | None
    severity: str
    score: float
    source: str
    evidence: dict[str, Any]
    department: str
    responsible: int | None = Field(alias="responsible_id")
    status: str
    mitigation: str
    mitigation_note: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_chain_name(obj) -> str | None:
        """The chain's name (None without a chain)."""
        return obj.chain.name if obj.chain_id else None

    @staticmethod
    def resolve_segment_name(obj) -> str | None:
        """The segment's name (None without a segment)."""
        return obj.segment.name if obj.segment_id else None

    @staticmethod
    def resolve_affected_owners(obj) -> list[int]:
        """Ids of the affected chain owners (prefetched)."""
        return sorted(o.pk for o in obj.affected_owners.all())


class RiskItemPatch(Schema):
    """What a task force may change on an item; omitted fields stay as they are."""

    status: Literal["open", "in_progress", "mitigated", "dismissed"] | None = None
    mitigation: Literal["", "substitute", "reserve", "research", "logistics"] | None = Field(
        None, description="替代 substitute / 储备 reserve / 攻关 research / 物流 logistics；空串清除"
    )
    mitigation_note: str | None = None
    department: str | None = Field(None, max_length=64)
    responsible: int | None = Field(None, description="责任人用户 id；null 清除")
    days_to_impact: int | None = Field(None, ge=0)
