"""The permission module's rules, role by role: who reads personal data, whose records, the
sensitive ones, shared ones; aggregates, the audit log, the admin, and the second factor."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from mirador.accounts import permissions
from mirador.accounts.models import Role, User
from mirador.core.models import Country, Organisation, OrganisationType
from mirador.linkage.models import MissingPersonReport
from mirador.people.models import Person, PersonShare

pytestmark = pytest.mark.django_db

CASE_ROLES = [
    Role.RECEPTION_OFFICER,
    Role.CASEWORKER,
    Role.CONSULAR_OFFICER,
    Role.PROTECTION_OFFICER,
]
NON_CASE_ROLES = [Role.ADMINISTRATOR, Role.REGIONAL_ANALYST, Role.NATIONAL_ANALYST, Role.EMPLOYER]


class World:
    """Two countries' registries, a civil-society organisation records are shared with, and a
    user of each kind."""

    def __init__(
        self, make_user: Callable[..., User], make_organisation: Callable[..., Organisation]
    ) -> None:
        inm = make_organisation(country="HN", name="Instituto Nacional de Migración")
        dinaf = make_organisation(country="HN", name="Dirección de Niñez, Adolescencia y Familia")
        pmh = make_organisation(
            country="HN", kind=OrganisationType.CIVIL_SOCIETY, name="Pastoral de Movilidad Humana"
        )
        igm = make_organisation(country="GT", name="Instituto Guatemalteco de Migración")
        self.pmh = pmh

        self.persons: dict[str, Person] = {
            "hn adult": person("HN"),
            "hn child": person("HN", is_child=True),
            "hn trafficking victim": person("HN", is_trafficking_victim=True),
            "gt adult": person("GT"),
            "gt adult shared with pmh": person("GT", shared_with=pmh),
            "hn child shared with pmh": person("HN", is_child=True, shared_with=pmh),
            "hn reported missing": person("HN", reported_missing=True),
        }
        self.users: dict[str, Any] = {
            "officer.hn": make_user(username="officer.hn", organisation=inm),
            "consular.hn": make_user(
                username="consular.hn", role=Role.CONSULAR_OFFICER, organisation=inm
            ),
            "protection.hn": make_user(
                username="protection.hn", role=Role.PROTECTION_OFFICER, organisation=dinaf
            ),
            "officer.gt": make_user(username="officer.gt", country="GT", organisation=igm),
            "caseworker.pmh": make_user(
                username="caseworker.pmh", role=Role.CASEWORKER, organisation=pmh
            ),
            "officer.pmh": make_user(username="officer.pmh", organisation=pmh),
            "protection.pmh": make_user(
                username="protection.pmh", role=Role.PROTECTION_OFFICER, organisation=pmh
            ),
            "officer without country": make_user(
                username="nowhere", country=None, organisation=None
            ),
            "regional analyst": make_user(
                username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None
            ),
            "national analyst": make_user(
                username="analyst.hn", role=Role.NATIONAL_ANALYST, organisation=inm
            ),
            "administrator": make_user(
                username="admin", role=Role.ADMINISTRATOR, country=None, is_superuser=True
            ),
            "employer": make_user(
                username="employer.hn",
                role=Role.EMPLOYER,
                organisation_kind=OrganisationType.PRIVATE_SECTOR,
            ),
            "anonymous": AnonymousUser(),
        }
        deactivated = make_user(username="former.officer.hn", organisation=inm)
        deactivated.is_active = False
        deactivated.save(update_fields=["is_active"])
        self.users["deactivated officer.hn"] = deactivated


def person(
    country: str,
    *,
    is_child: bool = False,
    is_trafficking_victim: bool = False,
    shared_with: Organisation | None = None,
    reported_missing: bool = False,
) -> Person:
    record = Person.objects.create(
        country=Country.objects.get(pk=country),
        given_names="Ana",
        first_surname="López",
        is_child=is_child,
        is_trafficking_victim=is_trafficking_victim,
    )
    if shared_with is not None:
        PersonShare.objects.create(person=record, organisation=shared_with, reason="Referral")
    if reported_missing:
        MissingPersonReport.objects.create(
            person=record,
            reported_on=datetime.date(2026, 1, 5),
            reporter_name="Rosa López",
            reporter_relationship="parent",
        )
    return record


@pytest.fixture
def world(make_user: Callable[..., User], make_organisation: Callable[..., Organisation]) -> World:
    return World(make_user, make_organisation)


# Who sees which record. Everyone not listed sees nothing.
VISIBLE = {
    "officer.hn": {"hn adult"},
    # A person reported missing is for the tracing roles (consular and protection officers).
    "consular.hn": {"hn adult", "hn reported missing"},
    "protection.hn": {
        "hn adult",
        "hn child",
        "hn trafficking victim",
        "hn child shared with pmh",
        "hn reported missing",
    },
    "officer.gt": {"gt adult", "gt adult shared with pmh"},
    "caseworker.pmh": {"gt adult shared with pmh"},
    "officer.pmh": {"gt adult shared with pmh"},
    "protection.pmh": {"gt adult shared with pmh", "hn child shared with pmh"},
}
EVERYONE = [
    "officer.hn",
    "consular.hn",
    "protection.hn",
    "officer.gt",
    "caseworker.pmh",
    "officer.pmh",
    "protection.pmh",
    "officer without country",
    "regional analyst",
    "national analyst",
    "administrator",
    "employer",
    "anonymous",
    "deactivated officer.hn",
]


@pytest.mark.parametrize("who", EVERYONE)
def test_each_user_sees_exactly_the_records_of_their_scope(world: World, who: str) -> None:
    user = world.users[who]
    expected = VISIBLE.get(who, set())

    one_by_one = {name for name, p in world.persons.items() if permissions.can_view_person(user, p)}
    by_filter = set(
        Person.objects.filter(permissions.persons_visible_filter(user))
        .distinct()
        .values_list("pk", flat=True)
    )

    assert one_by_one == expected
    assert by_filter == {world.persons[name].pk for name in expected}


@pytest.mark.parametrize("role", CASE_ROLES)
def test_case_roles_with_a_country_read_personal_data(
    make_user: Callable[..., User], role: str
) -> None:
    assert permissions.can_read_personal_data(make_user(username="u", role=role))


@pytest.mark.parametrize("role", NON_CASE_ROLES)
def test_other_roles_never_read_personal_data(make_user: Callable[..., User], role: str) -> None:
    assert not permissions.can_read_personal_data(make_user(username="u", role=role))


def test_a_superuser_reads_no_personal_data_for_being_one(world: World) -> None:
    administrator = world.users["administrator"]

    assert administrator.is_superuser
    assert not permissions.can_read_personal_data(administrator)
    assert not Person.objects.filter(permissions.persons_visible_filter(administrator)).exists()


@pytest.mark.parametrize("role", CASE_ROLES)
def test_only_protection_officers_read_sensitive_records(
    make_user: Callable[..., User], role: str
) -> None:
    user = make_user(username="u", role=role)

    assert permissions.can_read_sensitive_records(user) is (role == Role.PROTECTION_OFFICER)


@pytest.mark.parametrize(
    ("who", "country", "allowed"),
    [
        ("officer.hn", "HN", True),
        ("consular.hn", "HN", True),
        ("protection.hn", "HN", True),
        ("officer.hn", "GT", False),
        ("officer.gt", "GT", True),
        ("caseworker.pmh", "HN", False),
        ("officer.pmh", "HN", False),
        ("national analyst", "HN", False),
        ("administrator", "HN", False),
        ("anonymous", "HN", False),
        ("deactivated officer.hn", "HN", False),
    ],
)
def test_government_officials_register_persons_in_their_own_country_only(
    world: World, who: str, country: str, allowed: bool
) -> None:
    target = Country.objects.get(pk=country)

    assert permissions.can_register_person(world.users[who], target) is allowed


@pytest.mark.parametrize(
    ("who", "record", "allowed"),
    [
        ("officer.hn", "hn adult", True),
        ("officer.hn", "hn child", False),
        ("officer.hn", "gt adult", False),
        ("protection.hn", "hn child", True),
        ("protection.pmh", "hn child shared with pmh", True),
        ("caseworker.pmh", "gt adult shared with pmh", False),
        ("officer.pmh", "gt adult shared with pmh", True),
        ("regional analyst", "hn adult", False),
    ],
)
def test_changing_and_sharing_a_record_takes_seeing_it_and_more_than_a_caseworker(
    world: World, who: str, record: str, allowed: bool
) -> None:
    user, target = world.users[who], world.persons[record]

    assert permissions.can_change_person(user, target) is allowed
    assert permissions.can_share_person(user, target) is allowed


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("regional analyst", True),
        ("national analyst", True),
        ("officer.hn", True),
        ("caseworker.pmh", True),
        ("administrator", True),
        ("employer", False),
        ("anonymous", False),
        ("deactivated officer.hn", False),
    ],
)
def test_aggregates_are_for_every_role_but_employers(world: World, who: str, allowed: bool) -> None:
    assert permissions.can_view_aggregates(world.users[who]) is allowed


@pytest.mark.parametrize("who", EVERYONE)
def test_only_administrators_and_regional_analysts_generate_bulletins(
    world: World, who: str
) -> None:
    allowed = who in {"administrator", "regional analyst"}
    assert permissions.can_generate_bulletins(world.users[who]) is allowed


@pytest.mark.parametrize(
    ("role", "is_superuser", "allowed"),
    [
        (Role.ADMINISTRATOR, False, True),
        (Role.REGIONAL_ANALYST, True, True),
        (Role.REGIONAL_ANALYST, False, False),
        (Role.PROTECTION_OFFICER, False, False),
        (Role.RECEPTION_OFFICER, False, False),
    ],
)
def test_only_administrators_read_the_audit_log(
    make_user: Callable[..., User], role: str, is_superuser: bool, allowed: bool
) -> None:
    user = make_user(username="u", role=role, is_superuser=is_superuser)

    assert permissions.is_administrator(user) is allowed
    assert permissions.can_view_audit_log(user) is allowed


def test_nobody_anonymous_or_deactivated_reads_the_audit_log(world: World) -> None:
    administrator = world.users["administrator"]
    administrator.is_active = False

    assert not permissions.can_view_audit_log(AnonymousUser())
    assert not permissions.can_view_audit_log(administrator)


def test_the_django_admin_takes_staff_status_and_the_administrator_role(
    make_user: Callable[..., User],
) -> None:
    administrator = make_user(username="admin", role=Role.ADMINISTRATOR, country=None)
    staff_officer = make_user(username="staff.officer")
    staff_officer.is_staff = True

    assert not permissions.can_use_admin(administrator)  # not staff
    administrator.is_staff = True
    assert permissions.can_use_admin(administrator)
    assert not permissions.can_use_admin(staff_officer)


@pytest.mark.parametrize(
    ("who", "required"),
    [
        ("officer.hn", True),
        ("consular.hn", True),
        ("protection.hn", True),
        ("caseworker.pmh", True),
        ("administrator", True),
        ("regional analyst", False),
        ("national analyst", False),
        ("employer", False),
        ("anonymous", False),
    ],
)
def test_production_requires_a_second_factor_of_those_who_read_personal_data_or_manage_accounts(
    world: World, two_factor_required: None, who: str, required: bool
) -> None:
    assert permissions.requires_two_factor(world.users[who]) is required


@pytest.mark.parametrize("who", ["officer.hn", "protection.hn", "administrator"])
def test_the_demo_requires_no_second_factor(world: World, demo_mode: None, who: str) -> None:
    assert not permissions.requires_two_factor(world.users[who])


# Return and reception (mirador.returns): who works at a Honduran reception centre, who sees
# its figures (aggregates), who gets its protection alerts. Everyone not listed: nothing.
RECEPTION_HN = {
    "officer.hn": {"works", "figures"},
    "protection.hn": {"works", "figures", "alerts"},
    "national analyst": {"figures"},
    "regional analyst": {"figures"},
    "administrator": {"figures"},
}


@pytest.mark.parametrize("who", EVERYONE)
def test_a_honduran_reception_centre_is_worked_by_honduran_officials_only(
    world: World, who: str
) -> None:
    user = world.users[who]
    allowed = {
        "works": permissions.can_work_at_centre(user, "HN"),
        "figures": permissions.can_view_centre_figures(user, "HN"),
        "alerts": permissions.can_view_protection_alerts(user, "HN"),
    }
    assert {name for name, granted in allowed.items() if granted} == RECEPTION_HN.get(who, set())


@pytest.mark.parametrize("who", EVERYONE)
def test_the_reception_link_is_for_those_who_work_at_some_centre(world: World, who: str) -> None:
    user = world.users[who]
    works_somewhere = any(
        permissions.can_work_at_centre(user, country) for country in ("HN", "GT", "SV")
    )
    assert permissions.can_do_reception_work(user) is works_somewhere


# Identification (mirador.linkage): who reviews pairs of records (the officials who keep a
# country's registry), who files missing-person reports and records unidentified persons
# (the tracing roles), who runs linkage on files (administrators). Everyone not listed:
# nothing.
IDENTIFICATION = {
    "officer.hn": {"reviews"},
    "consular.hn": {"reviews", "traces"},
    "protection.hn": {"reviews", "traces"},
    "officer.gt": {"reviews"},
    "administrator": {"runs linkage"},
}


@pytest.mark.parametrize("who", EVERYONE)
def test_pairs_are_reviewed_by_registry_officials_and_missing_persons_traced_by_tracing_roles(
    world: World, who: str
) -> None:
    user = world.users[who]
    allowed = {
        "reviews": permissions.can_review_linkage(user),
        "traces": permissions.can_trace_missing_persons(user),
        "runs linkage": permissions.can_run_linkage(user),
    }
    assert {name for name, granted in allowed.items() if granted} == IDENTIFICATION.get(who, set())
