"""Deduplication of generated returnees (the demo generator's repeat returns, written with the
errors of real registries): the recall and precision of the clusters, measured against the
generator's truth."""

from __future__ import annotations

import pandas as pd
import pytest

from mirador.linkage import engine, synthetic

# Measured on this set (1 500 records, seed 11): precision 1.0, recall 0.99; the margins
# leave room for a change of Splink's EM, not for a weaker design.
MIN_PRECISION = 0.98
MIN_RECALL = 0.96


def cluster_pairs(outcome: engine.LinkageOutcome) -> set[tuple[str, str]]:
    clusters = outcome.clusters.rename(columns={"cluster_id": "person_key"})
    return synthetic.true_pairs(clusters)


def test_dedupe_finds_the_repeat_returnees_despite_errors(
    returnees: pd.DataFrame, deduplicated: engine.LinkageOutcome
) -> None:
    truth = synthetic.true_pairs(returnees)
    found = cluster_pairs(deduplicated)
    hits = len(found & truth)
    assert len(truth) > 200
    assert hits / len(found) >= MIN_PRECISION
    assert hits / len(truth) >= MIN_RECALL


def test_every_record_is_in_exactly_one_cluster(
    returnees: pd.DataFrame, deduplicated: engine.LinkageOutcome
) -> None:
    clusters = deduplicated.clusters
    assert sorted(clusters["record_id"]) == sorted(returnees["record_id"])
    assert deduplicated.records == len(returnees)


def test_each_pair_carries_the_weight_of_each_comparison(
    deduplicated: engine.LinkageOutcome,
) -> None:
    pairs = deduplicated.pairs
    scored = pairs[pairs["match_weight"] != float("inf")]
    weights = engine.match_weight_columns(scored)
    assert {"weight_given_names", "weight_surnames", "weight_birth_date"} <= set(weights)
    prior = deduplicated.model["probability_two_random_records_match"]
    import math

    prior_weight = math.log2(prior / (1 - prior))
    total = scored[weights].sum(axis=1) + prior_weight
    assert (total - scored["match_weight"]).abs().max() < 0.05
    assert (scored["match_probability"] >= engine.DEFAULT_THRESHOLD).all()


def test_a_saved_model_scores_without_training(
    returnees: pd.DataFrame, deduplicated: engine.LinkageOutcome
) -> None:
    again = engine.dedupe(returnees.drop(columns=["person_key"]), model=deduplicated.model)
    assert not again.trained
    assert len(again.pairs) == len(deduplicated.pairs)


def test_identical_rows_make_one_cluster_without_pairing_them_all() -> None:
    rows = pd.DataFrame(
        {
            "record_id": [str(i) for i in range(5000)],
            "given_names": "Juan",
            "first_surname": "Pérez",
            "birth_year": 1990,
        }
    )
    outcome = engine.dedupe(rows, max_pairs=10)
    assert outcome.clusters["cluster_id"].nunique() == 1
    assert len(outcome.pairs) == 4999


def test_the_memory_guard_refuses_before_scoring_with_the_projected_count() -> None:
    # Four records sharing first name, surname and year, all with different dates: the rule
    # on (first name, surname) alone makes 4 × 3 / 2 = 6 pairs, and so on for each rule.
    rows = pd.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "given_names": "Juan",
            "first_surname": "Pérez",
            "birth_year": 1990,
            "birth_month": [1, 2, 3, 4],
            "birth_day": 5,
        }
    )
    frame = engine.prepare(rows)
    rules = [engine.BlockingRule(("given_1", "first_surname"))]
    assert engine.count_pairs([frame], rules, link=False) == 6
    with pytest.raises(engine.TooManyPairsError) as refused:
        engine.dedupe(rows, max_pairs=5)
    assert refused.value.projected >= 6
    assert refused.value.limit == 5


def test_the_pair_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRADOR_LINKAGE_MAX_PAIRS", "1_000")
    assert engine.default_max_pairs() == 1000
    monkeypatch.delenv("MIRADOR_LINKAGE_MAX_PAIRS")
    assert engine.default_max_pairs() > 10_000_000


def test_the_prior_is_the_direct_estimate_whatever_em_does(
    returnees: pd.DataFrame, deduplicated: engine.LinkageOutcome
) -> None:
    # Records agreeing on whole names and date over all pairs, scaled by the assumed recall:
    # EM sessions must not replace it (Splink 5.0.0 did when a session failed half way).
    records = len(returnees)
    prior = deduplicated.model["probability_two_random_records_match"]
    assert 1 / (records * records) < prior < 0.01
