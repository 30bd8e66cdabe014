"""The upload form of the import page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mirador.flows.uploads import CUSTOM_FORMAT, format_choices


class UploadForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV table or an Excel workbook (XLSX) as the source publishes it."),
    )
    mapping = forms.FileField(
        label=_("Mapping file (TOML)"),
        required=False,
        help_text=_("Only for “my own mapping”: how to read the file's columns."),
    )
    replace = forms.BooleanField(
        label=_("Replace the current figures: this file is a corrected revision"),
        required=False,
        help_text=_(
            "For a file covering periods already imported from the same source: its figures "
            "replace those (which are kept in history, and come back if it is rolled back)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = list(format_choices())
        choices.append((CUSTOM_FORMAT, _("My own mapping (upload it below)")))
        format_field = self.fields["format"]
        assert isinstance(format_field, forms.ChoiceField)  # noqa: S101 (declared above)
        format_field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("format") == CUSTOM_FORMAT and not data.get("mapping"):
            self.add_error("mapping", _("Give the mapping file (TOML) of your own format."))
        return data
