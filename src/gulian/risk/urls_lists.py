"""Risk URLs (lists); filled by the lists pages."""

urlpatterns: list = []
