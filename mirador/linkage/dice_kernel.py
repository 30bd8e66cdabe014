"""The compiled loop of all-pairs Dice (`privacy.dice_all`), apart so that numba is imported
only when it is used: for each row in [start, stop), each column of its band, |a AND b| by
popcounts of 64-bit words (the bit-twiddling count below, which LLVM turns into the processor's
popcount instruction, vectorised where it has one), kept when 2|a AND b| >= t(|a| + |b|) and
|a| + |b| > 0. Returns the pairs written; the caller gives room for every pair of the bands."""

from __future__ import annotations

import numba
from numba import uint64

M1 = uint64(0x5555555555555555)
M2 = uint64(0x3333333333333333)
M4 = uint64(0x0F0F0F0F0F0F0F0F)
H01 = uint64(0x0101010101010101)
ONE, TWO, FOUR, FIFTY_SIX = uint64(1), uint64(2), uint64(4), uint64(56)


@numba.njit(nogil=True, cache=True, boundscheck=False)
def all_pairs(a, b, ca, cb, low, high, threshold, start, stop, block, out_i, out_j, out_s):
    written = 0
    words = a.shape[1]
    first, last = low[start:stop].min(), high[start:stop].max()
    # A block of columns at a time for all the rows, so that it stays in the core's cache.
    for begin in range(first, last, block):
        end = min(begin + block, last)
        for x in range(start, stop):
            for y in range(max(low[x], begin), min(high[x], end)):
                shared = uint64(0)
                for w in range(words):
                    v = a[x, w] & b[y, w]
                    v = v - ((v >> ONE) & M1)
                    v = (v & M2) + ((v >> TWO) & M2)
                    v = (v + (v >> FOUR)) & M4
                    shared += (v * H01) >> FIFTY_SIX
                total = ca[x] + cb[y]
                if total > 0 and 2.0 * shared >= threshold * total:
                    out_i[written] = x
                    out_j[written] = y
                    out_s[written] = shared
                    written += 1
    return written
