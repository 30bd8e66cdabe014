"""Forms of the identification pages: they validate input; the services decide and record."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mirador.core.models import Consulate, Country
from mirador.linkage.models import UnidentifiedCondition
from mirador.people.models import Relationship, Sex


class _BirthFields(forms.Form):
    birth_year = forms.IntegerField(
        label=_("Year of birth"), min_value=1, max_value=9999, required=False
    )
    birth_month = forms.IntegerField(
        label=_("Month of birth"), min_value=1, max_value=12, required=False
    )
    birth_day = forms.IntegerField(
        label=_("Day of birth"), min_value=1, max_value=31, required=False
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)


class MissingReportForm(_BirthFields):
    given_names = forms.CharField(label=_("Given names"), max_length=120)
    first_surname = forms.CharField(label=_("First surname"), max_length=80)
    second_surname = forms.CharField(label=_("Second surname"), max_length=80, required=False)
    field_order = ["given_names", "first_surname", "second_surname"]
    nationality = forms.ModelChoiceField(
        label=_("Nationality"), queryset=Country.objects.all(), required=False
    )
    document_number = forms.CharField(
        label=_("Passport number, if known"), max_length=60, required=False
    )
    reporter_name = forms.CharField(label=_("Reported by"), max_length=200)
    reporter_relationship = forms.ChoiceField(
        label=_("Relationship to the missing person"), choices=Relationship.choices
    )
    reporter_contact = forms.CharField(
        label=_("How to reach the family"), max_length=200, required=False
    )
    reported_on = forms.DateField(
        label=_("Reported on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    consulate = forms.ModelChoiceField(
        label=_("Received through the consulate"), queryset=Consulate.objects.none(), required=False
    )
    last_seen_on = forms.DateField(
        label=_("Last known on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last_seen_place = forms.CharField(label=_("Last known place"), max_length=200, required=False)
    last_seen_country = forms.ModelChoiceField(
        label=_("Last known country"), queryset=Country.objects.all(), required=False
    )
    route = forms.CharField(
        label=_("Route"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Places and dates of the journey, as the family knows them."),
    )
    circumstances = forms.CharField(
        label=_("Circumstances"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: object, country_id: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["consulate"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = Consulate.objects.filter(sending_country_id=country_id).select_related(
            "host_country"
        )


class UnidentifiedForm(_BirthFields):
    reference = forms.CharField(
        label=_("Case reference"),
        max_length=80,
        help_text=_("The holding institution's number."),
    )
    condition = forms.ChoiceField(label=_("Condition"), choices=UnidentifiedCondition.choices)
    found_on = forms.DateField(label=_("Found on"), widget=forms.DateInput(attrs={"type": "date"}))
    found_place = forms.CharField(label=_("Where found"), max_length=200)
    held_at = forms.CharField(label=_("Held at"), max_length=200, required=False)
    given_names = forms.CharField(
        label=_("Given names"),
        max_length=120,
        required=False,
        help_text=_("Only if a document or a companion gave them."),
    )
    first_surname = forms.CharField(label=_("First surname"), max_length=80, required=False)
    second_surname = forms.CharField(label=_("Second surname"), max_length=80, required=False)
    age_min = forms.IntegerField(
        label=_("Estimated age, from"), min_value=0, max_value=120, required=False
    )
    age_max = forms.IntegerField(
        label=_("Estimated age, to"), min_value=0, max_value=120, required=False
    )
    document_number = forms.CharField(label=_("Document number"), max_length=60, required=False)
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Clothing, belongings, marks, what was said."),
    )
    is_child = forms.BooleanField(label=_("Child, or may be"), required=False)
    field_order = [
        "reference",
        "condition",
        "found_on",
        "found_place",
        "held_at",
        "given_names",
        "first_surname",
        "second_surname",
    ]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
    note = forms.CharField(max_length=300, required=False)
