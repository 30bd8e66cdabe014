"""Returnee records with the errors of real registries, for tests and benchmarks of linkage.

Built on the demo generator (mirador.people.demo), whose repeat returns are the same person
coming back: each record here carries `person_key`, the truth. A share of the records is
written the way a second clerk, or a record from the United States, would write it: a typo in
a given name, a nickname, a compound name cut to its first part, the second surname dropped,
the first surname dropped, the two surnames swapped, day and month swapped, the day or month
left out, a digit of the date wrong, accents lost, no document number.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

import pandas as pd

from mirador.people.demo import generate_returnees

NICKNAME_OF = {
    "José": "Chepe",
    "Francisco": "Pancho",
    "Guadalupe": "Lupe",
    "Antonio": "Toño",
    "Jesús": "Chucho",
    "Manuel": "Manolo",
}


def _typo(rand: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    position = rand.randrange(1, len(text) - 1)
    kind = rand.random()
    if kind < 0.4:  # a letter left out
        return text[:position] + text[position + 1 :]
    if kind < 0.7:  # two letters swapped
        return text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    return text[:position] + rand.choice("aeiourslnm") + text[position + 1 :]


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _errors() -> list[Callable[[random.Random, dict[str, object]], None]]:
    def typo_given(rand: random.Random, r: dict[str, object]) -> None:
        r["given_names"] = _typo(rand, str(r["given_names"]))

    def nickname(rand: random.Random, r: dict[str, object]) -> None:
        parts = str(r["given_names"]).split()
        r["given_names"] = " ".join(NICKNAME_OF.get(p, p) for p in parts)

    def first_given_only(rand: random.Random, r: dict[str, object]) -> None:
        r["given_names"] = str(r["given_names"]).split()[0]

    def drop_second_surname(rand: random.Random, r: dict[str, object]) -> None:
        r["second_surname"] = ""

    def drop_first_surname(rand: random.Random, r: dict[str, object]) -> None:
        if r["second_surname"]:
            r["first_surname"], r["second_surname"] = r["second_surname"], ""

    def swap_surnames(rand: random.Random, r: dict[str, object]) -> None:
        if r["second_surname"]:
            r["first_surname"], r["second_surname"] = r["second_surname"], r["first_surname"]

    def typo_surname(rand: random.Random, r: dict[str, object]) -> None:
        r["first_surname"] = _typo(rand, str(r["first_surname"]))

    def swap_day_month(rand: random.Random, r: dict[str, object]) -> None:
        if r["birth_day"] and r["birth_month"] and int(r["birth_day"]) <= 12:  # type: ignore[call-overload]
            r["birth_day"], r["birth_month"] = r["birth_month"], r["birth_day"]

    def partial_date(rand: random.Random, r: dict[str, object]) -> None:
        r["birth_day"] = None
        if rand.random() < 0.5:
            r["birth_month"] = None

    def no_accents(rand: random.Random, r: dict[str, object]) -> None:
        for key in ("given_names", "first_surname", "second_surname"):
            r[key] = _unaccented(str(r[key]))

    def typo_date(rand: random.Random, r: dict[str, object]) -> None:
        if rand.random() < 0.5 or not r["birth_day"]:
            r["birth_year"] = int(r["birth_year"]) + rand.choice((-1, 1))  # type: ignore[call-overload]
        else:
            day = int(r["birth_day"])  # type: ignore[call-overload]
            r["birth_day"] = day + 10 if day <= 18 else day - 10

    def no_document(rand: random.Random, r: dict[str, object]) -> None:
        r["document_number"] = ""

    return [
        typo_given,
        nickname,
        first_given_only,
        drop_second_surname,
        drop_first_surname,
        swap_surnames,
        typo_surname,
        swap_day_month,
        partial_date,
        typo_date,
        no_accents,
        no_document,
    ]


def returnee_records(
    count: int,
    *,
    seed: int = 7,
    repeat_share: float = 0.25,
    error_share: float = 0.8,
    max_errors: int = 2,
) -> pd.DataFrame:
    """`count` return records in the engine's input columns plus `person_key` (the truth).
    A record of a person seen before gets, with probability `error_share`, one to
    `max_errors` errors drawn from the list above."""
    rand = random.Random(seed)  # noqa: S311 — reproducible test data, not secrets
    errors = _errors()
    seen: set[int] = set()
    rows = []
    for index, returnee in enumerate(
        generate_returnees(count, seed=seed, repeat_share=repeat_share)
    ):
        person = returnee.person
        row: dict[str, object] = {
            "record_id": f"r{index}",
            "person_key": person.key,
            "given_names": person.given_names,
            "first_surname": person.first_surname,
            "second_surname": person.second_surname,
            "birth_year": person.birth_year,
            "birth_month": person.birth_month,
            "birth_day": person.birth_day,
            "sex": person.sex,
            "document_number": person.national_id or person.passport,
        }
        if person.key in seen and rand.random() < error_share:
            for error in rand.sample(errors, rand.randint(1, max_errors)):
                error(rand, row)
        seen.add(person.key)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("birth_year", "birth_month", "birth_day"):
        frame[column] = frame[column].astype("Int64")
    return frame


def true_pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    """Every pair of records (ordered ids) of the same person."""
    pairs: set[tuple[str, str]] = set()
    for ids in frame.groupby("person_key")["record_id"]:
        members = sorted(ids[1])
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pairs.add((a, b))
    return pairs
