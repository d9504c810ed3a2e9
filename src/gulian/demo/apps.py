from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Deterministic demo-province generator (``gulian demo``)."""

    name = "gulian.demo"
    label = "demo"
