"""API schemas of the dispatch metrics: query slices and the overview, breakdown, series, lists."""

import datetime as dt

from ninja import Field, Schema

from gulian.dispatch.models import Blocker


class SliceQuery(Schema):
    """The slice every metrics endpoint accepts (all optional)."""

    region: str | None = Field(None, description="行政区划代码（任一级，须在管辖范围内），默认本人范围")
    chain: str | None = Field(None, description="产业链编码或 id")
    segment: int | None = Field(None, description="环节 id")
    scale: str | None = Field(None, description="large|medium|small|micro")
    above_size: bool | None = Field(None, description="true 仅规上，false 仅规下")


class DayQuery(SliceQuery):
    """A slice on one day."""

    date: dt.date | None = Field(None, description="日期，默认今天（北京时间）")


class BreakdownQuery(DayQuery):
    """A slice on one day, split by one dimension."""

    by: str = Field("region", description="region|chain|segment|scale|above_size")


class SeriesQuery(SliceQuery):
    """A slice over a window of days."""

    start: dt.date | None = Field(None, description="开始日期，默认结束日期前 29 天")
    end: dt.date | None = Field(None, description="结束日期（含），默认今天")


class BlockerCount(Schema):
    """Reports naming one blocker."""

    code: int = Field(description="Blocker 位值")
    label: str
    count: int


class MeasuresOut(Schema):
    """Additive measures and the rates built from them (fractions; power index ×100)."""

    expected: int
    reporting: int
    late: int
    resumed: int
    recovered: int
    staff_on_duty: int
    staff_normal: int
    output_weight: float
    weighted_utilisation: float
    kwh: float
    kwh_baseline: float
    reporting_rate: float | None = Field(description="报送率 = reporting / expected")
    resumption_rate: float | None = Field(description="复工率 = resumed / reporting")
    recovery_rate: float | None = Field(description="达产率 = recovered / reporting")
    utilisation: float | None = Field(description="按基期产值加权的平均产能利用率")
    on_duty_rate: float | None = Field(description="到岗率 = Σ到岗 / Σ正常用工")
    power_index: float | None = Field(description="电力复工指数 = 100 × Σ用电 / Σ基期用电")


def blocker_counts(counts: dict[int, int]) -> list[BlockerCount]:
    """Blocker counts in Blocker order, with their labels."""
    return [BlockerCount(code=b.value, label=str(b.label), count=counts[b.value]) for b in Blocker if counts.get(b.value)]


class OverviewOut(MeasuresOut):
    """A day's figures with day-on-day and week-on-week changes of each rate (differences)."""

    date: dt.date
    region: str = Field(description="区域代码；空为全国")
    region_name: str
    blockers: list[BlockerCount]
    day_on_day: dict[str, float | None]
    week_on_week: dict[str, float | None]

    @staticmethod
    def resolve_blockers(obj) -> list[BlockerCount]:
        """Counts with labels."""
        return blocker_counts(obj.blockers)


class BreakdownRowOut(MeasuresOut):
    """One child of a breakdown."""

    key: str = Field(description="区域代码、产业链编码、环节 id、规模或 true/false")
    label: str
    level: str
    blockers: list[BlockerCount]

    @staticmethod
    def resolve_blockers(obj) -> list[BlockerCount]:
        """Counts with labels."""
        return blocker_counts(obj.blockers)


class SeriesPointOut(MeasuresOut):
    """One day of a series."""

    date: dt.date


class HeldBackQuery(Schema):
    """Filters and order of the held-back list."""

    date: dt.date | None = Field(None, description="日期，默认今天")
    chain: str | None = Field(None, description="产业链编码或 id")
    owner: int | None = Field(None, description="链主企业 id")
    region: str | None = Field(None, description="配套企业所在区域代码（任一级）")
    owner_region: str | None = Field(None, description="链主企业所在区域代码（须在管辖范围内）")
    scope: str | None = Field(None, description="city|province|domestic|foreign")
    status: str | None = Field(None, description="not_resumed|below|missing")
    sort: str = Field("days", description="days|share|scope|owner，前加 - 倒序")


class HeldBackOut(Schema):
    """One owner × supplier on the held-back list."""

    owner_id: int
    owner_name: str
    chain_id: int
    chain_code: str
    chain_name: str
    supplier_id: int
    supplier_name: str
    supplier_uscc: str
    supplier_region: str
    supplier_region_name: str
    relation: str = Field(description="core|tier1")
    relation_label: str
    scope: str = Field(description="city|province|domestic|foreign")
    scope_label: str
    input_categories: str
    status: str = Field(description="not_resumed|below|missing")
    status_label: str
    utilisation: float | None = Field(description="当日产能利用率；未报送或配套企业不在本人管辖范围时为空")
    last_report: dt.date | None
    share: float | None = Field(description="占该类投入比重（多类取最大）")
    annual_value: float | None
    value_share: float | None = Field(description="占链主全部采购额的比重")
    days: int | None = Field(description="截至该日连续存在问题的天数")
    since: dt.date | None
    appeal_open: bool | None = Field(description="有未办结诉求；诉求模块接入前为空")
    risk_open: bool | None = Field(description="有未销号风险；风险模块接入前为空")


class AnomalyQuery(Schema):
    """Day, region and margin of the anomaly list."""

    date: dt.date | None = Field(None, description="日期，默认今天")
    region: str | None = Field(None, description="区域代码（须在管辖范围内）")
    margin: float | None = Field(None, ge=0, le=2, description="阈值（小数），默认 GULIAN_POWER_ANOMALY_MARGIN")


class AnomalyOut(Schema):
    """An enterprise whose utilisation and power index disagree."""

    enterprise_id: int
    name: str
    uscc: str
    region_code: str
    region_name: str
    date: dt.date
    utilisation: float
    power_index: float
    kwh: float
    baseline: float
    baseline_source: str = Field(description="last_year|window")
    gap: float = Field(description="utilisation − power_index/100")
