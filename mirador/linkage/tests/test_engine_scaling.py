"""Linkage that scales with the region: blocking fitted to the data's size, training on a
sample of a large registry."""

from __future__ import annotations

import pandas as pd
import pytest

from mirador.linkage import engine, synthetic


@pytest.fixture(scope="module")
def prepared() -> pd.DataFrame:
    return engine.prepare(synthetic.returnee_records(2000, seed=3).drop(columns=["person_key"]))


def _design(prepared: pd.DataFrame) -> engine.ModelDesign:
    return engine.ModelDesign.for_frames([prepared])


def test_small_files_keep_every_blocking_rule_as_it_is(prepared: pd.DataFrame) -> None:
    design = _design(prepared)

    fitted, projected = design.fitted([prepared], link=False)

    assert fitted.prediction_blocking() == design.prediction_blocking()
    assert projected == engine.count_pairs([prepared], design.prediction_blocking(), link=False)


def test_a_rule_whose_blocks_outgrow_the_budget_gives_way_to_its_tighter_variant(
    prepared: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = _design(prepared)
    loose = design.prediction_blocking()
    counts = {rule: engine.count_pairs([prepared], [rule], link=False) for rule in loose}
    budget = sorted(counts.values())[len(counts) // 2]  # half the rules are above it
    monkeypatch.setattr(engine, "RULE_PAIRS_FLOOR", budget)
    monkeypatch.setattr(engine, "RULE_PAIRS_PER_RECORD", 0)

    fitted, projected = design.fitted([prepared], link=False)

    chosen = fitted.prediction_blocking()
    for rule, pairs in counts.items():
        if pairs > budget and rule.tighter is not None:
            assert rule.tighter in chosen and rule not in chosen
        else:
            assert rule in chosen
    assert len(chosen) == len(set(chosen)), "a variant two rules share is used once"
    assert projected == sum(engine.count_pairs([prepared], [rule], link=False) for rule in chosen)
    assert projected < sum(counts.values())
    # The model trained on this design blocks its predictions with the fitted rules.
    blocking = fitted.settings("dedupe_only")["blocking_rules_to_generate_predictions"]
    assert [rule["blocking_rule"] for rule in blocking] == [rule.sql() for rule in chosen]


def test_every_tighter_variant_uses_only_columns_the_engine_prepares(
    prepared: pd.DataFrame,
) -> None:
    for rule in engine.PREDICTION_BLOCKING:
        if rule.tighter is not None:
            assert set(rule.tighter.left) | set(rule.tighter.right_columns) <= set(prepared)


def test_a_large_registry_is_trained_on_a_random_share_of_each_table(
    prepared: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "TRAIN_RECORDS", 500)
    left, right = prepared.iloc[:1500], prepared.iloc[1500:]

    sample = engine._training_sample([left, right])

    assert [len(frame) for frame in sample] == [round(1500 * 0.25), round(500 * 0.25)]
    assert set(sample[0]["record_id"]) <= set(left["record_id"])
    monkeypatch.setattr(engine, "TRAIN_RECORDS", 10_000)
    assert engine._training_sample([left, right])[0] is left
