"""Import/export pages: upload a file, see rejected rows, download the error report, templates and exports.

Importing, its error report and the templates are for task forces, chain
offices, liaisons and administrators; for anyone else those pages do not exist
(404). Exporting is open to every approved user. What is imported or exported
is decided by ``restrict()`` inside gulian.registry.io, as for the CLI.
"""

from __future__ import annotations

import tempfile
from functools import wraps
from io import BytesIO
from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from pydantic import ValidationError

from gulian.core.models import Role
from gulian.registry.io import KINDS, errorfile, import_file, write_template
from gulian.registry.io import export_file as write_export

IMPORT_ROLES = (Role.TASKFORCE, Role.CHAIN_OFFICE, Role.LIAISON, Role.ADMIN)
KIND_CHOICES = [("enterprises", _("企业名单")), ("chains", _("产业链成员")), ("links", _("供应关系"))]
FILE_NAMES = {"enterprises": "企业名单", "chains": "产业链成员", "links": "供应关系"}
XLSX = errorfile.XLSX


class ImportForm(forms.Form):
    """Kind, file, and the two switches of the CLI (--partial, --dry-run)."""

    kind = forms.ChoiceField(label=_("数据类型"), choices=KIND_CHOICES)
    file = forms.FileField(label=_("文件（.xlsx / .csv）"))
    partial = forms.BooleanField(label=_("仅导入通过校验的行"), required=False)
    dry_run = forms.BooleanField(label=_("只校验，不写入"), required=False)


def importer_required(view):
    """Signed-in users of an importing role; anyone else gets a 404, as for out-of-scope records."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_usable or not (user.is_admin or user.role in IMPORT_ROLES):
            raise Http404("未找到 / not found")
        return view(request, *args, **kwargs)

    return wrapper


def _error_path(user) -> Path:
    """Where the user's last registry import error report is kept."""
    return errorfile.error_path(user)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Http404("未找到 / not found")


@importer_required
@require_http_methods(["GET", "POST"])
def import_view(request):
    """GET: the upload form with template and export links; POST: run the import and show its result."""
    result = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = import_file(
            form.cleaned_data["kind"],
            upload.read(),
            upload.name,
            request.user,
            partial=form.cleaned_data["partial"],
            dry_run=form.cleaned_data["dry_run"],
        )
        errorfile.keep_errors(result, _error_path(request.user))
    context = {**errorfile.page_context(form, result, _error_path(request.user)), "kinds": KIND_CHOICES}
    return render(request, "registry/import.html", context, status=200)


@importer_required
@require_GET
def import_errors(request):
    """The user's last error report (.xlsx); 404 when the last import had none."""
    return errorfile.download(_error_path(request.user), "导入错误报告.xlsx")


@importer_required
@require_GET
def template_download(request, kind: str):
    """The blank import template of ``kind``."""
    _check_kind(kind)
    buffer = BytesIO()
    write_template(kind, buffer)
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=f"{FILE_NAMES[kind]}导入模板.xlsx", content_type=XLSX
    )


@login_required
@require_GET
def export_download(request, kind: str):
    """What the user may view of ``kind``, in the import shape; ?format=csv and the list filters apply."""
    # Open to every approved user: restrict() limits the file to what they may see anyway.
    if not request.user.is_usable:
        raise Http404("未找到 / not found")
    _check_kind(kind)
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    filters = {k: v for k, v in request.GET.items() if k != "format"}
    out = tempfile.TemporaryFile()  # large exports go to disk; FileResponse closes it when sent
    try:
        write_export(kind, request.user, out, fmt, filters)
    except ValidationError:
        out.close()
        return HttpResponseBadRequest("筛选条件无效 / invalid filter")
    out.seek(0)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return FileResponse(
        out, as_attachment=True, filename=f"{FILE_NAMES[kind]}.{fmt}", content_type=content_type
    )
