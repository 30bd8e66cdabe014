"""Reception centre pages: the centres one works at, a centre's day (capacity warning,
expected passengers, arrivals), registering an arrival, and the arrival with the assistance
given on the spot.

A centre abroad, or a passenger or arrival the user may not read, answers 404 like one that
does not exist. A centre's pages show and read times in the centre's own time zone, and its
days are its calendar days there. Every read and write goes through returns.selectors and
returns.services, which check the permission rules and audit.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mirador.accounts.models import User
from mirador.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from mirador.core.models import ReceptionCentre
from mirador.people.models import ContactKind
from mirador.people.selectors import person_get
from mirador.people.services import ContactData, DocumentData
from mirador.returns import selectors, services
from mirador.returns.forms import (
    ArrivalCompletionForm,
    ArrivalForm,
    AssistanceForm,
    ContingencyForm,
    ManifestUploadForm,
)
from mirador.returns.matching import Identity
from mirador.returns.models import Arrival, AssistanceKind, ManifestPassenger
from mirador.screening.selectors import open_flag_counts

ARRIVALS_PER_PAGE = 50
CAPACITY_DAYS_SHOWN = 3
INTAKE_DAYS_SHOWN = 7
WARNING_DAYS_ON_LIST = 2


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return user


def _day(request: HttpRequest, centre: ReceptionCentre) -> datetime.date:
    value = request.GET.get("date", "")
    try:
        return datetime.date.fromisoformat(value) if value else centre.today()
    except ValueError:
        return centre.today()


def _day_label(day: datetime.date, today: datetime.date) -> str:
    if day == today:
        return _("Today")
    if day == today + datetime.timedelta(days=1):
        return _("Tomorrow")
    return date_format(day, "DATE_FORMAT")


def _in_centre_time_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view works in its centre's time zone, set by `_centre_time_zone` (times shown on
    the page, a time typed in a form, "today"); Mirador's own (UTC) again after it."""

    @functools.wraps(view)
    def in_time_zone(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    return in_time_zone


def _centre_time_zone(centre: ReceptionCentre) -> None:
    timezone.activate(centre.zone)


def _centre(user: User, centre_id: uuid.UUID) -> ReceptionCentre:
    try:
        centre = selectors.centre_for_work(user=user, centre_id=centre_id)
    except NotFoundError:
        raise Http404 from None
    _centre_time_zone(centre)
    return centre


@login_required
@require_GET
def centre_list(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    centres = [
        {
            "centre": centre,
            # Today's and tomorrow's warnings (at the centre) show on the list, so none is
            # missed.
            "warnings": [
                (_day_label(entry.day, centre.today()), entry)
                for entry in selectors.centre_capacity(
                    user=user, centre=centre, days=WARNING_DAYS_ON_LIST
                )
                if entry.over_capacity
            ],
        }
        for centre in selectors.centres_worked_by(user=user).order_by("name")
    ]
    return render(request, "returns/centre_list.html", {"centres": centres})


@login_required
@require_GET
@_in_centre_time_zone
def centre_day(request: HttpRequest, centre_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    centre = _centre(user, centre_id)
    day = _day(request, centre)
    today = centre.today()
    capacity = selectors.centre_capacity(
        user=user, centre=centre, start=day, days=CAPACITY_DAYS_SHOWN
    )
    passengers = selectors.expected_passengers(user=user, centre=centre, day=day)
    summary = selectors.centre_day_summary(user=user, centre=centre, day=day)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    arrivals = selectors.arrivals_for_centre_day(
        user=user,
        centre=centre,
        day=day,
        limit=ARRIVALS_PER_PAGE,
        offset=(page - 1) * ARRIVALS_PER_PAGE,
    )
    manifests: dict[uuid.UUID, dict[str, Any]] = {}
    for passenger in passengers:
        group = manifests.setdefault(
            passenger.manifest_id, {"manifest": passenger.manifest, "passengers": []}
        )
        # The button's accessible name, made here: a translation per row costs the template
        # more than the rest of the row (a day's page lists hundreds).
        label = _("Register %(name)s %(surname)s") % {
            "name": passenger.given_names,
            "surname": passenger.first_surname,
        }
        group["passengers"].append((passenger, label))
    contingency = selectors.centre_contingency(centre=centre)
    return render(
        request,
        "returns/centre_day.html",
        {
            "centre": centre,
            "day": day,
            "today": today,
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "capacity": capacity,
            "over_capacity": [
                (_day_label(entry.day, today), entry) for entry in capacity if entry.over_capacity
            ],
            "manifests": list(manifests.values()),
            # Reversed once, not once per expected passenger.
            "register_url": reverse("returns:register", args=[centre.pk]),
            "summary": summary,
            "arrivals": arrivals,
            "page": page,
            "has_next_page": len(arrivals) == ARRIVALS_PER_PAGE,
            "contingency": contingency,
            "contingency_form": ContingencyForm(),
            "to_complete": selectors.arrivals_to_complete(
                user=user, centre=centre, limit=ARRIVALS_PER_PAGE
            ),
            "flags": open_flag_counts(user=user, centre=centre, day=day),
            "intake": selectors.intake_times(
                user=user,
                centre=centre,
                start=day - datetime.timedelta(days=INTAKE_DAYS_SHOWN - 1),
                end=day,
            ),
        },
    )


@login_required
@require_POST
@_in_centre_time_zone
def contingency_switch(request: HttpRequest, centre_id: uuid.UUID) -> HttpResponse:
    """Switch the centre to contingency mode (with a reason) or back to full registration."""
    user = _signed_in(request)
    centre = _centre(user, centre_id)
    try:
        if request.POST.get("action") == "end":
            services.centre_contingency_end(actor=user, centre=centre)
            messages.success(request, _("Full registration is back on."))
        else:
            form = ContingencyForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Say why the centre switches to contingency mode."))
            else:
                services.centre_contingency_start(
                    actor=user, centre=centre, reason=form.cleaned_data["reason"]
                )
                messages.success(
                    request,
                    _(
                        "Contingency mode is on: registration asks only the essential fields "
                        "and marks each arrival to be completed later."
                    ),
                )
    except PermissionDeniedError:
        raise Http404 from None
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("returns:centre", centre_id=centre.pk)


def _contingency_wanted(source: Any, centre: ReceptionCentre) -> bool:
    """Essential fields only: as asked (`contingency=1` or `0`, e.g. the full form for one
    person who needs it while the centre is in contingency mode), else the centre's mode."""
    asked = source.get("contingency", "")
    if asked in ("0", "1"):
        return bool(asked == "1")
    return selectors.centre_contingency(centre=centre) is not None


def _passenger(user: User, centre: ReceptionCentre, passenger_id: str) -> ManifestPassenger:
    try:
        passenger = selectors.passenger_get(user=user, passenger_id=passenger_id)
    except NotFoundError:
        raise Http404 from None
    if passenger.manifest.centre_id != centre.pk:
        raise Http404
    return passenger


def _initial_from_passenger(passenger: ManifestPassenger) -> dict[str, Any]:
    return {
        "given_names": passenger.given_names,
        "first_surname": passenger.first_surname,
        "second_surname": passenger.second_surname,
        "birth_year": passenger.birth_year,
        "birth_month": passenger.birth_month,
        "birth_day": passenger.birth_day,
        "sex": passenger.sex,
        "nationality": passenger.nationality_id,
        "document_kind": "passport" if passenger.document_number else "",
        "document_number": passenger.document_number,
        "returned_from": passenger.manifest.sending_country_id,
        "means": passenger.manifest.means,
    }


def _identity_for_search(data: dict[str, Any]) -> Identity:
    number = data.get("document_number") or ""
    return Identity(
        given_names=data.get("given_names") or "",
        first_surname=data.get("first_surname") or "",
        second_surname=data.get("second_surname") or "",
        birth_year=data.get("birth_year"),
        birth_month=data.get("birth_month"),
        birth_day=data.get("birth_day"),
        sex=data.get("sex") or "U",
        document_numbers=(number,) if number else (),
    )


def _add_service_errors(form: ArrivalForm | ArrivalCompletionForm, error: ApplicationError) -> None:
    fields = error.details.get("fields")
    if isinstance(fields, dict) and fields:
        for service_field, field_messages in fields.items():
            for message in field_messages:
                form.add_error(form.form_field(service_field), message)
    else:
        form.add_error(None, error.message)


def _register(
    user: User,
    centre: ReceptionCentre,
    passenger: ManifestPassenger | None,
    form: ArrivalForm,
    shown_candidates: list[str],
    search: selectors.CandidateSearch | None,
) -> Arrival:
    data = form.cleaned_data
    if form.contingency:
        return services.arrival_register_contingency(
            actor=user,
            centre=centre,
            idempotency_key=data["idempotency_key"],
            given_names=data["given_names"],
            first_surname=data["first_surname"],
            sex=data["sex"],
            birth_year=data["birth_year"],
            is_child=data["is_child"],
            manifest_passenger=passenger,
        )
    nationality = data["nationality"]
    documents = []
    if data["document_number"]:
        documents.append(
            DocumentData(
                kind=data["document_kind"] or "other",
                number=data["document_number"],
                issuing_country=nationality.pk if nationality else centre.country_id,
            )
        )
    confirmed = None
    rejected = []
    reasons: list[str] = []
    if data["consent_tracing"]:
        chosen = data.get("confirmed_person") or ""
        for person_id in shown_candidates:
            person = person_get(user=user, person_id=person_id, reason="repeat return")
            if person_id == chosen:
                confirmed = person
            else:
                rejected.append(person)
        # The reasons the officer was shown for the one confirmed, kept with the decision.
        # The form offers only candidates of this search, so the chosen one is among them.
        candidates = search.candidates if search else []
        reasons = next((c.reasons for c in candidates if str(c.person.pk) == chosen), [])
    identity = services.IdentityData(
        given_names=data["given_names"],
        first_surname=data["first_surname"],
        second_surname=data["second_surname"],
        birth_year=data["birth_year"],
        birth_month=data["birth_month"],
        birth_day=data["birth_day"],
        sex=data["sex"],
        nationality=nationality.pk if nationality else None,
        is_child=data["is_child"],
        documents=documents,
    )
    return services.arrival_register(
        actor=user,
        centre=centre,
        idempotency_key=data["idempotency_key"],
        manifest_passenger=passenger,
        identity=None if confirmed is not None else identity,
        confirmed_person=confirmed,
        candidate_reasons=reasons if confirmed is not None else (),
        rejected_candidates=rejected,
        returned_from=data["returned_from"],
        means=data["means"] or None,
        home_subdivision=data["home_subdivision"],
        time_abroad=data["time_abroad"],
        migration_reasons=data["migration_reasons"],
        travelling_with=data["travelling_with"],
        relationship=data["relationship"],
        consent_follow_up=data["consent_follow_up"],
        consent_tracing=data["consent_tracing"],
        contacts=[ContactData(kind=ContactKind.PHONE, value=data["phone"])]
        if data["phone"]
        else [],
    )


@login_required
@require_http_methods(["GET", "POST"])
@_in_centre_time_zone
def arrival_new(request: HttpRequest, centre_id: uuid.UUID) -> HttpResponse:
    """Register an arrival: a manifest passenger (`?passenger=`, pre-filled) or a walk-in;
    `?contingency=1` keeps only the essential fields. "Search earlier returns" posts the
    form back with the repeat-return candidates; "Register" saves."""
    user = _signed_in(request)
    centre = _centre(user, centre_id)
    source = request.POST if request.method == "POST" else request.GET
    passenger_id = source.get("passenger", "")
    passenger = _passenger(user, centre, passenger_id) if passenger_id else None
    contingency = _contingency_wanted(source, centre)
    today = centre.today()
    companions = (
        []
        if contingency
        else selectors.arrivals_for_centre_day(
            user=user, centre=centre, day=today, limit=selectors.MAX_ARRIVALS_PAGE
        )
    )
    initial = _initial_from_passenger(passenger) if passenger else {}
    form_kwargs: dict[str, Any] = {
        "companions": companions,
        "contingency": contingency,
        "country_id": centre.country_id,
    }
    search = None
    if request.method == "POST":
        # The candidates are searched again from what was posted, so that a choice is
        # only ever among persons the user may read and who consented.
        probe = ArrivalForm(request.POST, **form_kwargs)
        probe.is_valid()
        data = getattr(probe, "cleaned_data", {})
        if not contingency and data.get("consent_tracing") and data.get("given_names"):
            search = selectors.repeat_candidates(
                user=user, identity=_identity_for_search(data), consent_tracing=True
            )
        form = ArrivalForm(
            request.POST, candidates=search.candidates if search else [], **form_kwargs
        )
        shown = request.POST.getlist("shown_candidate")
        # Candidates found and not yet shown to the officer are shown first: confirming
        # one or rejecting them all is the officer's decision.
        unseen_candidates = bool(
            search and search.candidates and not request.POST.get("candidates_searched")
        )
        if request.POST.get("action") == "register" and unseen_candidates:
            form.is_valid()
            form.add_error(None, str(services.CANDIDATES_TO_DECIDE))
        elif request.POST.get("action") == "register" and form.is_valid():
            try:
                arrival = _register(user, centre, passenger, form, shown, search)
            except (NotFoundError, PermissionDeniedError):
                raise Http404 from None
            except services.CandidatesToDecideError as error:
                # Found since the form was shown (a record registered meanwhile): shown now,
                # for the officer to decide on.
                search = selectors.CandidateSearch(searched=True, candidates=error.candidates)
                form = ArrivalForm(request.POST, candidates=error.candidates, **form_kwargs)
                form.is_valid()
                form.add_error(None, error.message)
            except ApplicationError as error:
                _add_service_errors(form, error)
            else:
                return _after_registering(request, user, centre, arrival)
    else:
        form = ArrivalForm(initial=initial, **form_kwargs)
    return render(
        request,
        "returns/arrival_form.html",
        {
            "centre": centre,
            "passenger": passenger,
            "form": form,
            "contingency": contingency,
            "search": search,
            "today": today,
        },
    )


def _after_registering(
    request: HttpRequest, user: User, centre: ReceptionCentre, arrival: Arrival
) -> HttpResponse:
    if arrival.is_unaccompanied:
        messages.warning(
            request,
            _(
                "Unaccompanied child: the arrival is flagged and the protection officers "
                "were alerted. Keep the child with the centre's staff until protection "
                "takes over."
            ),
        )
    try:
        selectors.arrival_get(user=user, arrival_id=arrival.pk, audit=False)
    except NotFoundError:
        # A child's record opens for protection officers only: the officer goes back to
        # the day, with the banner.
        messages.success(
            request,
            _("The arrival was registered. Only protection officers can open this record."),
        )
        return redirect(reverse("returns:centre", args=[centre.pk]))
    messages.success(request, _("The arrival was registered."))
    return redirect("returns:arrival", arrival_id=arrival.pk)


@login_required
@require_GET
@_in_centre_time_zone
def arrival_detail(request: HttpRequest, arrival_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    try:
        arrival = selectors.arrival_get(user=user, arrival_id=arrival_id)
    except NotFoundError:
        raise Http404 from None
    _centre_time_zone(arrival.centre)
    return render(
        request,
        "returns/arrival_detail.html",
        {
            "arrival": arrival,
            "assistance_kinds": AssistanceKind.choices,
            "day": arrival.centre.day_of(arrival.arrived_at),
        },
    )


@login_required
@require_POST
def assistance_add(request: HttpRequest, arrival_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    try:
        arrival = selectors.arrival_get(user=user, arrival_id=arrival_id, audit=False)
    except NotFoundError:
        raise Http404 from None
    form = AssistanceForm(request.POST)
    if form.is_valid():
        try:
            services.assistance_record(
                actor=user,
                arrival=arrival,
                kind=form.cleaned_data["kind"],
                quantity=form.cleaned_data["quantity"] or 1,
            )
        except (NotFoundError, PermissionDeniedError):
            raise Http404 from None
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Recorded: %(kind)s.")
                % {"kind": AssistanceKind(form.cleaned_data["kind"]).label},
            )
    else:
        messages.error(request, _("Choose a kind of assistance."))
    return redirect("returns:arrival", arrival_id=arrival.pk)


@login_required
@require_http_methods(["GET", "POST"])
@_in_centre_time_zone
def arrival_completion(request: HttpRequest, arrival_id: uuid.UUID) -> HttpResponse:
    """Complete an arrival registered in contingency mode."""
    user = _signed_in(request)
    try:
        arrival = selectors.arrival_get(user=user, arrival_id=arrival_id, audit=False)
    except NotFoundError:
        raise Http404 from None
    _centre_time_zone(arrival.centre)
    if not arrival.needs_completion:
        messages.info(request, _("This arrival is already complete."))
        return redirect("returns:arrival", arrival_id=arrival.pk)
    country_id = arrival.centre.country_id
    if request.method == "POST":
        form = ArrivalCompletionForm(request.POST, country_id=country_id)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.arrival_complete(
                    actor=user,
                    arrival=arrival,
                    returned_from=data["returned_from"],
                    means=data["means"] or None,
                    home_subdivision=data["home_subdivision"],
                    time_abroad=data["time_abroad"],
                    migration_reasons=data["migration_reasons"],
                    consent_follow_up=data["consent_follow_up"],
                    consent_tracing=data["consent_tracing"],
                )
            except (NotFoundError, PermissionDeniedError):
                raise Http404 from None
            except ApplicationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, _("The arrival is complete."))
                return redirect("returns:arrival", arrival_id=arrival.pk)
    else:
        form = ArrivalCompletionForm(
            country_id=country_id,
            initial={
                "returned_from": arrival.returned_from_id,
                "means": arrival.means,
                "time_abroad": arrival.time_abroad,
            },
        )
    return render(request, "returns/arrival_complete.html", {"arrival": arrival, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
@_in_centre_time_zone
def manifest_upload(request: HttpRequest, centre_id: uuid.UUID) -> HttpResponse:
    """Import a sending authority's manifest: nothing is stored while a row is wrong (the
    rows and fields are listed), unless the officer chooses to store the valid rows and set
    the others aside (downloadable)."""
    user = _signed_in(request)
    centre = _centre(user, centre_id)
    row_errors: list[dict[str, Any]] = []
    if request.method == "POST":
        form = ManifestUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                result = services.manifest_import(
                    actor=user,
                    centre=centre,
                    sending_country=data["sending_country"],
                    means=data["means"],
                    kind=data["kind"],
                    reference=data["reference"],
                    expected_at=data["expected_at"],
                    file_name=upload.name or "manifest",
                    content=upload.read(),
                    mapping=data["mapping"],
                    keep_valid=data["keep_valid"],
                )
            except PermissionDeniedError:
                raise Http404 from None
            except ApplicationError as error:
                reported = error.details.get("errors")
                row_errors = list(reported) if isinstance(reported, list) else []
                fields = error.details.get("fields")
                if isinstance(fields, dict):
                    for name, field_messages in fields.items():
                        for message in field_messages:
                            form.add_error(name if name in form.fields else None, message)
                # The rows in error, or a refusal naming no field, get the summary above.
                if row_errors or not isinstance(fields, dict):
                    form.add_error(None, error.message)
            else:
                manifest = result.manifest
                messages.success(
                    request,
                    _("Manifest %(reference)s: %(stored)s passengers stored.")
                    % {"reference": manifest.reference, "stored": result.stored},
                )
                if result.set_aside:
                    messages.warning(
                        request,
                        _(
                            "%(count)s rows were set aside: download them from the manifest "
                            "list, correct them and import them again."
                        )
                        % {"count": len(result.set_aside)},
                    )
                day = centre.day_of(manifest.expected_at)
                return redirect(
                    reverse("returns:manifests", args=[centre.pk]) + f"?date={day.isoformat()}"
                )
    else:
        form = ManifestUploadForm()
    return render(
        request,
        "returns/manifest_upload.html",
        {"centre": centre, "form": form, "row_errors": row_errors},
    )


@login_required
@require_GET
@_in_centre_time_zone
def manifest_list(request: HttpRequest, centre_id: uuid.UUID) -> HttpResponse:
    """The centre's manifests of a day: passengers announced and registered, rows set
    aside (downloadable), cancelled ones."""
    user = _signed_in(request)
    centre = _centre(user, centre_id)
    day = _day(request, centre)
    manifests = selectors.manifests_for_centre(user=user, centre=centre, day=day)
    return render(
        request,
        "returns/manifest_list.html",
        {
            "centre": centre,
            "day": day,
            "manifests": manifests,
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
        },
    )
