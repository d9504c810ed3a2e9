"""Dispatch URLs: reports (urls_reports), metrics and lists (urls_metrics), bulletin (urls_bulletin)."""

from gulian.dispatch import urls_bulletin, urls_metrics, urls_reports

app_name = "dispatch"
urlpatterns = urls_reports.urlpatterns + urls_metrics.urlpatterns + urls_bulletin.urlpatterns
