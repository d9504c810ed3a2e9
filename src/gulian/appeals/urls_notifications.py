"""URL patterns (included by appeals/urls.py)."""

urlpatterns: list = []
