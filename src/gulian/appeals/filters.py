"""One filter for appeals, shared by the task-force board, the statistics, the .xlsx export and the API.

``AppealFilter.from_params(params)`` parses a dict (or a ``QueryDict``) of strings; ``apply(qs)``
narrows a queryset that is already restricted to the user's scope (filters only narrow, never widen).
Parameters (all optional; an empty value means "any"):

- ``category`` — a ``Category`` value, e.g. ``logistics``;
- ``region`` — GB/T 2260 prefix of the *enterprise's* region (``33``, ``3301``, ``330106``); a full
  6-digit code of a province or city (``330000``, ``330100``) is taken as its prefix;
- ``status`` — one or several ``Status`` values (repeated parameter or comma-separated); ``open`` stands
  for submitted, accepted and in progress, ``answered`` for resolved and cannot be resolved;
- ``overdue`` — ``true``/``false``: past a deadline now (``overdue_q``);
- ``escalated`` — ``true``/``false``: escalated at least once (``escalation_count > 0``);
- ``chain`` — a chain's code: appeals of enterprises that are members of the chain;
- ``level`` — the ladder level the appeal sits at (``county`` … ``state_council``);
- ``department`` — a department's code (the unit handling it now); ``none`` for the task forces;
- ``cross_region`` — ``true``/``false``: a related region or related enterprise lies outside the
  enterprise's own city (a foreign related enterprise counts as outside);
- ``q`` — a tracking number (exact, case-insensitive), or text contained in the title, the text or the
  enterprise's name;
- ``date_from`` / ``date_to`` — ``YYYY-MM-DD``, inclusive, on ``created_at`` in Asia/Shanghai.

A value that does not parse is left out and reported in ``errors`` (pages show it, the API may
reject it: ``from_params(params, strict=True)`` raises ``ValidationError`` instead).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from gulian.appeals.models import ANSWERED_STATUSES, OPEN_STATUSES, Appeal, Category, Level, Status
from gulian.registry.models import Membership

TRUE = {"1", "true", "yes", "on", "y", "t", "是"}
FALSE = {"0", "false", "no", "off", "n", "f", "否"}
STATUS_ALIASES = {"open": list(OPEN_STATUSES), "answered": list(ANSWERED_STATUSES)}
NO_DEPARTMENT = "none"
MULTI = ("status",)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight (Asia/Shanghai) at the start of ``day``, timezone-aware."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=_tz())


def region_prefix_of(value: str) -> str:
    """``330100`` → ``3301``, ``330000`` → ``33``, ``330106``/``3301``/``33`` unchanged; '' when not a code."""
    value = (value or "").strip()
    if not value.isdigit() or len(value) not in (2, 4, 6):
        return ""
    if len(value) == 6:
        if value.endswith("0000"):
            return value[:2]
        if value.endswith("00"):
            return value[:4]
    return value


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Open appeals past a deadline now: flagged by the sweep, or past it before the sweep ran.

    Not yet accepted: the accept deadline counts (and the resolve deadline, which is later or equal);
    accepted or in progress: the resolve deadline.
    """
    now = now or timezone.now()
    return Q(status__in=OPEN_STATUSES) & (
        Q(overdue=True) | Q(status=Status.SUBMITTED, accept_due__lt=now) | Q(resolve_due__lt=now)
    )


def cross_region_q() -> Q:
    """Appeals with a related region or related enterprise outside the enterprise's own city (prefix 4)."""
    city = Substr(OuterRef("enterprise__region__code"), 1, 4)
    regions = Appeal.related_regions.through.objects.filter(appeal_id=OuterRef("pk")).exclude(
        region__code__startswith=city
    )
    firms = Appeal.related_enterprises.through.objects.filter(appeal_id=OuterRef("pk")).filter(
        Q(enterprise__region__isnull=True) | ~Q(enterprise__region__code__startswith=city)
    )
    return Q(Exists(regions)) | Q(Exists(firms))


def _bool(value: str) -> bool | None:
    v = value.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise ValueError(v)


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value.strip())


def _values(params, name: str) -> list[str]:
    """Every non-empty value of ``name``: repeated keys (QueryDict/list) and comma-separated ones."""
    if hasattr(params, "getlist"):
        raw = params.getlist(name)
    else:
        raw = params.get(name)
        raw = [] if raw is None else raw if isinstance(raw, list | tuple | set) else [raw]
    out: list[str] = []
    for item in raw:
        for part in str(item).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _single(params, name: str) -> str:
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return "" if value is None else str(value).strip()


@dataclass
class AppealFilter:
    """Parsed appeal filters (rules in the module docstring); empty fields do not filter."""

    category: str = ""
    region: str = ""
    status: list[str] = field(default_factory=list)
    overdue: bool | None = None
    escalated: bool | None = None
    chain: str = ""
    level: str = ""
    department: str = ""
    cross_region: bool | None = None
    q: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    PARAMS = (
        "category", "region", "status", "overdue", "escalated", "chain", "level", "department", "cross_region",
        "q", "date_from", "date_to",
    )  # fmt: skip

    @classmethod
    def from_params(cls, params, *, strict: bool = False) -> AppealFilter:
        """Parse ``params`` (dict or QueryDict of strings); bad values go to ``errors`` (or raise when strict)."""
        params = params or {}
        f = cls()
        errors: dict[str, str] = {}

        def bad(name: str, value) -> None:
            errors[name] = _("无法识别的筛选值 / invalid value: %(v)s") % {"v": value}

        category = _single(params, "category")
        if category:
            if category in Category.values:
                f.category = category
            else:
                bad("category", category)
        region = _single(params, "region")
        if region:
            f.region = region_prefix_of(region)
            if not f.region:
                bad("region", region)
        for value in _values(params, "status"):
            if value in STATUS_ALIASES:
                f.status.extend(s for s in STATUS_ALIASES[value] if s not in f.status)
            elif value in Status.values:
                if value not in f.status:
                    f.status.append(value)
            else:
                bad("status", value)
        for name in ("overdue", "escalated", "cross_region"):
            value = _single(params, name)
            if value:
                try:
                    setattr(f, name, _bool(value))
                except ValueError:
                    bad(name, value)
        level = _single(params, "level")
        if level:
            if level in Level.values:
                f.level = level
            else:
                bad("level", level)
        f.chain = _single(params, "chain")[:32]
        f.department = _single(params, "department")[:32]
        f.q = _single(params, "q")[:100]
        for name in ("date_from", "date_to"):
            value = _single(params, name)
            if value:
                try:
                    setattr(f, name, _date(value))
                except ValueError:
                    bad(name, value)
        if f.date_from and f.date_to and f.date_from > f.date_to:
            errors["date_to"] = _("截止日期早于起始日期 / date_to is before date_from")
            f.date_to = None
        if errors and strict:
            raise ValidationError(errors)
        f.errors = errors
        return f

    # --- applying ----------------------------------------------------------------------------

    def apply(self, qs: QuerySet, *, now: dt.datetime | None = None) -> QuerySet:
        """``qs`` narrowed by every set field (``now`` decides what is overdue; default: now)."""
        q = Q()
        if self.category:
            q &= Q(category=self.category)
        if self.region:
            q &= Q(enterprise__region__code__startswith=self.region)
        if self.status:
            q &= Q(status__in=self.status)
        if self.overdue is not None:
            q &= overdue_q(now) if self.overdue else ~overdue_q(now)
        if self.escalated is not None:
            q &= Q(escalation_count__gt=0) if self.escalated else Q(escalation_count=0)
        if self.chain:
            members = Membership.objects.filter(chain__code=self.chain).values("enterprise_id")
            q &= Q(enterprise_id__in=members)
        if self.level:
            q &= Q(level=self.level)
        if self.department:
            q &= Q(department__isnull=True) if self.department == NO_DEPARTMENT else Q(department__code=self.department)
        if self.cross_region is not None:
            q &= cross_region_q() if self.cross_region else ~cross_region_q()
        if self.q:
            q &= (
                Q(tracking_number__iexact=self.q)
                | Q(title__icontains=self.q)
                | Q(text__icontains=self.q)
                | Q(enterprise__name__icontains=self.q)
            )
        if self.date_from:
            q &= Q(created_at__gte=day_start(self.date_from))
        if self.date_to:
            q &= Q(created_at__lt=day_start(self.date_to + dt.timedelta(days=1)))
        return qs.filter(q) if q else qs

    # --- for pages ------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        """True when no field filters."""
        return not self.params()

    def params(self) -> dict[str, object]:
        """The set fields as query parameters (status as a list), e.g. for links and the export."""
        out: dict[str, object] = {}
        for f in fields(self):
            if f.name == "errors":
                continue
            value = getattr(self, f.name)
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, dt.date):
                value = value.isoformat()
            out[f.name] = value
        return out

    def querystring(self) -> str:
        """``params()`` URL-encoded (status repeated)."""
        return urlencode(self.params(), doseq=True)

    def without(self, *names: str) -> AppealFilter:
        """A copy with ``names`` cleared (e.g. a tab's own field when counting tabs)."""
        blank = AppealFilter()
        return replace(self, **{n: getattr(blank, n) for n in names}, errors={})
