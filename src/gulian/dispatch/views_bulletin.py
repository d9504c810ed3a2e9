"""The daily bulletin pages: the printable bulletin (dispatch:bulletin) and its .xlsx (dispatch:bulletin_xlsx).

Both take ``date`` (default: the last day with reports in scope), ``region`` (default: the region
switcher's choice, else the user's scope) and ``chain`` from the query string, and build the same
:class:`~gulian.dispatch.bulletin.Bulletin`. Officials and administrators only; an out-of-scope region
or chain is a 404, like everywhere else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from gulian.dispatch import bulletin, bulletin_xlsx
from gulian.dispatch.slicing import parse_date, require_metrics_reader
from gulian.dispatch.views_metrics import index_text, pct, points

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_HELD_BACK, PAGE_ANOMALIES, PAGE_NOTES = 30, 20, 12


def _params(request) -> tuple[dict, dt.date]:
    """Region, chain and date of the request (ValidationError for a malformed date)."""
    region = (request.GET.get("region") or "").strip()
    if not region and getattr(request, "view_region", None) is not None:
        region = request.view_region.code
    params = {"region": region or None, "chain": (request.GET.get("chain") or "").strip() or None}
    text = (request.GET.get("date") or "").strip()
    if text:
        return params, parse_date(text)
    return params, bulletin.latest_date(request.user, params["region"]) or timezone.localdate()


def _build(request) -> bulletin.Bulletin:
    require_metrics_reader(request.user)
    params, day = _params(request)
    return bulletin.build(request.user, day, **params)


def date_text(day: dt.date) -> str:
    """The bulletin's date in the active language (2020年2月20日 in Chinese, Feb. 20, 2020 in English)."""
    return formats.date_format(day, "DATE_FORMAT")


def change_text(value: float | None, scale: float = 100, unit: str = "") -> str:
    """A change in words: 提高 1.2 个百分点 / 下降 0.3 个百分点 / 持平; '—' when unknown."""
    if value is None:
        return "—"
    v = value * scale
    unit = unit or _("个百分点")
    if abs(v) < 0.05:
        return _("持平")
    return (_("提高{v}{unit}") if v > 0 else _("下降{v}{unit}")).format(v=f"{abs(v):.1f}", unit=unit)


def summary_text(b: bulletin.Bulletin) -> str:
    """The opening paragraph of section 一, in the bulletin's words."""
    ov, above = b.overview, b.above_size
    return _(
        "{date}，{place}应报企业{expected}家，已报{reporting}家，报送率{reporting_rate}。"
        "已复工{resumed}家，复工率{resumption}，较上日{dod}；其中规上工业企业复工率{above}。"
        "达产率{recovery}，较上周{recovery_wow}；按产值加权的产能利用率{utilisation}；员工到岗率{on_duty}；"
        "电力复工指数{power}（上年同期或疫前水平为100）。"
    ).format(
        date=date_text(b.date), place=b.place, expected=f"{ov.expected:,}", reporting=f"{ov.reporting:,}",
        reporting_rate=pct(ov.reporting_rate), resumed=f"{ov.resumed:,}", resumption=pct(ov.resumption_rate),
        dod=change_text(ov.day_on_day.get("resumption_rate")), above=pct(above.resumption_rate),
        recovery=pct(ov.recovery_rate), recovery_wow=change_text(ov.week_on_week.get("recovery_rate")),
        utilisation=pct(ov.utilisation), on_duty=pct(ov.on_duty_rate), power=index_text(ov.power_index),
    )


def held_back_text(b: bulletin.Bulletin) -> str:
    """The sentence that opens section 四."""
    rows = b.held_back
    status = {k: sum(1 for r in rows if r.status == k) for k in ("not_resumed", "below", "missing")}
    return _(
        "涉及链主企业{owners}家、配套企业{suppliers}家次（未复工{not_resumed}、未达产{below}、未报送{missing}），"
        "其中问题持续7天以上的{long}家次。"
    ).format(owners=f"{len({r.owner_id for r in rows}):,}", suppliers=f"{len(rows):,}",
             long=f"{sum(1 for r in rows if (r.days or 0) >= 7):,}", **{k: f"{n:,}" for k, n in status.items()})


def sample_notes(notes: list[bulletin.Note], k: int) -> list[bulletin.Note]:
    """Up to ``k`` notes for the page, spread over regions and blockers (the spreadsheet has them all)."""
    chosen, seen = [], set()
    for note in notes:  # first pass: a new region and a new kind of blocker each time
        key = (note.region, note.blockers)
        if note.region not in {r for r, _b in seen} and note.blockers not in {b for _r, b in seen}:
            chosen.append(note)
            seen.add(key)
        if len(chosen) == k:
            return chosen
    rest = [n for n in notes if n not in chosen]
    return chosen + rest[: k - len(chosen)]


def _localised_note(note: bulletin.Note) -> bulletin.Note:
    # bulletin.Note joins blocker labels with "、"; the labels themselves never contain it.
    return dataclasses.replace(note, blockers=note.blockers.replace("、", pgettext("list separator", "、")))


def _kpi_rows(b: bulletin.Bulletin) -> list[dict]:
    out = []
    for k in b.kpis():
        scale = 1 if k.kind == "index" else 100
        value = (f"{k.value:,}" if k.kind == "count" else index_text(k.value) if k.kind == "index" else pct(k.value))
        out.append({"label": k.label, "value": value, "kind": k.kind,
                    "dod": "" if k.kind == "count" else points(k.day_on_day, scale),
                    "wow": "" if k.kind == "count" else points(k.week_on_week, scale)})
    return out


def _pairs(items: list) -> list[tuple]:
    """Items in two columns, read down the left column first (the headline table is two tables wide)."""
    half = (len(items) + 1) // 2
    right = items[half:] + [None] * (2 * half - len(items))
    return list(zip(items[:half], right, strict=True))


def _rate_rows(rows) -> list[dict]:
    return [{"row": r, "reporting_rate": pct(r.reporting_rate), "resumption_rate": pct(r.resumption_rate),
             "recovery_rate": pct(r.recovery_rate), "utilisation": pct(r.utilisation),
             "on_duty_rate": pct(r.on_duty_rate), "power_index": index_text(r.power_index)} for r in rows]


def _charts(b: bulletin.Bulletin) -> dict:
    """The data of the page's ECharts: the 30-day trend and the by-region bars (percentages, index)."""
    def share(v):
        return None if v is None else round(v * 100, 2)

    above = {p.date: p.resumption_rate for p in b.above_series}
    return {
        "dates": [f"{p.date.month}/{p.date.day}" for p in b.series],
        "trend": [
            {"name": _("复工率"), "data": [share(p.resumption_rate) for p in b.series]},
            {"name": _("规上复工率"), "data": [share(above.get(p.date)) for p in b.series]},
            {"name": _("达产率"), "data": [share(p.recovery_rate) for p in b.series]},
            {"name": _("产能利用率"), "data": [share(p.utilisation) for p in b.series]},
            {"name": _("电力复工指数"), "data": [None if p.power_index is None else round(p.power_index, 1)
                                             for p in b.series]},
        ],
        "regions": [r.label for r in b.regions],
        "region_series": [
            {"name": _("复工率"), "data": [share(r.resumption_rate) for r in b.regions]},
            {"name": _("达产率"), "data": [share(r.recovery_rate) for r in b.regions]},
        ],
        "blockers": [[label, n] for label, n, _share in b.blocker_counts()],
    }


@login_required
@require_GET
def bulletin_page(request):
    """The printable bulletin: red header, numbered sections, tables and trend charts (A4)."""
    try:
        b = _build(request)
    except ValidationError as e:
        return HttpResponseBadRequest("; ".join(e.messages))
    query = urlencode({k: v for k, v in (("date", b.date.isoformat()), ("region", b.region_code),
                                         ("chain", b.chain.code if b.chain else "")) if v})
    context = {
        "b": b,
        "date_text": date_text(b.date),
        "summary": summary_text(b),
        "kpi_pairs": _pairs(_kpi_rows(b)),
        "regions": _rate_rows(b.regions),
        "chains": _rate_rows(b.chains),
        "held_back_text": held_back_text(b),
        "held_back": [{"row": r, "utilisation": pct(r.utilisation, 0), "share": pct(r.share)}
                      for r in b.held_back[:PAGE_HELD_BACK]],
        "anomalies": [{"a": a, "utilisation": pct(a.utilisation), "index": index_text(a.power_index),
                       "gap": points(a.gap)} for a in b.anomalies[:PAGE_ANOMALIES]],
        "blockers": [{"label": label, "count": n, "share": pct(share)} for label, n, share in b.blocker_counts()],
        "notes": [_localised_note(n) for n in sample_notes(b.notes, PAGE_NOTES)],
        "charts": _charts(b),
        "xlsx_url": reverse("dispatch:bulletin_xlsx") + "?" + query,
        "overview_url": reverse("dispatch:overview") + "?" + query,
        "held_back_url": reverse("dispatch:held_back") + "?" + urlencode({"date": b.date.isoformat()}),
        "page_limits": {"held_back": PAGE_HELD_BACK, "anomalies": PAGE_ANOMALIES, "notes": PAGE_NOTES},
    }
    return render(request, "dispatch/bulletin.html", context)


@login_required
@require_GET
def bulletin_download(request):
    """The bulletin as an .xlsx attachment."""
    try:
        b = _build(request)
    except ValidationError as e:
        return HttpResponseBadRequest("; ".join(e.messages))
    response = HttpResponse(bulletin_xlsx.render(b), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(bulletin_xlsx.filename(b))}"
    return response
