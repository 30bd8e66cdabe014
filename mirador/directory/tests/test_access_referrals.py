"""Who sees which referral: the sending organisation and the provider's, only where the
person's record is readable (a child's needs the protection role); another country's
officer gets 404; the public directory needs no sign-in, the referral pages do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import NotFoundError
from mirador.directory.models import Referral
from mirador.directory.selectors import person_referrals, referral_get, referrals_list
from mirador.directory.tests.conftest import Directory
from mirador.people.models import Person, PersonShare
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db
Refer = Callable[..., Referral]
API = "/api/v1/directory"


@pytest.fixture
def referral(
    users: dict[str, User], directory: Directory, adult_arrival: Arrival, refer: Refer
) -> Referral:
    return refer(users["officer.hn"], adult_arrival, directory.training)


def test_officer_of_another_country_sees_none_of_hondurass_referrals_and_gets_404(
    users: dict[str, User],
    referral: Referral,
    client_for: Callable[[User], Client],
) -> None:
    officer_gt = users["officer.gt"]
    assert not referrals_list(user=officer_gt, box="sent").exists()
    assert not referrals_list(user=officer_gt, box="received").exists()
    with pytest.raises(NotFoundError):
        referral_get(user=officer_gt, referral_id=referral.pk)

    client = client_for(officer_gt)
    assert client.get(f"{API}/referrals/{referral.pk}").status_code == 404
    for action in ("accept", "cancel"):
        response = client.post(f"{API}/referrals/{referral.pk}/{action}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    page = client.get(reverse("directory:referrals"))
    assert page.status_code == 200
    assert referral.person.first_surname not in page.content.decode()
    assert client.get(reverse("returns:arrival", args=[referral.arrival_id])).status_code == 404
    answer = reverse("directory:referral_answer", args=[referral.pk, "accept"])
    assert client.post(answer).status_code == 404
    Referral.objects.get(pk=referral.pk, status="sent")


def test_provider_staff_see_only_referrals_to_their_organisation(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    referral: Referral,
    refer: Refer,
) -> None:
    to_infop = refer(users["officer.hn"], adult_arrival, directory.training_public)
    to_employment = refer(users["officer.hn"], adult_arrival, directory.employment)

    assert set(referrals_list(user=staff["caderh.hn"], box="received")) == {referral}
    assert set(referrals_list(user=staff["infop.hn"], box="received")) == {to_infop}
    assert not referrals_list(user=staff["caderh.hn"], box="sent").exists()
    assert set(referrals_list(user=users["officer.hn"], box="sent")) == {
        referral,
        to_infop,
        to_employment,
    }
    with pytest.raises(NotFoundError):
        referral_get(user=staff["caderh.hn"], referral_id=to_infop.pk)
    assert person_referrals(user=staff["caderh.hn"], person=adult_arrival.person) == [referral]


def test_a_childs_referral_is_only_for_protection_roles(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    child_arrival: Arrival,
    refer: Refer,
) -> None:
    protection = users["protection.hn"]
    referral = refer(protection, child_arrival, directory.training_public)

    assert set(referrals_list(user=protection, box="sent")) == {referral}
    # The reception officer and INFOP's caseworker may not read a child's record.
    with pytest.raises(NotFoundError):
        referral_get(user=users["officer.hn"], referral_id=referral.pk)
    assert not referrals_list(user=staff["infop.hn"], box="received").exists()
    with pytest.raises(NotFoundError):
        refer(users["officer.hn"], child_arrival, directory.training_public, arrival=None)


def test_roles_without_personal_data_see_no_referrals(
    users: dict[str, User], referral: Referral, client_for: Callable[[User], Client]
) -> None:
    for username in ("analyst.hn", "analyst.regional"):
        assert not referrals_list(user=users[username], box="sent").exists()
        client = client_for(users[username])
        assert client.get(reverse("directory:referrals")).status_code == 403
        assert client.get(f"{API}/referrals/{referral.pk}").status_code == 404
        assert client.get(f"{API}/referrals").json()["items"] == []


def test_the_public_directory_needs_no_sign_in_but_referrals_do(
    directory: Directory, referral: Referral
) -> None:
    anonymous = Client()
    assert anonymous.get(reverse("directory:index")).status_code == 200
    assert anonymous.get(f"{API}/services").status_code == 200
    assert anonymous.get(f"{API}/providers").status_code == 200
    assert anonymous.get(f"{API}/services/{directory.training.pk}").status_code == 200

    listing = anonymous.get(reverse("directory:referrals"))
    assert listing.status_code == 302
    assert reverse("accounts:login") in listing["Location"]
    assert anonymous.post(reverse("directory:refer", args=[referral.arrival_id])).status_code == 302
    assert anonymous.get(f"{API}/referrals").status_code == 401
    assert anonymous.get(f"{API}/referrals/{referral.pk}").status_code == 401
    assert anonymous.post(f"{API}/referrals/{referral.pk}/accept").status_code == 401
    assert anonymous.post(f"{API}/services", {}, content_type="application/json").status_code == 401


def test_the_arrival_section_shows_only_to_users_who_may_refer(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    child_arrival: Arrival,
    client_for: Callable[[User], Client],
) -> None:
    officer = client_for(users["officer.hn"])
    page = officer.get(reverse("returns:arrival", args=[adult_arrival.pk])).content.decode()
    assert 'id="referrals"' in page
    assert reverse("directory:refer", args=[adult_arrival.pk]) in page

    protection = client_for(users["protection.hn"])
    page = protection.get(reverse("returns:arrival", args=[child_arrival.pk])).content.decode()
    assert 'id="referrals"' in page
    # The officer cannot open the child's arrival, nor post a referral for it.
    refer_child = reverse("directory:refer", args=[child_arrival.pk])
    assert officer.post(refer_child, {"consent_to_share": "on"}).status_code == 404
    assert not Referral.objects.exists()


# Who reads an adult's referral sent by INM (officer.hn) to CADERH's training: the two ends
# only. INFOP's staff read Honduras's registry (a government organisation) but the referral
# is neither sent nor received by INFOP; DINAF (protection.hn) likewise.
REFERRAL_READERS = {
    "officer.hn": 200,
    "caderh.hn": 200,
    "infop.hn": 404,
    "protection.hn": 404,
    "caseworker.hn": 404,
    "officer.gt": 404,
    "analyst.hn": 404,
    "analyst.regional": 404,
}


@pytest.mark.parametrize(("username", "expected"), sorted(REFERRAL_READERS.items()))
def test_access_matrix_of_one_referral(
    username: str,
    expected: int,
    users: dict[str, User],
    staff: dict[str, User],
    referral: Referral,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for({**users, **staff}[username])
    assert client.get(f"{API}/referrals/{referral.pk}").status_code == expected
    listed = [
        item["id"]
        for box in ("sent", "received")
        for item in client.get(f"{API}/referrals", {"box": box}).json()["items"]
    ]
    assert listed == ([str(referral.pk)] if expected == 200 else [])


def test_a_caseworker_of_a_public_body_sees_only_the_records_shared_with_it(
    staff: dict[str, User], adult_arrival: Arrival
) -> None:
    """INFOP is a government body, but its caseworkers train people; they do not keep the
    registry, so they read a record only once it is shared with INFOP (by a referral)."""
    infop = staff["infop.hn"]
    person = adult_arrival.person
    assert infop.organisation is not None and infop.organisation.is_government
    assert not permissions.can_view_person(infop, person)
    assert not Person.objects.filter(permissions.persons_visible_filter(infop)).exists()
    PersonShare.objects.create(person=person, organisation=infop.organisation, reason="test")
    assert permissions.can_view_person(infop, person)
