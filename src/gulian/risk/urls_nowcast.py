"""Risk URLs (nowcast); filled by the nowcast pages."""

urlpatterns: list = []
