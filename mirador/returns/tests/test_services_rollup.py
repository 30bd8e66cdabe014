"""Registered arrivals become the observatory's "returns received" figures without retyping:
counted by month and profile, imported as source "mirador-returns", revised when more are
registered, unchanged when nothing is."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.errors import ValidationFailedError
from mirador.core.models import Country, ReceptionCentre, Subdivision
from mirador.flows.models import Observation, ObservationHistory
from mirador.flows.services import ImportOutcome
from mirador.returns.models import Arrival
from mirador.returns.services import (
    IdentityData,
    arrival_register,
    returns_received_rollup,
)

pytestmark = pytest.mark.django_db

# (key, months ago, sex, birth year offset (age), returned from, department)
WALK_INS = [
    ("r-01", 1, "F", 30, "US", "HN-CR"),
    ("r-02", 1, "M", 41, "US", "HN-CR"),
    ("r-03", 1, "M", 41, "US", "HN-CR"),
    ("r-04", 1, "M", 25, "MX", "HN-FM"),
    ("r-05", 1, "X", 33, "MX", None),
    ("r-06", 0, "F", 52, "US", "HN-YO"),
    ("r-07", 0, "M", 16, None, "HN-YO"),
]


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path


def _month_start(months_ago: int) -> datetime.datetime:
    today = timezone.now()
    year, month = today.year, today.month - months_ago
    while month < 1:
        year, month = year - 1, month + 12
    return datetime.datetime(year, month, 2, 10, 0, tzinfo=datetime.UTC)


def _walk_in(officer: User, centre: ReceptionCentre, spec: tuple[Any, ...]) -> Arrival:
    key, months_ago, sex, age, returned_from, department = spec
    arrived_at = _month_start(months_ago)
    return arrival_register(
        actor=officer,
        centre=centre,
        idempotency_key=key,
        arrived_at=arrived_at,
        identity=IdentityData(
            given_names="Persona",
            first_surname=f"Prueba {key}",
            birth_year=arrived_at.year - age,
            sex=sex,
            is_child=age < 18,
        ),
        returned_from=Country.objects.get(pk=returned_from) if returned_from else None,
        home_subdivision=Subdivision.objects.get(pk=department) if department else None,
    )


def _expected() -> Counter[tuple[str, ...]]:
    """The counts computed here from the arrivals, not through the roll-up."""
    expected: Counter[tuple[str, ...]] = Counter()
    for arrival in Arrival.objects.select_related("person"):
        expected[
            (
                f"{arrival.arrived_at:%Y-%m}",
                arrival.returned_from_id or "_U",
                arrival.person.sex if arrival.person.sex in ("F", "M") else "_U",
                "Y_LT18" if arrival.is_minor else "Y_GE18",
                arrival.means,
                arrival.home_subdivision_id or "_U",
            )
        ] += 1
    return expected


def _stored() -> Counter[tuple[str, ...]]:
    stored: Counter[tuple[str, ...]] = Counter()
    for observation in Observation.objects.filter(dataset__code="returns-received"):
        assert observation.reporting_country == "HN"
        stored[
            (
                f"{observation.period:%Y-%m}",
                observation.from_country,
                observation.sex,
                observation.age_group,
                observation.means,
                observation.subdivision,
            )
        ] += observation.value
    return stored


def test_arrivals_roll_up_into_returns_received_and_are_revised_not_added_twice(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    officer = users["officer.hn"]
    for spec in WALK_INS:
        _walk_in(officer, airport_hn, spec)
    honduras = Country.objects.get(pk="HN")

    first = returns_received_rollup(actor=None, country=honduras)
    assert first.outcome == ImportOutcome.IMPORTED, first.summary()
    assert _stored() == _expected()
    assert sum(_stored().values()) == len(WALK_INS)
    assert first.batch is not None and first.batch.source == "mirador-returns"

    again = returns_received_rollup(actor=None, country=honduras)
    assert again.outcome == ImportOutcome.ALREADY_IMPORTED

    _walk_in(officer, airport_hn, ("r-08", 0, "F", 22, "US", "HN-CR"))
    revised = returns_received_rollup(actor=None, country=honduras)
    assert revised.outcome == ImportOutcome.IMPORTED, revised.summary()
    assert _stored() == _expected()
    assert sum(_stored().values()) == len(WALK_INS) + 1
    # The months it covers replaced the earlier figures, which are kept in the history.
    assert ObservationHistory.objects.filter(ended_by=revised.batch).count() > 0


def test_the_command_counts_every_country_with_arrivals(
    users: dict[str, User], airport_hn: ReceptionCentre, capsys: Any
) -> None:
    _walk_in(users["officer.hn"], airport_hn, WALK_INS[0])
    call_command("rollup_returns")
    assert "HN:" in capsys.readouterr().out
    assert sum(_stored().values()) == 1


def test_a_department_of_another_country_is_refused(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        _walk_in(users["officer.hn"], airport_hn, ("r-09", 0, "F", 30, "US", "GT-01"))
    fields = caught.value.details["fields"]
    assert isinstance(fields, dict) and "home_subdivision" in fields
    assert not Arrival.objects.exists()


def test_an_arrival_counts_in_the_month_it_was_at_its_centre(
    users: dict[str, User], airport_hn: ReceptionCentre, border_hn: ReceptionCentre
) -> None:
    # 20:30 on 31 January in Tegucigalpa is 02:30 on 1 February in UTC; 23:30 on 31 January
    # in UTC is 18:30 at a centre kept in UTC (a time zone not set yet).
    airport_hn.time_zone = "America/Tegucigalpa"
    airport_hn.save(update_fields=["time_zone"])
    border_hn.time_zone = "UTC"
    border_hn.save(update_fields=["time_zone"])
    evening = datetime.datetime(2026, 1, 31, 20, 30, tzinfo=ZoneInfo("America/Tegucigalpa"))
    for key, centre, arrived_at in (
        ("tz-airport", airport_hn, evening),
        ("tz-border", border_hn, datetime.datetime(2026, 1, 31, 23, 30, tzinfo=datetime.UTC)),
    ):
        arrival_register(
            actor=users["officer.hn"],
            centre=centre,
            idempotency_key=key,
            arrived_at=arrived_at,
            identity=IdentityData(given_names="Persona", first_surname=key, sex="F"),
        )

    report = returns_received_rollup(actor=None, country=Country.objects.get(pk="HN"))

    assert report.outcome == ImportOutcome.IMPORTED, report.summary()
    months = Counter(
        f"{observation.period:%Y-%m}"
        for observation in Observation.objects.filter(dataset__code="returns-received")
        for _count in range(observation.value)
    )
    assert months == {"2026-01": 2}
