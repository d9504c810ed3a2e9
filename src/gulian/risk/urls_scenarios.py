"""Risk URLs (scenarios); filled by the scenarios pages."""

urlpatterns: list = []
