"""Appeal pages under /appeals/ (docs/endpoints.md lists every name). Open311 lives in urls_open311."""

from gulian.appeals import urls_enterprise, urls_notifications, urls_officials

app_name = "appeals"

urlpatterns = [*urls_enterprise.urlpatterns, *urls_officials.urlpatterns, *urls_notifications.urlpatterns]
