"""Filters for daily reports, shared by the API, the pages and the CLI (django-ninja FilterSchema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema


class DailyReportFilter(FilterSchema):
    """Filter reports by day or period, enterprise, region subtree, late flag, resumption, source."""

    date: Annotated[dt.date | None, FilterLookup("date")] = Field(None, description="某一天")
    date_from: Annotated[dt.date | None, FilterLookup("date__gte")] = Field(
        None, description="起始日期（含）"
    )
    date_to: Annotated[dt.date | None, FilterLookup("date__lte")] = Field(None, description="截止日期（含）")
    enterprise: Annotated[int | None, FilterLookup("enterprise_id")] = Field(None, description="企业 id")
    uscc: Annotated[str | None, FilterLookup("enterprise__uscc")] = Field(
        None, description="统一社会信用代码"
    )
    region: Annotated[str | None, FilterLookup("enterprise__region__code__startswith")] = Field(
        None, description="企业所在区域代码前缀，如 3301"
    )
    late: Annotated[bool | None, FilterLookup("late")] = Field(None, description="迟报")
    resumed: Annotated[bool | None, FilterLookup("resumed")] = Field(None, description="已复工")
    source: Annotated[str | None, FilterLookup("source")] = Field(None, description="web|api|import")
