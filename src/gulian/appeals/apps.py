from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    """Enterprise appeals (企业诉求): intake, routing, escalation, deadlines, replies, Open311."""

    name = "gulian.appeals"
    label = "appeals"
    verbose_name = _("企业诉求")

    def ready(self) -> None:
        """Connect appeals to the held-back list's "open appeal" column."""
        from gulian.appeals import hooks

        hooks.connect()
