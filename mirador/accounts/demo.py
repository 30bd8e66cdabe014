"""The demo accounts: one per kind of user, created or brought back to their demo state by
`mirador demo`, never in production (see accounts/checks.py for the guard at start-up)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mirador.accounts.models import Role, User
from mirador.core.errors import ApplicationError
from mirador.core.models import Organisation

DEMO_PASSWORD = "mirador-demo"  # noqa: S105 (published in the README; demo only)

DEMO_ACCOUNTS_IN_PRODUCTION = _(
    "Demo accounts are not created in production: run `mirador demo` only on a demo set-up."
)
DEMO_ORGANISATION_MISSING = _(
    "The organisation {name} ({country}) of the demo account {username} is not in the reference "
    "data: run `mirador migrate`, which loads it, then try again."
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    country: str | None
    # (name, country) of an organisation of core/data/organisations.csv.
    organisation: tuple[str, str | None] | None
    is_superuser: bool = False


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", Role.ADMINISTRATOR, None, None, is_superuser=True),
    DemoAccount(
        "analyst.regional",
        Role.REGIONAL_ANALYST,
        None,
        ("Organización Internacional para las Migraciones", None),
    ),
    DemoAccount(
        "officer.hn", Role.RECEPTION_OFFICER, "HN", ("Instituto Nacional de Migración", "HN")
    ),
    DemoAccount(
        "officer.gt", Role.RECEPTION_OFFICER, "GT", ("Instituto Guatemalteco de Migración", "GT")
    ),
    DemoAccount("caseworker.hn", Role.CASEWORKER, "HN", ("Pastoral de Movilidad Humana", "HN")),
    DemoAccount(
        "protection.hn",
        Role.PROTECTION_OFFICER,
        "HN",
        ("Dirección de Niñez, Adolescencia y Familia", "HN"),
    ),
    # Opens and follows the consular cases of Honduras's consulates (mirador.consular).
    DemoAccount(
        "consular.hn",
        Role.CONSULAR_OFFICER,
        "HN",
        ("Secretaría de Relaciones Exteriores y Cooperación Internacional", "HN"),
    ),
    # Staff of a job-training provider of the services directory, who answer the referrals
    # made to it. A civil-society organisation on purpose: staff of a government one would
    # read the whole country's registry (accounts.permissions gives government officials
    # their country's records), which a training provider must not.
    DemoAccount(
        "caderh.hn",
        Role.CASEWORKER,
        "HN",
        ("Centro Asesor para el Desarrollo de los Recursos Humanos de Honduras", "HN"),
    ),
)


class DemoAccountsRefusedError(ApplicationError):
    code = "demo_accounts_refused"
    http_status = 409


def _organisation(account: DemoAccount) -> Organisation | None:
    if account.organisation is None:
        return None
    name, country = account.organisation
    found = Organisation.objects.filter(name=name, country_id=country).first()
    if found is None:
        raise ApplicationError(
            str(DEMO_ORGANISATION_MISSING).format(
                name=name, country=country or "-", username=account.username
            )
        )
    return found


@transaction.atomic
def demo_accounts_ensure() -> list[User]:
    """Create the demo accounts, or bring existing ones back to their demo role, scope and
    password. An account already in that state is not written to."""
    if settings.PRODUCTION:
        raise DemoAccountsRefusedError(str(DEMO_ACCOUNTS_IN_PRODUCTION))
    users = []
    for account in DEMO_ACCOUNTS:
        wanted = {
            "role": account.role,
            "country_id": account.country,
            "organisation": _organisation(account),
            "is_superuser": account.is_superuser,
            "is_staff": account.is_superuser,
            "is_active": True,
            "is_demo": True,
        }
        user = User.objects.filter(username=account.username).first()
        if user is None:
            user = User(username=account.username, **wanted)
            user.set_password(DEMO_PASSWORD)
            user.save()
        else:
            changed = [field for field, value in wanted.items() if getattr(user, field) != value]
            for field in changed:
                setattr(user, field, wanted[field])
            if not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                changed.append("password")
            if changed:
                user.save(
                    update_fields=[
                        f.removesuffix("_id") if f == "country_id" else f for f in changed
                    ]
                )
        users.append(user)
    return users
