"""The screening questionnaire, as data: each question, its answers, and for each answer that
signals a risk the flag it raises (kind, urgency, required action).

Short enough to be asked in a minute or two at the desk. "Not asked / declined to answer"
(`NOT_ASKED`) is a valid answer to every question and raises nothing. A question is either a
single choice (the answer is one choice's code) or a checklist (the answer is a list of item
codes; an empty list, or ["none"], says that none applies). Only the questions and answers
below are accepted (`screening.services.screening_record` checks every answer against them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from mirador.returns.models import AlertReason

NOT_ASKED = "not-asked"
# In a checklist, the explicit "none of these" (the form's checkbox); stored as an empty list.
NONE = "none"

Answer = str | list[str]


class FlagKind(models.TextChoices):
    HEALTH = "health", _("Health")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial")
    PROTECTION = "protection", _("Protection")
    TRAFFICKING = "trafficking", _("Trafficking")
    DISABILITY = "disability", _("Disability")
    PREGNANCY = "pregnancy", _("Pregnancy")
    SPECIAL_NEEDS = "special-needs", _("Special needs")


class Urgency(models.TextChoices):
    NOW = "now", _("Now")
    TODAY = "today", _("Today")
    FOLLOW_UP = "follow-up", _("Follow-up")


# Most urgent first, for ordering lists.
URGENCY_RANK = {Urgency.NOW: 0, Urgency.TODAY: 1, Urgency.FOLLOW_UP: 2}


@dataclass(frozen=True)
class Action:
    code: str
    text: Promise


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    urgency: Urgency
    action: Action
    # A ProtectionAlert reason (returns.AlertReason) this answer raises as well.
    alert: str = ""


@dataclass(frozen=True)
class Choice:
    code: str
    label: Promise
    flag: Flag | None = None


@dataclass(frozen=True)
class Question:
    code: str
    label: Promise
    choices: tuple[Choice, ...]
    # A checklist: any number of its choices may be checked.
    multiple: bool = False
    help_text: Promise | str = ""
    choice_codes: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "choice_codes", frozenset(c.code for c in self.choices))

    def choice(self, code: str) -> Choice:
        return next(choice for choice in self.choices if choice.code == code)


# --- required actions ---------------------------------------------------------------------

MEDICAL_CARE_NOW = Action("medical-care-now", _("Medical care before leaving the centre"))
MEDICAL_CHECK = Action("medical-check", _("Medical check at the centre today"))
INJURY_CARE = Action("injury-care", _("Injuries seen by health staff before the trip home"))
MEDICATION = Action(
    "medication", _("Medication for the trip home and referral to a health centre near home")
)
PSYCHOSOCIAL_FIRST_AID = Action("psychosocial-first-aid", _("Psychosocial first aid"))
MENTAL_HEALTH_NOW = Action(
    "mental-health-now",
    _("Mental health care before leaving the centre; do not leave the person alone"),
)
VIOLENCE_CARE = Action(
    "violence-care", _("Confidential medical and psychosocial care for a survivor of violence")
)
SEXUAL_VIOLENCE_CARE = Action(
    "sexual-violence-care",
    _("Confidential care for sexual violence now (emergency care within 72 hours)"),
)
PROTECTION_ASSESSMENT = Action(
    "protection-assessment", _("Protection assessment before the person travels home")
)
TRAFFICKING_REFERRAL = Action(
    "trafficking-referral",
    _("Protection officers take the case now; do not send the person home yet"),
)
ACCESSIBLE_TRANSPORT = Action("accessible-transport", _("Accessible transport home"))
ACCESSIBLE_COMMUNICATION = Action(
    "accessible-communication", _("Accessible communication and a companion at the centre")
)
PRENATAL_CHECK = Action("prenatal-check", _("Prenatal check"))
PRENATAL_CARE_NOW = Action(
    "prenatal-care-now", _("Medical care for the pregnancy before leaving the centre")
)
OLDER_PERSON_CARE = Action(
    "older-person-care", _("Seat, water and food first; accompany the older person")
)
INTERPRETER = Action(
    "interpreter", _("Find an interpreter (Indigenous or other language) before going on")
)
INFANT_CARE = Action("infant-care", _("Baby care kit and a quiet place to feed the baby"))
LODGING = Action("lodging", _("Lodging for the night, or transport to a shelter"))

_PROTECTION_RISK = AlertReason.PROTECTION_RISK
_TRAFFICKING_INDICATORS = AlertReason.TRAFFICKING_INDICATORS


def _flag(kind: FlagKind, urgency: Urgency, action: Action, alert: str = "") -> Flag:
    return Flag(kind=kind, urgency=urgency, action=action, alert=alert)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "medical_care",
        _("Does the person need medical care now?"),
        (
            Choice("no", _("No")),
            Choice(
                "not-urgent",
                _("Yes, not urgent"),
                _flag(FlagKind.HEALTH, Urgency.TODAY, MEDICAL_CHECK),
            ),
            Choice(
                "urgent",
                _("Yes, urgent"),
                _flag(FlagKind.HEALTH, Urgency.NOW, MEDICAL_CARE_NOW),
            ),
        ),
    ),
    Question(
        "health_conditions",
        _("Injuries, or an illness that needs medication?"),
        (
            Choice("injury", _("Injury"), _flag(FlagKind.HEALTH, Urgency.TODAY, INJURY_CARE)),
            Choice(
                "chronic-illness",
                _("Chronic illness needing medication"),
                _flag(FlagKind.HEALTH, Urgency.FOLLOW_UP, MEDICATION),
            ),
        ),
        multiple=True,
    ),
    Question(
        "distress",
        _("Signs of acute distress?"),
        (
            Choice("no", _("No")),
            Choice(
                "yes",
                _("Yes (panic, confusion, cannot stop crying)"),
                _flag(FlagKind.PSYCHOSOCIAL, Urgency.NOW, PSYCHOSOCIAL_FIRST_AID),
            ),
            Choice(
                "self-harm",
                _("Talks of harming themselves"),
                _flag(FlagKind.PSYCHOSOCIAL, Urgency.NOW, MENTAL_HEALTH_NOW),
            ),
        ),
        help_text=_("What the officer observes; no need to ask."),
    ),
    Question(
        "violence",
        _("Violence suffered during the journey or in detention?"),
        (
            Choice("no", _("No")),
            Choice(
                "yes",
                _("Yes"),
                _flag(FlagKind.PROTECTION, Urgency.TODAY, VIOLENCE_CARE),
            ),
            Choice(
                "sexual",
                _("Yes, sexual violence"),
                _flag(FlagKind.PROTECTION, Urgency.NOW, SEXUAL_VIOLENCE_CARE),
            ),
        ),
    ),
    Question(
        "fear_of_return",
        _("Afraid to return home, or threatened?"),
        (
            Choice("no", _("No")),
            Choice(
                "fear",
                _("Afraid to return home"),
                _flag(FlagKind.PROTECTION, Urgency.TODAY, PROTECTION_ASSESSMENT, _PROTECTION_RISK),
            ),
            Choice(
                "threats",
                _("Threats received"),
                _flag(FlagKind.PROTECTION, Urgency.NOW, PROTECTION_ASSESSMENT, _PROTECTION_RISK),
            ),
        ),
    ),
    Question(
        "trafficking",
        _("Trafficking indicators"),
        tuple(
            Choice(
                code,
                label,
                _flag(
                    FlagKind.TRAFFICKING,
                    Urgency.NOW,
                    TRAFFICKING_REFERRAL,
                    _TRAFFICKING_INDICATORS,
                ),
            )
            for code, label in (
                ("deceived", _("Deceived about the work or its conditions")),
                ("documents-withheld", _("Documents withheld by someone else")),
                ("debt", _("Owes a debt to a recruiter or smuggler")),
                ("not-free", _("Was not free to leave")),
                ("forced-work", _("Forced work")),
                ("sexual-exploitation", _("Sexual exploitation")),
            )
        ),
        multiple=True,
        help_text=_("Any one checked sends the case to the protection officers."),
    ),
    Question(
        "disability",
        _("Disability"),
        (
            Choice(
                "mobility",
                _("Physical or mobility"),
                _flag(FlagKind.DISABILITY, Urgency.TODAY, ACCESSIBLE_TRANSPORT),
            ),
            Choice(
                "visual",
                _("Visual"),
                _flag(FlagKind.DISABILITY, Urgency.TODAY, ACCESSIBLE_COMMUNICATION),
            ),
            Choice(
                "hearing",
                _("Hearing or speech"),
                _flag(FlagKind.DISABILITY, Urgency.TODAY, ACCESSIBLE_COMMUNICATION),
            ),
            Choice(
                "intellectual",
                _("Intellectual or psychosocial"),
                _flag(FlagKind.DISABILITY, Urgency.TODAY, ACCESSIBLE_COMMUNICATION),
            ),
        ),
        multiple=True,
    ),
    Question(
        "pregnancy",
        _("Pregnant?"),
        (
            Choice("no", _("No")),
            Choice("yes", _("Yes"), _flag(FlagKind.PREGNANCY, Urgency.TODAY, PRENATAL_CHECK)),
            Choice(
                "complications",
                _("Yes, with pain, bleeding or labour"),
                _flag(FlagKind.PREGNANCY, Urgency.NOW, PRENATAL_CARE_NOW),
            ),
        ),
    ),
    Question(
        "special_needs",
        _("Other special needs"),
        (
            Choice(
                "older-person",
                _("Older person"),
                _flag(FlagKind.SPECIAL_NEEDS, Urgency.TODAY, OLDER_PERSON_CARE),
            ),
            Choice(
                "interpreter",
                _("Needs an interpreter (Indigenous or other language)"),
                _flag(FlagKind.SPECIAL_NEEDS, Urgency.NOW, INTERPRETER),
            ),
            Choice(
                "infant",
                _("Travelling with a baby"),
                _flag(FlagKind.SPECIAL_NEEDS, Urgency.TODAY, INFANT_CARE),
            ),
            Choice(
                "no-place-to-stay",
                _("Nowhere to stay tonight"),
                _flag(FlagKind.SPECIAL_NEEDS, Urgency.TODAY, LODGING),
            ),
        ),
        multiple=True,
    ),
)

QUESTIONS_BY_CODE: Mapping[str, Question] = {question.code: question for question in QUESTIONS}
ACTIONS: Mapping[str, Action] = {
    choice.flag.action.code: choice.flag.action
    for question in QUESTIONS
    for choice in question.choices
    if choice.flag is not None
}

NOT_ASKED_LABEL = _("Not asked / declined to answer")
NONE_LABEL = _("None of these")
UNKNOWN_QUESTION = _("Unknown question.")
UNKNOWN_ANSWER = _("Unknown answer: %(value)s.")
ONE_ANSWER_EXPECTED = _("Give one answer.")
LIST_EXPECTED = _("Give a list of the items that apply.")
NONE_WITH_ITEMS = _("“None of these” cannot go with items checked.")


@dataclass(frozen=True)
class RaisedFlag:
    """A flag that a set of answers calls for; `key` identifies it among an arrival's flags."""

    question: str
    flag: Flag

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.question, self.flag.action.code, self.flag.urgency)


def answer_errors(answers: Mapping[str, object]) -> tuple[dict[str, Answer], dict[str, str]]:
    """The answers checked and normalised (every question present; a checklist's items
    sorted, without repeats), and the errors by question code."""
    errors: dict[str, str] = {}
    clean: dict[str, Answer] = {question.code: NOT_ASKED for question in QUESTIONS}
    for code, value in answers.items():
        question = QUESTIONS_BY_CODE.get(code)
        if question is None:
            errors[code] = str(UNKNOWN_QUESTION)
            continue
        if value is None or value == NOT_ASKED:
            continue
        if not question.multiple:
            if not isinstance(value, str):
                errors[code] = str(ONE_ANSWER_EXPECTED)
            elif value not in question.choice_codes:
                errors[code] = str(UNKNOWN_ANSWER % {"value": value})
            else:
                clean[code] = value
            continue
        if isinstance(value, str) or not isinstance(value, Sequence):
            errors[code] = str(LIST_EXPECTED)
            continue
        items = [str(item) for item in value]
        unknown = [item for item in items if item not in question.choice_codes | {NONE}]
        if unknown:
            errors[code] = str(UNKNOWN_ANSWER % {"value": unknown[0]})
        elif NONE in items and len(set(items)) > 1:
            errors[code] = str(NONE_WITH_ITEMS)
        else:
            clean[code] = sorted(set(items) - {NONE})
    return clean, errors


def flags_for(answers: Mapping[str, Answer]) -> list[RaisedFlag]:
    """The flags that normalised answers raise, one per (question, action, urgency)."""
    raised: dict[tuple[str, str, str], RaisedFlag] = {}
    for question in QUESTIONS:
        value = answers.get(question.code, NOT_ASKED)
        if value == NOT_ASKED:
            continue
        codes = value if isinstance(value, list) else [value]
        for code in codes:
            flag = question.choice(code).flag
            if flag is not None:
                entry = RaisedFlag(question=question.code, flag=flag)
                raised.setdefault(entry.key, entry)
    return list(raised.values())


def action_text(code: str) -> str:
    action = ACTIONS.get(code)
    return str(action.text) if action else code
