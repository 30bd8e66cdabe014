"""Normalisation: how the engine reads names before comparing them."""

from __future__ import annotations

import pandas as pd

from mirador.linkage import engine


def prepared(**columns: object) -> pd.DataFrame:
    frame = pd.DataFrame({"record_id": ["a"], **{k: [v] for k, v in columns.items()}})
    return engine.prepare(frame)


def test_accents_case_and_punctuation_are_folded() -> None:
    row = prepared(given_names="  JOSÉ-Ángel ", first_surname="Núñez", second_surname="O'Brien")
    assert row.loc[0, "given_names"] == "jose angel"
    assert row.loc[0, "first_surname"] == "nunez"
    assert row.loc[0, "second_surname"] == "obrien"


def test_compound_given_names_are_split_and_particles_dropped() -> None:
    row = prepared(given_names="María de los Ángeles", first_surname="Paz")
    assert row.loc[0, "given_names"] == "maria angeles"
    assert row.loc[0, "given_1"] == "maria"
    assert row.loc[0, "given_2"] == "angeles"


def test_nicknames_become_the_name_they_stand_for() -> None:
    for nickname, name in [("Chepe", "jose"), ("Pancho", "francisco"), ("Lupe", "guadalupe")]:
        assert prepared(given_names=nickname).loc[0, "given_names"] == name
    assert prepared(given_names="Toño Chayo").loc[0, "given_names"] == "antonio rosario"
    assert engine.nicknames()["nacho"] == "ignacio"
    assert engine.nicknames()["memo"] == "guillermo"


def test_surname_particles_are_dropped_and_words_joined() -> None:
    assert prepared(first_surname="De la Cruz").loc[0, "first_surname"] == "cruz"
    assert prepared(first_surname="Del Cid").loc[0, "first_surname"] == "cid"


def test_both_surnames_written_in_the_first_field_are_split() -> None:
    row = prepared(given_names="Ana", first_surname="Hernández López")
    assert (row.loc[0, "first_surname"], row.loc[0, "second_surname"]) == ("hernandez", "lopez")


def test_a_birth_date_known_in_part_keeps_the_parts_known() -> None:
    frame = pd.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "given_names": ["x"] * 3,
            "birth_date": ["1998", "1998-03", "07/03/1998"],
        }
    )
    row = engine.prepare(frame)
    assert row["birth_year"].tolist() == [1998, 1998, 1998]
    assert row["birth_month"].isna().tolist() == [True, False, False]
    assert row.loc[2, "birth_day"] == 7
    assert row.loc[2, "birth_date_text"] == "19980307"


def test_spelling_variants_share_a_phonetic_key() -> None:
    keys = engine.phonetic_key(pd.Series(["vasquez", "basques", "velasquez", "belasques"]))
    assert keys[0] == keys[1]
    assert keys[2] == keys[3]
