from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "mirador.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.core import checks

        from mirador.accounts.checks import demo_accounts_absent_in_production

        checks.register(demo_accounts_absent_in_production)
