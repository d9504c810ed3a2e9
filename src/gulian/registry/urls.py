"""Registry URLs: pages (urls_pages) and import/export (urls_io)."""

from gulian.registry import urls_io, urls_pages

app_name = "registry"
urlpatterns = urls_pages.urlpatterns + urls_io.urlpatterns
