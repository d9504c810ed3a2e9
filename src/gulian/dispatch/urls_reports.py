"""Report pages (joined into app_name "dispatch" by urls.py). docs/endpoints.md lists every name."""

from django.urls import path

from gulian.dispatch import views_reports

urlpatterns: list = [
    path("report/", views_reports.report_today, name="report_today"),
    path("report/<int:enterprise_id>/", views_reports.report_for, name="report_for"),
    path("enterprise/<int:enterprise_id>/history/", views_reports.report_history, name="report_history"),
    path("missing/", views_reports.missing, name="missing"),
    path("import/", views_reports.import_reports, name="import_reports"),
    path("import/errors/", views_reports.import_reports_errors, name="import_reports_errors"),
    path("import/template/", views_reports.import_reports_template, name="import_reports_template"),
]
