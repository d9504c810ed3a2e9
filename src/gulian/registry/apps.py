from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """Enterprises, chains, segments, memberships and supply links."""

    name = "gulian.registry"
    label = "registry"
    verbose_name = _("产业链名录")
