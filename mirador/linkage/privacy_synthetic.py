"""Two countries' files of returnee records for tests and benchmarks of private linkage.

From `synthetic.returnee_records` (the demo generator with the errors of real registries): a
person's first record goes to the first country, their second to the other, further ones
alternate, and a person seen once is in one of the two at random. The truth is every pair of
records of the same person, one in each file.
"""

from __future__ import annotations

import random

import pandas as pd

from mirador.linkage import synthetic


def country_files(
    count: int, *, seed: int = 7, repeat_share: float = 0.4
) -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]:
    """(first country's records, second's, true pairs (first's id, second's id)); both in the
    engine's input columns, without the truth."""
    records = synthetic.returnee_records(count, seed=seed, repeat_share=repeat_share)
    rand = random.Random(seed)  # noqa: S311 — reproducible test data, not secrets
    totals = records.groupby("person_key")["person_key"].transform("size").tolist()
    seen: dict[int, int] = {}
    sides = []
    for key, total in zip(records["person_key"], totals, strict=True):
        times = seen.get(key, 0)
        seen[key] = times + 1
        sides.append(rand.randrange(2) if total == 1 else times % 2)
    side = pd.Series(sides, index=records.index)
    left = records[side == 0]
    right = records[side == 1]
    truth = {
        (a, b)
        for _key, group in records.assign(side=side).groupby("person_key")
        for a in group.loc[group["side"] == 0, "record_id"]
        for b in group.loc[group["side"] == 1, "record_id"]
    }
    return (
        left.drop(columns=["person_key"]).reset_index(drop=True),
        right.drop(columns=["person_key"]).reset_index(drop=True),
        truth,
    )
