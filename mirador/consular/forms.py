"""Forms of the consular pages: they validate input; the services decide and record."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mirador.accounts.models import User
from mirador.consular.models import ActionKind, CaseOutcome, CaseStatus, CaseType
from mirador.core.models import Consulate, Country
from mirador.people.forms import PersonRegisterForm

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
NOT_ASKED = ""
CONSENT_CHOICES = [
    (NOT_ASKED, _("Not asked (yet)")),
    ("yes", _("Yes")),
    ("no", _("No")),
]


class CaseFilterForm(forms.Form):
    """The list's filters: codes and a consulate, no personal data (so they may be a GET)."""

    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any")), *CaseStatus.choices], required=False
    )
    case_type = forms.ChoiceField(
        label=_("Case type"), choices=[("", _("Any")), *CaseType.choices], required=False
    )
    consulate = forms.ModelChoiceField(
        label=_("Consulate"),
        queryset=Consulate.objects.none(),
        required=False,
        empty_label=_("Any"),
    )

    def __init__(self, *args: Any, consulates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["consulate"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = consulates


class CaseOpenForm(PersonRegisterForm):
    """A new case and its person, registered with it (people's registration form, without
    the trafficking flag, which the case type sets, and without a reason: the case is it)."""

    consulate = forms.ModelChoiceField(label=_("Consulate"), queryset=Consulate.objects.none())
    case_type = forms.ChoiceField(label=_("Case type"), choices=CaseType.choices)
    opened_on = forms.DateField(label=_("Opened on"), required=False, widget=DATE_INPUT)
    place_country = forms.ModelChoiceField(
        label=_("Country where the person is"),
        queryset=Country.objects.all(),
        required=False,
        help_text=_("The consulate's host country when left empty."),
    )
    locality = forms.CharField(
        label=_("Locality"),
        max_length=200,
        required=False,
        help_text=_("Town, detention centre, hospital: where the person is."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=forms.Textarea({"rows": 4})
    )
    responsible = forms.ModelChoiceField(
        label=_("Responsible officer"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("You, when left empty."),
    )
    consent_tracing = forms.ChoiceField(
        label=_("Agrees to be traced and matched against missing-person reports"),
        choices=CONSENT_CHOICES,
        required=False,
    )

    CASE_FIELDS = (
        "consulate",
        "case_type",
        "opened_on",
        "place_country",
        "locality",
        "description",
        "responsible",
    )
    # Those passed to the service as they are (the others are turned into codes and rows).
    IDENTITY_FIELDS = (
        "given_names",
        "first_surname",
        "second_surname",
        "birth_year",
        "birth_month",
        "birth_day",
        "sex",
        "is_child",
    )
    PERSON_FIELDS = (
        *IDENTITY_FIELDS,
        "nationality",
        "document_kind",
        "document_number",
        "document_country",
        "contact_kind",
        "contact_value",
        "consent_tracing",
    )
    SERVICE_FIELDS = {
        **PersonRegisterForm.SERVICE_FIELDS,
        "consulate_id": "consulate",
        "person": None,  # type: ignore[dict-item]
        "person_id": None,  # type: ignore[dict-item]
    }

    def __init__(
        self,
        *args: Any,
        consulates: Any,
        officers: Any,
        registered: bool = False,
        **kwargs: Any,
    ) -> None:
        """`registered`: the case is for a person already in the registry, whose identity
        is not asked again (only their answer about tracing)."""
        super().__init__(*args, **kwargs)
        del self.fields["is_trafficking_victim"]
        del self.fields["reason"]
        if registered:
            for name in self.PERSON_FIELDS:
                if name != "consent_tracing":
                    del self.fields[name]
        for name, queryset in (("consulate", consulates), ("responsible", officers)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
            field.queryset = queryset

    def form_field(self, service_field: str) -> str | None:
        name = self.SERVICE_FIELDS.get(service_field, service_field)
        return name if name and name in self.fields else None

    @property
    def consent(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("consent_tracing") or "")


class CaseDetailsForm(forms.Form):
    """Where the person is now, the description and who follows the case."""

    place_country = forms.ModelChoiceField(
        label=_("Country where the person is"), queryset=Country.objects.all()
    )
    locality = CaseOpenForm.base_fields["locality"]
    description = CaseOpenForm.base_fields["description"]
    responsible = forms.ModelChoiceField(
        label=_("Responsible officer"), queryset=User.objects.none()
    )

    def __init__(self, *args: Any, officers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["responsible"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = officers


class CaseStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=CaseStatus.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", "—"), *CaseOutcome.choices],
        required=False,
        help_text=_("Needed to close the case."),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class CaseActionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Action"),
        choices=[(value, label) for value, label in ActionKind.choices if value != "status"],
    )
    taken_on = forms.DateField(label=_("Date"), required=False, widget=DATE_INPUT)
    note = forms.CharField(
        label=_("Note"), max_length=4000, required=False, widget=forms.Textarea({"rows": 2})
    )
