"""Storing the demo region: the returnees of `people.demo` written as persons, in bulk.

Only `mirador demo` and tests call this: the records are synthetic, written in one transaction
with `bulk_create` (a few thousand persons take seconds, not minutes), and the load is recorded
in the audit log as one entry. Each person is kept in the registry of the country they returned
to, registered by that country's migration authority (children in Honduras by DINAF), with
identity documents, contact points, family links between those who came back together, consent,
and, for some Honduran adults, a share with the Pastoral de Movilidad Humana so that its
caseworkers have records to work on.

The return events themselves are not stored here: the returns app stores them.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mirador.core.audit import audit_record
from mirador.core.errors import ApplicationError
from mirador.core.models import AuditAction, Country, Organisation, Subdivision
from mirador.people import demo
from mirador.people.models import (
    Consent,
    ConsentPurpose,
    ContactKind,
    ContactPoint,
    DocumentKind,
    FamilyLink,
    IdentityDocument,
    Person,
    PersonShare,
    Relationship,
)
from mirador.people.selectors import PERSON_OBJECT_TYPE

if TYPE_CHECKING:
    from mirador.accounts.models import User

BATCH_SIZE = 2000

# Who registers the returnees of each country: (name, country) of core/data/organisations.csv.
REGISTERING_ORGANISATIONS = {
    "HN": ("Instituto Nacional de Migración", "HN"),
    "GT": ("Instituto Guatemalteco de Migración", "GT"),
    "SV": ("Dirección General de Migración y Extranjería", "SV"),
}
# Children received in Honduras are registered by its child-protection authority.
CHILD_REGISTERING_ORGANISATIONS = {"HN": ("Dirección de Niñez, Adolescencia y Familia", "HN")}
# Honduran adults shared with a civil-society organisation for reintegration follow-up.
SHARE_ORGANISATION = ("Pastoral de Movilidad Humana", "HN")
SHARE_COUNTRY = "HN"
SHARED_FOR_FOLLOW_UP_SHARE = 0.2
SHARE_REASON = "Reintegration follow-up"

TRAFFICKING_VICTIM_SHARE = 0.004
ADDRESS_SHARE = 0.5
CONSENT_SHARES = {ConsentPurpose.FOLLOW_UP_CONTACT: 0.85, ConsentPurpose.TRACING_MATCHING: 0.7}
NEIGHBOURHOODS = (
    "Barrio El Centro", "Colonia Kennedy", "Colonia San José", "Aldea San Antonio",
    "Barrio La Guadalupe", "Colonia Los Pinos", "Aldea El Rosario", "Caserío Las Flores",
    "Barrio San Francisco", "Colonia Altos de Miramontes", "Aldea Santa Cruz", "Cantón El Carmen",
)  # fmt: skip

REFERENCE_DATA_MISSING = _(
    "The reference data is missing ({missing}): run `mirador migrate`, which loads it, "
    "then try again."
)


class DemoReferenceDataMissingError(ApplicationError):
    code = "reference_data_missing"


@dataclass(frozen=True)
class DemoLoadResult:
    returns: int
    persons: int
    documents: int
    contacts: int
    family_links: int
    consents: int
    shares: int


def demo_region_is_loaded() -> bool:
    """The demo region goes only into a registry without persons, so synthetic records never
    mix with anyone's real ones; a registry with persons counts as loaded."""
    return Person.objects.exists()


def _organisation(
    found: dict[tuple[str, str | None], Organisation], key: tuple[str, str | None]
) -> Organisation:
    organisation = found.get(key)
    if organisation is None:
        raise DemoReferenceDataMissingError(
            str(REFERENCE_DATA_MISSING).format(missing=f"organisation {key[0]} ({key[1]})")
        )
    return organisation


def _organisations() -> dict[tuple[str, str | None], Organisation]:
    wanted = [
        *REGISTERING_ORGANISATIONS.values(),
        *CHILD_REGISTERING_ORGANISATIONS.values(),
        SHARE_ORGANISATION,
    ]
    rows = Organisation.objects.filter(name__in=[name for name, _country in wanted])
    return {(row.name, row.country_id): row for row in rows}


def _check_countries(codes: Iterable[str]) -> None:
    wanted = set(codes)
    present = set(Country.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - present:
        raise DemoReferenceDataMissingError(
            str(REFERENCE_DATA_MISSING).format(
                missing="countries " + ", ".join(sorted(wanted - present))
            )
        )


def _unique_persons(
    records: Sequence[demo.DemoReturnee],
) -> tuple[list[demo.DemoReturnee], dict[int, list[demo.DemoReturnee]]]:
    """The first return of each person, and the members of each family group."""
    first: dict[int, demo.DemoReturnee] = {}
    families: dict[int, list[demo.DemoReturnee]] = {}
    for record in records:
        first.setdefault(record.person.key, record)
        if record.family_group is not None:
            families.setdefault(record.family_group, []).append(record)
    return list(first.values()), families


@transaction.atomic
def demo_region_load(
    *,
    actor: User | None,
    size: int,
    seed: int = demo.DEFAULT_SEED,
    reference_date: datetime.date = demo.DEFAULT_REFERENCE_DATE,
) -> DemoLoadResult:
    """Generate `size` returns and store their persons. Does not check whether the region is
    already loaded: the caller asks `demo_region_is_loaded` first."""
    records = list(demo.generate_returnees(size, seed=seed, reference_date=reference_date))
    firsts, families = _unique_persons(records)
    _check_countries(
        {r.event.receiving_country for r in firsts} | {r.person.nationality for r in firsts}
    )
    organisations = _organisations()
    registering = {
        country: _organisation(organisations, key)
        for country, key in REGISTERING_ORGANISATIONS.items()
    }
    registering_children = {
        country: _organisation(organisations, key)
        for country, key in CHILD_REGISTERING_ORGANISATIONS.items()
    }
    share_with = _organisation(organisations, SHARE_ORGANISATION)
    subdivisions = set(
        Subdivision.objects.filter(code__in={r.person.subdivision for r in firsts}).values_list(
            "code", flat=True
        )
    )
    # Choices the generator does not make (flags, consent, addresses) come from their own
    # random stream, so they too repeat with the seed.
    rand = random.Random(f"demo-load-{seed}").random
    audit = {"created_by": actor, "modified_by": actor}

    persons: dict[int, Person] = {}
    documents: list[IdentityDocument] = []
    contacts: list[ContactPoint] = []
    consents: list[Consent] = []
    shares: list[PersonShare] = []
    seen_documents: set[tuple[str, str, str]] = set()
    for record in firsts:
        generated = record.person
        country = record.event.receiving_country
        organisation = (
            registering_children.get(country, registering[country])
            if generated.is_child
            else registering[country]
        )
        person = Person(
            country_id=country,
            registered_by_organisation=organisation,
            given_names=generated.given_names,
            first_surname=generated.first_surname,
            second_surname=generated.second_surname,
            birth_year=generated.birth_year,
            birth_month=generated.birth_month,
            birth_day=generated.birth_day,
            sex=generated.sex,
            nationality_id=generated.nationality,
            is_child=generated.is_child,
            is_trafficking_victim=rand() < TRAFFICKING_VICTIM_SHARE,
            **audit,
        )
        persons[generated.key] = person
        for kind, number in (
            (DocumentKind.NATIONAL_ID, generated.national_id),
            (DocumentKind.PASSPORT, generated.passport),
        ):
            identity = (str(kind), generated.nationality, number)
            if number and identity not in seen_documents:
                seen_documents.add(identity)
                documents.append(
                    IdentityDocument(
                        person=person,
                        kind=kind,
                        number=number,
                        issuing_country_id=generated.nationality,
                        **audit,
                    )
                )
        if generated.phone:
            contacts.append(
                ContactPoint(person=person, kind=ContactKind.PHONE, value=generated.phone, **audit)
            )
        if not generated.is_child and rand() < ADDRESS_SHARE:
            contacts.append(
                ContactPoint(
                    person=person,
                    kind=ContactKind.ADDRESS,
                    value=NEIGHBOURHOODS[int(rand() * len(NEIGHBOURHOODS))],
                    subdivision_id=(
                        generated.subdivision if generated.subdivision in subdivisions else None
                    ),
                    **audit,
                )
            )
        for purpose, share in CONSENT_SHARES.items():
            consents.append(
                Consent(person=person, purpose=purpose, granted=rand() < share, **audit)
            )
        if (
            country == SHARE_COUNTRY
            and not person.is_sensitive
            and rand() < SHARED_FOR_FOLLOW_UP_SHARE
        ):
            shares.append(
                PersonShare(person=person, organisation=share_with, reason=SHARE_REASON, **audit)
            )

    links: list[FamilyLink] = []
    for members in families.values():
        parents = [persons[m.person.key] for m in members if m.family_role == demo.PARENT]
        children = [persons[m.person.key] for m in members if m.family_role == demo.CHILD]
        # One row per pair (people.models.FamilyLink).
        for parent in parents:
            for child in children:
                links.append(
                    FamilyLink(
                        person=parent, relative=child, relationship=Relationship.PARENT, **audit
                    )
                )
        for first, second in combinations(parents, 2):
            links.append(
                FamilyLink(person=first, relative=second, relationship=Relationship.SPOUSE, **audit)
            )
        for first, second in combinations(children, 2):
            links.append(
                FamilyLink(
                    person=first, relative=second, relationship=Relationship.SIBLING, **audit
                )
            )

    Person.objects.bulk_create(persons.values(), batch_size=BATCH_SIZE)
    IdentityDocument.objects.bulk_create(documents, batch_size=BATCH_SIZE)
    ContactPoint.objects.bulk_create(contacts, batch_size=BATCH_SIZE)
    FamilyLink.objects.bulk_create(links, batch_size=BATCH_SIZE)
    Consent.objects.bulk_create(consents, batch_size=BATCH_SIZE)
    PersonShare.objects.bulk_create(shares, batch_size=BATCH_SIZE)
    result = DemoLoadResult(
        returns=len(records),
        persons=len(persons),
        documents=len(documents),
        contacts=len(contacts),
        family_links=len(links),
        consents=len(consents),
        shares=len(shares),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=PERSON_OBJECT_TYPE,
        reason="Demo region loaded (synthetic persons)",
        details={"demo_region": True, "seed": seed, "persons": result.persons},
    )
    return result
