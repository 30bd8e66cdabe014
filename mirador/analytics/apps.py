from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "mirador.analytics"
    label = "analytics"
    verbose_name = _("Observatory analytics")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from mirador.analytics.forecasting import refresh_after_import
        from mirador.flows.models import ImportBatch

        # flows cannot call analytics (dependencies point the other way): an import tells
        # the forecasts through the batch's save.
        post_save.connect(refresh_after_import, sender=ImportBatch, dispatch_uid="forecasts")
