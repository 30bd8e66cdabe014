"""For every role and scope, each page and endpoint that returns persons returns exactly what
that role may see; every refused record answers 404 and is audited as denied, and every
record read is audited as read.

The table below is the rule, spelled out. Reading it: `officer.gt` (reception officer of
Guatemala) sees only the Guatemalan record, so asking for a Honduran one by id gets 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from mirador.accounts.models import Role, User
from mirador.core.errors import NotFoundError
from mirador.core.models import AuditAction, AuditEntry, Organisation, OrganisationType
from mirador.people.models import Person
from mirador.people.selectors import PERSON_OBJECT_TYPE

pytestmark = pytest.mark.django_db

PERSONS = ("hn_ordinary", "gt_ordinary", "hn_child", "hn_trafficked", "hn_shared")

# "list": may the role list persons at all (otherwise 403 on the list page and endpoint).
# Each person column: may the user read that record.
ACCESS_TABLE = """
user                    list  hn_ordinary  gt_ordinary  hn_child  hn_trafficked  hn_shared
officer.hn              yes   yes          no           no        no             yes
officer.gt              yes   no           yes          no        no             no
caseworker.shared       yes   no           no           no        no             yes
caseworker.unshared     yes   no           no           no        no             no
consular.hn             yes   yes          no           no        no             yes
protection.hn           yes   yes          no           yes       yes            yes
analyst.hn              no    no           no           no        no             no
analyst.regional        no    no           no           no        no             no
admin                   no    no           no           no        no             no
employer.hn             no    no           no           no        no             no
"""


def _parse(table: str) -> dict[str, dict[str, bool]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    return {
        row[0]: dict(zip(header[1:], (cell == "yes" for cell in row[1:]), strict=True))
        for row in rows
    }


ACCESS = _parse(ACCESS_TABLE)
USERS = tuple(ACCESS)


@dataclass
class World:
    users: dict[str, User]
    persons: dict[str, Person]

    def visible_to(self, username: str) -> set[str]:
        return {str(self.persons[name].pk) for name in PERSONS if ACCESS[username][name]}


@pytest.fixture
def world(
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_person: Callable[..., Person],
    share_with: Callable[[Person, Organisation], None],
    civil_society: Organisation,
) -> World:
    other_civil_society = make_organisation(
        country="HN", kind=OrganisationType.CIVIL_SOCIETY, name="Casa Alianza"
    )
    protection_agency = make_organisation(country="HN", name="DINAF")
    users = {
        "officer.hn": make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN"),
        "officer.gt": make_user(username="officer.gt", role=Role.RECEPTION_OFFICER, country="GT"),
        "caseworker.shared": make_user(
            username="caseworker.shared", role=Role.CASEWORKER, organisation=civil_society
        ),
        "caseworker.unshared": make_user(
            username="caseworker.unshared", role=Role.CASEWORKER, organisation=other_civil_society
        ),
        "consular.hn": make_user(username="consular.hn", role=Role.CONSULAR_OFFICER, country="HN"),
        "protection.hn": make_user(
            username="protection.hn", role=Role.PROTECTION_OFFICER, organisation=protection_agency
        ),
        "analyst.hn": make_user(username="analyst.hn", role=Role.NATIONAL_ANALYST, country="HN"),
        "analyst.regional": make_user(
            username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None
        ),
        "admin": make_user(
            username="admin", role=Role.ADMINISTRATOR, country=None, is_superuser=True
        ),
        "employer.hn": make_user(
            username="employer.hn",
            role=Role.EMPLOYER,
            country="HN",
            organisation_kind=OrganisationType.PRIVATE_SECTOR,
        ),
    }
    persons = {
        "hn_ordinary": make_person(given_names="Ana Lucía", first_surname="Mejía"),
        "gt_ordinary": make_person(country="GT", given_names="Juan", first_surname="Xocop"),
        "hn_child": make_person(
            given_names="Kevin",
            first_surname="Alvarado",
            birth_year=2015,
            birth_month=None,
            birth_day=None,
        ),
        "hn_trafficked": make_person(
            given_names="Rosa", first_surname="Pineda", is_trafficking_victim=True
        ),
        "hn_shared": make_person(given_names="Carlos", first_surname="Zelaya"),
    }
    share_with(persons["hn_shared"], civil_society)
    assert persons["hn_child"].is_child
    return World(users=users, persons=persons)


def _audited(user: User, action: str, person: Person) -> int:
    return AuditEntry.objects.filter(
        actor=user, action=action, object_type=PERSON_OBJECT_TYPE, object_id=str(person.pk)
    ).count()


def test_the_table_covers_every_role() -> None:
    roles_in_world = {
        Role.RECEPTION_OFFICER,
        Role.CASEWORKER,
        Role.CONSULAR_OFFICER,
        Role.PROTECTION_OFFICER,
        Role.NATIONAL_ANALYST,
        Role.REGIONAL_ANALYST,
        Role.ADMINISTRATOR,
        Role.EMPLOYER,
    }
    assert roles_in_world == set(Role)


@pytest.mark.parametrize("username", USERS)
def test_api_list_returns_exactly_the_persons_the_role_may_see(
    world: World, username: str, signed_in: Callable[[User], Client]
) -> None:
    user = world.users[username]
    response = signed_in(user).get("/api/v1/people/", {"limit": 500})

    if not ACCESS[username]["list"]:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert AuditEntry.objects.filter(actor=user, action=AuditAction.DENIED).count() == 1
        return
    assert response.status_code == 200
    body = response.json()
    assert {item["id"] for item in body["items"]} == world.visible_to(username)
    assert body["count"] == len(world.visible_to(username))
    listing = AuditEntry.objects.get(actor=user, action=AuditAction.LIST)
    assert listing.details == {"count": len(world.visible_to(username)), "filters": []}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("username", USERS)
def test_page_list_shows_exactly_the_persons_the_role_may_see(
    world: World, username: str, method: str, signed_in: Callable[[User], Client]
) -> None:
    # GET is the first visit; POST an empty search (searches are posted, never in the URL).
    user = world.users[username]
    client = signed_in(user)
    response = client.get("/people/") if method == "get" else client.post("/people/", {})

    if not ACCESS[username]["list"]:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    shown = {str(person.pk) for person in world.persons.values() if str(person.pk) in html}
    assert shown == world.visible_to(username)
    listing = AuditEntry.objects.get(actor=user, action=AuditAction.LIST)
    assert listing.details == {"count": len(world.visible_to(username)), "filters": []}


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("person_name", PERSONS)
def test_api_detail_answers_the_record_or_404_and_audits_either(
    world: World, username: str, person_name: str, signed_in: Callable[[User], Client]
) -> None:
    user, person = world.users[username], world.persons[person_name]
    response = signed_in(user).get(f"/api/v1/people/{person.pk}")

    if ACCESS[username][person_name]:
        assert response.status_code == 200
        assert response.json()["id"] == str(person.pk)
        assert _audited(user, AuditAction.READ, person) == 1
        assert _audited(user, AuditAction.DENIED, person) == 0
    else:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == NotFoundError.code
        assert _audited(user, AuditAction.DENIED, person) == 1
        assert _audited(user, AuditAction.READ, person) == 0


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("person_name", PERSONS)
def test_page_detail_shows_the_record_or_refuses_and_audits_either(
    world: World, username: str, person_name: str, signed_in: Callable[[User], Client]
) -> None:
    user, person = world.users[username], world.persons[person_name]
    response = signed_in(user).get(f"/people/{person.pk}/")

    if ACCESS[username][person_name]:
        assert response.status_code == 200
        assert person.first_surname in response.content.decode()
        assert _audited(user, AuditAction.READ, person) == 1
    else:
        # Roles without access to personal data get the 403 page, which says nothing about
        # this record; everyone else gets 404, as for an id that does not exist.
        assert response.status_code == (404 if ACCESS[username]["list"] else 403)
        assert person.first_surname not in response.content.decode()
        assert _audited(user, AuditAction.DENIED, person) == 1
        assert _audited(user, AuditAction.READ, person) == 0


def test_officer_of_guatemala_asking_for_a_honduran_record_gets_404_and_is_audited(
    world: World, signed_in: Callable[[User], Client]
) -> None:
    officer, honduran = world.users["officer.gt"], world.persons["hn_ordinary"]

    response = signed_in(officer).get(f"/api/v1/people/{honduran.pk}", REMOTE_ADDR="198.51.100.20")

    assert response.status_code == 404
    entry = AuditEntry.objects.get(actor=officer, action=AuditAction.DENIED)
    assert entry.object_id == str(honduran.pk)
    assert (entry.ip_address, entry.channel) == ("198.51.100.20", "api")


def test_an_existing_out_of_scope_record_answers_like_a_missing_one(
    world: World, signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(world.users["officer.gt"])
    out_of_scope = client.get(f"/api/v1/people/{world.persons['hn_ordinary'].pk}")
    missing = client.get("/api/v1/people/00000000-0000-4000-8000-000000000000")

    assert (out_of_scope.status_code, out_of_scope.json()) == (missing.status_code, missing.json())


def test_anonymous_callers_are_asked_to_sign_in(world: World) -> None:
    person = world.persons["hn_ordinary"]
    client = Client()

    assert client.get("/api/v1/people/").status_code == 401
    assert client.get(f"/api/v1/people/{person.pk}").status_code == 401
    page = client.get(f"/people/{person.pk}/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")
    assert not AuditEntry.objects.filter(actor_username="(anonymous)", action=AuditAction.READ)
