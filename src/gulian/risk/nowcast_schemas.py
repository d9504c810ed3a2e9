"""API schemas of the nowcast (``GET /api/risk/nowcast``): the query and the predicted stalls."""

import datetime as dt
from typing import Any

from ninja import Field, Schema


class NowcastQuery(Schema):
    """Date, slice and horizon of a nowcast (all optional)."""

    date: dt.date | None = Field(None, description="日报日期，默认管辖范围内最近有日报的一天")
    region: str | None = Field(None, description="行政区划代码（须在管辖范围内），默认本人范围")
    chain: str | None = Field(None, description="产业链编码或 id")
    horizon: int = Field(30, ge=1, le=90, description="预测天数（1–90，默认 30）")


class FirmRefOut(Schema):
    """A chain owner."""

    id: int
    name: str
    region: str
    region_name: str


class ChainRefOut(Schema):
    """A chain the owner leads."""

    id: int
    code: str
    name: str
    region: str | None


class SupplierOut(Schema):
    """The supplier behind a stall, with today's status and its scope relative to the owner."""

    id: int
    name: str
    region: str
    region_name: str
    country: str
    scope: str = Field(description="city|province|domestic|foreign（市内/省内/省外/境外，相对链主）")
    status: str = Field(description="not_resumed|below|missing|ok|foreign（当日）")
    utilisation: float | None = Field(description="最近一次日报的产能利用率；不在本人范围内的企业为 null")
    report_date: dt.date | None
    visible: bool


class NowcastRowOut(Schema):
    """One chain owner predicted to stall."""

    owner: FirmRefOut
    chains: list[ChainRefOut]
    stall_date: dt.date
    days: int = Field(description="距日报日期的天数")
    cause: SupplierOut | None = Field(description="根源企业（自身产能下降引起断供者）；null = 链主自身产能")
    direct: SupplierOut | None = Field(description="当天约束链主生产的直接供应商")
    curve: list[float] = Field(description="链主产出 / 正常产出，第 0 天到预测期末")
    min_production: float
    caveats: list[str] = Field(description="可信度提示代码（docs/engine.md「临近预测」）")
    unknown_input_share: float


class NowcastOut(Schema):
    """The owners predicted to stall, earliest first, and the assumptions used."""

    date: dt.date
    horizon: int
    region: str | None
    chains: list[str]
    assumptions: dict[str, Any]
    firms: int
    watched: int
    elapsed: float
    cached: bool
    rows: list[NowcastRowOut]
