"""Power import page: upload daily kWh (and a meter mapping), see rejected rows, download the report.

For task forces and administrators; anyone else gets a 404. The import itself (all-or-report,
audit, roll-ups marked dirty) is gulian.dispatch.power_io, as for `gulian power import`.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from gulian.core.models import Role
from gulian.dispatch.power_io import METERS, READINGS, import_power, template
from gulian.registry.io import errorfile

POWER_ROLES = (Role.TASKFORCE, Role.ADMIN)
XLSX = errorfile.XLSX
TEMPLATE_NAMES = {READINGS: "日用电量导入模板.xlsx", METERS: "电表对照表模板.xlsx"}


class PowerImportForm(forms.Form):
    """Readings file, optional mapping file, and the switches of the CLI (--partial, --dry-run)."""

    file = forms.FileField(label=_("用电数据文件（.xlsx / .csv）"))
    meters = forms.FileField(
        label=_("电表对照表（可选）"), required=False, help_text=_("户号与统一社会信用代码的对应关系")
    )
    partial = forms.BooleanField(
        label=_("仅导入通过校验的行"), required=False, help_text=_("不勾选时，只要有一行被拒绝，整个文件都不写入")
    )
    dry_run = forms.BooleanField(label=_("只校验，不写入"), required=False)


def _may_import(user) -> bool:
    return user.is_usable and (user.is_admin or user.role in POWER_ROLES)


def _error_path(user) -> Path:
    return errorfile.error_path(user, "power-")


@login_required
@require_http_methods(["GET", "POST"])
def power_import(request):
    """GET: the upload form; POST: run the import and show counts and rejected rows."""
    if not _may_import(request.user):
        raise Http404("未找到 / not found")
    form = PowerImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload, mapping = form.cleaned_data["file"], form.cleaned_data["meters"]
        result = import_power(
            request.user,
            upload.read(),
            upload.name,
            meters=(mapping.read(), mapping.name) if mapping else None,
            partial=form.cleaned_data["partial"],
            dry_run=form.cleaned_data["dry_run"],
        )
        errorfile.keep_errors(result, _error_path(request.user))
    context = {
        **errorfile.page_context(form, result, _error_path(request.user)),
        "templates": [(READINGS, _("日用电量")), (METERS, _("电表对照表"))],
    }
    return render(request, "dispatch/power_import.html", context)


@login_required
@require_GET
def power_import_errors(request):
    """The user's last power import error report (.xlsx)."""
    if not _may_import(request.user):
        raise Http404("没有错误报告 / no error report")
    return errorfile.download(_error_path(request.user), "用电数据导入错误报告.xlsx")


@login_required
@require_GET
def power_template(request, kind: str):
    """A blank template: daily readings or the meter mapping."""
    if not _may_import(request.user) or kind not in TEMPLATE_NAMES:
        raise Http404("未找到 / not found")
    buffer = BytesIO()
    template(kind, buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=TEMPLATE_NAMES[kind], content_type=XLSX)
