"""People pages: the list with its search, a person's record, and registration.

Roles that may not read personal data get the 403 page; a person outside the reader's scope
gets 404, exactly like an id that does not exist. The selectors and services audit.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from mirador.people.forms import PersonRegisterForm, PersonSearchForm
from mirador.people.selectors import people_list, person_get, person_relatives
from mirador.people.services import ContactData, DocumentData, person_register

PAGE_SIZE = 50


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return user


@login_required
@require_http_methods(["GET", "POST"])
def person_list(request: HttpRequest) -> HttpResponse:
    """The list and its search. Searches are POSTed (CSRF-protected) so that names, years and
    other filter values stay out of URLs, and so out of browser history, bookmarks, Referer
    headers and proxy logs. Paging posts the filters again from hidden fields: nothing about a
    search is kept on the server. A GET always shows the unfiltered first page."""
    user = _signed_in(request)
    data = request.POST if request.method == "POST" else None
    form = PersonSearchForm(
        data, show_sensitive_filters=permissions.can_read_sensitive_records(user)
    )
    page = None
    if not form.is_bound or form.is_valid():
        filters = form.selector_filters() if form.is_bound else {}
        try:
            queryset = people_list(user=user, **filters)
        except PermissionDeniedError:
            raise PermissionDenied from None
        page = Paginator(queryset, PAGE_SIZE).get_page(data.get("page") if data else None)
    elif not permissions.can_read_personal_data(user):
        raise PermissionDenied
    context = {
        "form": form,
        "page": page,
        "may_register": user.country is not None
        and permissions.can_register_person(user, user.country),
    }
    htmx = getattr(request, "htmx", False)
    template = "people/partials/person_table.html" if htmx else "people/person_list.html"
    return render(request, template, context)


@login_required
@require_GET
def person_detail(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    try:
        person = person_get(user=user, person_id=person_id)
    except NotFoundError:
        # The refusal is audited either way; a role without access is told so, anyone else
        # learns nothing about whether the record exists.
        if not permissions.can_read_personal_data(user):
            raise PermissionDenied from None
        raise Http404 from None
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "relatives": person_relatives(user=user, person=person),
            "may_share": permissions.can_share_person(user, person),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    country = user.country
    if country is None or not permissions.can_register_person(user, country):
        raise PermissionDenied
    form = PersonRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
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
        try:
            person = person_register(
                actor=user,
                country=country,
                given_names=data["given_names"],
                first_surname=data["first_surname"],
                second_surname=data["second_surname"],
                birth_year=data["birth_year"],
                birth_month=data["birth_month"],
                birth_day=data["birth_day"],
                sex=data["sex"],
                nationality=data["nationality"],
                is_child=data["is_child"],
                is_trafficking_victim=data["is_trafficking_victim"],
                documents=documents,
                contacts=contacts,
                reason=data["reason"],
            )
        except ApplicationError as error:
            fields = error.details.get("fields")
            if isinstance(fields, dict) and fields:
                for service_field, field_messages in fields.items():
                    for message in field_messages:
                        form.add_error(form.form_field(service_field), message)
            else:
                form.add_error(None, error.message)
        else:
            if permissions.can_view_person(user, person):
                messages.success(request, _("The person was registered."))
                return redirect("people:detail", person_id=person.pk)
            messages.success(
                request,
                _(
                    "The person was registered. The record is flagged child or trafficking "
                    "victim, so only protection officers can open it."
                ),
            )
            return redirect("people:list")
    return render(request, "people/person_register.html", {"form": form, "country": country})
