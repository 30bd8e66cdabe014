"""`mirador demo` and `mirador serve`: set up, safe to run twice, refused where they must be."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation

from conftest import SHARED_DATA
from mirador.accounts import permissions
from mirador.accounts.checks import (
    DEMO_ACCOUNTS_IN_PRODUCTION_ID,
    demo_accounts_absent_in_production,
)
from mirador.accounts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from mirador.accounts.models import Role, User
from mirador.analytics.bulletins import latest_month_with_figures
from mirador.analytics.models import BulletinEdition, BulletinStatus
from mirador.core.management.commands.demo import REFUSED_IN_PRODUCTION
from mirador.core.management.commands.serve import PORT_IN_USE
from mirador.flows.models import BatchStatus, ImportBatch, Observation
from mirador.people.models import (
    Consent,
    ContactPoint,
    FamilyLink,
    IdentityDocument,
    Person,
    PersonShare,
)
from mirador.returns.models import Arrival

SIZE = "400"
DEMO_USERNAMES = {
    "admin",
    "analyst.regional",
    "officer.hn",
    "officer.gt",
    "caseworker.hn",
    "protection.hn",
    "consular.hn",
    "caderh.hn",
}


@pytest.fixture(autouse=True)
def without_published_samples(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The demo imports the published samples where they are kept; most tests here are about
    accounts and persons and leave them out (the observatory test below loads them)."""
    monkeypatch.setenv("MIRADOR_SHARED_DATA", str(tmp_path / "no-samples-here"))


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-serve", "--size", SIZE, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def database_snapshot() -> dict[str, object]:
    return {
        "persons": set(Person.objects.values_list("pk", flat=True)),
        "documents": IdentityDocument.objects.count(),
        "contacts": ContactPoint.objects.count(),
        "family_links": FamilyLink.objects.count(),
        "consents": Consent.objects.count(),
        "shares": PersonShare.objects.count(),
        "users": set(
            User.objects.values_list(
                "username", "password", "role", "country", "organisation", "is_demo"
            )
        ),
    }


@pytest.mark.django_db
def test_demo_creates_the_six_demo_accounts_and_the_demo_region() -> None:
    output = run_demo()

    users = {user.username: user for user in User.objects.select_related("organisation")}
    assert set(users) == DEMO_USERNAMES == {account.username for account in DEMO_ACCOUNTS}
    assert all(user.is_demo and user.check_password(DEMO_PASSWORD) for user in users.values())
    assert users["admin"].is_superuser and users["admin"].role == Role.ADMINISTRATOR
    assert users["officer.gt"].country_id == "GT"
    organisations = {name: user.organisation for name, user in users.items()}
    assert organisations["admin"] is None
    assert str(organisations["officer.hn"]) == "INM"
    assert str(organisations["officer.gt"]) == "IGM"
    assert str(organisations["caseworker.hn"]) == "PMH"
    assert str(organisations["protection.hn"]) == "DINAF"
    assert str(organisations["analyst.regional"]) == "OIM"
    for username in DEMO_USERNAMES:
        assert username in output
    assert DEMO_PASSWORD in output

    assert 350 < Person.objects.count() <= int(SIZE)
    assert set(Person.objects.values_list("country", flat=True).distinct()) == {"HN", "GT", "SV"}
    assert Person.objects.filter(is_child=True).exists()
    assert FamilyLink.objects.exists()
    assert IdentityDocument.objects.exists()
    assert Consent.objects.exists()


@pytest.mark.django_db
def test_each_demo_account_sees_what_its_role_and_scope_allow() -> None:
    run_demo()
    users = {user.username: user for user in User.objects.select_related("organisation")}

    def visible(username: str) -> set[str]:
        scope = permissions.persons_visible_filter(users[username])
        return set(Person.objects.filter(scope).values_list("country", flat=True).distinct())

    assert visible("officer.hn") == {"HN"}
    assert visible("officer.gt") == {"GT"}
    assert visible("caseworker.hn") == {"HN"}
    assert visible("analyst.regional") == set()
    shared = Person.objects.filter(permissions.persons_visible_filter(users["caseworker.hn"]))
    assert 0 < shared.count() < Person.objects.filter(country="HN").count()
    children = Person.objects.filter(country="HN", is_child=True)
    assert children.filter(permissions.persons_visible_filter(users["protection.hn"])).exists()
    assert not children.filter(permissions.persons_visible_filter(users["officer.hn"])).exists()


@pytest.mark.django_db
def test_running_the_demo_twice_changes_nothing() -> None:
    run_demo()
    before = database_snapshot()

    with translation.override("en"):
        output = run_demo()

    assert database_snapshot() == before
    assert "already loaded" in output


@pytest.mark.django_db
def test_the_demo_brings_a_changed_demo_account_back_to_its_demo_state() -> None:
    run_demo()
    officer = User.objects.get(username="officer.hn")
    officer.role = Role.CASEWORKER
    officer.set_password("something-else-entirely")
    officer.save()

    run_demo()

    officer.refresh_from_db()
    assert officer.role == Role.RECEPTION_OFFICER
    assert officer.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
@override_settings(PRODUCTION=True)
def test_the_demo_is_refused_in_production_and_creates_nothing() -> None:
    with pytest.raises(CommandError) as refusal:
        run_demo()

    assert str(refusal.value) == str(REFUSED_IN_PRODUCTION)
    assert not User.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_the_demo_on_a_busy_port_says_so_and_creates_nothing(
    busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRADOR_PORT", str(busy_port))
    monkeypatch.delenv("MIRADOR_HOST", raising=False)

    with pytest.raises(CommandError) as refusal:
        call_command("demo", "--size", SIZE, stdout=StringIO())

    assert str(refusal.value) == str(PORT_IN_USE).format(
        port=busy_port, host="127.0.0.1", other=busy_port + 1, command="demo"
    )
    assert not User.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["eighty", "0", "70000"])
def test_a_malformed_port_is_refused_in_one_sentence_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRADOR_PORT", value)

    with pytest.raises(CommandError, match=r"^MIRADOR_PORT=.*between 1 and 65535\.$"):
        call_command("demo", "--size", SIZE, stdout=StringIO())

    assert not User.objects.exists()


def mirador_subprocess(
    *args: str, data_dir: Path, port: int, language: str = "en"
) -> subprocess.CompletedProcess[str]:
    """Run the `mirador` command as a user would, on the embedded database in `data_dir`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MIRADOR_") and name != "DJANGO_SETTINGS_MODULE"
    }
    environment |= {
        "MIRADOR_DATA_DIR": str(data_dir),
        "MIRADOR_PORT": str(port),
        "MIRADOR_LANGUAGE": language,
    }
    return subprocess.run(  # noqa: S603 (our own command, fixed arguments)
        [sys.executable, "-m", "mirador.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_on_a_busy_port_exits_non_zero_with_one_sentence(
    busy_port: int, tmp_path: Path
) -> None:
    finished = mirador_subprocess("serve", data_dir=tmp_path, port=busy_port)

    assert finished.returncode != 0
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_demo_command_on_a_busy_port_leaves_no_database_behind(
    busy_port: int, tmp_path: Path
) -> None:
    finished = mirador_subprocess("demo", data_dir=tmp_path, port=busy_port)

    assert finished.returncode != 0
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in finished.stderr
    assert not (tmp_path / "mirador.sqlite3").exists()


def test_the_command_line_speaks_spanish_to_an_operator_who_asks_for_it(
    busy_port: int, tmp_path: Path
) -> None:
    finished = mirador_subprocess("serve", data_dir=tmp_path, port=busy_port, language="es")

    assert finished.returncode != 0
    assert f"Otro programa ya usa el puerto {busy_port}" in finished.stderr
    assert "already in use" not in finished.stderr


@pytest.mark.django_db
def test_production_refuses_to_start_while_demo_accounts_exist() -> None:
    run_demo()

    with override_settings(PRODUCTION=True), translation.override("en"):
        errors = demo_accounts_absent_in_production()
    assert [error.id for error in errors] == [DEMO_ACCOUNTS_IN_PRODUCTION_ID]
    assert f"{len(DEMO_USERNAMES)} demo account(s)" in errors[0].msg

    User.objects.filter(is_demo=True).delete()
    with override_settings(PRODUCTION=True):
        assert demo_accounts_absent_in_production() == []


@pytest.mark.django_db
def test_demo_accounts_do_not_trouble_a_demo_set_up() -> None:
    run_demo()

    assert demo_accounts_absent_in_production() == []


@pytest.mark.django_db
def test_the_demo_fills_the_observatory_from_the_samples_the_guide_and_its_own_arrivals(
    monkeypatch: pytest.MonkeyPatch, settings: object, tmp_path: Path
) -> None:
    monkeypatch.setenv("MIRADOR_SHARED_DATA", str(SHARED_DATA))
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    run_demo()

    imported = ImportBatch.objects.filter(status=BatchStatus.IMPORTED)
    assert set(imported.values_list("dataset__code", flat=True)) == {
        "border-encounters",
        "missing-migrants",
        "migrant-stock",
        "returns-received",
        "returns-persons",  # events, persons and re-returns of the demo's own arrivals
        "population",  # so that the demo shows rates per 100,000 inhabitants
    }
    rolled_up = Observation.objects.filter(batch__source="mirador-returns")
    assert sum(rolled_up.values_list("value", flat=True)) == Arrival.objects.count() > 0
    # The centres' intake times come from the arrivals: each of the demo's loaders (returns,
    # their history, identification) registers its arrivals within the hour, as a desk would.
    delays = [
        registered - arrived
        for arrived, registered in Arrival.objects.values_list("arrived_at", "registered_at")
    ]
    assert datetime.timedelta(0) <= min(delays) and max(delays) <= datetime.timedelta(hours=1)

    # The portal's archive holds the bulletin of the latest month with figures, both languages.
    published = BulletinEdition.objects.filter(status=BulletinStatus.PUBLISHED)
    assert set(published.values_list("language", flat=True)) == {"es", "en"}
    assert {edition.month for edition in published} == {latest_month_with_figures()}
    assert all(bytes(edition.pdf).startswith(b"%PDF") for edition in published)

    batches = set(imported.values_list("pk", flat=True))
    editions = set(published.values_list("pk", flat=True))
    run_demo()
    assert set(published.values_list("pk", flat=True)) == editions
    assert (
        set(ImportBatch.objects.filter(status=BatchStatus.IMPORTED).values_list("pk", flat=True))
        == batches
    )
