from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Regions, industries, users, scopes, restrict() and the audit log."""

    name = "gulian.core"
    label = "core"
    verbose_name = _("基础")
