"""The held-back list (龙头企业及未复工达产核心配套企业名单): the task force's main working list.

For a date and the user's scope: every chain owner (Membership role "owner") the user may see,
and each of its suppliers — core suppliers (role "core" in the same chain) and other tier-1
suppliers (a SupplyLink whose customer is the owner) — that on that date has not resumed, is
below the recovery threshold, or has not reported (未报送; domestic suppliers only: foreign ones
are not asked to report). A fixed number of queries, however many owners and suppliers.

A supplier outside the user's own region still appears (the owner's problem is the task force's,
and 跨区域协调 is what the list is for), with its status and days, but without its utilisation.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from gulian.core.models import Region
from gulian.dispatch.models import DailyReport
from gulian.dispatch.slicing import NOT_FOUND, require_metrics_reader, resolve_chain, resolve_region
from gulian.registry.io.access import chunks, pks_within
from gulian.registry.models import Enterprise, MemberRole, Membership, SupplyLink
from gulian.registry.scope import LinkScope

STATUS_LABELS = {"not_resumed": _("未复工"), "below": _("未达产"), "missing": _("未报送")}
RELATION_LABELS = {"core": _("核心配套"), "tier1": _("一级供应商")}
SCOPE_ORDER = {s: i for i, s in enumerate(LinkScope.values)}  # 市内, 省内, 省外, 境外
SORTS = ("days", "share", "scope", "owner")

# Hooks for the appeals and risk apps (not built yet): kind -> function(enterprise ids) -> ids with an
# open item. While a kind has no function, rows carry None for it ("not connected"), not False.
OPEN_ITEM_SOURCES: dict[str, Callable[[set[int]], set[int]]] = {}


def open_items_for(enterprise_ids: Iterable[int]) -> dict[str, set[int]]:
    """{"appeal": ids with an open appeal, "risk": ids with an open risk item}; empty until connected."""
    ids = set(enterprise_ids)
    return {kind: (OPEN_ITEM_SOURCES[kind](ids) if kind in OPEN_ITEM_SOURCES else set()) for kind in ("appeal", "risk")}


@dataclass
class HeldBackRow:
    """One owner × chain × supplier on the list."""

    owner_id: int
    owner_name: str
    chain_id: int
    chain_code: str
    chain_name: str
    supplier_id: int
    supplier_name: str
    supplier_uscc: str
    supplier_region: str  # GB/T 2260 code ("" abroad)
    supplier_region_name: str
    relation: str  # core | tier1
    scope: str  # LinkScope value
    input_categories: str
    status: str  # not_resumed | below | missing
    utilisation: float | None  # that day's report; None when missing or outside the user's region
    last_report: dt.date | None  # latest report on or before the date
    share: float | None  # largest share of an input category the supplier provides
    annual_value: float | None  # Σ annual purchases from the supplier
    value_share: float | None  # annual_value / Σ annual purchases of the owner from all its suppliers
    days: int | None  # consecutive days up to the date with the problem (None: never reported)
    since: dt.date | None
    appeal_open: bool | None = None
    risk_open: bool | None = None
    visible: bool = True  # the supplier lies in the user's own scope (its page and figures may be shown)

    @property
    def status_label(self) -> str:
        """未复工 / 未达产 / 未报送."""
        return str(STATUS_LABELS[self.status])

    @property
    def relation_label(self) -> str:
        """核心配套 / 一级供应商."""
        return str(RELATION_LABELS[self.relation])

    @property
    def scope_label(self) -> str:
        """市内 / 省内 / 省外 / 境外."""
        return str(LinkScope(self.scope).label)


@dataclass
class _Pair:
    """Links from one supplier to one owner, merged."""

    scope: str
    categories: list[str]
    share: Decimal | None
    value: Decimal | None


def _owners(user, chain, owner, owner_region: Region | None) -> list[tuple[int, str, int, str, str]]:
    qs = Membership.objects.restrict(user, "view").filter(role=MemberRole.OWNER, enterprise__country="CN")
    if chain is not None:
        qs = qs.filter(chain_id=chain.pk)
    if owner not in (None, ""):
        qs = qs.filter(enterprise_id=owner)
    if owner_region is not None:
        qs = qs.filter(enterprise__region__code__startswith=owner_region.prefix)
    return list(
        qs.order_by().values_list("enterprise_id", "enterprise__name", "chain_id", "chain__code", "chain__name")
    )


def _links(owner_ids: list[int]) -> tuple[dict[tuple[int, int], _Pair], dict[int, Decimal]]:
    """Merged links supplier → owner, and each owner's total annual purchases."""
    pairs: dict[tuple[int, int], _Pair] = {}
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for batch in chunks(owner_ids):
        rows = SupplyLink.objects.filter(customer_id__in=batch).order_by().values_list(
            "customer_id", "supplier_id", "scope", "input_category", "share", "annual_value"
        )
        for owner, supplier, scope, category, share, value in rows:
            totals[owner] += value or 0
            pair = pairs.get((owner, supplier))
            if pair is None:
                pairs[(owner, supplier)] = _Pair(scope, [category], share, value)
                continue
            pair.categories.append(category)
            if share is not None and (pair.share is None or share > pair.share):
                pair.share = share
            if value is not None:
                pair.value = (pair.value or 0) + value
    return pairs, totals


def _statuses(ids: list[int], day: dt.date, threshold: Decimal) -> dict[int, tuple[bool, Decimal]]:
    out: dict[int, tuple[bool, Decimal]] = {}
    for batch in chunks(ids):
        rows = DailyReport.objects.filter(date=day, enterprise_id__in=batch).values_list(
            "enterprise_id", "resumed", "utilisation"
        )
        out.update({firm: (resumed, util) for firm, resumed, util in rows})
    return out


def _history(ids: list[int], day: dt.date, threshold: Decimal) -> dict[int, dict]:
    """Per supplier: the last day on or before ``day`` it was fine, its first and last report."""
    fine = Q(resumed=True, utilisation__gte=threshold)
    out: dict[int, dict] = {}
    for batch in chunks(ids):
        rows = (
            DailyReport.objects.filter(enterprise_id__in=batch, date__lte=day)
            .order_by()
            .values("enterprise_id")
            .annotate(last_fine=Max("date", filter=fine), first=Min("date"), last=Max("date"))
        )
        out.update({r["enterprise_id"]: r for r in rows})
    return out


def held_back(user, day: dt.date, *, chain=None, owner=None, region=None, owner_region=None, scope=None,
              status=None, sort: str = "days", threshold: float | None = None) -> list[HeldBackRow]:  # fmt: skip
    """The held-back list of ``day`` for the user's scope (module docstring), filtered and sorted.

    Filters: ``chain`` (object, pk or code), ``owner`` (enterprise pk), ``region`` (the supplier's
    region code, any level), ``owner_region`` (the owner's region, inside the user's scope),
    ``scope`` (city/province/domestic/foreign), ``status`` (not_resumed/below/missing). ``sort``:
    days (longest first), share (largest first), scope (市内 → 境外), owner; "-" reverses.
    """
    require_metrics_reader(user)
    threshold_d = Decimal(str(settings.RECOVERY_THRESHOLD if threshold is None else threshold))
    chain_obj = resolve_chain(user, chain)
    place = resolve_region(user, owner_region) if owner_region else None
    supplier_prefix = _supplier_prefix(region)
    _check_choice("scope", scope, LinkScope.values)
    _check_choice("status", status, list(STATUS_LABELS))
    _check_choice("sort", (sort or "days").lstrip("-"), SORTS)
    owners = _owners(user, chain_obj, owner, place)
    pairs, totals = _links(sorted({o[0] for o in owners}))
    supplier_ids = sorted({s for _o, s in pairs})
    firms = {}
    for batch in chunks(supplier_ids):
        firms.update(
            {
                f[0]: f
                for f in Enterprise.objects.filter(pk__in=batch).values_list(
                    "pk", "name", "uscc", "region_id", "region__name", "country"
                )
            }
        )
    today = _statuses(supplier_ids, day, threshold_d)
    problems = [s for s in supplier_ids if _status(today.get(s), firms[s][5], threshold_d) is not None]
    history = _history(problems, day, threshold_d)
    visible = _visible(user, problems)
    cores = _cores(problems, sorted({o[2] for o in owners}))
    items = open_items_for(problems)
    by_owner: dict[int, list[int]] = defaultdict(list)
    problem_set = set(problems)
    for owner_id, supplier_id in pairs:
        if supplier_id in problem_set:
            by_owner[owner_id].append(supplier_id)
    rows = []
    for owner_id, owner_name, chain_id, chain_code, chain_name in owners:
        for supplier_id in by_owner.get(owner_id, ()):
            pair = pairs[(owner_id, supplier_id)]
            rows.append(
                _row(owner_id, owner_name, chain_id, chain_code, chain_name, firms[supplier_id], pair,
                     totals[owner_id], today.get(supplier_id), history.get(supplier_id), day, threshold_d,
                     (chain_id, supplier_id) in cores, supplier_id in visible, items)  # fmt: skip
            )
    rows = [
        r for r in rows
        if (not scope or r.scope == scope) and (not status or r.status == status)
        and (supplier_prefix is None or r.supplier_region.startswith(supplier_prefix))
    ]  # fmt: skip
    return sort_rows(rows, sort or "days")


def _supplier_prefix(region) -> str | None:
    if region in (None, ""):
        return None
    found = Region.objects.filter(code=str(region).strip()).first()
    if found is None:
        raise Http404(NOT_FOUND)
    return found.prefix


def _check_choice(name: str, value, allowed) -> None:
    if value not in (None, "") and value not in allowed:
        raise ValidationError({name: [f"取值应为 {'/'.join(allowed)} / use one of {', '.join(allowed)}"]})


def _status(report: tuple[bool, Decimal] | None, country: str, threshold: Decimal) -> str | None:
    if report is None:
        return "missing" if country == "CN" else None
    resumed, util = report
    if not resumed:
        return "not_resumed"
    return "below" if util < threshold else None


def _visible(user, ids: list[int]) -> set[int]:
    return set(ids) if user.is_admin else pks_within(Enterprise.objects.domestic(user, "view"), ids)


def _cores(ids: list[int], chain_ids: list[int]) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for batch in chunks(ids):
        qs = Membership.objects.filter(role=MemberRole.CORE, chain_id__in=chain_ids, enterprise_id__in=batch)
        out.update(qs.values_list("chain_id", "enterprise_id"))
    return out


def _row(owner_id, owner_name, chain_id, chain_code, chain_name, firm, pair: _Pair, total: Decimal, report,
         hist, day: dt.date, threshold: Decimal, core: bool, visible: bool, items) -> HeldBackRow:  # fmt: skip
    supplier_id, name, uscc, region_code, region_name, country = firm
    status = _status(report, country, threshold)
    days = since = None
    if hist is not None:
        if hist["last_fine"] is not None:
            days = (day - hist["last_fine"]).days
        else:
            days = (day - hist["first"]).days + 1
        since = day - dt.timedelta(days=days - 1)
    value = float(pair.value) if pair.value is not None else None
    return HeldBackRow(
        owner_id=owner_id,
        owner_name=owner_name,
        chain_id=chain_id,
        chain_code=chain_code,
        chain_name=chain_name,
        supplier_id=supplier_id,
        supplier_name=name,
        supplier_uscc=uscc or "",
        supplier_region=region_code or "",
        supplier_region_name=region_name or country,
        relation="core" if core else "tier1",
        scope=pair.scope,
        input_categories="、".join(sorted(set(pair.categories))),
        status=status,
        utilisation=float(report[1]) if (report is not None and visible) else None,
        last_report=hist["last"] if hist else None,
        share=float(pair.share) if pair.share is not None else None,
        annual_value=value,
        value_share=(value / float(total)) if (value is not None and total) else None,
        days=days,
        since=since,
        appeal_open=(supplier_id in items["appeal"]) if "appeal" in OPEN_ITEM_SOURCES else None,
        risk_open=(supplier_id in items["risk"]) if "risk" in OPEN_ITEM_SOURCES else None,
        visible=visible,
    )


def sort_rows(rows: list[HeldBackRow], sort: str) -> list[HeldBackRow]:
    """Sort by days (longest first), share (largest first), scope (市内 first) or owner; '-' reverses."""
    key = sort.lstrip("-")
    keys: dict[str, Callable[[HeldBackRow], tuple]] = {
        "days": lambda r: (-(r.days if r.days is not None else -1), -(r.share or 0), r.owner_name, r.supplier_name),
        "share": lambda r: (-(r.share or 0), -(r.value_share or 0), -(r.days or 0), r.supplier_name),
        "scope": lambda r: (SCOPE_ORDER.get(r.scope, 9), -(r.days or 0), r.supplier_name),
        "owner": lambda r: (r.owner_name, r.chain_code, r.relation, r.supplier_name),
    }
    return sorted(rows, key=keys[key], reverse=sort.startswith("-"))


COLUMNS = (
    ("链主企业", 28), ("产业链", 16), ("配套企业", 30), ("统一社会信用代码", 22), ("关系", 10), ("所在地区", 14),
    ("范围", 8), ("投入品", 20), ("状态", 8), ("产能利用率", 10), ("占该类投入比重", 12), ("年采购额（元）", 16),
    ("占链主采购额比重", 14), ("持续天数", 9), ("问题起始日", 12), ("最近报送日", 12), ("诉求未办结", 10),
    ("风险未销号", 10),
)  # fmt: skip


def export_xlsx(rows: list[HeldBackRow], day: dt.date) -> bytes:
    """The list as an .xlsx: a title row, Chinese headers, one row per owner × supplier."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("未复工达产配套企业")
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#F1F5F9", "border": 1, "text_wrap": True})
    pct = wb.add_format({"num_format": "0.0%"})
    money = wb.add_format({"num_format": "#,##0.00"})
    ws.write_string(0, 0, f"龙头企业及未复工达产核心配套企业名单（{day.isoformat()}）", title)
    for c, (text, width) in enumerate(COLUMNS):
        ws.write_string(1, c, text, head)
        ws.set_column(c, c, width)
    yes_no = {True: "是", False: "否", None: "—"}
    for r, row in enumerate(rows, start=2):
        cells = [
            row.owner_name, row.chain_name, row.supplier_name, row.supplier_uscc, row.relation_label,
            row.supplier_region_name, row.scope_label, row.input_categories, row.status_label,
        ]  # fmt: skip
        for c, value in enumerate(cells):
            ws.write_string(r, c, value)
        for c, value, fmt in ((9, row.utilisation, pct), (10, row.share, pct), (11, row.annual_value, money),
                              (12, row.value_share, pct), (13, row.days, None)):  # fmt: skip
            if value is None:
                ws.write_blank(r, c, None)
            else:
                ws.write_number(r, c, value, fmt)
        ws.write_string(r, 14, row.since.isoformat() if row.since else "")
        ws.write_string(r, 15, row.last_report.isoformat() if row.last_report else "")
        ws.write_string(r, 16, yes_no[row.appeal_open])
        ws.write_string(r, 17, yes_no[row.risk_open])
    wb.close()
    return buffer.getvalue()
