from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    """Chain-break risk (断链断供风险): screens, scenarios, exposure, nowcast and the risk lists."""

    name = "gulian.risk"
    label = "risk"
    verbose_name = _("断链风险")

    def ready(self) -> None:
        """Connect the risk lists to the held-back list's "open risk item" column."""
        from gulian.risk import hooks

        hooks.connect()
