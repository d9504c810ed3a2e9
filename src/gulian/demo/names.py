"""Plausible, unique, made-up names: companies, contacts, addresses, telephone numbers, USCC bodies.

A Chinese company name follows the registration pattern 行政区划 + 字号 + 行业 + 组织形式,
e.g. 杭州恒达电子科技有限公司. The trade names (字号) are two characters drawn from a list of
common ones, so any resemblance to a real firm is a coincidence of the pattern. Contacts are a
common surname plus one or two given-name characters; telephone numbers use the city's real area
code and random digits; e-mail addresses use the reserved ``example.com`` domain.
"""

from __future__ import annotations

import numpy as np

from gulian.core.uscc import ALPHABET
from gulian.demo import spec
from gulian.demo.spec import ZHEJIANG

TRADE_CHARS = (
    "恒达华鑫泰宏盛源新锦瑞科天海联创博通晶正凯永金信德安中宇嘉丰汇益腾辉昌隆润祥光明力远航驰欣兴"
    "发美佳诚立杰高成万利富顺和平康宁东方南北星辰云峰森林青蓝银振集威迅捷启卓越格优拓众"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈任姚卢钟姜"
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉萍红建国志文斌辉鹏宇浩凯晨思佳欣雨婷雪琳"
ROAD_STEMS = ("文三", "学院", "解放", "人民", "建设", "中山", "环城", "工业", "科技", "创业", "江南", "滨海",
              "新华", "世纪", "永安", "长兴", "振兴", "开发", "青年", "东方")
ROAD_KINDS = ("路", "大道", "街")
TAIWAN_CITIES = ("台北市", "新竹市", "台中市", "高雄市", "桃园市")
AUTONOMOUS_REGIONS = {"内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏",
                      "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆"}
_SUFFIXES = ("省", "自治区", "特别行政区", "市", "自治州", "地区", "盟", "自治县", "区", "县", "旗")


def short_name(name: str) -> str:
    """A region's name without its administrative suffix (浙江省 → 浙江, 鄞州区 → 鄞州); two characters kept."""
    if name in AUTONOMOUS_REGIONS:
        return AUTONOMOUS_REGIONS[name]
    if "自治" in name[2:]:  # 甘孜藏族自治州 → 甘孜州, 景宁畲族自治县 → 景宁
        return name[:2] + ("州" if name.endswith("自治州") else "")
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def trade_name(rng: np.random.Generator) -> str:
    """Two distinct characters from the common trade-name list."""
    a, b = rng.integers(0, len(TRADE_CHARS), 2)
    while b == a:
        b = rng.integers(0, len(TRADE_CHARS))
    return TRADE_CHARS[a] + TRADE_CHARS[b]


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` made-up Chinese names: surname plus one or two given-name characters."""
    sur = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN_CHARS), n)
    g2 = rng.integers(0, len(GIVEN_CHARS), n)
    two = rng.random(n) < 0.7
    return [
        SURNAMES[s] + GIVEN_CHARS[a] + (GIVEN_CHARS[b] if t else "")
        for s, a, b, t in zip(sur.tolist(), g1.tolist(), g2.tolist(), two.tolist(), strict=True)
    ]


def phones(rng: np.random.Generator, area_codes: list[str | None]) -> list[str]:
    """A landline with the firm's area code half of the time (when it has one), otherwise a mobile number."""
    n = len(area_codes)
    mobile = rng.random(n) < 0.5
    second = rng.choice(list("35789"), n)
    digits = rng.integers(0, 10**8, n)
    tails = rng.integers(0, 10, n)
    out = []
    for area, m, s, d, t in zip(area_codes, mobile.tolist(), second.tolist(), digits.tolist(), tails.tolist(),
                                strict=True):
        if area and not m:
            out.append(f"{area}-8{d % 10**7:07d}")
        else:
            out.append(f"1{s}{d:08d}{t}")
    return out


def street_addresses(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` street addresses (road and number), to follow a region's full name."""
    stems = rng.integers(0, len(ROAD_STEMS), n)
    kinds = rng.integers(0, len(ROAD_KINDS), n)
    numbers = rng.integers(1, 2000, n)
    return [
        f"{ROAD_STEMS[s]}{ROAD_KINDS[k]}{num}号"
        for s, k, num in zip(stems.tolist(), kinds.tolist(), numbers.tolist(), strict=True)
    ]


def uscc_bodies(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct 8-character organisation-code bodies: 60 % new-style ``MA…``, 40 % eight digits."""
    seen: set[str] = set()
    out = []
    while len(out) < n:
        if rng.random() < 0.6:
            body = "MA" + "".join(ALPHABET[i] for i in rng.integers(0, len(ALPHABET), 6))
        else:
            body = f"{rng.integers(10**7, 10**8)}"
        if body not in seen:
            seen.add(body)
            out.append(body)
    return out


def chinese_names(rng, geo, regions, segments, groups, output, segs) -> list[str]:
    """Unique 行政区划 + 字号 + 行业 + 组织形式 names; big firms more often 浙江… and 股份有限公司."""
    seen: set[str] = set()
    out = []
    top = output >= np.quantile(output, 0.98)
    for region, seg, group, big in zip(regions, segments.tolist(), groups.tolist(), top.tolist(), strict=True):
        words = segs[seg][2].words
        while True:
            u = rng.random()
            if group == ZHEJIANG and (u < 0.1 or (big and u < 0.5)):
                head = "浙江"
            elif group == ZHEJIANG and u > 0.8:
                head = short_name(geo.names[region])
            else:
                head = geo.city_prefix(region)
            suffix = "股份有限公司" if rng.random() < (0.5 if big else 0.08) else "有限公司"
            name = head + trade_name(rng) + words[rng.integers(len(words))] + suffix
            if name not in seen:
                break
        seen.add(name)
        out.append(name)
    return out


def foreign_name(rng, country: str, industry: str, seen: set[tuple[str, str]]) -> str:
    """A unique made-up English company name in the country's style, with a word for its industry."""
    _w, _zh, _cities, stems, suffixes = spec.COUNTRIES[country]
    words = spec.FOREIGN_WORDS[industry]
    for attempt in range(300):
        name = f"{stems[rng.integers(len(stems))]} {words[rng.integers(len(words))]}"
        if attempt >= 30:  # the short pattern is used up in this country: add a place-like second stem
            name = f"{stems[rng.integers(len(stems))]}-{name}"
        if attempt >= 200:
            name += f" {attempt}"
        name += f" {suffixes[rng.integers(len(suffixes))]}"
        if (country, name) not in seen:
            seen.add((country, name))
            return name
    raise RuntimeError("no unique foreign name left")  # pragma: no cover - the numbered pattern always succeeds
