"""Consular pages: the list of the country's cases with its filters (htmx swaps the table),
a new case with its person, and a case with its actions log and its status. Thin: each view
validates, calls one service or selector, renders.

Roles that work no cases get the 403 page; a case outside the reader's scope gets 404, like
one that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mirador.accounts.models import User
from mirador.consular import selectors, services
from mirador.consular.forms import (
    CaseActionForm,
    CaseDetailsForm,
    CaseFilterForm,
    CaseOpenForm,
    CaseStatusForm,
)
from mirador.core.errors import ApplicationError, NotFoundError
from mirador.people.models import Person
from mirador.people.selectors import person_get
from mirador.people.services import ContactData, DocumentData

PAGE_SIZE = 50


def _worker(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not selectors.can_work_cases(user):
        raise PermissionDenied
    return user


def _add_errors(form: Any, error: ApplicationError) -> None:
    fields = error.details.get("fields")
    if isinstance(fields, dict) and fields:
        for name, field_messages in fields.items():
            target = form.form_field(name) if hasattr(form, "form_field") else name
            for message in field_messages:
                form.add_error(target if target in form.fields else None, message)
    else:
        form.add_error(None, error.message)


def _officers(user: User) -> Any:
    """Whom a case may be given to: the active consular and protection officers of the
    user's country (the service checks each choice again)."""
    return User.objects.filter(
        is_active=True, country_id=user.country_id, role__in=selectors.CASE_ROLES
    ).order_by("username")


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = _worker(request)
    consulates = selectors.consulates_of(user=user)
    form = CaseFilterForm(request.GET or None, consulates=consulates)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        consulate = form.cleaned_data["consulate"]
        filters = {
            "status": form.cleaned_data["status"] or None,
            "case_type": form.cleaned_data["case_type"] or None,
            "consulate_id": consulate.pk if consulate else None,
        }
    cases = selectors.cases_list(user=user, **filters)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page}
    if getattr(request, "htmx", False):
        return render(request, "consular/partials/case_table.html", context)
    return render(request, "consular/case_list.html", context)


def _person_data(data: dict[str, Any]) -> tuple[services.PersonData, list[ContactData]]:
    documents = []
    if data["document_kind"]:
        documents.append(
            DocumentData(
                kind=data["document_kind"],
                number=data["document_number"],
                issuing_country=data["document_country"].pk,
            )
        )
    contacts = []
    if data["contact_kind"]:
        contacts.append(ContactData(kind=data["contact_kind"], value=data["contact_value"]))
    nationality = data["nationality"]
    identity = services.PersonData(
        **{name: data[name] for name in CaseOpenForm.IDENTITY_FIELDS},
        nationality=nationality.pk if nationality else None,
        documents=documents,
    )
    return identity, contacts


def _registered_person(request: HttpRequest, user: User) -> Person | None:
    """The registry's person a case is opened for (`?person=<id>`, from their record), read
    through people.selectors (audited); None for a person registered with the case."""
    person_id = request.GET.get("person") or request.POST.get("person_id")
    if not person_id:
        return None
    try:
        return person_get(user=user, person_id=person_id, reason=selectors.READ_REASON)
    except NotFoundError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """A new case, with its person registered now or, with `?person=<id>`, one of the
    registry."""
    user = _worker(request)
    registered = _registered_person(request, user)
    form = CaseOpenForm(
        request.POST or None,
        consulates=selectors.consulates_of(user=user),
        officers=_officers(user),
        registered=registered is not None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        place = data["place_country"]
        person, contacts = _person_data(data) if registered is None else (None, [])
        try:
            case = services.case_open(
                actor=user,
                consulate_id=data["consulate"].pk,
                case_type=data["case_type"],
                person=person,
                person_id=registered.pk if registered else None,
                contacts=contacts,
                opened_on=data["opened_on"],
                place_country=place.pk if place else None,
                locality=data["locality"],
                description=data["description"],
                responsible=data["responsible"],
                consent_tracing=form.consent,
            )
        except ApplicationError as error:
            _add_errors(form, error)
        else:
            if selectors.cases_visible_to(user=user).filter(pk=case.pk).exists():
                messages.success(
                    request,
                    _(
                        "The case was opened; its person is matched against the open "
                        "missing-person reports."
                    ),
                )
                return redirect("consular:case", case_id=case.pk)
            messages.success(
                request,
                _(
                    "The case was opened. It concerns a child or a victim of trafficking, so "
                    "only protection officers can open it."
                ),
            )
            return redirect("consular:cases")
    fieldsets = [
        (_("The case"), [form[name] for name in CaseOpenForm.CASE_FIELDS]),
        (
            _("The person"),
            [form[name] for name in CaseOpenForm.PERSON_FIELDS if name in form.fields],
        ),
    ]
    return render(
        request,
        "consular/case_form.html",
        {"form": form, "fieldsets": fieldsets, "registered": registered},
    )


def _detail_context(
    user: User,
    case_id: uuid.UUID,
    *,
    status_form: CaseStatusForm | None = None,
    action_form: CaseActionForm | None = None,
    details_form: CaseDetailsForm | None = None,
) -> dict[str, Any]:
    try:
        case = selectors.case_get(user=user, case_id=case_id)
    except NotFoundError:
        raise Http404 from None
    details = details_form or CaseDetailsForm(
        officers=_officers(user),
        initial={
            "place_country": case.place_country_id,
            "locality": case.locality,
            "description": case.description,
            "responsible": case.responsible_id,
        },
    )
    return {
        "details_form": details,
        "case": case,
        "person": case.person,
        "actions": selectors.case_actions(case=case),
        "status_form": status_form or CaseStatusForm(),
        "action_form": action_form or CaseActionForm(),
        "next_statuses": sorted(services.TRANSITIONS[case.status]),
    }


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _worker(request)
    return render(request, "consular/case_detail.html", _detail_context(user, case_id))


def _change(
    request: HttpRequest,
    user: User,
    case_id: uuid.UUID,
    form: Any,
    *,
    write: Callable[[dict[str, Any]], object],
    done: str,
    form_name: str,
) -> HttpResponse:
    """Validate `form`, `write` its data through a service, go back to the case; or show
    the case again with the form's errors."""
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except NotFoundError:
            raise Http404 from None
        except ApplicationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("consular:case", case_id=case_id)
    context = _detail_context(user, case_id, **{form_name: form})
    return render(request, "consular/case_detail.html", context, status=422)


@login_required
@require_POST
def case_status(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _worker(request)
    return _change(
        request,
        user,
        case_id,
        CaseStatusForm(request.POST),
        write=lambda data: services.case_status_set(actor=user, case_id=case_id, **data),
        done=_("The case's status was changed."),
        form_name="status_form",
    )


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Log an action: with htmx the log comes back with the new entry (or the form with its
    errors); a plain post goes back to the case."""
    user = _worker(request)
    form = CaseActionForm(request.POST)
    htmx = getattr(request, "htmx", False)
    saved = False
    if form.is_valid():
        try:
            services.case_action_add(actor=user, case_id=case_id, **form.cleaned_data)
        except NotFoundError:
            raise Http404 from None
        except ApplicationError as error:
            _add_errors(form, error)
        else:
            saved = True
    if saved and not htmx:
        messages.success(request, _("The action was logged."))
        return redirect("consular:case", case_id=case_id)
    if htmx:
        # The log shown again is a read of the case (audited, as the page's).
        case = selectors.case_get(user=user, case_id=case_id)
        context = {
            "case": case,
            "actions": selectors.case_actions(case=case),
            "action_form": CaseActionForm() if saved else form,
        }
        return render(request, "consular/partials/actions.html", context)
    context = _detail_context(user, case_id, action_form=form)
    return render(request, "consular/case_detail.html", context, status=422)


@login_required
@require_POST
def case_details(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = _worker(request)
    return _change(
        request,
        user,
        case_id,
        CaseDetailsForm(request.POST, officers=_officers(user)),
        write=lambda data: services.case_update(
            actor=user,
            case_id=case_id,
            locality=data["locality"],
            description=data["description"],
            place_country=data["place_country"].pk,
            responsible=data["responsible"],
        ),
        done=_("The case's details were changed."),
        form_name="details_form",
    )
