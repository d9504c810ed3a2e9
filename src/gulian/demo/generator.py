"""Generate the demo province from a seed: firms, chain memberships and supply links, as arrays.

Pure numpy, no Django: :func:`generate` takes a :class:`Geography` (built from the region table by
the loader, or from any list of GB/T 2260 rows) and returns a :class:`DemoProvince` whose content
depends only on the seed and the sizes, so the same seed gives identical data (see
:meth:`DemoProvince.fingerprint`). docs/demo.md describes the distributions.

Sizes. Baseline output is lognormal (median 16 million yuan, σ = 1.35 in log space) with a Pareto
tail (α = 1.15, from 400 million yuan) for about 1.2 % of firms (2.5× as often in the chain owners'
segments, ½× elsewhere), so the top 1 % of firms make over 40 % of the output. Employees follow from output through a labour productivity that rises with
size, p = 300,000 · (x / 10⁶)^0.25 yuan per worker; scale (大/中/小/微) applies the 2017 statistical
thresholds for industry to employees and revenue; 规上 means revenue ≥ 20 million yuan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from gulian.core.uscc import make as make_uscc
from gulian.demo import names as nm
from gulian.demo import spec
from gulian.demo.links import LinkTable, draw_rows, generate_links
from gulian.demo.spec import FOREIGN, OTHER_PROVINCE, ZHEJIANG

OWNER, CORE, SUPPLIER = "owner", "core", "supplier"
LARGE_OUTPUT, DESIGNATED_SIZE = 4e8, 2e7


@dataclass(frozen=True)
class Geography:
    """The regions the generator places firms in, from GB/T 2260 rows (code, name, level, full name)."""

    prefectures: tuple[str, ...]  # Zhejiang's 4-digit prefixes, 3301 … 3311
    counties: dict[str, tuple[str, ...]]  # 2- or 4-digit prefix → county-level codes under it
    names: dict[str, str]
    full_names: dict[str, str]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, str]]) -> Geography:
        """Build from (code, name, level, full_name) rows, e.g. ``Region.objects.values_list(...)``."""
        names, full, counties = {}, {}, {}
        for code, name, level, full_name in sorted(rows):
            names[code], full[code] = name, full_name or name
            if level == "county":
                counties.setdefault(code[:2], []).append(code)
                counties.setdefault(code[:4], []).append(code)
        prefectures = tuple(p for p in spec.PREFECTURE_WEIGHT if counties.get(p))
        if len(prefectures) != len(spec.PREFECTURE_WEIGHT):
            raise ValueError("行政区划表缺少浙江省的地市 / the region table lacks Zhejiang's prefectures")
        return cls(prefectures, {k: tuple(v) for k, v in counties.items()}, names, full)

    def city_prefix(self, county: str) -> str:
        """Short name used at the head of a company name: the prefecture's, or the province's."""
        prefecture = county[:4] + "00"
        if prefecture in self.names and county[:2] not in ("11", "12", "31", "50"):
            return nm.short_name(self.names[prefecture])
        return nm.short_name(self.names[county[:2] + "0000"])


@dataclass
class FirmTable:
    """One row per enterprise; Zhejiang firms first, then out-of-province, then foreign (Taiwan included)."""

    group: np.ndarray  # ZHEJIANG / OTHER_PROVINCE / FOREIGN
    chain: np.ndarray  # index into spec.CHAINS: the chain the firm works in
    segment: np.ndarray  # global segment index (see DemoProvince.segments)
    product: np.ndarray  # index into the segment's products: what it mainly sells
    output: np.ndarray  # baseline annual output, whole yuan (int64)
    employees: np.ndarray
    country: list[str]
    region: list[str | None]
    uscc: list[str | None]
    name: list[str]
    industry: list[str]
    scale: list[str]
    contact_name: list[str]
    contact_phone: list[str]
    contact_email: list[str]
    address: list[str]

    def __len__(self) -> int:
        return len(self.name)

    @property
    def above_designated_size(self) -> np.ndarray:
        """规上: annual revenue of at least 20 million yuan."""
        return self.output >= DESIGNATED_SIZE


@dataclass
class MembershipTable:
    """Zhejiang firms' memberships of their chain: firm index, global segment index, role."""

    firm: np.ndarray
    segment: np.ndarray
    role: list[str]


@dataclass
class DemoProvince:
    """Everything ``gulian demo`` writes, as plain arrays and lists."""

    seed: int
    segments: list[tuple[int, int, spec.SegmentSpec]]  # (chain index, order 1…, spec) by global index
    firms: FirmTable
    memberships: MembershipTable
    links: LinkTable
    counts: dict[str, int] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """SHA-256 over every generated value: equal for equal data, recorded in the audit log."""
        h = hashlib.sha256(str(self.seed).encode())
        for table in (self.firms, self.memberships, self.links):
            for name, value in vars(table).items():
                h.update(name.encode())
                h.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray) else
                         "\x1f".join(map(str, value)).encode())
        return h.hexdigest()


def global_segments() -> list[tuple[int, int, spec.SegmentSpec]]:
    """Every chain's segments in one list: (chain index, order from 1, spec)."""
    return [(c, o, s) for c, ch in enumerate(spec.CHAINS) for o, s in enumerate(ch.segments, start=1)]


def _segment_probs(segs, upstream: bool, foreign: bool) -> np.ndarray:
    """Chain × segment weights; suppliers from elsewhere lean upstream, foreign ones sell no services."""
    width = max(len(c.segments) for c in spec.CHAINS)
    probs = np.zeros((len(spec.CHAINS), width))
    for c, o, s in segs:
        n = len(spec.CHAINS[c].segments)
        w = s.weight * ((n - o + 1) if upstream else 1)
        if foreign and set(s.industries) <= {"51", "63"}:
            w = 0.0
        probs[c, o - 1] = w
    return probs


def _outputs(rng: np.random.Generator, median: float, sigma: float, tail: np.ndarray) -> np.ndarray:
    """Lognormal body with a Pareto tail (chance ``tail`` per firm), floored at 500,000 yuan, capped at 120 billion."""
    n = len(tail)
    x = np.exp(rng.normal(np.log(median), sigma, n))
    big = rng.random(n) < tail
    x[big] = np.maximum(x[big], 4e8 * (1 + rng.pareto(1.15, big.sum())))
    return np.clip(np.round(x, -3), 5e5, 1.2e11).astype(np.int64)


def _employees(rng: np.random.Generator, output: np.ndarray) -> np.ndarray:
    """Employees from output through a productivity that rises with size (300,000 yuan a worker at 1 million)."""
    productivity = 3e5 * (output / 1e6) ** 0.25 * np.exp(rng.normal(0, 0.3, len(output)))
    return np.clip(np.round(output / productivity), 2, 300_000).astype(np.int64)


def fit_outputs(rng: np.random.Generator, firms: FirmTable, links: LinkTable) -> int:
    """Raise the output of suppliers whose registered sales exceed it to sales / U(0.6, 0.9).

    Preferential attachment sometimes hands a small firm a big customer's whole category; a firm
    cannot sell more than it makes, so its size follows its sales (employees and scale with it).
    Returns the number of firms resized.
    """
    sales = np.bincount(links.supplier, links.annual_value.astype(float), minlength=len(firms))
    need = np.round(sales / rng.uniform(0.6, 0.9, len(firms)), -3).astype(np.int64)
    short = np.flatnonzero(need > firms.output)
    firms.output[short] = need[short]
    firms.employees[short] = _employees(rng, firms.output[short])
    firms.scale = _scales(firms.output, firms.employees)
    return len(short)


def _scales(output: np.ndarray, employees: np.ndarray) -> list[str]:
    """大/中/小/微 by the 2017 statistical thresholds for industry (employees and revenue)."""
    large = (employees >= 1000) & (output >= LARGE_OUTPUT)
    medium = ~large & (employees >= 300) & (output >= DESIGNATED_SIZE)
    small = ~large & ~medium & (employees >= 20) & (output >= 3e6)
    return np.select([large, medium, small], ["large", "medium", "small"], "micro").tolist()


def _place(rng, geo: Geography, n_zj: int, n_out: int, n_foreign: int):
    """Regions, countries and chains of every firm (arrays in firm order)."""
    chains = spec.CHAINS
    pref_p = np.array([spec.PREFECTURE_WEIGHT[p] for p in geo.prefectures], float)
    pref = rng.choice(len(geo.prefectures), n_zj, p=pref_p / pref_p.sum())
    boost = np.array([[c.weight * spec.PREFECTURE_CHAIN_BOOST.get(p, {}).get(c.code, 1.0) for c in chains]
                      for p in geo.prefectures])
    chain_zj = draw_rows(rng, boost, pref)
    # Urban districts (codes 01–19 under a prefecture) host more firms than counties.
    width = max(len(geo.counties[p]) for p in geo.prefectures)
    county_w = np.zeros((len(geo.prefectures), width))
    for i, p in enumerate(geo.prefectures):
        for j, code in enumerate(geo.counties[p]):
            county_w[i, j] = rng.gamma(2.0) * (2.0 if int(code[4:]) < 20 else 1.0)
    county_idx = draw_rows(rng, county_w, pref)
    regions: list[str | None] = [geo.counties[geo.prefectures[p]][j] for p, j in zip(pref, county_idx, strict=True)]
    countries = ["CN"] * (n_zj + n_out)

    prov = list(spec.OTHER_PROVINCES)
    prov_p = np.array([spec.OTHER_PROVINCES[p] for p in prov], float)
    # Suppliers elsewhere sit mostly in cities' urban districts (codes 01–19 under a prefecture).
    urban_w = {p: np.array([3.0 if int(c[4:]) < 20 else 1.0 for c in geo.counties[p]]) for p in prov}
    for p in rng.choice(len(prov), n_out, p=prov_p / prov_p.sum()):
        options, w = geo.counties[prov[p]], urban_w[prov[p]]
        regions.append(options[rng.choice(len(options), p=w / w.sum())])
    chain_w = np.array([c.weight for c in chains])
    chain_out = rng.choice(len(chains), n_out, p=chain_w / chain_w.sum())

    codes = [*spec.COUNTRIES, "TW"]
    code_p = np.array([v[0] for v in spec.COUNTRIES.values()] + [spec.TAIWAN_WEIGHT], float)
    for k in rng.choice(len(codes), n_foreign, p=code_p / code_p.sum()):
        taiwan = codes[k] == "TW"
        countries.append("CN" if taiwan else codes[k])
        regions.append(spec.TAIWAN if taiwan else None)
    foreign_w = chain_w * np.array([c.foreign_bias for c in chains])
    chain_f = rng.choice(len(chains), n_foreign, p=foreign_w / foreign_w.sum())
    return regions, countries, np.concatenate([chain_zj, chain_out, chain_f])


def generate_firms(rng: np.random.Generator, geo: Geography, n_zj: int, segs) -> FirmTable:
    """Zhejiang firms, out-of-province suppliers and foreign suppliers with sizes, names, USCCs and contacts."""
    n_out = round(n_zj * spec.OUT_OF_PROVINCE_SHARE)
    n_foreign = max(12, round(n_zj * spec.FOREIGN_SHARE))
    n = n_zj + n_out + n_foreign
    group = np.repeat([ZHEJIANG, OTHER_PROVINCE, FOREIGN], [n_zj, n_out, n_foreign])
    regions, countries, chain = _place(rng, geo, n_zj, n_out, n_foreign)

    # Segment within the chain; firms from outside Zhejiang are mostly upstream suppliers.
    seg_base = np.cumsum([0] + [len(c.segments) for c in spec.CHAINS])[:-1]
    order = np.empty(n, dtype=np.int64)
    for g, (up, foreign) in enumerate(((False, False), (True, False), (True, True))):
        rows = np.flatnonzero(group == g)
        order[rows] = draw_rows(rng, _segment_probs(segs, up, foreign), chain[rows])
    segment = seg_base[chain] + order
    n_products = np.array([len(s.products) for _c, _o, s in segs])
    product = (rng.random(n) * n_products[segment]).astype(np.int64)

    # The very big firms sit mostly in the owners' segments (整车, 整机, 炼化), rarely in services.
    owner_seg = np.array([o in spec.CHAINS[c].owner_segments for c, o, _s in segs])[segment]
    tail = np.where(owner_seg, 2.5, 0.5)
    output = np.concatenate([
        _outputs(rng, 1.6e7, 1.35, 0.012 * tail[group == ZHEJIANG]),
        _outputs(rng, 4e7, 1.4, 0.02 * tail[group == OTHER_PROVINCE]),
        _outputs(rng, 3e8, 1.3, 0.08 * tail[group == FOREIGN]),
    ])
    employees = _employees(rng, output)

    industries = [s.industries[min(int(i), len(s.industries) - 1)]
                  for s, i in zip((segs[k][2] for k in segment), rng.choice(3, n, p=[0.6, 0.25, 0.15]), strict=True)]
    domestic = [i for i in range(n) if countries[i] == "CN"]
    names = [""] * n
    for i, name in zip(domestic, nm.chinese_names(rng, geo, [regions[i] for i in domestic], segment[domestic],
                                                group[domestic], output[domestic], segs), strict=True):
        names[i] = name
    seen: set[tuple[str, str]] = set()
    for i in range(n):
        if countries[i] != "CN":
            names[i] = nm.foreign_name(rng, countries[i], industries[i], seen)
    bodies = iter(nm.uscc_bodies(rng, len(domestic)))
    uscc = [make_uscc(regions[i], next(bodies)) if countries[i] == "CN" else None for i in range(n)]

    area = [spec.AREA_CODE.get(r[:4]) if r else None for r in regions]
    phones = nm.phones(rng, area)
    streets = nm.street_addresses(rng, n)
    taiwan_city = rng.integers(0, len(nm.TAIWAN_CITIES), n)
    foreign_city = rng.integers(0, 4, n)
    address, contact_phone = [], []
    for i in range(n):
        r, c = regions[i], countries[i]
        if c != "CN":
            _w, zh, cities, _s, _x = spec.COUNTRIES[c]
            address.append(zh + cities[foreign_city[i] % len(cities)])
            contact_phone.append("")
        elif r == spec.TAIWAN:
            address.append("台湾省" + nm.TAIWAN_CITIES[taiwan_city[i]] + streets[i])
            contact_phone.append("")
        else:
            address.append(geo.full_names[r] + streets[i])
            contact_phone.append(phones[i])
    people = nm.person_names(rng, n)
    return FirmTable(
        group=group, chain=chain, segment=segment, product=product, output=output, employees=employees,
        country=countries, region=regions, uscc=uscc, name=names, industry=industries,
        scale=_scales(output, employees),
        contact_name=[p if c == "CN" else "" for p, c in zip(people, countries, strict=True)],
        contact_phone=contact_phone,
        contact_email=[f"contact{i:06d}@example.com" for i in range(n)],
        address=address,
    )


def choose_members(rng: np.random.Generator, firms: FirmTable, segs) -> MembershipTable:
    """Per chain: the biggest firms of its owner segments are 链主, the next biggest upstream ones core suppliers.

    Of the other Zhejiang firms in the chain, half of the 规上 ones and 15 % of the rest are listed
    as ordinary suppliers (配套企业).
    """
    n_zj = int((firms.group == ZHEJIANG).sum())
    n_owner = max(2, round(n_zj / spec.OWNER_PER_FIRMS))
    n_core = max(3, round(n_zj / spec.CORE_PER_FIRMS))
    orders = np.array([o for _c, o, _s in segs])
    role = np.full(len(firms), "", dtype=object)
    for c, chain in enumerate(spec.CHAINS):
        mine = np.flatnonzero((firms.group == ZHEJIANG) & (firms.chain == c))
        by_size = mine[np.lexsort((mine, -firms.output[mine]))]  # biggest first, ties by index
        in_owner_seg = np.isin(orders[firms.segment[by_size]], chain.owner_segments)
        owners = by_size[in_owner_seg][:n_owner]
        cores = by_size[~in_owner_seg][:n_core]
        role[owners], role[cores] = OWNER, CORE
    zj = np.flatnonzero(firms.group == ZHEJIANG)
    listed = rng.random(len(zj)) < np.where(firms.above_designated_size[zj], 0.5, 0.15)
    rest = zj[listed & (role[zj] == "")]
    role[rest] = SUPPLIER
    members = np.flatnonzero(role != "")
    return MembershipTable(firm=members, segment=firms.segment[members], role=role[members].tolist())


def generate(geo: Geography, seed: int = 2020, enterprises: int = 20_000, links: int = 100_000) -> DemoProvince:
    """The whole demo province for ``seed``: ``enterprises`` Zhejiang firms and ``links`` supply links."""
    if enterprises < 100:
        raise ValueError("至少需要 100 家浙江企业 / at least 100 Zhejiang enterprises are needed")
    if links < 0:
        raise ValueError("供应关系数不能为负 / the number of links cannot be negative")
    rng = np.random.default_rng(seed)
    segs = global_segments()
    firms = generate_firms(rng, geo, enterprises, segs)
    members = choose_members(rng, firms, segs)
    owners = members.firm[np.array(members.role) == OWNER]
    link_table = generate_links(rng, firms, segs, owners, geo.prefectures, links)
    resized = fit_outputs(rng, firms, link_table)
    counts = {
        "enterprises": len(firms),
        "zhejiang": enterprises,
        "other_provinces": int((firms.group == OTHER_PROVINCE).sum()),
        "foreign": int((firms.group == FOREIGN).sum()),
        "chains": len(spec.CHAINS),
        "segments": len(segs),
        "memberships": len(members.firm),
        "owners": len(owners),
        "core_suppliers": members.role.count(CORE),
        "links": len(link_table.supplier),
        "resized_suppliers": resized,
    }
    return DemoProvince(seed, segs, firms, members, link_table, counts)
