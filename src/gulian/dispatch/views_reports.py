"""Pages for filling in daily reports, an enterprise's report history, the missing list and the import.

An enterprise user's "今日日报" is its own form; liaisons, task forces and chain offices fill in for
the enterprises they may change (``/dispatch/report/<id>/``), anything else is a 404. Reads go
through ``restrict()``; writes through gulian.dispatch.services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods

from gulian.core.models import Role
from gulian.core.regionview import narrowed_prefix
from gulian.core.services import OutOfScope
from gulian.core.views import apply_form_errors, usable_required
from gulian.dispatch import imports, services
from gulian.dispatch.forms import DailyReportForm, ReportImportForm, initial_from
from gulian.dispatch.missing import missing_reports, write_missing_xlsx
from gulian.dispatch.models import Blocker, DailyReport, DailyReportVersion, Source
from gulian.dispatch.reportdata import FIELDS
from gulian.registry.io import errorfile
from gulian.registry.models import Enterprise
from gulian.registry.views_io import importer_required

XLSX = errorfile.XLSX
HISTORY_PAGE = 31  # a month of reports per page
MISSING_SHOWN = 2000  # enterprises listed on the page; the export has all


def blocker_text(mask: int) -> str:
    """The blockers in ``mask`` as one line in the UI language (用工、物流 / Staffing, Logistics)."""
    return pgettext("list separator", "、").join(str(b.label) for b in Blocker.decode(mask))


def _day(request, today: dt.date) -> dt.date:
    """``?date=`` when it is a valid date not after today, else today."""
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return today
    return min(day, today)


def _writable(user, pk: int) -> Enterprise:
    """An enterprise the user may report for, or 404 (never a 403 that would confirm it exists)."""
    firm = Enterprise.objects.domestic(user, "change").select_related("region").filter(pk=pk).first()
    if firm is None:
        raise Http404("未找到 / not found")
    return firm


@usable_required
@require_http_methods(["GET", "POST"])
def report_today(request):
    """An enterprise user's form for today; everyone else starts from the list of who has not reported."""
    user = request.user
    if user.role == Role.ENTERPRISE and user.enterprise_id:
        return _report_form(request, _writable(user, user.enterprise_id))
    if user.role == Role.ENTERPRISE:
        raise Http404("未找到 / not found")
    return redirect("dispatch:missing")


@usable_required
@require_http_methods(["GET", "POST"])
def report_for(request, enterprise_id: int):
    """The form for one enterprise in the user's scope (``?date=`` for an earlier day, which is late)."""
    return _report_form(request, _writable(request.user, enterprise_id))


def _report_form(request, firm: Enterprise):
    user = request.user
    today = services.local_today()
    day = _day(request, today)
    reports = DailyReport.objects.restrict(user, "view").filter(enterprise=firm)
    current = reports.filter(date=day).first()
    # pre-filled from the day's report when correcting it, else from the latest one before it
    previous = current or reports.filter(date__lt=day).order_by("-date").first()
    form = DailyReportForm(request.POST or None, initial={"date": day, **initial_from(previous)})
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.submit(user, firm, form.cleaned_data["date"], form.report_data(), Source.WEB)
        except ValidationError as e:
            apply_form_errors(form, e)
        except OutOfScope:
            raise Http404("未找到 / not found")
        else:
            report = outcome.report
            if outcome.status == services.UNCHANGED:
                messages.info(request, _("内容与已提交的日报相同，未生成新版本"))
            else:
                # Whole sentences, not a "，迟报" fragment: word order differs between languages.
                text = _("已提交 %(date)s 的日报（第 %(version)s 版，迟报）") if report.late else _(
                    "已提交 %(date)s 的日报（第 %(version)s 版）"
                )
                messages.success(request, text % {"date": report.date, "version": report.version})
            own = user.role == Role.ENTERPRISE
            url = reverse("dispatch:report_today") if own else reverse("dispatch:report_for", args=[firm.pk])
            return redirect(f"{url}?date={report.date.isoformat()}")
    context = {
        "firm": firm,
        "form": form,
        "day": day,
        "today": today,
        "current": current,
        "previous": previous if previous is not current else None,
        "deadline": services.deadline(),
        "late_now": services.is_late(day, timezone.now()),
    }
    return render(request, "dispatch/report_form.html", context)


def _percent(value) -> str:
    return "—" if value in (None, "") else f"{(Decimal(value) * 100).normalize():f}%"


def _version_rows(report: DailyReport) -> list[dict]:
    """The report's versions, newest first, each with the fields changed from the version before."""
    versions = list(report.versions.all())
    label = {name: DailyReport._meta.get_field(name).verbose_name for name in FIELDS}
    rows = []
    for n, v in enumerate(versions):
        before = versions[n - 1].data if n else None
        changed = [
            label[name] for name in FIELDS if before is not None and before.get(name) != v.data.get(name)
        ]
        rows.append(
            {
                "version": v,
                "utilisation": _percent(v.data.get("utilisation")),
                "blockers": blocker_text(int(v.data.get("blockers") or 0)),
                "changed": changed,
            }
        )
    return rows[::-1]


@usable_required
@require_GET
def report_history(request, enterprise_id: int):
    """Every day's report of one enterprise with all versions, newest first."""
    user = request.user
    firm = (
        Enterprise.objects.domestic(user, "view").select_related("region", "liaison").filter(pk=enterprise_id)
    )
    firm = firm.first()
    if firm is None:
        raise Http404("未找到 / not found")
    versions = DailyReportVersion.objects.select_related("submitted_by").order_by("version")
    reports = (
        DailyReport.objects.restrict(user, "view")
        .filter(enterprise=firm)
        .select_related("submitted_by")
        .prefetch_related(Prefetch("versions", queryset=versions))
        .order_by("-date")
    )
    page = Paginator(reports, HISTORY_PAGE).get_page(request.GET.get("page"))
    rows = [{"report": r, "blockers": blocker_text(r.blockers), "versions": _version_rows(r)}
            for r in page]  # fmt: skip
    context = {
        "firm": firm,
        "page": page,
        "rows": rows,
        "can_report": Enterprise.objects.domestic(user, "change").filter(pk=firm.pk).exists(),
    }
    return render(request, "dispatch/report_history.html", context)


@usable_required
@require_GET
def missing(request):
    """Enterprises in scope without a report on ``?date=`` (default today), by liaison; ``?format=xlsx`` exports."""
    user = request.user
    if user.role == Role.ENTERPRISE and not user.is_admin:
        raise Http404("未找到 / not found")
    today = services.local_today()
    day = _day(request, today)
    export = request.GET.get("format") == "xlsx"
    result = missing_reports(
        user, day, prefix=narrowed_prefix(request), limit=None if export else MISSING_SHOWN
    )
    if export:
        buffer = BytesIO()
        write_missing_xlsx(result, buffer)
        buffer.seek(0)
        name = f"未报企业名单-{day.isoformat()}.xlsx"
        return FileResponse(buffer, as_attachment=True, filename=name, content_type=XLSX)
    context = {
        "result": result,
        "day": day,
        "today": today,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1) if day < today else None,
        "can_fill": user.is_admin or user.role in (Role.TASKFORCE, Role.LIAISON, Role.CHAIN_OFFICE),
    }
    return render(request, "dispatch/missing.html", context)


def _error_path(user) -> Path:
    """The user's last report-import error file."""
    return errorfile.error_path(user, "dispatch-")


@importer_required
@require_http_methods(["GET", "POST"])
def import_reports(request):
    """GET: the upload form; POST: import a day's reports and show the counts and rejected rows."""
    result = None
    form = ReportImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = imports.import_reports(
            upload.read(),
            upload.name,
            request.user,
            date=form.cleaned_data["date"],
            partial=form.cleaned_data["partial"],
            dry_run=form.cleaned_data["dry_run"],
        )
        errorfile.keep_errors(result, _error_path(request.user))
    context = errorfile.page_context(form, result, _error_path(request.user))
    return render(request, "dispatch/report_import.html", context)


@importer_required
@require_GET
def import_reports_errors(request):
    """The user's last report-import error report (.xlsx); 404 when it had none."""
    return errorfile.download(_error_path(request.user), "日报导入错误报告.xlsx")


@importer_required
@require_GET
def import_reports_template(request):
    """The blank daily-report sheet."""
    buffer = BytesIO()
    imports.write_template(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename="企业日报导入模板.xlsx", content_type=XLSX)
