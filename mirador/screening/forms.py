"""The screening form, built from the questionnaire: what the page's radio groups and
checkboxes post, turned into answers for `screening_record`, and the state the template
shows (which box is checked, the error of each question)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict

from mirador.screening.questionnaire import (
    NONE,
    NOT_ASKED,
    QUESTIONS,
    Answer,
)


def answers_from_post(data: QueryDict) -> dict[str, Answer]:
    """A radio group posts one code ("not-asked" is preselected); a checklist posts the
    boxes checked: none checked means not asked, "none" that none applies. Unknown codes
    are passed on, for the service to refuse by question."""
    answers: dict[str, Answer] = {}
    for question in QUESTIONS:
        if question.multiple:
            items = data.getlist(question.code)
            answers[question.code] = items if items else NOT_ASKED
        else:
            answers[question.code] = data.get(question.code) or NOT_ASKED
    return answers


def form_questions(
    answers: Mapping[str, object] | None, errors: Mapping[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """Each question with its choices marked checked from `answers` (stored or posted)."""
    answers = answers or {}
    errors = errors or {}
    shown = []
    for question in QUESTIONS:
        value = answers.get(question.code, NOT_ASKED)
        if question.multiple:
            checked = set(value) if isinstance(value, list) else set()
            none_checked = isinstance(value, list) and (not value or value == [NONE])
        else:
            checked = {value} if isinstance(value, str) else set()
            none_checked = False
        shown.append(
            {
                "code": question.code,
                "label": question.label,
                "help_text": question.help_text,
                "multiple": question.multiple,
                "errors": errors.get(question.code, []),
                "none_checked": none_checked,
                "not_asked_checked": value == NOT_ASKED or not checked,
                "choices": [
                    {
                        "code": choice.code,
                        "label": choice.label,
                        "checked": choice.code in checked,
                        "urgent": choice.flag is not None and choice.flag.urgency == "now",
                    }
                    for choice in question.choices
                ],
            }
        )
    return shown
