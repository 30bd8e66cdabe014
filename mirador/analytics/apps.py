from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "mirador.analytics"
    label = "analytics"
    verbose_name = _("Observatory analytics")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from mirador.analytics.figure_blocks import blocks_refresh_after_import
        from mirador.analytics.forecasting import refresh_after_import
        from mirador.flows.models import ImportBatch

        # flows cannot call analytics (dependencies point the other way): an import tells
        # the forecasts and the dashboards' figure blocks through the batch's save.
        post_save.connect(refresh_after_import, sender=ImportBatch, dispatch_uid="forecasts")
        post_save.connect(
            blocks_refresh_after_import, sender=ImportBatch, dispatch_uid="figure-blocks"
        )
