"""Forms of the people pages: they validate input; the services decide and record."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mirador.core.models import Country
from mirador.people.models import ContactKind, DocumentKind, Sex

YES_NO_ANY = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class PersonSearchForm(forms.Form):
    surname = forms.CharField(label=_("Surname"), max_length=80, required=False)
    given_name = forms.CharField(label=_("Given name"), max_length=120, required=False)
    birth_year = forms.IntegerField(
        label=_("Year of birth"), min_value=1, max_value=9999, required=False
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", _("Any")), *Sex.choices], required=False)
    nationality = forms.ModelChoiceField(
        label=_("Nationality"),
        queryset=Country.objects.all(),
        required=False,
        empty_label=_("Any"),
    )
    is_child = forms.ChoiceField(label=_("Child"), choices=YES_NO_ANY, required=False)
    is_trafficking_victim = forms.ChoiceField(
        label=_("Trafficking victim"), choices=YES_NO_ANY, required=False
    )

    def __init__(self, *args: Any, show_sensitive_filters: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not show_sensitive_filters:
            # Only protection roles see flagged records, so the flags filter nothing for others.
            del self.fields["is_child"]
            del self.fields["is_trafficking_victim"]

    def selector_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        nationality = data.get("nationality")
        return {
            "surname": data.get("surname") or None,
            "given_name": data.get("given_name") or None,
            "birth_year": data.get("birth_year"),
            "sex": data.get("sex") or None,
            "nationality": nationality.pk if nationality else None,
            "is_child": _yes_no(data.get("is_child", "")),
            "is_trafficking_victim": _yes_no(data.get("is_trafficking_victim", "")),
        }


class PersonRegisterForm(forms.Form):
    given_names = forms.CharField(label=_("Given names"), max_length=120)
    first_surname = forms.CharField(label=_("First surname"), max_length=80)
    second_surname = forms.CharField(label=_("Second surname"), max_length=80, required=False)
    birth_year = forms.IntegerField(
        label=_("Year of birth"),
        min_value=1,
        max_value=9999,
        required=False,
        help_text=_("Leave the day, or the day and month, empty when they are not known."),
    )
    birth_month = forms.IntegerField(
        label=_("Month of birth"), min_value=1, max_value=12, required=False
    )
    birth_day = forms.IntegerField(
        label=_("Day of birth"), min_value=1, max_value=31, required=False
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    nationality = forms.ModelChoiceField(
        label=_("Nationality"), queryset=Country.objects.all(), required=False
    )
    is_child = forms.BooleanField(
        label=_("Child"),
        required=False,
        help_text=_(
            "Tick when the person appears to be under 18 and the date of birth is unknown."
        ),
    )
    is_trafficking_victim = forms.BooleanField(label=_("Trafficking victim"), required=False)
    document_kind = forms.ChoiceField(
        label=_("Identity document"), choices=[("", "—"), *DocumentKind.choices], required=False
    )
    document_number = forms.CharField(label=_("Document number"), max_length=60, required=False)
    document_country = forms.ModelChoiceField(
        label=_("Issuing country"), queryset=Country.objects.all(), required=False
    )
    contact_kind = forms.ChoiceField(
        label=_("Contact"), choices=[("", "—"), *ContactKind.choices], required=False
    )
    contact_value = forms.CharField(label=_("Contact details"), max_length=300, required=False)
    reason = forms.CharField(
        label=_("Reason for registering"),
        max_length=200,
        required=False,
        help_text=_("Recorded in the audit log."),
    )

    # Service field names (documents.0.number) mapped back onto this form's fields.
    SERVICE_FIELDS = {
        "documents.0.kind": "document_kind",
        "documents.0.number": "document_number",
        "documents.0.issuing_country": "document_country",
        "contacts.0.kind": "contact_kind",
        "contacts.0.value": "contact_value",
    }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        document = [data.get(name) for name in ("document_kind", "document_number")]
        if any(document) and not all([*document, data.get("document_country")]):
            raise forms.ValidationError(
                _("Give the kind, number and issuing country of the document, or none of them.")
            )
        if bool(data.get("contact_kind")) != bool(data.get("contact_value")):
            raise forms.ValidationError(_("Give both the kind of contact and its details."))
        return data

    def form_field(self, service_field: str) -> str | None:
        name = self.SERVICE_FIELDS.get(service_field, service_field)
        return name if name in self.fields else None
