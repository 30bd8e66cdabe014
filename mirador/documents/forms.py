"""Forms of the identity documents pages: they validate input; the documents services decide
and record."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mirador.core.models import ReceptionCentre
from mirador.documents.models import KIND_CHOICES, RequestStatus
from mirador.documents.selectors import OPEN

STATUS_FILTER_CHOICES = [(OPEN, _("Open (needed, requested, issued)")), *RequestStatus.choices]


class QueueFilterForm(forms.Form):
    """The queue's filters, read from the query string (they hold no personal data)."""

    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTER_CHOICES, required=False)
    kind = forms.ChoiceField(
        label=_("Document"), choices=[("", _("All documents")), *KIND_CHOICES], required=False
    )
    centre = forms.ModelChoiceField(
        label=_("Reception centre"),
        queryset=ReceptionCentre.objects.none(),
        required=False,
        empty_label=_("All centres"),
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, centres: QuerySet[ReceptionCentre], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres  # type: ignore[attr-defined]


class NeedForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document needed"), choices=KIND_CHOICES)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class AdvanceForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (RequestStatus.REQUESTED, RequestStatus.REQUESTED.label),
            (RequestStatus.ISSUED, RequestStatus.ISSUED.label),
            (RequestStatus.DELIVERED, RequestStatus.DELIVERED.label),
        ],
        widget=forms.HiddenInput,
    )
    issuing_authority = forms.CharField(max_length=200, required=False)
    delivery_place = forms.CharField(max_length=200, required=False)
    document_number = forms.CharField(max_length=60, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=200)
