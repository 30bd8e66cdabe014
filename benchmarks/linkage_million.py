"""Benchmark: deduplicating a region of a million returnee records, end to end.

    .venv/bin/python benchmarks/linkage_million.py                 # 1,000,000 records
    .venv/bin/python benchmarks/linkage_million.py --records 200000
    .venv/bin/python benchmarks/linkage_million.py --no-peer       # Mirador only

Data: mirador.linkage.synthetic.returnee_records (the demo generator's returnees, a quarter of
them repeat returns, with typos, nicknames, dropped and swapped surnames, swapped day and
month, partial dates, wrong digits, lost accents and documents), generated first and not timed.

Measured:
1. Mirador: engine.dedupe on the records, from the raw columns to pairs and clusters:
   normalisation, blocking fitted to the data's size, training (u by random sampling, m by EM,
   on a sample beyond engine.TRAIN_RECORDS), scoring, clustering. Wall time, the peak resident
   memory of the process during the run (VmHWM, reset before it), the projected pairs, and
   precision, recall and F1 of the pairs at match probability 0.9 against the true pairs.
2. The peer, in the same run: Splink with a plain default model as a new user would write it
   (Splink's comparison library: NameComparison on the given name and on the first surname,
   DateOfBirthComparison, exact sex and document; blocking on given name with first surname
   and year of birth, on the date of birth and on the document; the same training steps), on
   the same records, also trained on the same sample size.

Goal (issue 6): Mirador under 3 minutes and under 6 GiB on this machine's 2 cores, F1 reported.
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mirador.linkage import engine, synthetic  # noqa: E402

Pair = tuple[str, str]
GIB = 1024**3


def reset_peak_memory() -> None:
    # Writing 5 to clear_refs resets the process's peak resident set size (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")


def peak_memory_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")


def true_pairs(records: pd.DataFrame) -> set[Pair]:
    return synthetic.true_pairs(records)


def found_pairs(pairs: pd.DataFrame) -> set[Pair]:
    return {
        (a, b) if a < b else (b, a)
        for a, b in zip(pairs["record_id_l"], pairs["record_id_r"], strict=True)
    }


def scores(found: set[Pair], truth: set[Pair]) -> dict[str, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def run_mirador(records: pd.DataFrame) -> tuple[engine.LinkageOutcome, float, int]:
    reset_peak_memory()
    started = time.perf_counter()
    outcome = engine.dedupe(records, progress=lambda message: print("  mirador:", message))
    return outcome, time.perf_counter() - started, peak_memory_bytes()


def run_splink_default(records: pd.DataFrame) -> tuple[pd.DataFrame, float, int]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = records.copy()
    frame["surname"] = frame["first_surname"]
    frame["dob"] = pd.to_datetime(
        {
            # Splink's date comparison takes full dates only; a partial one is missing.
            "year": frame["birth_year"].astype("float"),
            "month": frame["birth_month"].astype("float"),
            "day": frame["birth_day"].astype("float"),
        },
        errors="coerce",
    ).dt.strftime("%Y-%m-%d")
    frame["document_number"] = frame["document_number"].replace("", None)
    frame = frame[
        ["record_id", "given_names", "surname", "birth_year", "dob", "sex", "document_number"]
    ]
    reset_peak_memory()
    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("given_names"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.ExactMatch("document_number"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_names", "surname", "birth_year"),
            block_on("dob"),
            block_on("document_number"),
        ],
    )
    linker = Linker(DuckDBAPI().register(frame), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_names", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    sample = frame.sample(n=min(len(frame), engine.TRAIN_RECORDS), random_state=1)
    trainer = Linker(DuckDBAPI().register(sample), linker.misc.save_model_to_json(), log_level=None)
    for rule in (block_on("given_names", "surname"), block_on("dob")):
        trainer.training.estimate_parameters_using_expectation_maximisation(rule)
    model: dict[str, Any] = trainer.misc.save_model_to_json()
    model["probability_two_random_records_match"] = linker.misc.save_model_to_json()[
        "probability_two_random_records_match"
    ]
    scorer = Linker(DuckDBAPI().register(frame), model, log_level=None)
    pairs = scorer.inference.predict(threshold_match_probability=0.9).as_pandas_dataframe()
    return pairs, time.perf_counter() - started, peak_memory_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-peer", action="store_true", help="leave out Splink's default model")
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)

    tick = time.perf_counter()
    generated = synthetic.returnee_records(args.records, seed=args.seed)
    truth = true_pairs(generated)
    records = generated.drop(columns=["person_key"])
    print(
        f"generated {len(records):,} records, {len(truth):,} true pairs "
        f"({time.perf_counter() - tick:.1f} s, not timed)"
    )

    outcome, seconds, peak = run_mirador(records)
    mirador = scores(found_pairs(outcome.pairs), truth)
    figures: dict[str, Any] = {
        "records": len(records),
        "true_pairs": len(truth),
        "mirador_seconds": round(seconds, 1),
        "mirador_peak_gib": round(peak / GIB, 2),
        "mirador_projected_pairs": outcome.projected_pairs,
        "mirador_phase_seconds": {k: round(v, 1) for k, v in outcome.seconds.items()},
        **{f"mirador_{k}": v for k, v in mirador.items()},
        "goal_seconds": 180,
        "goal_peak_gib": 6,
    }
    print(f"mirador: {seconds:.1f} s, peak {peak / GIB:.2f} GiB, {mirador}")
    if not args.no_peer:
        pairs, peer_seconds, peer_peak = run_splink_default(records)
        peer = scores(found_pairs(pairs), truth)
        print(f"splink default: {peer_seconds:.1f} s, peak {peer_peak / GIB:.2f} GiB, {peer}")
        figures.update(
            {
                "splink_default_seconds": round(peer_seconds, 1),
                "splink_default_peak_gib": round(peer_peak / GIB, 2),
                **{f"splink_default_{k}": v for k, v in peer.items()},
                "seconds_ratio_to_splink_default": round(seconds / peer_seconds, 3),
            }
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
