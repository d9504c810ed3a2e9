"""Demo appeals (企业诉求): about 5,000 problems of the demo province's enterprises, 2020-02-01 to 2020-05-31.

``gulian demo`` runs this after the risk step. Three parts:

* :func:`read_inputs` reads what the texts and routes need from the registry (Zhejiang firms with their
  county, products, suppliers and customers), the risk list when the risk step ran, the held-back list
  when there are daily reports, and the demo users;
* :func:`plan` draws the appeals with one ``numpy.random.Generator`` (same registry, seed and settings →
  the same appeals, checked by a fingerprint) and lives each one through to 2020-05-31 23:00 (``AS_OF``),
  following the rules of the real services: routes from :func:`gulian.appeals.routing.initial_route`,
  deadlines from :func:`gulian.appeals.sla.deadlines`, the task force's triage, transfers, escalations
  up the ladder, the overdue sweep (:mod:`gulian.appeals.sweep`: an OVERDUE event once per deadline,
  automatic escalation after ``APPEALS_AUTO_ESCALATE_DAYS`` working days), replies, ratings, 销号 and
  reopening within ``APPEALS_REOPEN_DAYS``; same-enterprise look-alikes within 24 h are flagged exactly
  as :func:`gulian.appeals.services.find_near_duplicate` would;
* :func:`load` writes appeals, timelines, related enterprises and regions, enterprise accounts and a
  handful of unread notifications in bulk, in one transaction, with one ``demo_appeals`` audit record
  (seed, counts, fingerprint) instead of one per row; :func:`reset` deletes every appeal again (before
  the registry it points at) with one ``demo_appeals_reset`` record.

Volume follows the 2020 queue: it rises from the Spring Festival, peaks in the second half of February
and decays to a floor in May; 用工, 物流运输, 原材料/零部件供应, 防疫物资 and 资金融资 dominate early, 订单/市场
and 政策兑现 later (``appeals_text.MIX_EARLY``/``MIX_LATE``). The texts come from the phrase bank in
:mod:`gulian.demo.appeals_text`, filled with the enterprise's own products, inputs, suppliers and
customers. Enterprises file through their own accounts (``qy_`` + USCC, created here, no password:
they cannot sign in), the Hangzhou liaison files for its firms, and ``hz_enterprise`` for its own.
Officials' steps carry the demo user of the unit when there is one (``hz_handler``, ``hz_transport``,
``zj_economy``, the task forces), else no actor (docs/demo.md, "企业诉求").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone, translation

from gulian.appeals import routing, sla
from gulian.appeals.models import (
    LADDER,
    Appeal,
    AppealAttachment,
    AppealEvent,
    Category,
    Department,
    EventKind,
    Level,
    Notification,
    Status,
    Urgency,
    WebhookDelivery,
)
from gulian.appeals.workdays import add_workdays, workdays_between
from gulian.core import audit, bulk
from gulian.core.models import AuditRecord, Industry, Region, Role, User
from gulian.demo import appeals_text as tx
from gulian.demo import spec
from gulian.demo.load import BatchRecord
from gulian.registry.models import Enterprise, MemberRole, Membership, SupplyLink
from gulian.registry.scope import LinkScope

SHANGHAI = sla.SHANGHAI
START = dt.date(2020, 2, 1)
END = dt.date(2020, 5, 31)
AS_OF = dt.datetime(2020, 5, 31, 23, 0, tzinfo=SHANGHAI)
"""The demo's "now": every step happened before it; the overdue sweep has run up to it."""
CUTOFF = AS_OF - dt.timedelta(minutes=10)  # steps planned later than this have not happened yet
PER_20000 = 5000  # appeals per 20,000 Zhejiang enterprises (the default size)
ACCOUNT_PREFIX = "qy_"
AUDIT_ACTION, AUDIT_RESET = "demo_appeals", "demo_appeals_reset"
NOTICES_PER_USER = 4
RESUMPTION = dt.date(2020, 2, 10)  # Zhejiang's plants reopened from this day
HELD_BACK_DAYS = (dt.date(2020, 2, 24), dt.date(2020, 2, 17), dt.date(2020, 3, 2))

# Shares of the appeals (of the planned count) with a given fate; the lifecycle adds its own variety.
SHARE_RISK, SHARE_HELD_BACK, SHARE_DUPLICATE, SHARE_OWN_FIRM = 0.012, 0.008, 0.01, 0.0016
P_WRONG_CATEGORY = 0.08  # filed under another category → corrected, transferred
P_SECONDARY = 0.12  # involves a second department's matter → the task force
P_ESCALATE = 0.065  # the unit escalates by hand (depth 1, 2 or 3 rungs)
ESCALATION_DEPTH = (0.74, 0.21, 0.05)
P_LATE_ACCEPT, P_LATE_RESOLVE, P_VERY_LATE = 0.035, 0.065, 0.22
P_TASK_FORCE_KEEPS = 0.12
P_CONFIRM = {"resolved": 0.9, "unresolvable": 0.75}
P_CLOSE = 0.93
P_REOPEN = {"resolved": 0.01, "unresolvable": 0.05}
RATINGS = {"resolved": (0.01, 0.02, 0.07, 0.28, 0.62), "unresolvable": (0.1, 0.17, 0.35, 0.28, 0.1)}
DUPLICATE_EVENT = "与 %(n)s 内容相近（24小时内），已关联 / similar to %(n)s filed within 24 hours"
ROUTED_RULE = "按路由表分派 / routed by the routing table"
ROUTED_TASK_FORCE = "涉及多个部门或地区，交由专班统筹 / several departments or regions: to the task force"
ORIG = "⟦ORIG⟧"  # stands for the original's tracking number until the rows have primary keys

OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS)
RESOLVE_STATUSES = (Status.ACCEPTED, Status.IN_PROGRESS)


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    """The other end of a supply link: its enterprise, name, region (None abroad), place, product, scope."""

    pk: int
    name: str
    region: str | None
    place: str
    product: str
    scope: str


@dataclass
class Firm:
    """A Zhejiang enterprise as the texts and routes see it."""

    pk: int
    uscc: str
    name: str
    region: str
    county: str
    city: str
    industry: str
    employees: int
    output: float  # 万元 a year
    small: bool
    chain: str
    role: str
    products: list[str]
    suppliers: list[Partner]
    customers: list[Partner]
    address: str
    contact: str
    phone: str
    liaison_id: int | None


@dataclass(frozen=True)
class RiskRef:
    """A risk item an appeal can come from: the firm at risk, the Zhejiang firm that files, the input."""

    pk: int
    firm: int  # the Zhejiang enterprise that files
    other: Partner | None  # the enterprise at risk when it is not the filer
    title: str
    input: str
    scope: str


@dataclass(frozen=True)
class HeldBackRef:
    """A supplier on the held-back list and the chain owner it holds back."""

    supplier: int
    owner: int
    owner_name: str
    utilisation: float | None


@dataclass
class Inputs:
    """Everything :func:`plan` reads."""

    firms: list[Firm]
    risks: list[RiskRef]
    held_back: list[HeldBackRef]
    users: dict[str, int]  # demo username → pk
    own_firm: int | None  # hz_enterprise's enterprise
    liaison_firms: set[int]

    def by_pk(self) -> dict[int, Firm]:
        """The firms by enterprise id."""
        return {f.pk: f for f in self.firms}


def _places() -> tuple[dict[str, Region], dict[str, str]]:
    regions = {r.code: r for r in Region.objects.all()}
    for r in regions.values():  # parents in memory: routing walks them without queries
        r._state.fields_cache["parent"] = regions.get(r.parent_id) if r.parent_id else None
    names = {}
    for code, r in regions.items():
        parent = regions.get(r.parent_id) if r.parent_id else None
        names[code] = r.full_name or (f"{parent.name}{r.name}" if parent else r.name)
    return regions, names


def _products_by_division() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for chain in spec.CHAINS:
        for seg in chain.segments:
            for division in seg.industries:
                out[division].extend(p for p in seg.products if p not in out[division])
    return out


def read_inputs(prefix: str = "33") -> Inputs:
    """The province's enterprises with their links, the risk list, the held-back list and the demo users."""
    regions, place_names = _places()
    industries = dict(Industry.objects.values_list("code", "name"))
    country_names = {code: v[1] for code, v in spec.COUNTRIES.items()}
    others = {pk: (name, region, country) for pk, name, region, country in
              Enterprise.objects.values_list("pk", "name", "region_id", "country")}

    def place(region: str | None, country: str) -> str:
        if region == spec.TAIWAN:
            return "台湾地区"
        if region is None:
            return country_names.get(country, country)
        return place_names.get(region, region)

    members: dict[int, tuple[int, str, str, str]] = {}
    rank = {MemberRole.OWNER: 3, MemberRole.CORE: 2, MemberRole.SUPPLIER: 1}
    seg_products = {(c.name, s.name): s.products for c in spec.CHAINS for s in c.segments}
    for firm, chain, segment, role in Membership.objects.values_list(
            "enterprise_id", "chain__name", "segment__name", "role").order_by("pk"):
        if firm not in members or rank.get(role, 0) > members[firm][0]:
            members[firm] = (rank.get(role, 0), chain, segment or "", role)
    suppliers: dict[int, list[Partner]] = defaultdict(list)
    customers: dict[int, list[Partner]] = defaultdict(list)
    for s, c, category, scope in SupplyLink.objects.order_by("pk").values_list(
            "supplier_id", "customer_id", "input_category", "scope"):
        sn, sr, sc = others[s]
        cn, cr, cc = others[c]
        suppliers[c].append(Partner(s, sn, sr, place(sr, sc), category, scope))
        customers[s].append(Partner(c, cn, cr, place(cr, cc), category, scope))
    by_division = _products_by_division()
    rows = (Enterprise.objects.filter(region__code__startswith=prefix, country="CN").order_by("uscc")
            .values_list("pk", "uscc", "name", "region_id", "industry_id", "employees", "baseline_output", "scale",
                         "address", "contact_name", "contact_phone", "liaison_id"))
    firms = []
    for pk, uscc, name, region, industry, employees, output, scale, address, contact, phone, liaison in rows:
        r = regions[region]
        parent = regions.get(r.parent_id) if r.parent_id else None
        city = parent.name if parent is not None and routing.level_of(r) == Level.COUNTY else r.name
        _rank, chain, segment, role = members.get(pk, (0, "", "", ""))
        sold = [p.product for p in customers.get(pk, [])]
        products = [p for p, _n in Counter(sold).most_common(3)]
        if not products:
            products = list(seg_products.get((chain, segment), ())) or by_division.get((industry or "")[:2], [])
        firms.append(Firm(
            pk=pk, uscc=uscc, name=name, region=region, county=r.name, city=city,
            industry=industries.get(industry or "", "制造业"), employees=max(5, int(employees or 20)),
            output=float(output or 0) / 1e4, small=scale in ("small", "micro", ""), chain=chain, role=role,
            products=products or ["工业产品"], suppliers=suppliers.get(pk, []), customers=customers.get(pk, []),
            address=address or "", contact=contact or "", phone=phone or "", liaison_id=liaison,
        ))
    in_province = {f.pk for f in firms}
    users = dict(User.objects.filter(username__in=_demo_usernames()).values_list("username", "pk"))
    own = User.objects.filter(username="hz_enterprise").values_list("enterprise_id", flat=True).first()
    liaison = users.get("hz_liaison")
    return Inputs(
        firms=firms,
        risks=_risk_refs(in_province, others, place),
        held_back=_held_back_refs(in_province),
        users=users,
        own_firm=own if own in in_province else None,
        liaison_firms={f.pk for f in firms if liaison and f.liaison_id == liaison},
    )


def _demo_usernames() -> list[str]:
    from gulian.demo.users import DEMO_USERS

    return [u.username for u in DEMO_USERS]


def _risk_refs(in_province: set[int], others: dict, place) -> list[RiskRef]:
    """Open risk items with a Zhejiang enterprise at risk, or a Zhejiang chain owner it affects."""
    from gulian.risk.models import RiskItem

    out = []
    items = RiskItem.objects.filter(status__in=("open", "in_progress")).order_by("region_id", "fingerprint")
    owners = defaultdict(list)
    for item, owner in RiskItem.affected_owners.through.objects.filter(riskitem__in=items).values_list(
            "riskitem_id", "enterprise_id").order_by("enterprise_id"):
        owners[item].append(owner)
    for pk, firm, title, category, scope in items.values_list("pk", "enterprise_id", "title", "input_category",
                                                               "scope"):
        category = category or "关键零部件"
        if firm in in_province:
            out.append(RiskRef(pk, firm, None, title, category, scope))
            continue
        filers = [o for o in owners.get(pk, []) if o in in_province]
        if filers:
            name, region, country = others[firm]
            out.append(RiskRef(pk, filers[0], Partner(firm, name, region, place(region, country), category, scope),
                               title, category, scope))
    return out


def _held_back_refs(in_province: set[int]) -> list[HeldBackRef]:
    """Suppliers on the provincial held-back list (not resumed or below the threshold), longest first, once each."""
    from gulian.dispatch import heldback
    from gulian.dispatch.models import DailyReport

    user = User.objects.filter(username="zj_taskforce").first()
    if user is None or not DailyReport.objects.exists():
        return []
    dates = set(DailyReport.objects.filter(date__in=HELD_BACK_DAYS).values_list("date", flat=True).distinct())
    out, seen = [], set()
    for day in HELD_BACK_DAYS:
        if day not in dates:
            continue
        for row in heldback.held_back(user, day, sort="days"):
            if (row.status in ("not_resumed", "below") and row.supplier_id in in_province
                    and row.supplier_id not in seen and row.owner_id != row.supplier_id):
                seen.add(row.supplier_id)
                out.append(HeldBackRef(row.supplier_id, row.owner_id, row.owner_name, row.utilisation))
    return out


# --- the unit an appeal sits with, cached -----------------------------------------------------------


class Router:
    """``routing`` and ``sla`` with memories: the same questions come back thousands of times."""

    def __init__(self, regions: dict[str, Region] | None = None):
        self.regions = regions or _places()[0]
        self._initial: dict[tuple, routing.Route] = {}
        self._departments: dict[tuple[str, str], Department | None] = {}
        self._users: dict[tuple, int | None] = {}
        self.limit = settings.APPEALS_AUTO_ESCALATE_DAYS
        self.reopen_days = settings.APPEALS_REOPEN_DAYS

    def initial(self, firm: Firm, category: str, secondary: tuple[str, ...], related: tuple[Partner, ...],
                related_regions: tuple[str, ...]) -> routing.Route:
        """routing.initial_route for the firm (memoised on what the route depends on)."""
        key = (firm.region, category, secondary, tuple(p.region for p in related), related_regions)
        if key not in self._initial:
            self._initial[key] = routing.initial_route(
                SimpleNamespace(region=self.regions[firm.region]), category, list(secondary),
                [SimpleNamespace(region_id=p.region) for p in related], [self.regions[c] for c in related_regions],
            )
        return self._initial[key]

    def department_for(self, category: str, level: str) -> Department | None:
        """routing.department_for, memoised."""
        key = (category, level)
        if key not in self._departments:
            self._departments[key] = routing.department_for(category, level)
        return self._departments[key]

    @staticmethod
    @lru_cache(maxsize=4096)
    def _deadlines(urgency: str, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        return sla.deadlines(urgency, dt.datetime.combine(day, dt.time(12), tzinfo=SHANGHAI))

    def deadlines(self, urgency: str, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """sla.deadlines (they depend on the local day only)."""
        return self._deadlines(urgency, sla.local_date(at))

    def user(self, route: routing.Route) -> int | None:
        """The first user who works for the unit (a demo user where one exists), or None."""
        key = (route.level, route.region.pk if route.region else None, route.department.pk if route.department else None)
        if key not in self._users:
            self._users[key] = routing.users_of_unit(route.level, route.region, route.department).order_by(
                "pk").values_list("pk", flat=True).first()
        return self._users[key]


def _label(route: routing.Route) -> str:
    return routing.unit_label(route.level, route.region, route.department)


# --- drawing the appeals ------------------------------------------------------------------------


@dataclass
class Event:
    """One timeline step; ``actor`` is a user id, SUBMITTER (the enterprise side) or None (the system)."""

    kind: str
    at: dt.datetime
    actor: int | str | None
    text: str = ""
    internal: bool = False
    from_status: str = ""
    to_status: str = ""
    from_level: str = ""
    to_level: str = ""
    from_unit: str = ""
    to_unit: str = ""
    unit: routing.Route | None = None  # who holds the appeal after the step (for the demo's notices)


SUBMITTER = "submitter"


@dataclass
class Planned:
    """One appeal as drawn and lived through: the model's fields and its timeline."""

    firm: Firm
    created: dt.datetime
    title: str
    text: str
    category: str  # as filed
    true_category: str
    secondary: tuple[str, ...]
    urgency: str
    related: tuple[Partner, ...] = ()
    related_regions: tuple[str, ...] = ()
    submitter: str = "account"  # account | liaison | own
    risk: int | None = None
    held_back_owner: int | None = None
    duplicate_of: int | None = None  # index into the plan
    ctx: dict = field(default_factory=dict)
    topic: tx.Topic | None = None
    # the fate drawn in advance
    escalations: int = 0
    escalate_early: bool = False
    state_council: bool = False
    outcome: str = "resolved"
    suggested: tuple = ("", None)  # the classifier's suggestion and its confidence
    # filled by the lifecycle
    fields: dict = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def key(self) -> str:
        """What the fingerprint covers for this appeal."""
        f = self.fields
        return json.dumps([
            self.firm.uscc, self.created.isoformat(), self.title, self.category, self.urgency, f["status"], f["level"],
            f["handling_region"].pk if f["handling_region"] else None,
            f["department"].code if f["department"] else None, self.duplicate_of,
            [(e.kind, e.at.isoformat()) for e in self.events],
        ], ensure_ascii=False)


def default_count(zhejiang_firms: int) -> int:
    """5,000 appeals for the default 20,000 Zhejiang enterprises, in proportion otherwise."""
    return round(PER_20000 * zhejiang_firms / 20_000)


def day_weights() -> np.ndarray:
    """Relative volume per day from START to END: a rise to a peak around 18 February, decay, a floor; weekends lower."""
    days = (END - START).days + 1
    t = np.arange(days, dtype=float) + 2.0
    peak = 19.0
    curve = (t / peak) ** 2 * np.exp(-(t - peak) / 9.5)
    w = curve + 0.24
    weekday = np.array([(START + dt.timedelta(days=int(d))).weekday() for d in range(days)])
    return w * np.where(weekday >= 5, 0.6, 1.0)


def _early(day: dt.date) -> float:
    """1 in early February, 0 from late March: how much the early category mix applies."""
    return float(1.0 / (1.0 + np.exp(((day - START).days - 40) / 8.0)))


def _mix(day: dt.date) -> np.ndarray:
    e = _early(day)
    total_e, total_l = sum(tx.MIX_EARLY.values()), sum(tx.MIX_LATE.values())
    p = np.array([e * tx.MIX_EARLY[c] / total_e + (1 - e) * tx.MIX_LATE[c] / total_l for c in tx.CATEGORIES])
    return p / p.sum()


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _local(at: dt.datetime) -> dt.datetime:
    return at.astimezone(SHANGHAI)


def _md(day: dt.date | dt.datetime) -> str:
    return f"{day.month}月{day.day}日"


def _daytime(rng, day: dt.date) -> dt.datetime:
    """A filing time on ``day``: 7:30–22:30, mostly office hours."""
    hours = float(rng.choice([9.5, 10.5, 14.5, 16.0, 20.0], p=[0.28, 0.22, 0.24, 0.16, 0.10]) + rng.normal(0, 1.0))
    hours = min(22.5, max(7.5, hours))
    return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI) + dt.timedelta(hours=hours)


def _office(rng, at: dt.datetime) -> dt.datetime:
    """Move an official's step out of the night to 8:00–9:30 of the next morning."""
    local = _local(at)
    hour = local.hour + local.minute / 60
    if 7.5 <= hour < 21.5:
        return at
    day = local.date() + dt.timedelta(days=1) if hour >= 21.5 else local.date()
    return dt.datetime.combine(day, dt.time(8), tzinfo=SHANGHAI) + dt.timedelta(minutes=float(rng.uniform(0, 90)))


def _awake(rng, at: dt.datetime) -> dt.datetime:
    """Move an enterprise's step out of the small hours to 7:30–9:00."""
    local = _local(at)
    if 7 <= local.hour < 23:
        return at
    day = local.date() + dt.timedelta(days=1) if local.hour >= 23 else local.date()
    return dt.datetime.combine(day, dt.time(7, 30), tzinfo=SHANGHAI) + dt.timedelta(minutes=float(rng.uniform(0, 90)))


def _hours(rng, median: float, sigma: float = 0.9) -> dt.timedelta:
    return dt.timedelta(hours=float(median * np.exp(rng.normal(0, sigma))))


class _Weights:
    """Which firms file which kinds of appeal (bigger firms and chain members more often)."""

    def __init__(self, firms: list[Firm], liaison_firms: set[int]):
        out = np.array([max(f.output, 1.0) for f in firms]) ** 0.3
        member = np.array([{"owner": 3.0, "core": 2.0, "supplier": 1.3}.get(f.role, 1.0) for f in firms])
        liaison = np.array([5.0 if f.pk in liaison_firms else 1.0 for f in firms])
        base = out * member * liaison
        has_in = np.array([1.0 if f.suppliers else 0.15 for f in firms])
        has_out = np.array([1.0 if f.customers else 0.3 for f in firms])
        staff = np.array([f.employees for f in firms], float) ** 0.25
        small = np.array([1.8 if f.small else 1.0 for f in firms])
        self.cdf = {}
        for c in tx.CATEGORIES:
            w = base.copy()
            if c in (tx.SUPPLY, tx.TECHNOLOGY):
                w *= has_in
            elif c == tx.LOGISTICS:
                w *= np.maximum(has_in, has_out)
            elif c == tx.MARKET:
                w *= has_out
            elif c in (tx.LABOUR, tx.EPIDEMIC, tx.OTHER):
                w *= staff
            elif c in (tx.FINANCE, tx.POLICY):
                w *= small
            self.cdf[c] = np.cumsum(w / w.sum())

    def draw(self, rng, category: str) -> int:
        """An index into the firms, by the category's weights."""
        cdf = self.cdf[category]
        return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)


def _partner_weights(partners: list[Partner]) -> np.ndarray:
    w = np.array([{"city": 1.0, "province": 1.4, "domestic": 2.6, "foreign": 2.4}.get(p.scope, 1.0) for p in partners])
    return w / w.sum()


def context(rng, firm: Firm, at: dt.datetime, supplier: Partner | None = None) -> dict:
    """The slots of the phrase bank for one appeal of ``firm`` filed at ``at``."""
    day = _local(at).date()
    early = _early(day)
    rate = int(rng.integers(30, 76) if rng.random() < early else rng.integers(70, 96))
    on_duty = max(1, round(firm.employees * rate / 100))
    lines = int(rng.integers(2, 9))
    if supplier is None and firm.suppliers:
        supplier = firm.suppliers[int(rng.choice(len(firm.suppliers), p=_partner_weights(firm.suppliers)))]
    customer = _pick(rng, firm.customers).name if firm.customers else "下游客户"
    scale = max(50.0, firm.output)
    amount = int(max(50, round(scale * float(rng.uniform(0.03, 0.12)) / 50) * 50))
    city_code = firm.region[:4]
    ctx = {
        "firm": firm.name, "county": firm.county, "city": firm.city, "industry": firm.industry,
        "product": _pick(rng, firm.products), "chain": firm.chain or firm.industry,
        "output": f"{int(round(scale, -1)):,}", "workers": firm.employees, "rate": rate, "on_duty": on_duty,
        "missing": max(1, firm.employees - on_duty), "home": _pick(rng, tx.WORKER_PROVINCES),
        "lines": lines, "open_lines": int(rng.integers(1, lines)), "need": int(rng.integers(5, 61)),
        "skilled": int(rng.integers(2, 16)), "port": _pick(rng, tx.PORTS), "trucks": int(rng.integers(2, 13)),
        "stuck": int(rng.integers(1, 7)), "pct": int(rng.integers(30, 71)), "days": int(rng.integers(2, 11)),
        "cert": int(rng.integers(3, 13)), "rise": int(rng.integers(10, 61)), "qty": int(rng.integers(1, 51)),
        "daily": max(20, firm.employees * 2), "thermo": int(rng.integers(2, 7)), "weeks": int(rng.integers(2, 5)),
        "months": int(rng.integers(1, 4)), "bank": tx.CITY_BANKS.get(city_code) if rng.random() < 0.3 else None,
        "loan": amount * 2, "amount": amount, "receivable": amount * int(rng.integers(1, 4)),
        "drop": int(rng.integers(20, 71)), "policy": _pick(rng, tx.POLICIES), "month": day.month,
        "per_room": int(rng.integers(2, 5)), "buses": int(rng.integers(1, 9)), "hired": int(rng.integers(5, 41)),
        "shared": int(rng.integers(3, 21)), "alt": int(rng.integers(1, 4)),
        "masks": int(rng.integers(2, 41)) * 500, "bp": int(rng.integers(2, 11)) * 5,
        "resumed": (f"已于{_md(max(RESUMPTION, day - dt.timedelta(days=int(rng.integers(1, 10)))))}复工"
                    if day > RESUMPTION else f"计划于{_md(RESUMPTION)}复工"),
        "applied_date": _md(max(START, day - dt.timedelta(days=int(rng.integers(3, 20))))),
        "due_date": _md(day + dt.timedelta(days=int(rng.integers(5, 41)))),
        "reply_date": _md(day), "customer": customer,
        "input": supplier.product if supplier else _pick(rng, ("原材料", "关键零部件", "包装材料")),
        "supplier": supplier.name if supplier else "上游供应商", "supplier_place": supplier.place if supplier else "外地",
        "scope_label": str(LinkScope(supplier.scope).label) if supplier else "省外",
        "risk_title": "", "owner": "", "unit": "", "dept": "", "category": "", "orig": ORIG,
        "foreign_cause": _pick(rng, tx.FOREIGN_CAUSES), "lead0": int(rng.integers(15, 46)),
    }
    ctx["lead1"] = ctx["lead0"] + int(rng.integers(20, 61))
    ctx["bank"] = ctx["bank"] or _pick(rng, tx.BANKS)
    ctx["back"] = max(1, round(ctx["missing"] * float(rng.uniform(0.5, 0.95))))
    ctx["hired2"] = max(1, ctx["hired"] // 2)
    roles = {"owner": "是{chain}产业链链主企业。", "core": "是{chain}产业链核心配套企业。"}
    ctx["extra_role"] = (roles.get(firm.role) or _pick(rng, tx.EXTRA_ROLES)).format_map(ctx)
    return ctx


def _topic(rng, category: str, related: tuple[Partner, ...]) -> tx.Topic:
    """A topic of the category: about the related supplier (a foreign one) when there is one."""
    topics = tx.TOPICS[category]
    want = ("foreign" if related[0].region is None or related[0].scope == "foreign" else "supplier") if related else ""
    pool = [t for t in topics if t.when == want] or [t for t in topics if not t.when]
    return _pick(rng, pool)


def _compose(rng, category: str, topic: tx.Topic, ctx: dict, lead: str = "") -> tuple[str, str]:
    """Title and text: an opening, one or two of the topic's problems, maybe a detail, an ask, a closing."""
    title = _pick(rng, topic.titles).format_map(ctx)
    problems = topic.problems
    k = 2 if rng.random() < 0.45 and len(problems) >= 2 else 1
    chosen = [problems[i] for i in sorted(rng.choice(len(problems), size=k, replace=False).tolist())]
    parts = [_pick(rng, tx.OPENINGS), lead, *chosen]
    if rng.random() < 0.5:
        parts.append(_pick(rng, tx.DETAILS.get(category, tx.DETAIL_DEFAULT)))
    parts += [_pick(rng, topic.asks), _pick(rng, tx.CLOSINGS)]
    text = "".join(p.format_map(ctx) for p in parts if p)
    return title[:100], text


def _urgency(rng, category: str, day: dt.date) -> str:
    e = _early(day)
    boost = 1.5 if category in (tx.SUPPLY, tx.EPIDEMIC, tx.LOGISTICS) else 1.0
    critical, urgent = (0.03 + 0.05 * e) * boost, (0.15 + 0.15 * e) * boost
    u = rng.random()
    return Urgency.CRITICAL if u < critical else Urgency.URGENT if u < critical + urgent else Urgency.NORMAL


def _filed_category(rng, true_category: str) -> str:
    if rng.random() < P_WRONG_CATEGORY:
        return _pick(rng, tx.CONFUSED_WITH[true_category])
    return true_category


def _draw(rng, inputs: Inputs, n: int, router: Router) -> list[Planned]:
    """The appeals' enterprises, times, categories, texts and links (without their lifecycles)."""
    firms = inputs.firms
    index = {f.pk: k for k, f in enumerate(firms)}
    weights = _Weights(firms, inputs.liaison_firms)
    n_dup = round(n * SHARE_DUPLICATE)
    n_base = n - n_dup
    w = day_weights()
    per_day = rng.multinomial(n_base, w / w.sum())
    times = sorted(_daytime(rng, START + dt.timedelta(days=d)) for d, k in enumerate(per_day) for _ in range(k))
    # special appeals take some of the times: risk items, the held-back list, the demo enterprise user's firm
    days = np.array([(_local(t).date() - START).days for t in times])
    taken: set[int] = set()

    def slots(k: int, lo: int, hi: int) -> list[int]:
        free = [i for i in np.flatnonzero((days >= lo) & (days <= hi)).tolist() if i not in taken]
        pick = sorted(rng.choice(free, size=min(k, len(free)), replace=False).tolist()) if free and k else []
        taken.update(pick)
        return pick

    specials: dict[int, tuple[str, object]] = {}
    risks = [inputs.risks[i] for i in sorted(rng.permutation(len(inputs.risks))[: round(n * SHARE_RISK)].tolist())]
    for i, ref in zip(slots(len(risks), 19, 48), risks, strict=False):
        specials[i] = ("risk", ref)
    held = inputs.held_back[: round(n * SHARE_HELD_BACK)]
    for i, ref in zip(slots(len(held), 16, 40), held, strict=False):
        specials[i] = ("held_back", ref)
    if inputs.own_firm is not None:
        for i in slots(max(3, round(n * SHARE_OWN_FIRM)), 2, 110):
            specials[i] = ("own", inputs.own_firm)

    plans = []
    for i, at in enumerate(times):
        day = _local(at).date()
        kind, ref = specials.get(i, ("", None))
        related: tuple[Partner, ...] = ()
        regions: tuple[str, ...] = ()
        lead, risk, owner = "", None, None
        if kind == "risk":
            firm = firms[index[ref.firm]]
            category = tx.SUPPLY
            supplier = ref.other
            ctx = context(rng, firm, at, supplier)
            ctx.update(risk_title=ref.title, input=ref.input, scope_label=str(LinkScope(ref.scope).label))
            related = (ref.other,) if ref.other else ()
            lead, risk = _pick(rng, tx.RISK_TEXTS), ref.pk
            title_pool = tx.RISK_TITLES
        elif kind == "held_back":
            firm = firms[index[ref.supplier]]
            category = str(rng.choice([tx.LABOUR, tx.SUPPLY, tx.LOGISTICS, tx.FINANCE], p=[0.4, 0.3, 0.2, 0.1]))
            ctx = context(rng, firm, at)
            util = ref.utilisation
            ctx.update(owner=ref.owner_name, pct=int(round(util * 100)) if util is not None else ctx["pct"])
            lead, owner = _pick(rng, tx.HELDBACK_TEXTS), ref.owner
            title_pool = tx.HELDBACK_TITLES
        else:
            if kind == "own":
                firm = firms[index[ref]]
                category = tx.CATEGORIES[int(rng.choice(len(tx.CATEGORIES), p=_mix(day)))]
            else:
                category = tx.CATEGORIES[int(rng.choice(len(tx.CATEGORIES), p=_mix(day)))]
                firm = firms[weights.draw(rng, category)]
            supplier = None
            if category == tx.SUPPLY and firm.suppliers and rng.random() < 0.7:
                supplier = firm.suppliers[int(rng.choice(len(firm.suppliers), p=_partner_weights(firm.suppliers)))]
                related = (supplier,)
            elif category == tx.LOGISTICS and rng.random() < 0.3:
                far = [p for p in firm.suppliers + firm.customers if p.scope in ("province", "domestic")]
                if far:
                    supplier = _pick(rng, far)
                    related = (supplier,)
                elif rng.random() < 0.5:
                    other = [c for c in ("330200", "330100", "330700") if c[:4] != firm.region[:4]]
                    regions = (_pick(rng, other),)
            elif category == tx.MARKET and firm.customers and rng.random() < 0.12:
                related = (_pick(rng, firm.customers),)
            ctx = context(rng, firm, at, supplier)
            title_pool = None
        topic = _topic(rng, category, related)
        title, text = _compose(rng, category, topic, ctx, lead)
        if title_pool:
            title = _pick(rng, title_pool).format_map(ctx)[:100]
        secondary: tuple[str, ...] = ()
        if rng.random() < P_SECONDARY:
            secondary = (_pick(rng, tx.SECONDARY[category]),)
        filed = _filed_category(rng, category) if kind not in ("risk", "held_back") else category
        p = Planned(
            firm=firm, created=at, title=title, text=text, category=filed, true_category=category,
            secondary=tuple(c for c in secondary if c != filed), urgency=_urgency(rng, category, day),
            related=tuple(r for r in related if r.pk != firm.pk), related_regions=regions, risk=risk,
            held_back_owner=owner, ctx=ctx, topic=topic,
        )
        p.submitter = ("own" if firm.pk == inputs.own_firm else
                       "liaison" if firm.pk in inputs.liaison_firms and rng.random() < 0.5 else "account")
        plans.append(p)
    plans += _duplicates(rng, plans, n_dup)
    plans.sort(key=lambda p: p.created)
    _flag_duplicates(plans)
    _fates(rng, plans, n, router)
    return plans


def _duplicates(rng, plans: list[Planned], k: int) -> list[Planned]:
    """Re-filed look-alikes: the same enterprise, 1–20 hours later, nearly the same words."""
    out = []
    if not plans or not k:
        return out
    for i in sorted(rng.choice(len(plans), size=min(k, len(plans)), replace=False).tolist()):
        a = plans[i]
        at = a.created + dt.timedelta(hours=float(rng.uniform(1, 20)))
        if at >= CUTOFF:
            continue
        text = _pick(rng, ("再次反映：", "补充反映：", "")) + a.text.replace("。", "，", 1)
        out.append(Planned(
            firm=a.firm, created=at, title=a.title if rng.random() < 0.5 else f"{a.title[:90]}（再次反映）",
            text=text, category=a.category, true_category=a.true_category, secondary=a.secondary,
            urgency=a.urgency, related=a.related, related_regions=a.related_regions, submitter=a.submitter,
            ctx=a.ctx, topic=a.topic,
        ))
    return out


def _flag_duplicates(plans: list[Planned]) -> None:
    """services.find_near_duplicate, applied in filing order: link look-alikes of the last 24 hours."""
    from gulian.appeals.services import DUPLICATE_SIMILARITY, DUPLICATE_WINDOW, similarity

    by_firm: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(plans):
        earlier = [j for j in by_firm[p.firm.pk] if plans[j].created >= p.created - DUPLICATE_WINDOW]
        best, best_score = None, DUPLICATE_SIMILARITY
        for j in sorted(earlier, key=lambda j: (plans[j].created, j), reverse=True)[:50]:  # the query's order
            score = similarity(f"{p.title}\n{p.text}", f"{plans[j].title}\n{plans[j].text}")
            if score >= best_score:
                best, best_score = j, score
        if best is not None:
            p.duplicate_of = plans[best].duplicate_of if plans[best].duplicate_of is not None else best
        by_firm[p.firm.pk].append(i)


def _fates(rng, plans: list[Planned], n: int, router: Router) -> None:
    """Who escalates how far, which few go to the State Council task force, who ends unresolvable."""
    top = LADDER.index(Level.MINISTRY)
    for p in plans:
        if p.duplicate_of is not None:
            continue
        if rng.random() < P_ESCALATE:
            # by hand at most up to the ministry level (the State Council's few are chosen below)
            start = LADDER.index(router.initial(p.firm, p.category, p.secondary, p.related, p.related_regions).level)
            p.escalations = min(int(rng.choice([1, 2, 3], p=ESCALATION_DEPTH)), max(0, top - start))
            p.escalate_early = bool(rng.random() < 0.45)
        base = 0.08 + (0.05 if p.true_category in (tx.FINANCE, tx.POLICY, tx.MARKET) else 0)
        base += 0.1 if any(r.region is None for r in p.related) else 0
        if rng.random() < base:
            p.outcome = "unresolvable"
    # the State Council task force gets a few of the ministry's hardest: foreign or out-of-province inputs
    k = max(1, round(3 * n / PER_20000))
    ministry = [i for i, p in enumerate(plans) if p.duplicate_of is None and p.related
                and router.initial(p.firm, p.category, p.secondary, p.related, p.related_regions).level == Level.MINISTRY
                and p.created.date() < dt.date(2020, 4, 15)]
    for i in sorted(rng.choice(ministry, size=min(k, len(ministry)), replace=False).tolist()) if ministry else []:
        plans[i].state_council, plans[i].escalations, plans[i].escalate_early = True, 1, False
        plans[i].urgency = Urgency.CRITICAL


# --- living one appeal through ------------------------------------------------------------------


class _Life:
    """One appeal's state as the services and the overdue sweep would move it."""

    def __init__(self, p: Planned, rng, router: Router):
        self.p, self.rng, self.r = p, rng, router
        self.category = p.category
        self.confirmed = False
        self.status = Status.SUBMITTED
        self.route = router.initial(p.firm, p.category, p.secondary, p.related, p.related_regions)
        self.t = p.created
        self.accept_due, self.resolve_due = router.deadlines(p.urgency, p.created)
        self.overdue, self.overdue_since = False, None
        self.accepted_at = self.resolved_at = self.confirmed_at = self.closed_at = None
        self.assignee = None
        self.escalation_count = self.reopen_count = 0
        self.reply = self.reason = self.rating_comment = ""
        self.rating = None
        self.done = False  # the steps after CUTOFF have not happened yet

    # -- the timeline
    def emit(self, kind: str, at: dt.datetime, actor, **fields) -> Event:
        assert at >= self.t, (kind, at, self.t)
        self.t = at
        e = Event(kind, at, actor, unit=self.route, **fields)  # moves set the route before they emit
        self.p.events.append(e)
        return e

    def unit_user(self) -> int | None:
        return self.r.user(self.route)

    def task_force_user(self) -> int | None:
        return self.r.user(routing.Route(self.route.level, self.route.region, None))

    def fmt(self, template: str, **extra) -> str:
        ctx = dict(self.p.ctx, unit=_label(self.route), **extra)
        return template.format_map(ctx)

    # -- the overdue sweep
    def _sweep_at(self, at: dt.datetime) -> dt.datetime:
        return at + dt.timedelta(minutes=float(self.rng.uniform(1, 5)))

    def sweep_until(self, when: dt.datetime) -> bool:
        """Run the sweep up to ``when``; False when it escalated the appeal meanwhile (the step is void)."""
        if self.status not in OPEN:
            return True
        due = self.accept_due if self.status == Status.SUBMITTED else self.resolve_due
        group = (Status.SUBMITTED,) if self.status == Status.SUBMITTED else RESOLVE_STATUSES
        if not self.overdue:
            mark = self._sweep_at(max(due, self.t))
            if mark >= when:
                return True
            flagged = any(e.kind == EventKind.OVERDUE and e.at > due and e.from_status in group for e in self.p.events)
            if flagged:
                return True
            from gulian.appeals.sweep import _overdue_text

            which = "accept" if self.status == Status.SUBMITTED else "resolve"
            self.emit(EventKind.OVERDUE, mark, None, text=_overdue_text(which, due), from_status=self.status,
                      to_status=self.status)
            self.overdue, self.overdue_since = True, due
        if self.r.limit <= 0 or self.route.level == LADDER[-1]:
            return True
        since = sla.local_date(self.overdue_since)
        day = add_workdays(since, self.r.limit) + dt.timedelta(days=1)
        start_of_day = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)
        at = self._sweep_at(max(start_of_day, self.t))
        if at >= when:
            return True
        days = max(0, workdays_between(since, sla.local_date(at) - dt.timedelta(days=1)))
        reason = f"超期 {days} 个工作日未办结，自动升级 / overdue {days} working days, escalated automatically"
        self.escalate(at, None, reason)
        self.p.escalations = max(0, self.p.escalations - 1)
        return False

    def step_at(self, when: dt.datetime) -> bool:
        """True when a step planned for ``when`` happens (before the cut-off, not preempted by the sweep)."""
        if when >= CUTOFF:
            self.done = True
            return False
        return self.sweep_until(when)

    # -- moving it (services._move)
    def move(self, route: routing.Route, kind: str, at: dt.datetime, actor, reason: str) -> None:
        from_level, from_unit, previous = self.route.level, _label(self.route), self.status
        self.route = route
        self.assignee = None
        if kind == EventKind.ESCALATED:
            self.escalation_count += 1
        if self.status != Status.SUBMITTED:
            self.status, self.accepted_at = Status.SUBMITTED, None
        self.accept_due, self.resolve_due = self.r.deadlines(self.p.urgency, at)
        self.overdue, self.overdue_since = False, None
        self.emit(kind, at, actor, text=reason, from_level=from_level, to_level=route.level, from_unit=from_unit,
                  to_unit=_label(route), from_status=previous, to_status=self.status)

    def escalate(self, at: dt.datetime, actor, reason: str) -> None:
        up = routing.next_rung(self.route.level, self.route.region)
        self.move(up, EventKind.ESCALATED, at, actor, reason)

    def correct_category(self, at: dt.datetime, actor) -> None:
        previous = Category(self.category).label
        self.category, self.confirmed = self.p.true_category, True
        self.emit(EventKind.CATEGORY, at, actor, internal=True, text=f"{previous} → {Category(self.category).label}")

    # -- the stages
    def run(self) -> None:
        """Live the appeal through to AS_OF (or to its end)."""
        self.intake()
        while self.status in OPEN:
            self.done = False
            if self.handle_stage():
                if self.status not in OPEN:
                    self.after_answer(allow_reopen=self.reopen_count == 0)
                continue
            # a move, or a step the sweep preempted: the next unit goes on; a step after the cut-off:
            # the sweep runs up to AS_OF, and when it escalates, the new unit goes on from there
            if self.done and self.sweep_until(AS_OF):
                break

    def intake(self) -> None:
        p = self.p
        self.emit(EventKind.SUBMITTED, p.created, SUBMITTER, to_status=Status.SUBMITTED)
        self.emit(EventKind.ROUTED, p.created, None, to_level=self.route.level, to_unit=_label(self.route),
                  text=ROUTED_RULE if self.route.department else ROUTED_TASK_FORCE)
        if p.duplicate_of is not None:
            self.emit(EventKind.DUPLICATE, p.created, None, internal=True, text=DUPLICATE_EVENT % {"n": ORIG})

    def handle_stage(self) -> bool:
        """One unit's work: triage or transfer, maybe escalate, accept, work, answer. False: moved on."""
        rng, p = self.rng, self.p
        level = self.route.level
        if self.status == Status.SUBMITTED:
            right = self.r.department_for(p.true_category, level) if level != LADDER[-1] else None
            if self.route.department is None and right is not None and not (
                    p.escalations and p.escalate_early) and rng.random() > P_TASK_FORCE_KEEPS:
                at = _office(rng, self.t + _hours(rng, 2.5))
                if not self.step_at(at):
                    return False
                if self.category != p.true_category:
                    self.correct_category(at, self.task_force_user())
                reason = self.fmt(_pick(rng, tx.ASSIGN_REASONS), dept=right.name)
                self.move(routing.Route(level, self.route.region, right), EventKind.ASSIGNED, at,
                          self.task_force_user(), reason)
                return False
            if self.route.department is not None and right is not None and self.route.department != right:
                at = _office(rng, self.t + _hours(rng, 3.0))
                if not self.step_at(at):
                    return False
                actor = self.unit_user()
                self.correct_category(at, actor)
                reason = self.fmt(_pick(rng, tx.TRANSFER_REASONS), dept=right.name,
                                  category=Category(p.true_category).label)
                self.move(routing.Route(level, self.route.region, right), EventKind.TRANSFERRED, at, actor, reason)
                return False
            if p.escalations and p.escalate_early and level != LADDER[-1]:
                return self.manual_escalation(_office(rng, self.t + _hours(rng, 4.0)))
            if not self.accept():
                return False
        if self.status == Status.ACCEPTED and rng.random() < 0.85:
            at = self.t + dt.timedelta(minutes=float(rng.uniform(5, 180)))
            if not self.step_at(at):
                return False
            previous = self.status
            self.status = Status.IN_PROGRESS
            self.emit(EventKind.STARTED, at, self.unit_user(), text=self.fmt(_pick(rng, tx.START_NOTES)),
                      from_status=previous, to_status=self.status)
        if not self.conversation():
            return False
        if p.escalations and level != LADDER[-1]:
            gap = (self.resolve_due - self.t).total_seconds()
            at = _office(rng, self.t + dt.timedelta(seconds=max(1800.0, gap * float(rng.uniform(0.2, 0.7)))))
            return self.manual_escalation(at)
        return self.answer()

    def manual_escalation(self, at: dt.datetime) -> bool:
        rng, p = self.rng, self.p
        if not self.step_at(at):
            return False
        up = routing.next_rung(self.route.level, self.route.region)
        if p.state_council and up.level != LADDER[-1]:
            p.escalations += 1  # climb on until the State Council task force
        reasons = tx.ESCALATE_REASONS[str(up.level)]
        if up.level == Level.MINISTRY and any(r.scope in ("domestic", "foreign") for r in p.related):
            reasons = tx.ESCALATE_REASONS_OUT_OF_PROVINCE
        actor = self.unit_user() or self.task_force_user()
        if self.route.department is None and rng.random() < 0.5:
            dept = self.r.department_for(p.true_category, self.route.level)
            self.emit(EventKind.MEETING, at, actor, internal=True,
                      text=self.fmt(_pick(rng, tx.MEETING_NOTES), dept=dept.name if dept else "经信部门"))
        self.escalate(at, actor, self.fmt(_pick(rng, reasons)))
        p.escalations -= 1
        return False

    def _very_late(self) -> bool:
        """Whether a late step is late enough for the sweep to escalate.

        Never at the national levels: the State Council task force gets only the few chosen in ``_fates``.
        """
        return self.route.level not in (Level.MINISTRY, Level.STATE_COUNCIL) and self.rng.random() < P_VERY_LATE

    def accept(self) -> bool:
        rng, p = self.rng, self.p
        if rng.random() < P_LATE_ACCEPT and p.duplicate_of is None:
            late = rng.uniform(2.5, 6.0) if self._very_late() else rng.uniform(0.05, 1.2)
            at = max(self.t, self.accept_due) + dt.timedelta(days=float(late))
        else:
            room = max(600.0, (self.accept_due - self.t).total_seconds() * 0.9)
            at = self.t + min(_hours(rng, 3.0, 1.0), dt.timedelta(seconds=room))
        at = _office(rng, at)
        if not self.step_at(at):
            return False
        actor = self.unit_user()
        previous = self.status
        self.status, self.accepted_at = Status.ACCEPTED, at
        self.overdue, self.overdue_since = False, None
        self.assignee = self.assignee or actor
        self.emit(EventKind.ACCEPTED, at, actor, text=self.fmt(_pick(rng, tx.ACCEPT_NOTES)), from_status=previous,
                  to_status=self.status)
        if not self.confirmed and rng.random() < 0.6:
            if self.category != p.true_category:
                self.correct_category(at, actor)
            else:
                self.confirmed = True
                label = Category(self.category).label
                self.emit(EventKind.CATEGORY, at, actor, internal=True, text=f"{label} → {label}")
        return True

    def conversation(self) -> bool:
        """A question and its answer, comments, a case meeting — each a step in time."""
        rng, p = self.rng, self.p
        if rng.random() < 0.15:
            q, a = _pick(rng, tx.QUESTIONS.get(p.true_category, tx.QUESTION_DEFAULT))
            at = _office(rng, self.t + _hours(rng, 3.0))
            if not self.step_at(at):
                return False
            self.emit(EventKind.QUESTION, at, self.unit_user(), text=self.fmt(q))
            at = _awake(rng, self.t + _hours(rng, 2.0))
            if not self.step_at(at):
                return False
            self.emit(EventKind.ANSWER, at, SUBMITTER, text=self.fmt(a))
        if rng.random() < 0.08:
            at = _awake(rng, self.t + _hours(rng, 20.0))
            if not self.step_at(at):
                return False
            self.emit(EventKind.COMMENT, at, SUBMITTER, text=self.fmt(_pick(rng, tx.ENTERPRISE_COMMENTS)))
            if rng.random() < 0.6:
                at = _office(rng, self.t + _hours(rng, 2.0))
                if not self.step_at(at):
                    return False
                self.emit(EventKind.COMMENT, at, self.unit_user(), text=self.fmt(_pick(rng, tx.OFFICIAL_COMMENTS)))
        if rng.random() < 0.04:
            at = _office(rng, self.t + _hours(rng, 2.0))
            if not self.step_at(at):
                return False
            self.emit(EventKind.COMMENT, at, self.unit_user(), internal=True,
                      text=self.fmt(_pick(rng, tx.INTERNAL_COMMENTS)))
        if self.route.department is None or self.escalation_count:
            if rng.random() < 0.5:
                at = _office(rng, self.t + _hours(rng, 5.0))
                if not self.step_at(at):
                    return False
                dept = self.r.department_for(p.true_category, self.route.level)
                self.emit(EventKind.MEETING, at, self.task_force_user() or self.unit_user(), internal=True,
                          text=self.fmt(_pick(rng, tx.MEETING_NOTES), dept=dept.name if dept else "经信部门"))
        return True

    def answer(self) -> bool:
        rng, p = self.rng, self.p
        if rng.random() < P_LATE_RESOLVE and p.duplicate_of is None:
            late = rng.uniform(2.5, 8.0) if self._very_late() else rng.uniform(0.05, 1.5)
            at = max(self.t, self.resolve_due) + dt.timedelta(days=float(late))
        else:
            room = (self.resolve_due - self.t).total_seconds()
            share = float(rng.beta(1.6, 2.6)) if p.duplicate_of is None else float(rng.uniform(0.02, 0.1))
            at = self.t + dt.timedelta(seconds=max(900.0, room * share))
        at = _office(rng, at)
        if not self.step_at(at):
            return False
        previous, actor = self.status, self.unit_user()
        ctx = {"reply_date": _md(_local(at).date())}
        if p.duplicate_of is not None:
            self.status, self.reply = Status.RESOLVED, self.fmt(tx.DUPLICATE_REPLY, **ctx)
            kind, text = EventKind.RESOLVED, self.reply
        elif p.outcome == "unresolvable":
            self.status = Status.UNRESOLVABLE
            self.reason = self.fmt(_pick(rng, p.topic.unresolvable or tx.UNRESOLVABLE[p.true_category]), **ctx)
            kind, text = EventKind.UNRESOLVABLE, self.reason
        else:
            self.status, self.reply = Status.RESOLVED, self.fmt(_pick(rng, p.topic.replies), **ctx)
            kind, text = EventKind.RESOLVED, self.reply
        self.resolved_at = at
        self.overdue, self.overdue_since = False, None
        self.emit(kind, at, actor, text=text, from_status=previous, to_status=self.status)
        return True

    def after_answer(self, allow_reopen: bool) -> None:
        """The enterprise confirms and rates, the unit closes (销号); a few reopen within the window."""
        rng, p = self.rng, self.p
        outcome = "unresolvable" if self.status == Status.UNRESOLVABLE else "resolved"
        answered_at = self.resolved_at
        window = answered_at + dt.timedelta(days=self.r.reopen_days)
        reopen_at = None
        if allow_reopen and p.duplicate_of is None and rng.random() < P_REOPEN[outcome]:
            reopen_at = _awake(rng, answered_at + dt.timedelta(days=float(rng.uniform(0.5, self.r.reopen_days - 1.5))))
        if rng.random() < P_CONFIRM[outcome]:
            at = _awake(rng, answered_at + _hours(rng, 20.0, 1.0))
            if (reopen_at is None or at < reopen_at) and at < CUTOFF:
                rating = int(rng.choice([1, 2, 3, 4, 5], p=RATINGS[outcome]))
                comment = _pick(rng, tx.RATING_COMMENTS[rating])
                previous = self.status
                self.status, self.rating, self.rating_comment, self.confirmed_at = Status.CONFIRMED, rating, comment, at
                self.emit(EventKind.CONFIRMED, at, SUBMITTER, text=f"{rating}/5 {comment}".strip(),
                          from_status=previous, to_status=self.status)
                if rng.random() < P_CLOSE:
                    at = _office(rng, at + dt.timedelta(hours=float(rng.uniform(2, 72))))
                    if (reopen_at is None or at < reopen_at) and at < CUTOFF:
                        self.status, self.closed_at = Status.CLOSED, at
                        self.emit(EventKind.CLOSED, at, self.unit_user() or self.task_force_user(),
                                  text=_pick(rng, tx.CLOSE_NOTES), from_status=Status.CONFIRMED, to_status=self.status)
        if reopen_at is not None and reopen_at < CUTOFF and reopen_at <= window and reopen_at >= self.t:
            previous = self.status
            reason = _pick(rng, tx.REOPEN_REASONS.get(p.true_category, tx.REOPEN_DEFAULT))
            self.status, self.reopen_count = Status.IN_PROGRESS, self.reopen_count + 1
            self.rating, self.rating_comment, self.confirmed_at, self.closed_at, self.resolved_at = None, "", None, None, None
            self.resolve_due = self.r.deadlines(p.urgency, reopen_at)[1]
            self.overdue, self.overdue_since = False, None
            self.emit(EventKind.REOPENED, reopen_at, SUBMITTER, text=reason, from_status=previous,
                      to_status=self.status)
            p.outcome, p.escalations = "resolved", 0

    def fields(self) -> dict:
        """The appeal's final field values."""
        return {
            "status": self.status, "level": self.route.level, "handling_region": self.route.region,
            "department": self.route.department, "assignee_id": self.assignee, "category": self.category,
            "category_confirmed": self.confirmed, "accept_due": self.accept_due, "resolve_due": self.resolve_due,
            "accepted_at": self.accepted_at, "resolved_at": self.resolved_at, "confirmed_at": self.confirmed_at,
            "closed_at": self.closed_at, "overdue": self.overdue, "overdue_since": self.overdue_since,
            "escalation_count": self.escalation_count, "reopen_count": self.reopen_count, "reply": self.reply,
            "unresolvable_reason": self.reason, "rating": self.rating, "rating_comment": self.rating_comment,
        }


def _suggestion(rng, p: Planned) -> tuple[str, float]:
    """What the classifier suggested: usually right; the filer took a wrong suggestion when misfiled."""
    if p.category != p.true_category:
        return p.category, round(float(rng.uniform(0.32, 0.6)), 4)
    if rng.random() < 0.88:
        return p.true_category, round(float(rng.uniform(0.55, 0.97)), 4)
    return _pick(rng, tx.CONFUSED_WITH[p.true_category]), round(float(rng.uniform(0.3, 0.55)), 4)


@dataclass
class Plan:
    """The drawn and lived appeals, and the fingerprint of the whole."""

    appeals: list[Planned]
    fingerprint: str
    seed: int


def plan(inputs: Inputs, seed: int = 2020, n: int | None = None, router: Router | None = None) -> Plan:
    """Draw ``n`` appeals (default: 5,000 per 20,000 firms) and live them through to AS_OF; deterministic."""
    if n is None:
        n = default_count(len(inputs.firms))
    if n < 0:
        raise ValueError("诉求数不能为负 / the number of appeals cannot be negative")
    if n and not inputs.firms:
        raise ValueError("没有浙江企业，无法生成诉求 / no Zhejiang enterprises to file appeals")
    router = router or Router()
    rng = np.random.default_rng([seed, 5])
    with translation.override(settings.LANGUAGE_CODE):
        plans = _draw(rng, inputs, n, router) if n else []
        for p in plans:
            p.suggested = _suggestion(rng, p)
            life = _Life(p, rng, router)
            life.run()
            p.fields = life.fields()
    digest = hashlib.sha256()
    for p in plans:
        digest.update(p.key().encode())
    return Plan(plans, digest.hexdigest(), seed)


# --- writing ------------------------------------------------------------------------------------


@dataclass
class AppealsDemo:
    """What the demo step wrote, and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    fingerprint: str = ""


def has_appeal_data() -> bool:
    """True when any appeal is stored."""
    return Appeal.objects.exists()


def _accounts(firms: list[Firm]) -> dict[int, int]:
    """Enterprise accounts (``qy_`` + USCC, no usable password) for the firms that file; firm id → user id."""
    names = {f"{ACCOUNT_PREFIX}{f.uscc}": f for f in firms}
    existing = {}
    for name, pk, enterprise in User.objects.filter(username__in=list(names)).values_list(
            "username", "pk", "enterprise_id"):
        f = names[name]
        if enterprise != f.pk:  # left from an earlier registry: bind it to today's enterprise of that USCC
            User.objects.filter(pk=pk).update(enterprise_id=f.pk, region_id=f.region, role=Role.ENTERPRISE)
        existing[name] = pk
    unusable = make_password(None)
    joined = dt.datetime(2020, 2, 1, 9, tzinfo=SHANGHAI)
    new = [User(username=name, role=Role.ENTERPRISE, region_id=f.region, enterprise_id=f.pk, first_name=f.contact[:150],
                phone=f.phone[:32], password=unusable, is_active=True, approved=True, date_joined=joined)
           for name, f in sorted(names.items()) if name not in existing]
    bulk.insert(User, new)
    by_name = existing | {u.username: u.pk for u in new}
    return {f.pk: by_name[name] for name, f in names.items()}


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def write(result: Plan, inputs: Inputs) -> dict[str, int]:
    """Insert the plan's rows (inside the caller's transaction); the counts by model."""
    plans = result.appeals
    liaison, own = inputs.users.get("hz_liaison"), inputs.users.get("hz_enterprise")
    for p in plans:  # without the demo liaison or enterprise user, the firm files through its own account
        if (p.submitter == "liaison" and not liaison) or (p.submitter == "own" and not own):
            p.submitter = "account"
    accounts = _accounts(sorted({p.firm.pk: p.firm for p in plans if p.submitter == "account"}.values(),
                                key=lambda f: f.uscc))
    submitters = [own if p.submitter == "own" else liaison if p.submitter == "liaison" else accounts[p.firm.pk]
                  for p in plans]
    rows = []
    for p, submitter in zip(plans, submitters, strict=True):
        f = dict(p.fields)
        suggested, confidence = p.suggested
        rows.append(Appeal(
            enterprise_id=p.firm.pk, submitted_by_id=submitter, channel="web", title=p.title, text=p.text,
            secondary_categories=sorted(p.secondary), suggested_category=suggested, suggestion_confidence=confidence,
            urgency=p.urgency, address=p.firm.address[:200], risk_item_id=p.risk, heldback_owner_id=p.held_back_owner,
            created_at=p.created, **f,
        ))
    bulk.insert(Appeal, rows)
    numbers = [f"SQ{timezone.localtime(p.created):%Y%m%d}{row.pk:06d}" for p, row in zip(plans, rows, strict=True)]
    updates = []
    for p, row, number in zip(plans, rows, numbers, strict=True):
        orig = numbers[p.duplicate_of] if p.duplicate_of is not None else ""
        last = p.events[-1].at if p.events else p.created
        updates.append((number, last, rows[p.duplicate_of].pk if p.duplicate_of is not None else None,
                        row.reply.replace(ORIG, orig), row.pk))
    table = _qn(Appeal._meta.db_table)
    prep = Appeal._meta.get_field("updated_at")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET tracking_number = %s, updated_at = %s, duplicate_of_id = %s, reply = %s WHERE id = %s",
            [(n, prep.get_db_prep_save(at, connection), d, r, pk) for n, at, d, r, pk in updates],
        )
    through_e = Appeal.related_enterprises.through
    through_r = Appeal.related_regions.through
    links_e = [through_e(appeal_id=row.pk, enterprise_id=r.pk) for p, row in zip(plans, rows, strict=True)
               for r in p.related]
    links_r = [through_r(appeal_id=row.pk, region_id=c) for p, row in zip(plans, rows, strict=True)
               for c in p.related_regions]
    bulk.insert(through_e, links_e)
    bulk.insert(through_r, links_r)
    events, made = [], []
    for p, row, submitter, number in zip(plans, rows, submitters, numbers, strict=True):
        orig = numbers[p.duplicate_of] if p.duplicate_of is not None else ""
        row.tracking_number = number
        for e in p.events:
            actor = submitter if e.actor == SUBMITTER else e.actor
            events.append(AppealEvent(
                appeal=row, kind=e.kind, actor_id=actor, at=e.at, text=e.text.replace(ORIG, orig),
                internal=e.internal, from_status=e.from_status, to_status=e.to_status, from_level=e.from_level,
                to_level=e.to_level, from_unit=e.from_unit, to_unit=e.to_unit,
            ))
            made.append((e, submitter, p))
    bulk.insert(AppealEvent, events)
    notices = _notices(inputs, events, made)
    return {
        "appeals": len(rows), "events": len(events), "related_enterprises": len(links_e),
        "related_regions": len(links_r), "enterprise_accounts": len(set(accounts.values())), "notifications": notices,
    }


def _told(user: User, e: Event, submitter: int, p: Planned) -> bool:
    """Whether :func:`gulian.appeals.notify.recipients` would have told ``user`` of ``e`` when it happened."""
    from gulian.appeals import notify

    actor = submitter if e.actor == SUBMITTER else e.actor
    if actor == user.pk or (e.kind == EventKind.ROUTED and e.at == p.created):
        return False
    enterprise_side = user.pk == submitter or (user.role == Role.ENTERPRISE and user.enterprise_id == p.firm.pk)
    unit = e.unit
    here = unit is not None and unit.region is not None and user.region_id == unit.region.pk

    def works_for(department) -> bool:
        if department is None:
            return user.role == Role.TASKFORCE
        return user.role == Role.HANDLER and user.department == department.code

    in_unit = here and works_for(unit.department)
    if e.kind == EventKind.COMMENT:
        by_enterprise = e.actor == SUBMITTER
        return in_unit if (by_enterprise or e.internal) else enterprise_side
    if enterprise_side and e.kind in notify.ENTERPRISE_KINDS and not e.internal:
        return True
    if e.kind in notify.UNIT_KINDS:
        return in_unit or (e.kind == EventKind.OVERDUE and here and unit.department is not None
                           and user.role == Role.TASKFORCE)
    return False


def _notices(inputs: Inputs, events: list[AppealEvent], made: list[tuple[Event, int, Planned]]) -> int:
    """A few unread notices per demo user, so that no inbox is empty.

    The latest events that :func:`gulian.appeals.notify.recipients` would have told them of at the time
    (officials: events of the unit they work for; the enterprise side: replies, questions, moves), with
    the notifier's own wording; no e-mail, no webhook.
    """
    from gulian.appeals import notify

    users = User.objects.filter(pk__in=inputs.users.values(), is_active=True).order_by("username")
    latest_first = sorted(range(len(events)), key=lambda k: made[k][0].at, reverse=True)
    out = []
    for user in users:
        if user.is_admin:
            continue
        visible = set(Appeal.objects.restrict(user, "view").values_list("pk", flat=True))  # where it sits now
        picked = 0
        for k in latest_first:
            if picked >= NOTICES_PER_USER:
                break
            e, submitter, p = made[k]
            if events[k].appeal_id in visible and _told(user, e, submitter, p):
                out.append(Notification(recipient_id=user.pk, appeal_id=events[k].appeal_id, kind=e.kind,
                                        message=notify.message_for(events[k]), created_at=e.at))
                picked += 1
    bulk.insert(Notification, out)
    return len(out)


def load(seed: int = 2020, n: int | None = None, actor=None) -> AppealsDemo:
    """Read the registry, draw and live the appeals, write them with one audit record (module docstring)."""
    out = AppealsDemo()
    t0 = time.perf_counter()
    inputs = read_inputs()
    out.seconds["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = plan(inputs, seed, n)
    out.seconds["plan"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        out.counts = write(result, inputs)
        statuses = Counter(p.fields["status"] for p in result.appeals)
        summary = dict(out.counts, seed=seed, fingerprint=result.fingerprint, as_of=AS_OF.isoformat(),
                       statuses=dict(sorted(statuses.items())))
        audit.record(actor, AUDIT_ACTION, BatchRecord(Appeal, "*", "演示诉求 / demo appeals"), None, summary)
    out.seconds["write"] = time.perf_counter() - t0
    out.fingerprint = result.fingerprint
    return out


def reset(actor=None) -> dict[str, int]:
    """Delete every appeal with its timeline, notices and files, and the demo's enterprise accounts; audit the counts.

    Runs before the risk and registry resets (appeals point at enterprises and risk items). Plain
    DELETEs, children first: Django's cascade would load every event first.
    """
    counts: dict[str, int] = {}
    models = (WebhookDelivery, Notification, AppealAttachment, Appeal.related_enterprises.through,
              Appeal.related_regions.through, AppealEvent)
    with transaction.atomic():
        for att in AppealAttachment.objects.all():
            att.file.delete(save=False)
        with connection.cursor() as cursor:
            for model in models:
                where = " WHERE appeal_id IS NOT NULL" if model is Notification else ""
                cursor.execute(f"DELETE FROM {_qn(model._meta.db_table)}{where}")
                counts[model._meta.label] = max(0, cursor.rowcount)
        # the appeals themselves through the ORM: whatever else points at them is handled by its on_delete
        counts[Appeal._meta.label] = Appeal.objects.count()
        Appeal.objects.all().delete()
        acted = AuditRecord.objects.filter(actor_id__isnull=False).values("actor_id")
        accounts = User.objects.filter(username__startswith=ACCOUNT_PREFIX, role=Role.ENTERPRISE,
                                       last_login__isnull=True).exclude(pk__in=acted)
        counts["enterprise_accounts"] = accounts.count()
        accounts.delete()
        if counts[Appeal._meta.label] or counts["enterprise_accounts"]:
            audit.record(actor, AUDIT_RESET, BatchRecord(Appeal, "*", "演示诉求清空 / demo appeals reset"),
                         {k: v for k, v in counts.items() if v}, None)
    return counts
