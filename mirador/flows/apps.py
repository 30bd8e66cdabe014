from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "mirador.flows"
    label = "flows"
    verbose_name = _("Migration flows")
