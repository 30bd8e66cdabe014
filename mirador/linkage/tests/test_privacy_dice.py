"""All-pairs Dice on packed bits (`privacy.dice_all`, both ways: the compiled loop, and the
product of matrices with a bound and exact checks) gives exactly the pairs and the scores of
comparing every pair one by one: on
random filters of several densities and widths (some not a multiple of 64 bits), empty and
all-ones filters, thresholds met exactly, tiles of any size, one or two threads, any number of
leading words, and against anonlink on the same bytes. The blocked Dice (`dice_pairs`) too."""

from __future__ import annotations

import numpy as np
import pytest

from mirador.linkage import privacy

Found = tuple[np.ndarray, np.ndarray, np.ndarray]
METHODS = ("compiled", "product")


def reference(left: np.ndarray, right: np.ndarray, threshold: float) -> Found:
    """Every pair, one row of `left` at a time against all of `right`: |a AND b| by numpy's own
    bit count and sum, Dice 2|a AND b| / (|a| + |b|), kept at or above the threshold."""
    counts_l = np.bitwise_count(left).sum(axis=1, dtype=np.int64)
    counts_r = np.bitwise_count(right).sum(axis=1, dtype=np.int64)
    rows, columns, dice = [], [], []
    for x in range(len(left)):
        shared = np.bitwise_count(left[x] & right).sum(axis=1, dtype=np.int64)
        total = counts_l[x] + counts_r
        keep = (total > 0) & (2 * shared >= threshold * total)
        for y in np.flatnonzero(keep):
            rows.append(x)
            columns.append(int(y))
            dice.append(np.float32(2 * shared[y] / total[y]))
    return (
        np.array(rows, dtype=np.int64),
        np.array(columns, dtype=np.int64),
        np.array(dice, dtype=np.float32),
    )


def assert_same(found: Found, expected: Found) -> None:
    rows, columns, dice = found
    assert rows.dtype == np.int64 and columns.dtype == np.int64 and dice.dtype == np.float32
    assert rows.tolist() == expected[0].tolist()
    assert columns.tolist() == expected[1].tolist()
    # The very same float32 values, not close ones.
    assert dice.tobytes() == expected[2].tobytes()


def random_filters(
    rng: np.random.Generator, count: int, bits: int, density: float, dtype: type = np.uint64
) -> np.ndarray:
    """`count` filters of `bits` bits set with probability `density`, packed little-endian into
    words of `dtype`; the bits past `bits` in the last word are zero."""
    width = np.dtype(dtype).itemsize * 8
    words = -(-bits // width)
    plain = np.zeros((count, words * width), dtype=np.uint8)
    plain[:, :bits] = rng.random((count, bits)) < density
    packed = np.packbits(plain, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view(dtype).reshape(count, words)


def near_copies(rng: np.random.Generator, base: np.ndarray, flips: int, bits: int) -> np.ndarray:
    """Each filter with `flips` of its bits (below `bits`) turned over: pairs with high Dice."""
    out = base.copy()
    width = base.dtype.itemsize * 8
    for row in out:
        for position in rng.choice(bits, flips, replace=False):
            row[position // width] ^= base.dtype.type(1 << (int(position) % width))
    return out


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.7, 0.85, 1.0, 1.2])
@pytest.mark.parametrize("lead_words", [None, 1, 3, 8])
def test_the_pairs_and_scores_are_those_of_every_pair_compared(
    threshold: float, lead_words: int | None
) -> None:
    rng = np.random.default_rng(7)
    left = random_filters(rng, 40, 512, 0.25)
    right = np.vstack(
        [
            random_filters(rng, 50, 512, 0.25),
            near_copies(rng, left[:20], 12, 512),
            left[20:25],
            random_filters(rng, 10, 512, 0.05),
            random_filters(rng, 10, 512, 0.6),
        ]
    )
    expected = reference(left, right, threshold)
    if 0.3 <= threshold <= 1.0:
        assert len(expected[0]) >= 5 if threshold == 1.0 else 20
    # Tiles of 7 × 13, of 5 × 3 (more column tiles than one block unpacks at once), of 32 × 16
    # (whole groups of 32 rows searched by their maximum first).
    for threads, rows, columns in ((1, 7, 13), (2, 7, 13), (2, 5, 3), (1, 32, 16)):
        found = privacy.dice_all(
            left,
            right,
            threshold,
            threads=threads,
            rows=rows,
            columns=columns,
            lead_words=lead_words,
            method="product",
        )
        assert_same(found, expected)
        if lead_words is None:
            # The compiled loop: tasks of `rows` rows.
            found = privacy.dice_all(
                left, right, threshold, threads=threads, rows=rows, method="compiled"
            )
            assert_same(found, expected)


def test_empty_and_all_ones_filters() -> None:
    rng = np.random.default_rng(3)
    ones = np.full((3, 8), np.iinfo(np.uint64).max, dtype=np.uint64)
    empty = np.zeros((3, 8), dtype=np.uint64)
    left = np.vstack([empty, ones, random_filters(rng, 10, 512, 0.3)])
    right = np.vstack([ones[:1], empty[:2], random_filters(rng, 10, 512, 0.3), ones])
    for method in METHODS:
        for threshold in (0.0, 0.5, 0.7, 1.0):
            expected = reference(left, right, threshold)
            found = privacy.dice_all(
                left, right, threshold, rows=4, columns=4, lead_words=2, method=method
            )
            assert_same(found, expected)
        # Two empty filters have no Dice: never a pair, even at threshold 0; an empty filter and
        # a full one have Dice 0; two full ones Dice 1.
        rows, columns, dice = privacy.dice_all(empty, empty, 0.0, method=method)
        assert len(rows) == 0
        rows, columns, dice = privacy.dice_all(empty, ones, 0.0, method=method)
        assert len(rows) == 9 and (dice == 0).all()
        rows, columns, dice = privacy.dice_all(ones, ones, 1.0, method=method)
        assert len(rows) == 9 and (dice == 1).all()


@pytest.mark.parametrize("bits", [1, 37, 100, 200, 1000])
def test_filters_whose_size_is_not_a_multiple_of_64_bits(bits: int) -> None:
    rng = np.random.default_rng(bits)
    for dtype in (np.uint64, np.uint8):
        left = random_filters(rng, 30, bits, 0.3, dtype)
        right = np.vstack(
            [random_filters(rng, 30, bits, 0.3, dtype), near_copies(rng, left[:10], 1, bits)]
        )
        for threshold in (0.5, 0.7):
            expected = reference(left, right, threshold)
            for lead_words, method in ((None, "product"), (1, "product"), (None, "compiled")):
                found = privacy.dice_all(
                    left, right, threshold, rows=5, columns=9, lead_words=lead_words, method=method
                )
                assert_same(found, expected)


def test_a_threshold_met_exactly_is_kept_and_one_bit_short_is_not() -> None:
    def filters(*sets: range) -> np.ndarray:
        plain = np.zeros((len(sets), 128), dtype=np.uint8)
        for n, positions in enumerate(sets):
            plain[n, list(positions)] = 1
        return np.packbits(plain, axis=1, bitorder="little").view(np.uint64)

    # 10 bits and 10 bits sharing 7: Dice 14 / 20 = 0.7 exactly; sharing 6: 0.6.
    left = filters(range(0, 10), range(64, 74))
    right = filters(range(3, 13), range(68, 78))
    for method in METHODS:
        rows, columns, dice = privacy.dice_all(left, right, 0.7, lead_words=1, method=method)
        assert list(zip(rows.tolist(), columns.tolist(), strict=True)) == [(0, 0)]
        assert dice.tolist() == [np.float32(0.7)]
    # 4 and 4 bits sharing 3: Dice 0.75 exactly, at a threshold of 0.75.
    left, right = filters(range(0, 4)), filters(range(1, 5))
    for lead_words, method in ((1, "product"), (2, "product"), (None, "compiled")):
        rows, _columns, dice = privacy.dice_all(
            left, right, 0.75, lead_words=lead_words, method=method
        )
        assert dice.tolist() == [0.75]
        assert (
            len(privacy.dice_all(left, right, 0.7501, lead_words=lead_words, method=method)[0]) == 0
        )


def test_many_pairs_with_the_leading_words_chosen_on_a_sample() -> None:
    """Enough pairs (over 4 million) that the leading words are chosen on a sample, filters as
    exchanged (1 536 bits in four filters of different densities)."""
    rng = np.random.default_rng(11)
    parts = [(512, 0.22), (512, 0.31), (256, 0.25), (256, 0.12)]

    def encodings(count: int) -> np.ndarray:
        return np.hstack([random_filters(rng, count, bits, p) for bits, p in parts])

    left = encodings(300)
    right = np.vstack([encodings(14000), near_copies(rng, left, 150, 1536)])
    expected = reference(left, right, 0.7)
    assert len(expected[0]) >= 300
    for method in METHODS:
        assert_same(privacy.dice_all(left, right, 0.7, threads=2, method=method), expected)


def test_the_same_pairs_and_scores_as_anonlink() -> None:
    anonlink = pytest.importorskip("anonlink")
    from bitarray import bitarray

    rng = np.random.default_rng(5)
    left = random_filters(rng, 60, 1024, 0.2)
    right = np.vstack([random_filters(rng, 60, 1024, 0.2), near_copies(rng, left, 40, 1024)])

    def as_bitarrays(bits: np.ndarray) -> list[bitarray]:
        out = []
        for row in bits.astype("<u8"):
            filter_ = bitarray(endian="little")
            filter_.frombytes(row.tobytes())
            out.append(filter_)
        return out

    for threshold in (0.5, 0.7, 0.9):
        sims, (index_l, index_r) = anonlink.similarities.dice_coefficient_accelerated(
            (as_bitarrays(left), as_bitarrays(right)), threshold
        )
        theirs = {
            (int(x), int(y)): np.float32(s) for x, y, s in zip(index_l, index_r, sims, strict=True)
        }
        for method in METHODS:
            rows, columns, dice = privacy.dice_all(
                left, right, threshold, rows=16, columns=32, method=method
            )
            ours = dict(zip(zip(rows.tolist(), columns.tolist(), strict=True), dice, strict=True))
            assert len(ours) >= 50
            assert ours == theirs


def test_blocked_dice_of_given_pairs_is_exact() -> None:
    rng = np.random.default_rng(9)
    for words, dtype in ((8, np.uint64), (4, np.uint64), (3, np.uint64), (13, np.uint8)):
        bits = words * np.dtype(dtype).itemsize * 8
        left = np.vstack([random_filters(rng, 30, bits, 0.3, dtype), np.zeros((2, words), dtype)])
        right = random_filters(rng, 40, bits, 0.3, dtype)
        i = rng.integers(0, len(left), 500)
        j = rng.integers(0, len(right), 500)
        shared = np.bitwise_count(left[i] & right[j]).sum(axis=1)
        total = np.bitwise_count(left[i]).sum(axis=1) + np.bitwise_count(right[j]).sum(axis=1)
        expected = np.where(total > 0, 2 * shared / np.maximum(total, 1), 0).astype(np.float32)
        for threads in (1, 2):
            computed = privacy.dice_pairs(left, right, i, j, threads=threads, chunk=64)
            assert computed.tobytes() == expected.tobytes()


def test_bad_input_is_refused() -> None:
    a = np.zeros((2, 8), dtype=np.uint64)
    with pytest.raises(ValueError):
        privacy.dice_all(a, np.zeros((2, 4), dtype=np.uint64), 0.7)
    with pytest.raises(ValueError):
        privacy.dice_all(a, a.astype(np.int64), 0.7)
    with pytest.raises(ValueError):
        privacy.dice_all(a, a, float("nan"))
    with pytest.raises(ValueError):
        privacy.dice_all(a, a, 0.7, method="other")
    rows, columns, dice = privacy.dice_all(a[:0], a, 0.7)
    assert len(rows) == len(columns) == len(dice) == 0
