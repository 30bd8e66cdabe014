"""Forms of the reception pages: they validate input; the returns services decide and record."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from mirador.core.models import Country, Subdivision
from mirador.people.models import DocumentKind, Relationship, Sex
from mirador.returns.manifest_files import FIELDS as MANIFEST_FIELDS
from mirador.returns.models import (
    Arrival,
    AssistanceKind,
    ManifestKind,
    Means,
    MigrationReason,
    TimeAbroad,
)

# Service field names mapped onto this form's fields, so that errors show next to them.
SERVICE_FIELDS = {
    "documents.0.kind": "document_kind",
    "documents.0.number": "document_number",
    "documents.0.issuing_country": "document_number",
    "manifest_passenger": None,
    "contacts": "phone",
    "arrived_at": None,
}


class ArrivalForm(forms.Form):
    """Registration of one arrival. Essential fields first (the only ones in contingency
    mode); the idempotency key is generated when the form is first shown."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    given_names = forms.CharField(label=_("Given names"), max_length=120)
    first_surname = forms.CharField(label=_("First surname"), max_length=80)
    second_surname = forms.CharField(label=_("Second surname"), max_length=80, required=False)
    birth_year = forms.IntegerField(
        label=_("Year of birth"),
        min_value=1900,
        max_value=2100,
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
    is_child = forms.BooleanField(
        label=_("Child"),
        required=False,
        help_text=_(
            "Tick when the person appears to be under 18 and the date of birth is unknown."
        ),
    )
    nationality = forms.ModelChoiceField(
        label=_("Nationality"), queryset=Country.objects.all(), required=False
    )
    document_kind = forms.ChoiceField(
        label=_("Identity document"), choices=[("", "—"), *DocumentKind.choices], required=False
    )
    document_number = forms.CharField(label=_("Document number"), max_length=60, required=False)

    returned_from = forms.ModelChoiceField(
        label=_("Returned from"), queryset=Country.objects.all(), required=False
    )
    means = forms.ChoiceField(
        label=_("Means of transport"), choices=[("", "—"), *Means.choices], required=False
    )
    home_subdivision = forms.ModelChoiceField(
        label=_("Department going home to"),
        queryset=Subdivision.objects.none(),
        required=False,
        help_text=_("Where the person will live: their department of origin in the figures."),
    )
    time_abroad = forms.ChoiceField(
        label=_("Time abroad"), choices=TimeAbroad.choices, initial=TimeAbroad.UNKNOWN
    )
    migration_reasons = forms.MultipleChoiceField(
        label=_("Reasons for migrating"),
        choices=MigrationReason.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    travelling_with = forms.ModelChoiceField(
        label=_("Travelling with"),
        queryset=Arrival.objects.none(),
        required=False,
        help_text=_("A companion already registered today at this centre."),
    )
    relationship = forms.ChoiceField(
        label=_("Relationship to the companion"),
        choices=[("", "—"), *Relationship.choices],
        required=False,
        help_text=_(
            "Of the person being registered: child or ward when travelling with a parent "
            "or guardian."
        ),
    )
    phone = forms.CharField(
        label=_("Telephone"),
        max_length=40,
        required=False,
        help_text=_("A number where the person can be reached after leaving the centre."),
    )
    consent_follow_up = forms.BooleanField(label=_("Consents to follow-up contact"), required=False)
    consent_tracing = forms.BooleanField(
        label=_("Consents to tracing and matching with earlier returns"), required=False
    )
    confirmed_person = forms.ChoiceField(
        label=_("Earlier returns"), required=False, widget=forms.RadioSelect
    )

    def __init__(
        self,
        *args: Any,
        companions: list[Arrival] | None = None,
        candidates: list[Any] | None = None,
        contingency: bool = False,
        country_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_subdivision"].queryset = Subdivision.objects.filter(  # type: ignore[attr-defined]
            country_id=country_id
        ).order_by("code")
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex
        companions = companions or []
        self.fields["travelling_with"].queryset = Arrival.objects.filter(  # type: ignore[attr-defined]
            pk__in=[arrival.pk for arrival in companions]
        ).select_related("person")
        self.fields["travelling_with"].label_from_instance = lambda arrival: (  # type: ignore[attr-defined]
            f"{arrival.person.given_names} {arrival.person.first_surname}"
        )
        self.fields["confirmed_person"].choices = [  # type: ignore[attr-defined]
            ("", _("None of them: a new person")),
            *[
                (str(candidate.person.pk), str(candidate.person.pk))
                for candidate in candidates or []
            ],
        ]
        self.contingency = contingency
        if contingency:
            for name in list(self.fields):
                if name not in CONTINGENCY_FIELDS:
                    del self.fields[name]

    def form_field(self, service_field: str) -> str | None:
        if service_field in SERVICE_FIELDS:
            return SERVICE_FIELDS[service_field]
        return service_field if service_field in self.fields else None


CONTINGENCY_FIELDS = frozenset(
    {"idempotency_key", "given_names", "first_surname", "birth_year", "sex", "is_child"}
)


class ArrivalCompletionForm(forms.Form):
    """What contingency mode left out of a registration."""

    returned_from = forms.ModelChoiceField(
        label=_("Returned from"), queryset=Country.objects.all(), required=False
    )
    means = forms.ChoiceField(
        label=_("Means of transport"), choices=[("", "—"), *Means.choices], required=False
    )
    home_subdivision = forms.ModelChoiceField(
        label=_("Department going home to"), queryset=Subdivision.objects.none(), required=False
    )
    time_abroad = forms.ChoiceField(
        label=_("Time abroad"), choices=TimeAbroad.choices, initial=TimeAbroad.UNKNOWN
    )
    migration_reasons = forms.MultipleChoiceField(
        label=_("Reasons for migrating"),
        choices=MigrationReason.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    consent_follow_up = forms.BooleanField(label=_("Consents to follow-up contact"), required=False)
    consent_tracing = forms.BooleanField(
        label=_("Consents to tracing and matching with earlier returns"), required=False
    )

    def __init__(self, *args: Any, country_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_subdivision"].queryset = Subdivision.objects.filter(  # type: ignore[attr-defined]
            country_id=country_id
        ).order_by("code")

    def form_field(self, service_field: str) -> str | None:
        return service_field if service_field in self.fields else None


class ContingencyForm(forms.Form):
    reason = forms.CharField(
        label=_("Why"),
        max_length=200,
        help_text=_(
            "E.g. two extraordinary flights at once; the system of the civil registry is down."
        ),
    )


class AssistanceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Assistance"), choices=AssistanceKind.choices)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1, required=False)


MAX_MANIFEST_BYTES = 5 * 1024 * 1024


def _mapping_help_text() -> str:
    return _(
        "One per line, field = column, e.g. given_names = Nombres. Fields: %(fields)s. "
        "A field left out is read from the column of its own name."
    ) % {"fields": ", ".join(MANIFEST_FIELDS)}


class ManifestUploadForm(forms.Form):
    """A sending authority's manifest file (CSV or XLSX) and the trip it announces."""

    file = forms.FileField(
        label=_("Manifest file"), help_text=_("CSV or XLSX, one passenger per row, up to 5 MB.")
    )
    sending_country = forms.ModelChoiceField(
        label=_("Sending country"), queryset=Country.objects.all()
    )
    means = forms.ChoiceField(label=_("Means of transport"), choices=Means.choices)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=ManifestKind.choices, initial=ManifestKind.SCHEDULED
    )
    reference = forms.CharField(label=_("Flight or bus reference"), max_length=40)
    expected_at = forms.DateTimeField(
        label=_("Expected arrival"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    mapping = forms.CharField(
        label=_("Columns with other names"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        # Lazy as a whole: formatted here, at import, it would be frozen in the language
        # active then, whatever the reader's.
        help_text=lazy(_mapping_help_text, str)(),
    )
    keep_valid = forms.BooleanField(
        label=_("Store the valid rows and set the others aside"),
        required=False,
        help_text=_("Otherwise nothing is stored while any row is wrong."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_MANIFEST_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload

    def clean_mapping(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["mapping"].splitlines(), start=1):
            if not line.strip():
                continue
            field, separator, column = line.partition("=")
            field, column = field.strip(), column.strip()
            if not separator or not column:
                raise forms.ValidationError(
                    _("Line %(number)s: write field = column.") % {"number": number}
                )
            if field not in MANIFEST_FIELDS:
                raise forms.ValidationError(
                    _("Line %(number)s: unknown field %(field)s.")
                    % {"number": number, "field": field}
                )
            mapping[field] = column
        return mapping
