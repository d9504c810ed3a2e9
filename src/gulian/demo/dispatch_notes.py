"""Blockers (堵点) of the demo reports: their bits, how likely each is by phase, and the notes firms write.

No Django here; the bit values equal :class:`gulian.dispatch.models.Blocker` (a test checks). A note
is a phrase for one of the report's blockers, with the numbers filled in from the firm's day.
"""

from __future__ import annotations

import numpy as np

from gulian.demo.dispatch_curves import bump

LABOUR, MATERIALS, LOGISTICS, FUNDING, PPE, ORDERS, CHAIN, ENERGY, OTHER = (1 << k for k in range(9))
BITS = (LABOUR, MATERIALS, LOGISTICS, FUNDING, PPE, ORDERS, CHAIN, ENERGY, OTHER)
NOTE_SHARE = 0.3  # of reports with a blocker that also carry a free-text note

PHRASES = {
    LABOUR: ("省外员工尚未返岗，缺工约{gap}人", "员工返岗率仅{duty}%，一线岗位缺人", "湖北籍员工暂时无法返岗",
             "新招员工需居家观察14天，到岗慢"),
    MATERIALS: ("关键原材料库存仅够{inv}天", "上游零部件供应不足，影响排产", "进口原材料到货延迟",
                "原材料价格上涨，采购困难"),
    LOGISTICS: ("货车通行受限，原料运不进、产品运不出", "物流公司未复工，发货困难", "港口集装箱周转慢"),
    FUNDING: ("资金周转困难，需要续贷支持", "应收账款回款慢，流动资金紧张", "社保、房租等固定支出压力大"),
    PPE: ("口罩、测温枪等防疫物资短缺", "消毒用品储备不足，影响复工验收"),
    ORDERS: ("海外订单取消或延期", "在手订单下降约{drop}%", "外贸客户推迟提货"),
    CHAIN: ("上游配套企业未复工，零部件断供", "下游客户未复工，产品积压", "核心配套企业{partner}尚未复工"),
    ENERGY: ("用能指标紧张，部分产线无法开足", "天然气供应不足"),
    OTHER: ("园区封闭管理，人员进出受限", "复工审批材料尚在办理"),
}


def probabilities(day: int, below: np.ndarray, small: np.ndarray, duty: np.ndarray, hubei: np.ndarray,
                  foreign: np.ndarray, export: np.ndarray) -> dict[int, np.ndarray]:
    """Chance of each blocker today, per firm.

    ``below`` marks firms under the recovery threshold (they report blockers three times as often),
    ``duty`` is the on-duty rate, ``hubei``/``foreign`` the firm's dependence on Hubei or foreign
    inputs (0–1), ``export`` its export orientation (0/1), ``small`` 规下 firms.
    """
    phase_feb = bump(day, -30, 0, 14, 40)  # the February emergency: labour, logistics, PPE
    mar_apr = bump(day, 40, 55, 80, 100)  # imported parts stuck when the epidemic spread abroad
    apr_may = bump(day, 50, 65, 120, 150)  # export orders cancelled
    weight = np.where(below, 1.5, 0.3)
    return {
        LABOUR: weight * np.clip(0.9 * (1 - duty), 0, 0.8),
        MATERIALS: weight * (0.12 + 0.15 * phase_feb + 0.45 * hubei * phase_feb + 0.5 * foreign * mar_apr),
        LOGISTICS: weight * (0.03 + 0.3 * phase_feb),
        FUNDING: weight * np.where(small, 0.12, 0.04),
        PPE: weight * (0.01 + 0.35 * bump(day, -30, 0, 10, 35)),
        ORDERS: weight * (0.04 + 0.05 * phase_feb + 0.35 * export * apr_may),
        CHAIN: weight * (0.03 + 0.2 * phase_feb),
        ENERGY: weight * np.full(len(below), 0.01),
        OTHER: weight * np.full(len(below), 0.02),
    }


def draw(rng: np.random.Generator, probs: dict[int, np.ndarray]) -> np.ndarray:
    """Bit masks drawn from the per-blocker chances (capped at 0.9 each)."""
    n = len(next(iter(probs.values())))
    mask = np.zeros(n, dtype=np.int64)
    u = rng.random((len(BITS), n))
    for k, bit in enumerate(BITS):
        mask |= np.where(u[k] < np.minimum(probs[bit], 0.9), bit, 0)
    return mask


def note(rng: np.random.Generator, mask: int, *, gap: int, duty: float, inv: float, drop: float,
         partner: str = "") -> str:
    """One free-text note for a report with blockers ``mask`` (a phrase of one of them, numbers filled in).

    A phrase quoting a number is used only when the number tells a problem (a gap of 5 or more
    workers, under 80 % on duty, under 10 days of stock, orders down 5 % or more).
    """
    bits = [b for b in BITS if mask & b]
    if partner and CHAIN in bits:
        return PHRASES[CHAIN][-1].format(partner=partner)
    bit = bits[int(rng.integers(len(bits)))]
    fits = {"{gap}": gap >= 5, "{duty}": duty < 0.8, "{inv}": inv < 10, "{drop}": drop >= 0.05, "{partner}": False}
    phrases = [p for p in PHRASES[bit] if all(ok or key not in p for key, ok in fits.items())]
    phrase = phrases[int(rng.integers(len(phrases)))]
    return phrase.format(gap=gap, duty=round(duty * 100), inv=max(round(inv), 1), drop=round(drop * 100))
