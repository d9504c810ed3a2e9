"""API schemas for daily reports: ``DailyReportIn`` (one), ``DailyReportBatchIn`` (many), the outputs.

Percentages are fractions (``utilisation`` 0.85 = 85%, ``order_change`` -0.2 = -20%). Ranges and
the rules between fields (a firm that has not resumed reports 0%, staff limits) are checked by
gulian.dispatch.reportdata, which gives the same bilingual messages as the web form and imports;
the schema checks types only. Money (``output_value``) is a decimal string in yuan.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from gulian.dispatch.reportdata import blocker_codes, blocker_labels_zh

MAX_BATCH = 5000


class DailyReportFields(Schema):
    """The content of a day's report (a whole report: a field left out is empty, not kept)."""

    resumed: bool = Field(description="已复工")
    utilisation: Decimal | None = Field(
        None, description="产能利用率 0–1.5（0.85 = 85%）；已复工必填，未复工为 0 或不填"
    )
    staff_on_duty: int = Field(description="到岗人数（不超过正常用工人数的 2 倍）")
    staff_normal: int = Field(description="正常用工人数（≥ 1）")
    staff_returned_outside: int | None = Field(None, description="省外返岗人数")
    inventory_days: Decimal | None = Field(None, description="关键原材料库存天数（1 位小数）")
    output_value: Decimal | None = Field(None, description="当日产值（元）")
    order_change: Decimal | None = Field(None, description="订单较正常水平的变化，≥ -1（-0.2 = -20%）")
    blockers: list[str | int] = Field(
        [],
        description="堵点：代码 labour|materials|logistics|funding|ppe|orders|chain|energy|other，"
        "或中文名称 用工、原材料/零部件、物流、资金、防疫物资、订单不足、上下游未复工、用能、其他",
    )
    blocker_note: str = Field("", description="堵点说明（至多 1000 字）")


class DailyReportIn(DailyReportFields):
    """One enterprise's report for one day; the enterprise by ``enterprise`` id or by ``uscc``."""

    enterprise: int | None = Field(None, description="企业 id（与 uscc 二选一，都给时以 id 为准）")
    uscc: str | None = Field(None, description="统一社会信用代码")
    date: dt.date = Field(description="填报日期（不晚于今天，Asia/Shanghai）")


class DailyReportBatchIn(Schema):
    """Many reports, applied all together or not at all."""

    items: list[DailyReportIn] = Field(max_length=MAX_BATCH, description=f"至多 {MAX_BATCH} 条")


class DailyReportOut(Schema):
    """The current (latest) version of a day's report."""

    id: int
    enterprise: int = Field(alias="enterprise_id")
    enterprise_name: str = Field(alias="enterprise.name")
    uscc: str | None = Field(alias="enterprise.uscc")
    date: dt.date
    version: int
    resumed: bool
    utilisation: float
    staff_on_duty: int
    staff_normal: int
    staff_returned_outside: int | None
    inventory_days: float | None
    output_value: Decimal | None
    order_change: float | None
    blockers: list[str] = Field(description="堵点代码")
    blocker_labels: list[str] = Field(description="堵点中文名称")
    blocker_note: str
    late: bool = Field(description="首次提交是否迟报")
    source: str = Field(description="web|api|import")
    submitted_at: dt.datetime
    submitted_by: int | None = Field(alias="submitted_by_id")

    @staticmethod
    def resolve_blockers(obj) -> list[str]:
        """Codes of the blockers in the report's bit mask."""
        return blocker_codes(obj.blockers)

    @staticmethod
    def resolve_blocker_labels(obj) -> list[str]:
        """Chinese labels of the blockers."""
        return blocker_labels_zh(obj.blockers)


class DailyReportSubmitOut(DailyReportOut):
    """A submitted report and what the submission did."""

    outcome: str = Field(description="created（新建）| corrected（新版本）| unchanged（内容相同，未变）")


class DailyReportVersionOut(Schema):
    """One submitted version, oldest first."""

    version: int
    data: dict[str, Any] = Field(description="该版本的完整内容（小数为字符串，blockers 为位掩码）")
    late: bool
    source: str
    submitted_at: dt.datetime
    submitted_by: int | None = Field(alias="submitted_by_id")
    submitted_by_name: str | None = Field(None, alias="submitted_by.username")


class DailyReportDetailOut(DailyReportOut):
    """A report with every version."""

    versions: list[DailyReportVersionOut]

    @staticmethod
    def resolve_versions(obj) -> list:
        """The prefetched versions, oldest first."""
        return list(obj.versions.all())


class BatchItemOut(Schema):
    """What happened to one item of a batch."""

    index: int
    id: int
    enterprise: int
    date: dt.date
    version: int
    outcome: str = Field(description="created | corrected | unchanged")
    late: bool


class DailyReportBatchOut(Schema):
    """The result of an applied batch (replayed unchanged for a retry with the same Idempotency-Key)."""

    created: int
    corrected: int
    unchanged: int
    items: list[BatchItemOut]


class MissingQuery(Schema):
    """Query parameters of the missing-reports list."""

    date: dt.date | None = Field(None, description="日期，默认今天（Asia/Shanghai）")
    region: str = Field("", description="区域代码前缀，在管辖范围内进一步缩小")
    liaison: int | None = Field(None, description="联络员用户 id；0 表示未分配联络员的企业")


class MissingEnterpriseOut(Schema):
    """An enterprise that has not reported, with its contact."""

    id: int
    uscc: str
    name: str
    region: str
    region_name: str
    contact_name: str
    contact_phone: str


class MissingGroupOut(Schema):
    """The missing enterprises of one liaison (``liaison`` null: not assigned to anyone)."""

    liaison: int | None
    liaison_name: str
    liaison_phone: str
    count: int
    enterprises: list[MissingEnterpriseOut]


class MissingOut(Schema):
    """Who has not reported on ``date``, grouped by liaison."""

    date: dt.date
    expected: int = Field(description="应报企业数（管辖范围内的境内企业）")
    reported: int
    missing: int
    groups: list[MissingGroupOut]
