"""Supply links of the demo province: who buys what from whom, where, how much, how fast.

Pure numpy, no Django. The recipe, per link:

1. the customer is a Zhejiang firm drawn with weight x^0.45 · ε (x its output, ε lognormal noise;
   chain owners ×4, first-segment firms ×½), so in-degrees are heavy-tailed and grow with size;
2. the scope (市内/省内/省外/境外) is drawn from ``spec.SCOPE_MIX`` with the 境外 share scaled by the
   customer's chain (集成电路 buys abroad twice as often as the average chain);
3. the supplier's segment is an upstream segment of the customer's chain (the one just above
   most often, weight 2^order), or, with probability ``spec.CROSS_CHAIN_SHARE``, a non-final
   segment of a chain the customer's chain buys from (``spec.CROSS_CHAIN``);
4. the supplier is drawn from the firms of that segment in that location with weight x^0.7 · ε
   (preferential attachment by size: out-degrees are heavy-tailed); when the location has no
   firm of that segment, any firm of the chain there, then any firm there, is taken;
5. the category is the supplier's main product (80 %) or another product of its segment.

Duplicates of (supplier, customer, category) are dropped. Shares within each (customer,
category) split a coverage (1 for 45 % of single sources, else 0.5–1; 0.7–0.98 when several
suppliers) by weight x_s · Gamma(2), floored to 0.0001 so they sum to at most 1. Annual value
= customer output × input ratio (0.55–0.75) × the category's part of the inputs (a Dirichlet
split of 50–85 % of them) × share. Lead times and inventory days grow with distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gulian.demo import spec
from gulian.demo.spec import FOREIGN, OTHER_PROVINCE, ZHEJIANG

PROVINCE_BUCKET, DOMESTIC_BUCKET, FOREIGN_BUCKET = 11, 12, 13
OWNER_BOOST = 4.0


@dataclass
class LinkTable:
    """One row per supply link (indices into the firm table)."""

    supplier: np.ndarray
    customer: np.ndarray
    category: list[str]
    scope: list[str]  # city / province / domestic / foreign, as LinkScope values
    annual_value: np.ndarray  # whole yuan
    share: np.ndarray  # in units of 0.0001
    lead_time_days: np.ndarray
    inventory_tenths: np.ndarray  # customer's inventory of the input, in tenths of a day
    alternatives_known: np.ndarray


class _Pools:
    """Weighted sampling of a firm from a pool keyed by (level, location bucket, segment or chain)."""

    def __init__(self, firms, pref_of: np.ndarray, weight: np.ndarray, seg_chain: np.ndarray):
        zj = np.flatnonzero(firms.group == ZHEJIANG)
        out = np.flatnonzero(firms.group == OTHER_PROVINCE)
        foreign = np.flatnonzero(firms.group == FOREIGN)
        members = np.concatenate([zj, zj, out, foreign])
        buckets = np.concatenate([pref_of[zj], np.full(len(zj), PROVINCE_BUCKET),
                                  np.full(len(out), DOMESTIC_BUCKET), np.full(len(foreign), FOREIGN_BUCKET)])
        seg = firms.segment[members]
        keys = np.concatenate([self.key(level, buckets, x) for level, x in enumerate((seg, seg_chain[seg], 0))])
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.firm = np.tile(members, 3)[order]
        self.cum = np.cumsum(weight[self.firm])
        self.uniq, self.start = np.unique(self.keys, return_index=True)
        self.end = np.r_[self.start[1:], len(self.keys)]
        self.base = np.where(self.start > 0, self.cum[self.start - 1], 0.0)
        self.total = self.cum[self.end - 1] - self.base

    @staticmethod
    def key(level: int, bucket, x) -> np.ndarray:
        """Level 0: bucket × segment; 1: bucket × chain; 2: bucket alone."""
        return level * 1_000_000 + np.asarray(bucket, dtype=np.int64) * 1000 + x

    def sample(self, rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
        """One firm per key, weighted; −1 where the pool is empty."""
        pos = np.minimum(np.searchsorted(self.uniq, keys), len(self.uniq) - 1)
        found = self.uniq[pos] == keys
        r = self.base[pos] + rng.random(len(keys)) * self.total[pos]
        idx = np.clip(np.searchsorted(self.cum, r, side="right"), self.start[pos], self.end[pos] - 1)
        return np.where(found, self.firm[idx], -1)


def supplier_segment_matrix(segs) -> np.ndarray:
    """P[s, t]: probability that a customer in segment s buys from segment t."""
    index = {(c, o): g for g, (c, o, _s) in enumerate(segs)}
    chain_codes = [c.code for c in spec.CHAINS]
    p = np.zeros((len(segs), len(segs)))
    for g, (c, o, _s) in enumerate(segs):
        ups = range(1, o) if o > 1 else (1,)
        w = np.array([2.0**j for j in ups])
        for j, wj in zip(ups, w / w.sum(), strict=True):
            p[g, index[(c, j)]] += (1 - spec.CROSS_CHAIN_SHARE) * wj
        cross = spec.CROSS_CHAIN[spec.CHAINS[c].code]
        total = sum(cross.values())
        for code, weight in cross.items():
            other = chain_codes.index(code)
            stages = spec.CHAINS[other].segments[:-1]
            sw = sum(s.weight for s in stages)
            for j, s in enumerate(stages, start=1):
                p[g, index[(other, j)]] += spec.CROSS_CHAIN_SHARE * weight / total * s.weight / sw
    return p


def scope_mix() -> np.ndarray:
    """Chain × scope probabilities: the base mix with 境外 scaled by the chain's foreign bias."""
    base = np.array(spec.SCOPE_MIX)
    rows = []
    for chain in spec.CHAINS:
        f = base[3] * chain.foreign_bias
        rows.append(np.r_[base[:3] * (1 - f) / base[:3].sum(), f])
    return np.array(rows)


def _draw(rng, firms, segs, pools, pref_of, cust_pool, cust_w, n_draw):
    """Candidate links (customer, supplier, scope index); suppliers are −1 where none was found."""
    seg_chain = np.array([c for c, _o, _s in segs])
    cust = rng.choice(cust_pool, n_draw, p=cust_w)
    scope = draw_rows(rng, scope_mix(), firms.chain[cust])
    seg = draw_rows(rng, supplier_segment_matrix(segs), firms.segment[cust])
    bucket = np.where(scope == 0, pref_of[cust], PROVINCE_BUCKET + scope - 1)
    sup = np.full(n_draw, -1)
    pending = np.arange(n_draw)
    for level, x in enumerate((seg, seg_chain[seg], np.zeros_like(seg))):
        key = pools.key(level, bucket, x)
        todo = pending
        for _round in range(8):  # redraw suppliers that are the customer or sit in its own city
            s = pools.sample(rng, key[todo])
            c = cust[todo]
            same_city = (bucket[todo] == PROVINCE_BUCKET) & (pref_of[np.maximum(s, 0)] == pref_of[c])
            ok = (s >= 0) & (s != c) & ~same_city
            sup[todo[ok]] = s[ok]
            todo = todo[(s >= 0) & ~ok]
            if not len(todo):
                break
        pending = pending[sup[pending] < 0]
    return cust, sup, scope


def generate_links(rng, firms, segs, owners: np.ndarray, prefectures, n_links: int) -> LinkTable:
    """``n_links`` distinct supply links with Zhejiang customers (see the module docstring)."""
    n = len(firms)
    pref_index = {p: i for i, p in enumerate(prefectures)}
    pref_of = np.array([pref_index.get(r[:4], -1) if r else -1 for r in firms.region])
    zj = np.flatnonzero(firms.group == ZHEJIANG)
    orders = np.array([o for _c, o, _s in segs])
    cust_w = firms.output[zj] ** 0.45 * rng.lognormal(0, 0.6, len(zj))
    cust_w[np.isin(zj, owners)] *= OWNER_BOOST
    cust_w[orders[firms.segment[zj]] == 1] *= 0.5
    sup_w = firms.output.astype(float) ** 0.7 * rng.lognormal(0, 0.8, n)
    pools = _Pools(firms, pref_of, sup_w, np.array([c for c, _o, _s in segs]))

    # Two segments may sell the same product (涤纶长丝): categories are compared by name.
    products = list(dict.fromkeys(p for _c, _o, s in segs for p in s.products))
    name_id = np.array([products.index(p) for _c, _o, s in segs for p in s.products])
    offset = np.cumsum([0] + [len(s.products) for _c, _o, s in segs])[:-1]
    n_products = np.array([len(s.products) for _c, _o, s in segs])
    factor = 1.25
    for _attempt in range(6):
        cust, sup, scope = _draw(rng, firms, segs, pools, pref_of, zj, cust_w / cust_w.sum(),
                                 int(n_links * factor) + 100)
        found = sup >= 0
        cust, sup, scope = cust[found], sup[found], scope[found]
        other = (rng.random(len(sup)) * n_products[firms.segment[sup]]).astype(np.int64)
        prod = np.where(rng.random(len(sup)) < 0.8, firms.product[sup], other)
        cat = name_id[offset[firms.segment[sup]] + prod]
        _u, first = np.unique((sup * n + cust) * len(products) + cat, return_index=True)
        if len(first) >= n_links:
            break
        factor *= 1.6
    else:
        raise ValueError(f"无法生成 {n_links} 条不重复的供应关系 / cannot draw {n_links} distinct links")
    keep = _keep_mix(rng, np.sort(first), scope, n_links)
    cust, sup, scope, cat = cust[keep], sup[keep], scope[keep], cat[keep]
    order = np.lexsort((sup, cat, cust))
    cust, sup, scope, cat = cust[order], sup[order], scope[order], cat[order]
    return _attributes(rng, firms, cust, sup, scope, cat, products)


def _keep_mix(rng, unique: np.ndarray, scope: np.ndarray, n_links: int) -> np.ndarray:
    """``n_links`` of the distinct links, keeping the scope mix of all draws.

    Small pools (a city's few firms of a segment) repeat pairs more often, so dropping duplicates
    alone would shift the mix away from 市内 in a small province; sampling each scope to its drawn
    share keeps it where ``spec.SCOPE_MIX`` puts it.
    """
    drawn = np.bincount(scope, minlength=4) / len(scope)
    target = np.floor(drawn * n_links).astype(int)
    target[np.argmax(drawn)] += n_links - target.sum()
    chosen, spare = [], []
    for s in range(4):
        mine = unique[scope[unique] == s][rng.permutation(int((scope[unique] == s).sum()))]
        chosen.append(mine[: target[s]])
        spare.append(mine[target[s]:])
    picked = np.concatenate(chosen)
    rest = np.concatenate(spare)
    picked = np.concatenate([picked, rest[rng.permutation(len(rest))][: n_links - len(picked)]])
    return np.sort(picked)


def _attributes(rng, firms, cust, sup, scope, cat, products) -> LinkTable:
    """Shares, values, lead times, inventory days and alternatives for the chosen links."""
    m, n = len(cust), len(firms)
    _g, group, k = np.unique(cust * len(products) + cat, return_inverse=True, return_counts=True)
    n_groups = len(k)
    single_cover = np.where(rng.random(n_groups) < 0.45, 1.0, rng.uniform(0.5, 1.0, n_groups))
    coverage = np.where(k == 1, single_cover, rng.uniform(0.7, 0.98, n_groups))
    w = firms.output[sup].astype(float) * rng.gamma(2.0, size=m)
    share = coverage[group] * w / np.bincount(group, w)[group]
    share_units = np.maximum(1, np.floor(share * 10_000)).astype(np.int64)

    group_cust = np.zeros(n_groups, dtype=np.int64)
    group_cust[group] = cust
    gw = rng.gamma(1.0, size=n_groups)
    part = gw / np.bincount(group_cust, gw, minlength=n)[group_cust] * rng.uniform(0.5, 0.85, n)[group_cust]
    ratio = rng.uniform(0.55, 0.75, n)
    value = firms.output[cust] * ratio[cust] * part[group] * share_units / 10_000
    value = np.maximum(1000, np.round(value)).astype(np.int64)

    lead = np.ceil(np.array(spec.LEAD_TIME_MEDIAN)[scope] * rng.lognormal(0, 0.45, m)).astype(np.int64)
    inventory = np.round(rng.gamma(2.0, np.array(spec.INVENTORY_MEAN)[scope] / 2) * 10).astype(np.int64)
    p_alt = np.array(spec.ALTERNATIVES_P)[scope]
    p_alt = np.where(k[group] > 1, np.minimum(0.95, p_alt + 0.2), p_alt)
    p_alt = np.where(share_units == 10_000, p_alt * 0.8, p_alt)
    return LinkTable(
        supplier=sup, customer=cust, category=[products[c] for c in cat.tolist()],
        scope=[spec.SCOPES[s] for s in scope.tolist()], annual_value=value, share=share_units,
        lead_time_days=np.maximum(1, lead), inventory_tenths=inventory,
        alternatives_known=rng.random(m) < p_alt,
    )


def draw_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each i, a column drawn from the distribution ``probs[rows[i]]`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    cum = cum / cum[:, -1:]
    u = rng.random(len(rows))
    return np.minimum((u[:, None] > cum[rows]).sum(axis=1), probs.shape[1] - 1)
