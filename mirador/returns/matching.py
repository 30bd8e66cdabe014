"""Recognising a returnee who came back before: blocking keys and the reasons two identities
match. Pure functions; the selectors look the keys up in `MatchKey` by index.

A key is one of
- `doc:<number>`: a document number, letters and digits only, upper case;
- `name:<first given name>:<surname>`: for each surname, so that surnames written in the
  other order, or one of them dropped, still meet on one key.
Names are compared without accents, case, apostrophes or hyphens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.utils.translation import gettext_lazy as _

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")

REASON_DOCUMENT = "same-document"
REASON_GIVEN_NAMES = "same-given-names"
REASON_SURNAMES = "same-surnames"
REASON_SURNAMES_SWAPPED = "surnames-swapped"
REASON_SURNAME_DROPPED = "one-surname-dropped"
REASON_BIRTH_DATE = "same-birth-date"
REASON_BIRTH_DAY_MONTH_SWAPPED = "birth-day-month-swapped"
REASON_BIRTH_YEAR = "same-birth-year"
REASON_SEX = "same-sex"

REASON_LABELS = {
    REASON_DOCUMENT: _("Same document number"),
    REASON_GIVEN_NAMES: _("Same given names"),
    REASON_SURNAMES: _("Same surnames"),
    REASON_SURNAMES_SWAPPED: _("Same surnames in the other order"),
    REASON_SURNAME_DROPPED: _("Same surname, the other one missing"),
    REASON_BIRTH_DATE: _("Same date of birth"),
    REASON_BIRTH_DAY_MONTH_SWAPPED: _("Date of birth with day and month swapped"),
    REASON_BIRTH_YEAR: _("Same year of birth"),
    REASON_SEX: _("Same sex"),
}


# How much each reason says that two records are one person; candidates are shown best first.
REASON_WEIGHTS = {
    REASON_DOCUMENT: 8,
    REASON_GIVEN_NAMES: 3,
    REASON_SURNAMES: 3,
    REASON_SURNAMES_SWAPPED: 2,
    REASON_SURNAME_DROPPED: 1,
    REASON_BIRTH_DATE: 3,
    REASON_BIRTH_DAY_MONTH_SWAPPED: 2,
    REASON_BIRTH_YEAR: 1,
    REASON_SEX: 1,
}


def match_score(reasons: list[str]) -> int:
    return sum(REASON_WEIGHTS.get(reason, 0) for reason in reasons)


# Both are pure functions of a string, and a search compares the same few names again and
# again (the returnee's against each record sharing a key, and common names across
# searches): a process keeps the latest results.
@lru_cache(maxsize=8192)
def normalise_name(value: str) -> str:
    """'José-María D'Ávila' -> 'jose maria d avila'; non-Latin letters are kept."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", stripped.casefold()).split())


@lru_cache(maxsize=8192)
def normalise_document(value: str) -> str:
    return _NOT_ALNUM.sub("", value.upper())


@dataclass(frozen=True)
class Identity:
    given_names: str
    first_surname: str
    second_surname: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    sex: str
    document_numbers: tuple[str, ...] = ()


class IdentityLike(Protocol):
    """What matching reads of an identity: `Identity`, or a record's fields as
    people.selectors reads them (`IdentityFields`)."""

    @property
    def given_names(self) -> str: ...
    @property
    def first_surname(self) -> str: ...
    @property
    def second_surname(self) -> str: ...
    @property
    def birth_year(self) -> int | None: ...
    @property
    def birth_month(self) -> int | None: ...
    @property
    def birth_day(self) -> int | None: ...
    @property
    def sex(self) -> str: ...
    @property
    def document_numbers(self) -> tuple[str, ...]: ...


def blocking_keys(identity: Identity) -> set[str]:
    keys = {f"doc:{number}" for number in map(normalise_document, identity.document_numbers)}
    keys.discard("doc:")
    given = normalise_name(identity.given_names).split()
    first_given = given[0] if given else ""
    for surname in (identity.first_surname, identity.second_surname):
        normalised = normalise_name(surname)
        if normalised and first_given:
            keys.add(f"name:{first_given}:{normalised}"[:200])
    return keys


def _surname_reason(a: IdentityLike, b: IdentityLike) -> str | None:
    a1, a2 = normalise_name(a.first_surname), normalise_name(a.second_surname)
    b1, b2 = normalise_name(b.first_surname), normalise_name(b.second_surname)
    if (a1, a2) == (b1, b2):
        return REASON_SURNAMES
    if a2 and b2 and (a1, a2) == (b2, b1):
        return REASON_SURNAMES_SWAPPED
    if (not a2 or not b2) and ({a1, a2} - {""}) & ({b1, b2} - {""}):
        return REASON_SURNAME_DROPPED
    return None


def _birth_reason(a: IdentityLike, b: IdentityLike) -> str | None:
    if a.birth_year is None or a.birth_year != b.birth_year:
        return None
    full_a = (a.birth_month, a.birth_day)
    full_b = (b.birth_month, b.birth_day)
    if None not in full_a and full_a == full_b:
        return REASON_BIRTH_DATE
    if None not in full_a and None not in full_b and full_a == (b.birth_day, b.birth_month):
        return REASON_BIRTH_DAY_MONTH_SWAPPED
    return REASON_BIRTH_YEAR


def match_reasons(subject: IdentityLike, candidate: IdentityLike) -> list[str]:
    """Why `candidate` may be `subject`; empty when it is not a plausible match.

    Plausible means the same document number, or the same given names and surnames (in
    either order, or one dropped) with a compatible date of birth (same, day and month
    swapped, or the same year, or unknown on one side)."""
    reasons: list[str] = []
    documents = {normalise_document(n) for n in subject.document_numbers} - {""}
    same_document = bool(documents & {normalise_document(n) for n in candidate.document_numbers})
    if same_document:
        reasons.append(REASON_DOCUMENT)
    same_given = normalise_name(subject.given_names) == normalise_name(candidate.given_names)
    if same_given:
        reasons.append(REASON_GIVEN_NAMES)
    surnames = _surname_reason(subject, candidate)
    if surnames:
        reasons.append(surnames)
    birth = _birth_reason(subject, candidate)
    if birth:
        reasons.append(birth)
    if subject.sex == candidate.sex and subject.sex in ("F", "M"):
        reasons.append(REASON_SEX)
    birth_compatible = birth is not None or None in (subject.birth_year, candidate.birth_year)
    names_match = same_given and surnames is not None
    if same_document or (names_match and birth_compatible):
        return reasons
    return []
