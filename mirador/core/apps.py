from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "mirador.core"
    label = "core"
    verbose_name = _("Reference data")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from mirador.core.lookups import reference_rows_forget
        from mirador.core.models import Country, Subdivision

        # Rows kept per process (core.lookups) are forgotten when this process changes one.
        for model in (Country, Subdivision):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    reference_rows_forget,
                    sender=model,
                    dispatch_uid=f"core-reference-rows-{model._meta.model_name}-{name}",
                )
