from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    """Daily dispatch (日调度): reports, power data, roll-ups, held-back list, bulletin."""

    name = "gulian.dispatch"
    label = "dispatch"
    verbose_name = _("日调度")
