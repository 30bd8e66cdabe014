"""The same saved model scores pairs on Spark (PySpark in local mode) as on DuckDB: the way a
region that outgrows one machine runs its linkage (DESIGN.md: Splink on Spark)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mirador.linkage import engine, synthetic

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="Spark needs a Java runtime (java not on PATH)"
)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    session = engine.spark_session_for_linkage(
        scratch=Path(tmp_path_factory.mktemp("spark-checkpoints"))
    )
    yield session
    session.stop()
    # py4j says goodbye from a finaliser, after pytest has closed the streams it logs to.
    logging.getLogger("py4j").setLevel(logging.ERROR)


def _pairs(outcome: engine.LinkageOutcome) -> dict[tuple[str, str], float]:
    return {
        tuple(sorted((left, right))): weight
        for left, right, weight in zip(
            outcome.pairs["record_id_l"],
            outcome.pairs["record_id_r"],
            outcome.pairs["match_weight"],
            strict=True,
        )
    }


def test_a_saved_model_finds_the_same_pairs_with_the_same_weights_on_spark(
    spark: Any, trained_model: dict[str, Any]
) -> None:
    records = synthetic.returnee_records(300, seed=5).drop(columns=["person_key"])

    on_duckdb = engine.dedupe(records, model=trained_model, threshold=0.5)
    on_spark = engine.dedupe(records, model=trained_model, threshold=0.5, spark=spark)

    duckdb_pairs, spark_pairs = _pairs(on_duckdb), _pairs(on_spark)
    assert duckdb_pairs, "the generated records hold repeat returns: some pairs must be found"
    assert spark_pairs.keys() == duckdb_pairs.keys()
    for pair, weight in duckdb_pairs.items():
        assert spark_pairs[pair] == pytest.approx(weight, abs=1e-6)
    assert (
        on_spark.clusters.sort_values("record_id")
        .reset_index(drop=True)
        .equals(on_duckdb.clusters.sort_values("record_id").reset_index(drop=True))
    )


def test_hamming_distance_of_birth_dates_is_the_same_on_spark(spark: Any) -> None:
    dates = pd.DataFrame(
        {
            "a": ["1990-01-21", "1990-01-21", "1990-01-21", "1985-12-03"],
            "b": ["1990-01-21", "1990-01-12", "1991-02-21", "1958-21-30"],
        }
    )
    expected = [
        sum(x != y for x, y in zip(a, b, strict=True))
        for a, b in zip(dates.a, dates.b, strict=True)
    ]
    frame = spark.createDataFrame(dates)
    frame.createOrReplaceTempView("dates")
    sql = engine.settings_for_spark(
        {
            "blocking_rules_to_generate_predictions": [],
            "comparisons": [
                {"comparison_levels": [{"sql_condition": "hamming(a, b)"}]},
            ],
        }
    )["comparisons"][0]["comparison_levels"][0]["sql_condition"]
    rows = spark.sql(f"SELECT {sql} AS distance FROM dates").collect()  # noqa: S608
    assert [row.distance for row in rows] == expected
