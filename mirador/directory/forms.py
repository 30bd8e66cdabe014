"""Forms of the directory pages: the public search's filters, a referral from an arrival, and
the provider's answers."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mirador.core.models import Country, Subdivision
from mirador.directory.models import Service, ServiceCategory

# Names of the language codes the directory's services use; other codes show as they are.
LANGUAGE_NAMES: dict[str, Any] = {
    "es": _("Spanish"),
    "en": _("English"),
    "cab": _("Garifuna"),
    "miq": _("Miskito"),
    "quc": _("K'iche'"),
    "mam": _("Mam"),
    "kek": _("Q'eqchi'"),
    "cak": _("Kaqchikel"),
    "ppl": _("Nahuat (Pipil)"),
    "lenca": _("Lenca"),
    "tol": _("Tolupan"),
}

DEFAULT_DUE_DAYS = 7


def language_name(code: str) -> str:
    return str(LANGUAGE_NAMES.get(code, code))


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    category = forms.ChoiceField(label=_("Kind of service"), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    subdivision = forms.ChoiceField(label=_("Department"), required=False)
    language = forms.ChoiceField(label=pgettext_lazy("spoken", "Language"), required=False)

    def __init__(
        self,
        *args: Any,
        countries: Iterable[Country],
        subdivisions: Iterable[Subdivision],
        languages: Iterable[str],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        any_ = ("", _("Any"))
        self.fields["category"].choices = [any_, *ServiceCategory.choices]  # type: ignore[attr-defined]
        self.fields["country"].choices = [any_, *((c.pk, c.name) for c in countries)]  # type: ignore[attr-defined]
        grouped: dict[str, list[tuple[str, str]]] = {}
        for subdivision in subdivisions:
            grouped.setdefault(subdivision.country.name, []).append(
                (subdivision.code, subdivision.name)
            )
        self.fields["subdivision"].choices = [any_, *grouped.items()]  # type: ignore[attr-defined]
        self.fields["language"].choices = [any_, *((c, language_name(c)) for c in languages)]  # type: ignore[attr-defined]


class ReferralForm(forms.Form):
    service = forms.ChoiceField(label=_("Service"))
    due_date = forms.DateField(
        label=_("Due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("By when the provider should act."),
    )
    note = forms.CharField(
        label=_("Note for the provider"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the person needs. Do not repeat identity data."),
    )
    consent_to_share = forms.BooleanField(
        label=_("The person consents to their record being shared with the provider"),
        required=True,
        error_messages={
            "required": _("Ask the person: without their consent the referral cannot be made.")
        },
    )

    def __init__(self, *args: Any, services: Iterable[Service], **kwargs: Any):
        kwargs.setdefault(
            "initial",
            {"due_date": timezone.localdate() + datetime.timedelta(days=DEFAULT_DUE_DAYS)},
        )
        # Ids of their own on the arrival page, beside other apps' forms.
        kwargs.setdefault("auto_id", "referral_%s")
        super().__init__(*args, **kwargs)
        self.services = {str(service.pk): service for service in services}
        grouped: dict[str, list[tuple[str, str]]] = {}
        for service in self.services.values():
            grouped.setdefault(service.get_category_display(), []).append(
                (str(service.pk), f"{service.name} — {service.provider}")
            )
        self.fields["service"].choices = [("", _("Choose a service")), *grouped.items()]  # type: ignore[attr-defined]

    def chosen_service(self) -> Service:
        return self.services[self.cleaned_data["service"]]


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason for declining"), max_length=500)


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("Completion note"), max_length=500, required=False)
