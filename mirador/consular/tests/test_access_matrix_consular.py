"""Who reads which consular case, through the selectors, the API and the pages alike: the
consular and protection officers of the consulates' country; a child's case only the
protection officers; nobody of another country, and no other role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mirador.consular import selectors
from mirador.consular.tests.conftest import Consular
from mirador.linkage.tests.identification import signed_in

pytestmark = pytest.mark.django_db

# (user, reads an adult's case, reads a child's case); status codes follow: a role that works
# no cases gets 403, a case out of a case worker's scope 404.
MATRIX = [
    ("consular.hn", True, False),
    ("protection.hn", True, True),
    ("officer.hn", False, False),
    ("caseworker.hn", False, False),
    ("analyst.hn", False, False),
    ("admin", False, False),
    ("consular.gt", False, False),
    ("protection.gt", False, False),
]


@pytest.mark.parametrize(("who", "adult", "child"), MATRIX)
def test_access_matrix_of_a_case(consular: Consular, who: str, adult: bool, child: bool) -> None:
    adult_case = consular.open()
    child_case = consular.open(case_type="unaccompanied-child")
    user = consular.users[who]
    client = signed_in(user)
    works = selectors.can_work_cases(user)

    for case, allowed in ((adult_case, adult), (child_case, child)):
        assert selectors.cases_visible_to(user=user).filter(pk=case.pk).exists() == allowed
        expected = 200 if allowed else (404 if works else 403)
        assert client.get(f"/api/v1/consular/cases/{case.pk}").status_code == expected
        page = client.get(reverse("consular:case", args=[case.pk]))
        assert page.status_code == expected
