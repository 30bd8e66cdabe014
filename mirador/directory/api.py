"""API of services directory and referrals, mounted at /api/v1/directory/.

The directory (providers, services) is read without authentication; writing it needs
`accounts.permissions.can_edit_provider`. Referrals are personal data: every endpoint goes
through directory.selectors and directory.services, which ask accounts.permissions and audit.
A referral outside the caller's scope answers 404, exactly like one that does not exist.
"""

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mirador.accounts.auth import request_user
from mirador.core.errors import NotFoundError, ValidationFailedError
from mirador.core.models import Country, Organisation
from mirador.directory import selectors, services
from mirador.directory.models import Provider, Referral, Service
from mirador.directory.schemas import (
    ProviderCreateIn,
    ProviderFilterIn,
    ProviderOut,
    ProviderUpdateIn,
    ReferralCompleteIn,
    ReferralCountsOut,
    ReferralCreateIn,
    ReferralDeclineIn,
    ReferralFilterIn,
    ReferralOut,
    ServiceCreateIn,
    ServiceFilterIn,
    ServiceOut,
    ServiceUpdateIn,
)
from mirador.people.selectors import person_get_for_change
from mirador.returns.selectors import arrival_get

router = Router(tags=["directory"])


def _country(code: str) -> Country:
    country = Country.objects.filter(pk=code.upper()).first()
    if country is None:
        raise ValidationFailedError(details={"fields": {"country": ["Unknown country code."]}})
    return country


def _organisation(organisation_id: uuid.UUID | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise ValidationFailedError(
            details={"fields": {"organisation_id": ["Unknown organisation."]}}
        )
    return organisation


# --- the public directory ---------------------------------------------------------------------


@router.get(
    "/providers", auth=None, response=list[ProviderOut], summary="Service providers (public)"
)
@paginate(LimitOffsetPagination)
def provider_list(request: HttpRequest, filters: Query[ProviderFilterIn]) -> QuerySet[Provider]:
    """Active providers by country and name; no sign-in needed."""
    return selectors.directory_providers(
        country=filters.country,
        sector=filters.sector.value if filters.sector else None,
        text=filters.q,
    )


@router.get(
    "/providers/{provider_id}", auth=None, response=ProviderOut, summary="One provider (public)"
)
def provider_detail(request: HttpRequest, provider_id: uuid.UUID) -> Provider:
    return selectors.provider_get(provider_id=provider_id)


@router.get("/services", auth=None, response=list[ServiceOut], summary="Services (public)")
@paginate(LimitOffsetPagination)
def service_list(request: HttpRequest, filters: Query[ServiceFilterIn]) -> QuerySet[Service]:
    """Active services of active providers. `subdivision` keeps the services covering that
    department: those listing it, and those covering the whole country (listing none)."""
    return selectors.directory_services(
        category=filters.category.value if filters.category else None,
        country=filters.country,
        subdivision=filters.subdivision,
        language=filters.language,
        text=filters.q,
        provider_id=filters.provider,
    )


@router.get(
    "/services/{service_id}", auth=None, response=ServiceOut, summary="One service (public)"
)
def service_detail(request: HttpRequest, service_id: uuid.UUID) -> Service:
    return selectors.service_get(service_id=service_id)


# --- keeping the directory --------------------------------------------------------------------


@router.post("/providers", response={201: ProviderOut}, summary="Add a provider")
def provider_create(request: HttpRequest, payload: ProviderCreateIn) -> Status[Provider]:
    """Administrators add any provider; a provider's own staff, one answered by their
    organisation."""
    data = payload.dict(exclude={"country", "organisation_id", "name", "sector"})
    provider = services.provider_create(
        actor=request_user(request),
        name=payload.name,
        sector=payload.sector.value,
        country=_country(payload.country),
        organisation=_organisation(payload.organisation_id),
        **data,
    )
    return Status(201, provider)


def _provider_for_change(provider_id: uuid.UUID) -> Provider:
    return selectors.provider_get(provider_id=provider_id, active_only=False)


@router.patch("/providers/{provider_id}", response=ProviderOut, summary="Change a provider")
def provider_update(
    request: HttpRequest, provider_id: uuid.UUID, payload: ProviderUpdateIn
) -> Provider:
    fields: dict[str, Any] = payload.dict(exclude_unset=True)
    if "organisation_id" in fields:
        fields["organisation"] = _organisation(fields.pop("organisation_id"))
    if "sector" in fields and fields["sector"] is not None:
        fields["sector"] = str(fields["sector"].value)
    return services.provider_update(
        actor=request_user(request), provider=_provider_for_change(provider_id), **fields
    )


@router.post("/services", response={201: ServiceOut}, summary="Add a service")
def service_create(request: HttpRequest, payload: ServiceCreateIn) -> Status[Service]:
    provider = _provider_for_change(payload.provider_id)
    data = payload.dict(exclude={"provider_id", "category", "subdivisions", "languages"})
    service = services.service_create(
        actor=request_user(request),
        provider=provider,
        category=payload.category.value,
        subdivisions=services.subdivisions_from_codes(
            country_id=provider.country_id, codes=payload.subdivisions
        ),
        languages=payload.languages,
        **data,
    )
    return Status(201, selectors.service_get(service_id=service.pk, active_only=False))


@router.patch("/services/{service_id}", response=ServiceOut, summary="Change a service")
def service_update(
    request: HttpRequest, service_id: uuid.UUID, payload: ServiceUpdateIn
) -> Service:
    service = selectors.service_get(service_id=service_id, active_only=False)
    fields: dict[str, Any] = payload.dict(exclude_unset=True)
    if fields.get("subdivisions") is not None:
        fields["subdivisions"] = services.subdivisions_from_codes(
            country_id=service.provider.country_id, codes=fields["subdivisions"]
        )
    if "category" in fields and fields["category"] is not None:
        fields["category"] = str(fields["category"].value)
    fields = {name: value for name, value in fields.items() if value is not None}
    services.service_update(actor=request_user(request), service=service, **fields)
    return selectors.service_get(service_id=service.pk, active_only=False)


# --- referrals --------------------------------------------------------------------------------


@router.post("/referrals", response={200: ReferralOut, 201: ReferralOut}, summary="Refer a person")
def referral_create(request: HttpRequest, payload: ReferralCreateIn) -> Status[Referral]:
    """Refer a person you may read to a service, with the person's consent to share their
    record with the provider (required). The record is shared with the provider's
    organisation. Sending the same referral again while it is open answers 200 with the open
    one instead of creating a second (201)."""
    user = request_user(request)
    person = person_get_for_change(user=user, person_id=payload.person_id, reason="referral")
    arrival = (
        arrival_get(user=user, arrival_id=payload.arrival_id, audit=False)
        if payload.arrival_id
        else None
    )
    service = selectors.service_get(service_id=payload.service_id)
    before = set(
        Referral.objects.filter(person=person, service=service).values_list("pk", flat=True)
    )
    referral = services.referral_create(
        actor=user,
        person=person,
        service=service,
        arrival=arrival,
        due_date=payload.due_date,
        note=payload.note,
        consent_to_share=payload.consent_to_share,
    )
    return Status(
        200 if referral.pk in before else 201,
        selectors.referral_get(user=user, referral_id=referral.pk),
    )


@router.get("/referrals", response=list[ReferralOut], summary="Referrals sent or received")
@paginate(LimitOffsetPagination)
def referral_list(request: HttpRequest, filters: Query[ReferralFilterIn]) -> QuerySet[Referral]:
    """`box=sent`: referrals your organisation sent; `box=received`: made to its services.
    `overdue=true`: only those past their due date and still sent or accepted. Referrals of
    persons you may not read are left out. Audited as a listing."""
    return selectors.referrals_list(
        user=request_user(request),
        box=filters.box,
        overdue=filters.overdue,
        status=filters.status.value if filters.status else None,
    )


@router.get("/referrals/counts", response=ReferralCountsOut, summary="Open and overdue referrals")
def referral_counts(request: HttpRequest) -> selectors.ReferralCounts:
    return selectors.referral_counts(user=request_user(request))


@router.get("/referrals/{referral_id}", response=ReferralOut, summary="One referral")
def referral_detail(request: HttpRequest, referral_id: uuid.UUID) -> Referral:
    return selectors.referral_get(user=request_user(request), referral_id=referral_id)


def _answered(request: HttpRequest, referral_id: uuid.UUID) -> tuple[Any, Referral]:
    user = request_user(request)
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None:
        # The service audits refusals of existing referrals; a missing one is audited here.
        selectors.referral_get(user=user, referral_id=referral_id)
        raise NotFoundError()
    return user, referral


@router.post("/referrals/{referral_id}/accept", response=ReferralOut, summary="Accept")
def referral_accept(request: HttpRequest, referral_id: uuid.UUID) -> Referral:
    """The provider's staff take the referral on."""
    user, referral = _answered(request, referral_id)
    services.referral_accept(actor=user, referral=referral)
    return selectors.referral_get(user=user, referral_id=referral_id)


@router.post("/referrals/{referral_id}/decline", response=ReferralOut, summary="Decline")
def referral_decline(
    request: HttpRequest, referral_id: uuid.UUID, payload: ReferralDeclineIn
) -> Referral:
    """The provider's staff cannot take the person on, and say why."""
    user, referral = _answered(request, referral_id)
    services.referral_decline(actor=user, referral=referral, reason=payload.reason)
    return selectors.referral_get(user=user, referral_id=referral_id)


@router.post("/referrals/{referral_id}/complete", response=ReferralOut, summary="Complete")
def referral_complete(
    request: HttpRequest, referral_id: uuid.UUID, payload: ReferralCompleteIn | None = None
) -> Referral:
    """The service was given."""
    user, referral = _answered(request, referral_id)
    services.referral_complete(actor=user, referral=referral, note=payload.note if payload else "")
    return selectors.referral_get(user=user, referral_id=referral_id)


@router.post("/referrals/{referral_id}/cancel", response=ReferralOut, summary="Cancel")
def referral_cancel(request: HttpRequest, referral_id: uuid.UUID) -> Referral:
    """The sender's organisation withdraws an open referral."""
    user, referral = _answered(request, referral_id)
    services.referral_cancel(actor=user, referral=referral)
    return selectors.referral_get(user=user, referral_id=referral_id)
