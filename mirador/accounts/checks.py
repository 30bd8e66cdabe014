"""System checks of the accounts app: production refuses to start while demo accounts exist."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.db import DatabaseError, connections, router
from django.utils.translation import gettext_lazy as _

DEMO_ACCOUNTS_IN_PRODUCTION_ID = "accounts.E001"
DEMO_ACCOUNTS_IN_PRODUCTION = _(
    "{count} demo account(s) (created by `mirador demo`, with a published password) exist in "
    "this production database."
)
DEMO_ACCOUNTS_HINT = _(
    'Delete them: mirador shell -c "from mirador.accounts.models import User; '
    'User.objects.filter(is_demo=True).delete()"'
)


def demo_accounts_absent_in_production(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    if not settings.PRODUCTION:
        return []
    from mirador.accounts.models import User

    connection = connections[router.db_for_read(User)]
    try:
        # Before the first migration there is no table, and so no demo account.
        if User._meta.db_table not in connection.introspection.table_names():
            return []
        count = User.objects.filter(is_demo=True).count()
    except DatabaseError:
        # An unreachable database is reported by whatever needs it, in its own words.
        return []
    if not count:
        return []
    return [
        Error(
            str(DEMO_ACCOUNTS_IN_PRODUCTION).format(count=count),
            hint=str(DEMO_ACCOUNTS_HINT),
            id=DEMO_ACCOUNTS_IN_PRODUCTION_ID,
        )
    ]
