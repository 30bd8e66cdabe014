"""Recording screenings: each risky answer raises its flag and required action, harmless
answers raise nothing, answers are checked against the questionnaire, recording is
idempotent, trafficking indicators restrict the record and alert protection, a minor's
flags are restricted; closing flags."""

from __future__ import annotations

from typing import Any

import pytest

from mirador.accounts.models import User
from mirador.core.errors import NotFoundError, ValidationFailedError
from mirador.core.models import AuditEntry
from mirador.people.models import Person
from mirador.returns.models import AlertReason, Arrival, ProtectionAlert
from mirador.returns.selectors import arrival_get
from mirador.screening.models import FlagStatus, RiskFlag, Screening
from mirador.screening.questionnaire import (
    NONE_WITH_ITEMS,
    NOT_ASKED,
    QUESTIONS,
    UNKNOWN_QUESTION,
)
from mirador.screening.services import (
    NOTE_REQUIRED,
    SCREENING_OBJECT_TYPE,
    risk_flag_close,
    screening_record,
)

pytestmark = pytest.mark.django_db

Users = dict[str, User]

# (question, answer) -> (kind, urgency, action code): written out here, not read from the
# questionnaire, so that a change to it shows up as a failing test.
RISKY_ANSWERS = [
    ("medical_care", "urgent", "health", "now", "medical-care-now"),
    ("medical_care", "not-urgent", "health", "today", "medical-check"),
    ("health_conditions", ["injury"], "health", "today", "injury-care"),
    ("health_conditions", ["chronic-illness"], "health", "follow-up", "medication"),
    ("distress", "yes", "psychosocial", "now", "psychosocial-first-aid"),
    ("distress", "self-harm", "psychosocial", "now", "mental-health-now"),
    ("violence", "yes", "protection", "today", "violence-care"),
    ("violence", "sexual", "protection", "now", "sexual-violence-care"),
    ("fear_of_return", "fear", "protection", "today", "protection-assessment"),
    ("fear_of_return", "threats", "protection", "now", "protection-assessment"),
    ("trafficking", ["documents-withheld"], "trafficking", "now", "trafficking-referral"),
    ("disability", ["mobility"], "disability", "today", "accessible-transport"),
    ("disability", ["hearing"], "disability", "today", "accessible-communication"),
    ("pregnancy", "yes", "pregnancy", "today", "prenatal-check"),
    ("pregnancy", "complications", "pregnancy", "now", "prenatal-care-now"),
    ("special_needs", ["older-person"], "special-needs", "today", "older-person-care"),
    ("special_needs", ["interpreter"], "special-needs", "now", "interpreter"),
]

HARMLESS = {
    "medical_care": "no",
    "health_conditions": [],
    "distress": "no",
    "violence": "no",
    "fear_of_return": "no",
    "trafficking": ["none"],
    "disability": [],
    "pregnancy": "no",
    "special_needs": [],
}


def _flags(arrival: Arrival) -> list[tuple[str, str, str, str]]:
    return sorted(
        (flag.kind, flag.urgency, flag.action, flag.status)
        for flag in RiskFlag.objects.filter(arrival=arrival)
    )


@pytest.mark.parametrize(("question", "answer", "kind", "urgency", "action"), RISKY_ANSWERS)
def test_each_risky_answer_raises_its_flag_with_the_required_action(
    users: Users,
    adult: Arrival,
    question: str,
    answer: object,
    kind: str,
    urgency: str,
    action: str,
) -> None:
    result = screening_record(
        actor=users["protection.hn"], arrival=adult, answers={question: answer}
    )

    assert [(f.kind, f.urgency, f.action) for f in result.raised] == [(kind, urgency, action)]
    assert result.raised[0].action_text  # a sentence, not the code
    assert result.raised[0].action_text != action


def test_harmless_answers_raise_nothing(users: Users, adult: Arrival) -> None:
    result = screening_record(actor=users["officer.hn"], arrival=adult, answers=HARMLESS)

    assert result.raised == []
    assert not RiskFlag.objects.filter(arrival=adult).exists()
    assert not ProtectionAlert.objects.filter(arrival=adult).exists()
    assert Screening.objects.get(arrival=adult).answers["trafficking"] == []


def test_not_asked_is_a_valid_answer_everywhere_and_raises_nothing(
    users: Users, adult: Arrival
) -> None:
    answers = {question.code: NOT_ASKED for question in QUESTIONS}

    result = screening_record(actor=users["officer.hn"], arrival=adult, answers=answers)

    assert result.raised == []
    assert result.screening.answers == answers


def test_an_unknown_question_is_refused_naming_it(users: Users, adult: Arrival) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        screening_record(
            actor=users["officer.hn"], arrival=adult, answers={"favourite_colour": "blue"}
        )

    assert caught.value.details["fields"] == {"favourite_colour": [str(UNKNOWN_QUESTION)]}
    assert not Screening.objects.filter(arrival=adult).exists()


def test_unknown_answers_are_refused_naming_each_question(users: Users, adult: Arrival) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        screening_record(
            actor=users["officer.hn"],
            arrival=adult,
            answers={
                "medical_care": "maybe",
                "trafficking": ["kidnapped"],
                "pregnancy": ["yes"],
                "disability": "mobility",
                "distress": "no",
            },
        )

    fields: Any = caught.value.details["fields"]
    assert sorted(fields) == ["disability", "medical_care", "pregnancy", "trafficking"]
    assert "maybe" in fields["medical_care"][0]
    assert "kidnapped" in fields["trafficking"][0]


def test_none_of_these_cannot_go_with_items_checked(users: Users, adult: Arrival) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        screening_record(
            actor=users["officer.hn"], arrival=adult, answers={"disability": ["none", "visual"]}
        )

    assert caught.value.details["fields"] == {"disability": [str(NONE_WITH_ITEMS)]}


def test_the_same_answers_twice_raise_nothing_new(users: Users, adult: Arrival) -> None:
    answers = {"medical_care": "urgent", "pregnancy": "yes", "fear_of_return": "fear"}
    first = screening_record(actor=users["officer.hn"], arrival=adult, answers=answers)

    second = screening_record(actor=users["officer.hn"], arrival=adult, answers=answers)

    assert len(first.raised) == 3
    assert second.raised == [] and second.closed == []
    assert RiskFlag.objects.filter(arrival=adult).count() == 3
    assert ProtectionAlert.objects.filter(arrival=adult).count() == 1
    assert Screening.objects.filter(arrival=adult).count() == 1


def test_changed_answers_close_open_flags_that_no_longer_apply_and_raise_new_ones(
    users: Users, adult: Arrival
) -> None:
    officer = users["officer.hn"]
    screening_record(
        actor=officer, arrival=adult, answers={"medical_care": "not-urgent", "pregnancy": "yes"}
    )

    result = screening_record(
        actor=officer, arrival=adult, answers={"medical_care": "urgent", "pregnancy": "yes"}
    )

    assert [flag.action for flag in result.raised] == ["medical-care-now"]
    assert [flag.action for flag in result.closed] == ["medical-check"]
    assert result.closed[0].no_longer_applies and result.closed[0].closed_by == officer
    assert _flags(adult) == [
        ("health", "now", "medical-care-now", "open"),
        ("health", "today", "medical-check", "done"),
        ("pregnancy", "today", "prenatal-check", "open"),
    ]


def test_a_flag_already_done_is_not_raised_again_nor_closed_again(
    users: Users, adult: Arrival
) -> None:
    officer = users["officer.hn"]
    flag = screening_record(actor=officer, arrival=adult, answers={"pregnancy": "yes"}).raised[0]
    risk_flag_close(actor=officer, flag=flag, note="Seen by the centre's nurse.")

    again = screening_record(actor=officer, arrival=adult, answers={"pregnancy": "yes"})
    changed = screening_record(actor=officer, arrival=adult, answers={"pregnancy": "no"})

    assert again.raised == [] and changed.closed == []
    flag.refresh_from_db()
    assert flag.note == "Seen by the centre's nurse." and not flag.no_longer_applies


def test_a_risk_signalled_again_after_it_no_longer_applied_raises_a_new_flag(
    users: Users, adult: Arrival
) -> None:
    officer = users["officer.hn"]
    screening_record(actor=officer, arrival=adult, answers={"distress": "yes"})
    screening_record(actor=officer, arrival=adult, answers={"distress": "no"})

    result = screening_record(actor=officer, arrival=adult, answers={"distress": "yes"})

    assert [flag.action for flag in result.raised] == ["psychosocial-first-aid"]
    assert RiskFlag.objects.filter(arrival=adult, status=FlagStatus.OPEN).count() == 1


def test_trafficking_indicators_restrict_the_record_and_alert_protection(
    users: Users, adult: Arrival
) -> None:
    officer = users["officer.hn"]

    result = screening_record(
        actor=officer, arrival=adult, answers={"trafficking": ["debt", "not-free"]}
    )

    assert result.referred_to_protection and result.restricted_from_actor
    [flag] = result.raised
    assert flag.kind == "trafficking" and flag.is_restricted
    assert Person.objects.get(pk=adult.person_id).is_trafficking_victim
    alert = ProtectionAlert.objects.get(arrival=adult)
    assert alert.reason == AlertReason.TRAFFICKING_INDICATORS and alert.country_id == "HN"
    with pytest.raises(NotFoundError):
        arrival_get(user=officer, arrival_id=adult.pk)
    assert arrival_get(user=users["protection.hn"], arrival_id=adult.pk) == adult


def test_fear_of_return_or_threats_alert_protection(users: Users, adult: Arrival) -> None:
    result = screening_record(
        actor=users["officer.hn"], arrival=adult, answers={"fear_of_return": "threats"}
    )

    assert result.referred_to_protection and not result.restricted_from_actor
    alert = ProtectionAlert.objects.get(arrival=adult)
    assert alert.reason == AlertReason.PROTECTION_RISK
    assert not result.raised[0].is_restricted


def test_a_minors_flags_are_restricted(users: Users, child: Arrival) -> None:
    result = screening_record(
        actor=users["protection.hn"],
        arrival=child,
        answers={"medical_care": "not-urgent", "distress": "yes"},
    )

    assert len(result.raised) == 2
    assert all(flag.is_restricted for flag in result.raised)


def test_a_reception_officer_cannot_screen_a_child(users: Users, child: Arrival) -> None:
    with pytest.raises(NotFoundError):
        screening_record(actor=users["officer.hn"], arrival=child, answers={"distress": "yes"})


def test_each_screening_of_an_arrival_is_in_the_audit_log_without_the_answers(
    users: Users, adult: Arrival
) -> None:
    officer = users["officer.hn"]
    screening_record(actor=officer, arrival=adult, answers={"medical_care": "no"})
    screening_record(
        actor=officer, arrival=adult, answers={"medical_care": "urgent", "violence": "sexual"}
    )

    entries = list(
        AuditEntry.objects.filter(object_type=SCREENING_OBJECT_TYPE).order_by("at", "id")
    )
    assert [entry.action for entry in entries] == ["create", "update"]
    assert entries[1].details["questions"] == ["medical_care", "violence"]
    assert len(entries[1].details["raised"]) == 2
    assert "sexual" not in str(entries[1].details) and "urgent" not in str(entries[1].details)


def test_closing_a_flag_records_who_when_and_the_note(users: Users, adult: Arrival) -> None:
    officer = users["officer.hn"]
    [flag] = screening_record(
        actor=officer, arrival=adult, answers={"special_needs": ["no-place-to-stay"]}
    ).raised

    closed = risk_flag_close(actor=officer, flag=flag, note="")

    assert closed.status == FlagStatus.DONE and closed.closed_by == officer
    assert closed.closed_at is not None


def test_closing_a_restricted_flag_needs_a_note(users: Users, child: Arrival) -> None:
    protection = users["protection.hn"]
    [flag] = screening_record(
        actor=protection, arrival=child, answers={"medical_care": "urgent"}
    ).raised

    with pytest.raises(ValidationFailedError) as caught:
        risk_flag_close(actor=protection, flag=flag, note="  ")
    risk_flag_close(actor=protection, flag=flag, note="Taken to the hospital by DINAF.")

    assert caught.value.details["fields"] == {"note": [str(NOTE_REQUIRED)]}
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DONE


def test_an_officer_of_another_country_cannot_screen_or_close(users: Users, adult: Arrival) -> None:
    [flag] = screening_record(
        actor=users["officer.hn"], arrival=adult, answers={"pregnancy": "yes"}
    ).raised

    with pytest.raises(NotFoundError):
        screening_record(actor=users["officer.gt"], arrival=adult, answers={"pregnancy": "no"})
    with pytest.raises(NotFoundError):
        risk_flag_close(actor=users["officer.gt"], flag=flag, note="x")
    assert RiskFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN
