"""The comparisons catch how names and dates of the region are written differently: each
hand-made pair lands on the level meant for it, with the weight the trained model gives that
level (log2 of m/u, read from the model)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from mirador.linkage import engine

BASE = {
    "given_names": "Ana Gabriela",
    "first_surname": "López",
    "second_surname": "Mejía",
    "birth_year": 1990,
    "birth_month": 3,
    "birth_day": 7,
    "sex": "F",
}


def level(model: dict[str, Any], comparison: str, label: str) -> tuple[int, float]:
    """The comparison vector value and match weight of a level of the model."""
    (found,) = [c for c in model["comparisons"] if c["output_column_name"] == comparison]
    levels = [lvl for lvl in found["comparison_levels"] if not lvl.get("is_null_level")]
    for index, lvl in enumerate(levels):
        if lvl["label_for_charts"] == label:
            weight = math.log2(lvl["m_probability"] / lvl["u_probability"])
            return len(levels) - 1 - index, weight
    raise AssertionError(f"no level {label!r}")


def score(model: dict[str, Any], background: pd.DataFrame, **changes: object) -> pd.Series | None:
    """The pair of BASE and BASE with `changes`, scored among other records (term frequencies
    are computed from the records scored, so a pair alone would have every name frequent)."""
    pair = pd.DataFrame([{"record_id": "l", **BASE}, {"record_id": "r", **{**BASE, **changes}}])
    records = pd.concat([background, pair], ignore_index=True)
    pairs = engine.dedupe(records, model=model, threshold=0.0001).pairs
    found = pairs[pairs["record_id_l"].isin(["l", "r"]) & pairs["record_id_r"].isin(["l", "r"])]
    return found.iloc[0] if len(found) else None


@pytest.fixture(scope="module")
def background(returnees: pd.DataFrame) -> pd.DataFrame:
    return returnees.drop(columns=["person_key"]).head(300)


@pytest.mark.parametrize(
    ("changes", "comparison", "label"),
    [
        (
            {"first_surname": "Mejía", "second_surname": "López"},
            "surnames",
            "Surnames swapped",
        ),
        (
            {"first_surname": "Mejía", "second_surname": ""},
            "surnames",
            "First surname dropped on one side (the other's second surname)",
        ),
        (
            {"given_names": "López", "first_surname": "Ana", "second_surname": ""},
            "given_names",
            "Given name and surname swapped",
        ),
        ({"birth_month": 7, "birth_day": 3}, "birth_date", "Day and month swapped"),
        ({"birth_day": None}, "birth_date", "Partial dates that agree"),
        ({"birth_year": 1991}, "birth_date", "One digit wrong"),
        ({"given_names": "Gabriela"}, "given_names", "A part of a compound name in common"),
        ({"given_names": "Ana Gavriela"}, "given_names", "First given name equal"),
    ],
)
def test_each_variant_lands_on_its_level_with_the_models_weight(
    trained_model: dict[str, Any],
    background: pd.DataFrame,
    changes: dict[str, object],
    comparison: str,
    label: str,
) -> None:
    pair = score(trained_model, background, **changes)
    assert pair is not None, "the blocking rules must bring the pair together"
    gamma, weight = level(trained_model, comparison, label)
    assert pair[f"level_{comparison}"] == gamma
    if not any(
        lvl.get("tf_adjustment_column")
        for c in trained_model["comparisons"]
        if c["output_column_name"] == comparison
        for lvl in c["comparison_levels"]
        if lvl["label_for_charts"] == label
    ):
        assert pair[f"weight_{comparison}"] == pytest.approx(weight, abs=0.01)


@pytest.mark.parametrize(
    "changes",
    [
        {"first_surname": "Mejía", "second_surname": "López"},
        {"second_surname": ""},
        {"first_surname": "Mejía", "second_surname": ""},
        {"birth_month": 7, "birth_day": 3},
        {"given_names": "Ana Gaby", "birth_day": None},
    ],
)
def test_the_same_person_written_differently_is_a_match(
    trained_model: dict[str, Any], background: pd.DataFrame, changes: dict[str, object]
) -> None:
    pair = score(trained_model, background, **changes)
    assert pair is not None
    assert pair["match_probability"] >= engine.DEFAULT_THRESHOLD


def test_a_swapped_surname_weighs_more_than_different_surnames(
    trained_model: dict[str, Any],
) -> None:
    _, swapped = level(trained_model, "surnames", "Surnames swapped")
    _, other = level(trained_model, "surnames", "All other comparisons")
    assert swapped > 0 > other


def test_a_different_person_with_the_same_surnames_is_not_a_match(
    trained_model: dict[str, Any], background: pd.DataFrame
) -> None:
    pair = score(trained_model, background, given_names="Ana Wendy", birth_year=1975, birth_day=21)
    assert pair is not None, "same first name and surname: blocked together"
    assert pair["match_probability"] < 0.5
