"""Private linkage, matching on encodings alone: two countries with the same key and schema find
their shared persons; another key finds nobody; the Dice on packed bits is the Dice of the sets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirador.linkage import engine, privacy, privacy_synthetic

Countries = tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]


@pytest.fixture(scope="module")
def countries() -> Countries:
    return privacy_synthetic.country_files(900, seed=17)


@pytest.fixture(scope="module")
def key() -> privacy.LinkageKey:
    return privacy.key_parse(privacy.key_generate())


@pytest.fixture(scope="module")
def encoded(
    countries: Countries, key: privacy.LinkageKey
) -> tuple[privacy.EncodedRecords, privacy.EncodedRecords]:
    return privacy.encode(countries[0], key=key), privacy.encode(countries[1], key=key)


def found(outcome: privacy.PrivateOutcome) -> set[tuple[str, str]]:
    return set(
        zip(
            outcome.pairs["record_id_l"].astype(str),
            outcome.pairs["record_id_r"].astype(str),
            strict=True,
        )
    )


def test_two_countries_with_the_same_key_find_their_shared_persons(
    countries: Countries, encoded: tuple[privacy.EncodedRecords, privacy.EncodedRecords]
) -> None:
    truth = countries[2]
    outcome = privacy.match(*encoded)
    pairs = found(outcome)
    hits = len(pairs & truth)
    assert len(truth) > 200
    assert hits / len(pairs) >= 0.97
    assert hits / len(truth) >= 0.9
    assert (outcome.pairs["match_probability"] >= privacy.DEFAULT_THRESHOLD).all()
    # Every record read is in the clusters, each once.
    clusters = outcome.clusters
    assert len(clusters) == len(countries[0]) + len(countries[1])
    linked = clusters.groupby("cluster_id")["record_id"].transform("size")
    assert (linked == clusters["cluster_size"]).all()


def test_the_regional_variants_still_match_after_encoding(key: privacy.LinkageKey) -> None:
    """Nickname, accents, particles, swapped surnames, day and month swapped: the engine's
    normalisation runs before encoding, so the same person is found."""
    left = pd.DataFrame(
        {
            "record_id": ["hn1", "hn2", "hn3"],
            "given_names": ["José Luis", "María de los Ángeles", "Francisco"],
            "first_surname": ["Hernández", "De León", "Mejía"],
            "second_surname": ["López", "Cruz", "Zelaya"],
            "birth_date": ["1990-03-07", "1985-11-20", "1979-05-02"],
            "sex": ["M", "F", "M"],
        }
    )
    right = pd.DataFrame(
        {
            "record_id": ["us1", "us2", "us3"],
            "given_names": ["Chepe Luis", "Maria Angeles", "Pancho"],
            "first_surname": ["Lopez", "Leon", "Zelaya"],
            "second_surname": ["Hernandez", "Cruz", "Mejia"],
            "birth_date": ["1990-07-03", "1985-11-20", "1979-02-05"],
            "sex": ["M", "F", "M"],
        }
    )
    records = privacy_synthetic.country_files(400, seed=3)
    # Enough other records for the model's estimation to have non-matches to learn from.
    left = pd.concat([left, records[0]], ignore_index=True)
    right = pd.concat([right, records[1]], ignore_index=True)
    outcome = privacy.match(privacy.encode(left, key=key), privacy.encode(right, key=key))
    assert {("hn1", "us1"), ("hn2", "us2"), ("hn3", "us3")} <= found(outcome)


def test_another_key_matches_nothing_and_is_refused(
    countries: Countries, encoded: tuple[privacy.EncodedRecords, privacy.EncodedRecords]
) -> None:
    other = privacy.encode(countries[1], key=privacy.key_parse(privacy.key_generate()))
    with pytest.raises(privacy.PrivateLinkageError) as refused:
        privacy.match(encoded[0], other)
    assert refused.value.code == "key_mismatch"
    # Compared anyway, the filters of one key say nothing of the other's.
    blind = privacy.match(encoded[0], other, check=False)
    assert len(blind.pairs) == 0


def test_another_schema_is_refused(
    countries: Countries,
    key: privacy.LinkageKey,
    encoded: tuple[privacy.EncodedRecords, privacy.EncodedRecords],
) -> None:
    schema = dataclasses.replace(privacy.EncodingSchema(), bucket_bits=8)
    other = privacy.encode(countries[1], key=key, schema=schema)
    with pytest.raises(privacy.PrivateLinkageError) as refused:
        privacy.match(encoded[0], other)
    assert refused.value.code == "schema_mismatch"


def test_a_run_over_the_pair_limit_is_refused_up_front(
    encoded: tuple[privacy.EncodedRecords, privacy.EncodedRecords],
) -> None:
    expected = privacy.candidate_count(encoded[0].blocks, encoded[1].blocks)
    pairs = sum(len(i) for i, _j in privacy.block_pairs(encoded[0].blocks, encoded[1].blocks))
    assert pairs == expected
    with pytest.raises(engine.TooManyPairsError) as refused:
        privacy.match(*encoded, max_pairs=expected - 1)
    assert refused.value.projected == expected


def test_block_pairs_are_every_pair_sharing_a_block() -> None:
    rng = np.random.default_rng(3)
    left = rng.integers(0, 6, size=40).astype(np.uint32)
    right = rng.integers(0, 6, size=30).astype(np.uint32)
    left[:3] = privacy.NO_BLOCK
    right[:2] = privacy.NO_BLOCK
    expected = {
        (i, j)
        for i in range(len(left))
        for j in range(len(right))
        if left[i] == right[j] and left[i] != privacy.NO_BLOCK
    }
    made: set[tuple[int, int]] = set()
    for i, j in privacy.block_pairs(left, right, chunk=7):
        made.update(zip(i.tolist(), j.tolist(), strict=True))
    assert made == expected


def pack_sets(sets: list[set[int]], bits: int) -> np.ndarray:
    rows = np.array([n for n, s in enumerate(sets) for _ in s], dtype=np.int64)
    positions = np.array([p for s in sets for p in sorted(s)], dtype=np.int64)
    return privacy.pack(rows, positions, len(sets), bits)


def set_dice(a: set[int], b: set[int]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


filter_sets = st.lists(st.sets(st.integers(0, 511), max_size=300), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(left=filter_sets, right=filter_sets)
def test_dice_on_packed_bits_is_the_dice_of_the_sets(
    left: list[set[int]], right: list[set[int]]
) -> None:
    a, b = pack_sets(left, 512), pack_sets(right, 512)
    i = np.repeat(np.arange(len(left)), len(right))
    j = np.tile(np.arange(len(right)), len(left))
    expected = np.array([set_dice(left[x], right[y]) for x, y in zip(i, j, strict=True)])
    computed = privacy.dice_pairs(a, b, i, j, chunk=5)
    assert np.allclose(computed, expected, atol=1e-6)
    for threshold in (0.3, 0.7):
        rows, columns, dice = privacy.dice_all(a, b, threshold, rows=3, columns=5)
        wanted = {
            (x, y): set_dice(left[x], right[y])
            for x in range(len(left))
            for y in range(len(right))
            if set_dice(left[x], right[y]) >= threshold and (left[x] or right[y])
        }
        got = dict(
            zip(zip(rows.tolist(), columns.tolist(), strict=True), dice.tolist(), strict=True)
        )
        assert got.keys() == wanted.keys()
        assert all(abs(got[pair] - wanted[pair]) < 1e-6 for pair in wanted)


def test_the_model_is_estimated_and_weighs_agreement_above_disagreement(
    encoded: tuple[privacy.EncodedRecords, privacy.EncodedRecords],
) -> None:
    outcome = privacy.match(*encoded)
    model = outcome.model
    m, u = np.asarray(model["m"]), np.asarray(model["u"])
    assert model["filters"] == ["given", "surnames", "birth", "document"]
    assert np.allclose(m.sum(axis=1), 1) and np.allclose(u.sum(axis=1), 1)
    # The highest Dice level is far more common among matches, the lowest among non-matches.
    assert (m[:, 0] / u[:, 0] > 10).all()
    assert (m[:, -1] / u[:, -1] < 1).all()
