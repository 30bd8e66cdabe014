"""The one place that decides who may see and do what.

Every view, API endpoint, export and admin page asks these functions; none makes its own rule.

The rules (DESIGN.md, "People's data"):
- Personal data is read only by the case roles (reception, caseworker, consular, protection).
- A person's record is visible to government officials of the record's country, and to the
  organisations it was explicitly shared with; to nobody else.
- Records flagged child or trafficking victim need the protection role as well.
- Analysts (regional and national), administrators and employers see aggregates or reference
  data, never persons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from mirador.accounts.models import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from mirador.accounts.models import User
    from mirador.core.models import Country
    from mirador.people.models import Person

    AnyUser = User | AnonymousUser

PERSONAL_DATA_ROLES: frozenset[str] = frozenset(
    {Role.RECEPTION_OFFICER, Role.CASEWORKER, Role.CONSULAR_OFFICER, Role.PROTECTION_OFFICER}
)
PROTECTION_ROLES: frozenset[str] = frozenset({Role.PROTECTION_OFFICER})
# Roles that register new persons in their country's registry.
REGISTERING_ROLES: frozenset[str] = frozenset(
    {Role.RECEPTION_OFFICER, Role.CONSULAR_OFFICER, Role.PROTECTION_OFFICER}
)
AGGREGATE_ROLES: frozenset[str] = frozenset(set(Role) - {Role.EMPLOYER})
# Who traces missing migrants: a person reported missing (linkage.MissingPersonReport), whose
# identity is what a family told a consulate, and unidentified persons (remains, someone at a
# shelter who cannot say who they are) are for these roles only, like children's records
# are for protection officers.
TRACING_ROLES: frozenset[str] = frozenset({Role.CONSULAR_OFFICER, Role.PROTECTION_OFFICER})
# Administrators hold no personal data but manage the accounts that do, so they need a second
# factor as much as the case roles.
TWO_FACTOR_ROLES: frozenset[str] = PERSONAL_DATA_ROLES | {Role.ADMINISTRATOR}


def active_user(user: AnyUser | None) -> User | None:
    """The signed-in, active user, or None for anonymous and deactivated ones."""
    from mirador.accounts.models import User

    if isinstance(user, User) and user.is_active:
        return user
    return None


def case_user(user: AnyUser | None) -> User | None:
    """The user if their role reads personal data and they are scoped to a country."""
    member = active_user(user)
    if member is None or member.role not in PERSONAL_DATA_ROLES or member.country_id is None:
        return None
    return member


def can_read_personal_data(user: AnyUser | None) -> bool:
    return case_user(user) is not None


def can_read_sensitive_records(user: AnyUser | None) -> bool:
    member = case_user(user)
    return member is not None and member.role in PROTECTION_ROLES


def _sees_whole_country(user: User) -> bool:
    # The government officials who keep the country's registry (reception, consular and
    # protection officers of a government body) see it whole; everyone else, caseworkers of
    # public bodies included (a public training institute that receives referrals), only what
    # was shared with their organisation.
    return (
        user.role in REGISTERING_ROLES
        and user.organisation is not None
        and user.organisation.is_government
    )


def persons_visible_filter(user: AnyUser | None, *, prefix: str = "") -> Q:
    """A filter on Person selecting exactly the records `user` may read. With `prefix` (e.g.
    "person__"), the same filter on a model that points to Person."""
    member = case_user(user)
    if member is None:
        return Q(pk__in=[])
    scope = Q(pk__in=[])
    if _sees_whole_country(member):
        scope |= Q(**{f"{prefix}country_id": member.country_id})
    if member.organisation_id is not None:
        scope |= Q(**{f"{prefix}shares__organisation_id": member.organisation_id})
    if not can_read_sensitive_records(member):
        scope &= Q(**{f"{prefix}is_child": False, f"{prefix}is_trafficking_victim": False})
    if member.role not in TRACING_ROLES:
        scope &= Q(**{f"{prefix}missing_person_report__isnull": True})
    return scope


def is_reported_missing(person: Person) -> bool:
    """The record is the subject of a missing-person report (one query per record instance,
    whose answer Django keeps on the instance)."""
    return hasattr(person, "missing_person_report")


def can_view_person(user: AnyUser | None, person: Person) -> bool:
    member = case_user(user)
    if member is None:
        return False
    if person.is_sensitive and not can_read_sensitive_records(member):
        return False
    if member.role not in TRACING_ROLES and is_reported_missing(person):
        return False
    if _sees_whole_country(member) and person.country_id == member.country_id:
        return True
    return (
        member.organisation_id is not None
        and person.shares.filter(organisation_id=member.organisation_id).exists()
    )


def can_register_person(user: AnyUser | None, country: Country) -> bool:
    member = case_user(user)
    return (
        member is not None
        and member.role in REGISTERING_ROLES
        and member.country_id == country.pk
        and _sees_whole_country(member)
    )


def can_change_person(user: AnyUser | None, person: Person) -> bool:
    member = case_user(user)
    return member is not None and member.role != Role.CASEWORKER and can_view_person(member, person)


def can_share_person(user: AnyUser | None, person: Person) -> bool:
    return can_change_person(user, person)


# Deleting a record is for the officials who keep the country's registry, not for caseworkers.
DELETING_ROLES: frozenset[str] = frozenset({Role.RECEPTION_OFFICER, Role.PROTECTION_OFFICER})


def can_delete_person(user: AnyUser | None, person: Person) -> bool:
    member = case_user(user)
    return (
        member is not None
        and member.role in DELETING_ROLES
        and _sees_whole_country(member)
        and member.country_id == person.country_id
        and can_view_person(member, person)
    )


def can_record_consent(user: AnyUser | None, person: Person) -> bool:
    """Whoever works with the person (a caseworker included) records what they consented to."""
    return can_view_person(user, person)


def can_view_aggregates(user: AnyUser | None) -> bool:
    member = active_user(user)
    return member is not None and (member.is_superuser or member.role in AGGREGATE_ROLES)


def is_administrator(user: AnyUser | None) -> bool:
    member = active_user(user)
    return member is not None and (member.is_superuser or member.role == Role.ADMINISTRATOR)


def can_view_audit_log(user: AnyUser | None) -> bool:
    return is_administrator(user)


def can_use_admin(user: AnyUser | None) -> bool:
    """The Django admin holds reference data only (countries, centres, organisations)."""
    member = active_user(user)
    return member is not None and member.is_staff and is_administrator(member)


def requires_two_factor(user: AnyUser | None) -> bool:
    member = active_user(user)
    if member is None or not settings.MIRADOR_REQUIRE_TWO_FACTOR:
        return False
    return member.is_superuser or member.role in TWO_FACTOR_ROLES


def can_import_figures(user: AnyUser | None) -> bool:
    """Who may upload statistical files (flows imports), on the page and through the API.

    National analysts, for their own country only (they must have one); regional analysts,
    whose work is the region's figures, including those the United States and Mexico
    publish, for any country; administrators and superusers for any country. Case roles and
    employers import nothing: their work is persons, not published figures."""
    member = active_user(user)
    if member is None:
        return False
    if member.is_superuser or member.role in (Role.ADMINISTRATOR, Role.REGIONAL_ANALYST):
        return True
    return member.role == Role.NATIONAL_ANALYST and member.country_id is not None


def import_countries(user: AnyUser | None) -> frozenset[str] | None:
    """The reporting countries whose figures `user` may import: None for any country, an
    empty set for none. A batch holding any other reporting country is refused whole."""
    member = active_user(user)
    if member is None or not can_import_figures(member):
        return frozenset()
    if member.is_superuser or member.role != Role.NATIONAL_ANALYST:
        return None
    return frozenset({str(member.country_id)})


def can_roll_back_batch(user: AnyUser | None, reporting_countries: set[str]) -> bool:
    """Who may take back an imported batch of figures reported by `reporting_countries`:
    whoever may import every one of them (administrators and regional analysts any batch, a
    national analyst only batches of their own country's figures). A batch without a
    reporting country (international sources) is for those who may import any country."""
    member = active_user(user)
    if member is None or not can_import_figures(member):
        return False
    scope = import_countries(member)
    if scope is None:
        return True
    return bool(reporting_countries) and reporting_countries <= scope


def can_see_import(user: AnyUser | None, owner_id: str) -> bool:
    """An upload and its report are seen by whoever uploaded it, and by administrators."""
    member = active_user(user)
    return (
        member is not None
        and can_import_figures(member)
        and (str(member.pk) == owner_id or is_administrator(member))
    )


def can_generate_bulletins(user: AnyUser | None) -> bool:
    """Who may have the observatory's monthly bulletin generated (a new edition of a month,
    published at once on the public portal): administrators and regional analysts, whose
    work is the region's figures. Reading the published bulletins is public."""
    member = active_user(user)
    return member is not None and (is_administrator(member) or member.role == Role.REGIONAL_ANALYST)


# --- Return and reception (mirador.returns) -----------------------------------------------
#
# A reception centre is worked by the government reception and protection officers of its
# country: they read its manifests, register arrivals and record assistance. An arrival is a
# person's record too, so it follows the person's rules (a child's arrival needs the
# protection role). Capacity and intake figures hold no persons: analysts and
# administrators see them as aggregates, national analysts for their own country.

RECEPTION_WORK_ROLES: frozenset[str] = frozenset({Role.RECEPTION_OFFICER, Role.PROTECTION_OFFICER})


def _reception_worker(user: AnyUser | None) -> User | None:
    member = case_user(user)
    if member is None or member.role not in RECEPTION_WORK_ROLES:
        return None
    if not _sees_whole_country(member):
        return None
    return member


def centres_worked_filter(user: AnyUser | None) -> Q:
    """A filter on ReceptionCentre selecting the centres `user` works at."""
    member = _reception_worker(user)
    if member is None:
        return Q(pk__in=[])
    return Q(country_id=member.country_id)


def can_do_reception_work(user: AnyUser | None) -> bool:
    """Works at reception centres at all (the navigation's "Reception" link)."""
    return _reception_worker(user) is not None


def can_work_at_centre(user: AnyUser | None, centre_country_id: str) -> bool:
    """May read the centre's manifests, register arrivals there and record assistance."""
    member = _reception_worker(user)
    return member is not None and member.country_id == centre_country_id


def arrivals_visible_filter(user: AnyUser | None) -> Q:
    """A filter on returns.Arrival: arrivals at centres `user` works at, whose person `user`
    may read (government officials see their whole country's registry)."""
    member = _reception_worker(user)
    if member is None:
        return Q(pk__in=[])
    scope = Q(centre__country_id=member.country_id, person__country_id=member.country_id)
    if not can_read_sensitive_records(member):
        scope &= Q(person__is_child=False, person__is_trafficking_victim=False)
    return scope


def can_view_centre_figures(user: AnyUser | None, centre_country_id: str) -> bool:
    """Capacity and intake figures of a centre: aggregates, no persons."""
    member = active_user(user)
    if member is None:
        return False
    if can_work_at_centre(member, centre_country_id):
        return True
    if member.is_superuser or member.role in (Role.ADMINISTRATOR, Role.REGIONAL_ANALYST):
        return True
    return member.role == Role.NATIONAL_ANALYST and member.country_id == centre_country_id


def can_view_protection_alerts(user: AnyUser | None, country_id: str) -> bool:
    """Protection alerts (an unaccompanied child, a trafficking victim) go to the protection
    officers of the country, and to nobody else."""
    member = _reception_worker(user)
    return (
        member is not None and member.role in PROTECTION_ROLES and member.country_id == country_id
    )


# --- Screening (mirador.screening) ----------------------------------------------------------
#
# Screening happens at the centre, right after registration, by whoever may work there on
# that person. Its answers are the person's data; a flag about a child or about trafficking
# indicators is for the protection role only, like the records themselves.


def can_screen_arrival(user: AnyUser | None, *, centre_country_id: str, person: Person) -> bool:
    """May answer the screening questions of an arrival and act on its flags."""
    return can_work_at_centre(user, centre_country_id) and can_view_person(user, person)


def screening_flags_visible_filter(user: AnyUser | None) -> Q:
    """A filter on screening.RiskFlag (which has `arrival` and `is_restricted`): flags of
    arrivals `user` may see; restricted flags (children, trafficking) for protection roles."""
    member = _reception_worker(user)
    if member is None:
        return Q(pk__in=[])
    scope = Q(
        arrival__centre__country_id=member.country_id,
        arrival__person__country_id=member.country_id,
    )
    if not can_read_sensitive_records(member):
        scope &= Q(
            is_restricted=False,
            arrival__person__is_child=False,
            arrival__person__is_trafficking_victim=False,
        )
    return scope


# --- Identity documents (mirador.documents) ------------------------------------------------
#
# Requests for identity documents are kept by the government officials who register persons
# (reception, consular and protection officers of the person's country); caseworkers of
# organisations the person was shared with follow them (read only).


def can_request_identity_document(user: AnyUser | None, person: Person) -> bool:
    """May record that a person needs a document, and that it was requested, issued or
    delivered."""
    member = case_user(user)
    return (
        member is not None
        and member.role in REGISTERING_ROLES
        and _sees_whole_country(member)
        and member.country_id == person.country_id
        and can_view_person(member, person)
    )


def document_requests_visible_filter(user: AnyUser | None) -> Q:
    """A filter on documents.DocumentRequest (which has `person`)."""
    return persons_visible_filter(user, prefix="person__")


# --- Services directory and referrals (mirador.directory) ----------------------------------
#
# The directory is public. Administrators keep any provider's entry; a provider's own staff
# (users of the provider's organisation) keep theirs. A referral sends a person's case to a
# service: the case roles who may read the person refer; the provider's staff accept, decline
# or complete it. Referrals are read by the referring organisation and the provider's
# organisation, and only where the person's record is readable by the user (a child's
# referral needs the protection role, as the child's record does).


def can_edit_provider(user: AnyUser | None, provider_organisation_id: object | None) -> bool:
    member = active_user(user)
    if member is None:
        return False
    if is_administrator(member):
        return True
    return (
        provider_organisation_id is not None
        and member.role in PERSONAL_DATA_ROLES
        and member.organisation_id == provider_organisation_id
    )


def can_refer_person(user: AnyUser | None, person: Person) -> bool:
    return can_view_person(user, person)


def can_share_for_referral(user: AnyUser | None, person: Person) -> bool:
    """Sharing a person's record with the provider they are referred to, with their consent
    to the referral: whoever may refer them, caseworkers included, since taking a person to
    the services they need is a caseworker's work. Other sharing is can_share_person's."""
    return can_refer_person(user, person)


def referrals_visible_filter(user: AnyUser | None) -> Q:
    """A filter on directory.Referral (which has `person`, `sender_organisation` and
    `service__provider__organisation`)."""
    member = case_user(user)
    if member is None or member.organisation_id is None:
        return Q(pk__in=[])
    ends = Q(sender_organisation_id=member.organisation_id) | Q(
        service__provider__organisation_id=member.organisation_id
    )
    return ends & persons_visible_filter(member, prefix="person__")


def can_answer_referral(user: AnyUser | None, provider_organisation_id: object | None) -> bool:
    """May accept, decline or complete a referral made to the provider."""
    member = case_user(user)
    return (
        member is not None
        and provider_organisation_id is not None
        and member.organisation_id == provider_organisation_id
    )


# --- Record linkage (mirador.linkage) ------------------------------------------------------
#
# A linkage run reads whole files of person records and writes which of them are the same
# person: an operator's task, for administrators only until the review queue gives case
# roles their own, scoped way in.


def can_run_linkage(user: AnyUser | None) -> bool:
    """May start linkage runs on uploaded files, follow them and download their results,
    and save linkage models."""
    return is_administrator(user)


# --- Identification: review queue, missing and unidentified persons (mirador.linkage) ------
#
# Whether two records are one person is decided by the government officials who keep the
# country's registry (reception, consular and protection officers), each only on pairs whose
# two records they may read: a child's pair needs the protection role, a pair with a person
# reported missing or an unidentified person a tracing role. Missing-person reports are
# filed and followed by the tracing roles of the missing person's country.


def can_review_linkage(user: AnyUser | None) -> bool:
    """May open the review queue and accept or reject the pairs it shows them."""
    member = case_user(user)
    return member is not None and member.role in REGISTERING_ROLES and _sees_whole_country(member)


def can_trace_missing_persons(user: AnyUser | None) -> bool:
    """May file missing-person reports and records of unidentified persons, and read them."""
    member = case_user(user)
    return member is not None and member.role in TRACING_ROLES and _sees_whole_country(member)


def unidentified_visible_filter(user: AnyUser | None, *, prefix: str = "") -> Q:
    """A filter on linkage.UnidentifiedPerson (or, with `prefix`, a model pointing to it)."""
    member = case_user(user)
    if member is None or not can_trace_missing_persons(member):
        return Q(pk__in=[])
    scope = Q(**{f"{prefix}country_id": member.country_id})
    if not can_read_sensitive_records(member):
        scope &= Q(**{f"{prefix}is_child": False})
    return scope


def review_pairs_visible_filter(user: AnyUser | None) -> Q:
    """A filter on linkage.ReviewPair: pairs both of whose records `user` may read."""
    if not can_review_linkage(user):
        return Q(pk__in=[])
    sides = []
    for side in ("left", "right"):
        person = Q(**{f"{side}_person__isnull": False}) & persons_visible_filter(
            user, prefix=f"{side}_person__"
        )
        unidentified = Q(**{f"{side}_unidentified__isnull": False}) & unidentified_visible_filter(
            user, prefix=f"{side}_unidentified__"
        )
        sides.append(person | unidentified)
    return sides[0] & sides[1]
