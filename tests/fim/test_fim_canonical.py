"""The canonical order of a mining result (hpcrec.fim.result.canonical) against a plain
Python sort: items ascending within an itemset, itemsets by (length, items)."""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec.fim.result import canonical


def _reference(sets, counts):
    recs = sorted((len(s), tuple(sorted(s)), c) for s, c in zip(sets, counts))
    items = np.array([i for _, s, _ in recs for i in s], np.int32)
    ptr = np.concatenate(([0], np.cumsum([k for k, _, _ in recs]))).astype(np.int64)
    return items, ptr, np.array([c for _, _, c in recs], np.int64)


def _distinct_sets(rng, n_items, n, longest):
    seen, sets = set(), []
    while len(sets) < n:
        k = int(rng.integers(1, min(n_items, longest) + 1))
        s = [int(x) for x in rng.choice(n_items, size=k, replace=False)]
        if frozenset(s) not in seen:
            seen.add(frozenset(s))
            sets.append(s)    # unsorted within, in no particular order
    return sets


@pytest.mark.parametrize("n_items, longest", [(5, 5), (101, 18), (3000, 40), (1 << 20, 9)])
@pytest.mark.parametrize("recoded", [False, True])
def test_canonical_order_equals_a_python_sort(n_items, longest, recoded):
    """Short and long itemsets (one and several key words), small and wide item ids, with
    and without recoding (the miners' frequency order mapped back to columns)."""
    rng = np.random.default_rng(n_items + longest)
    sets = _distinct_sets(rng, n_items, min(300, 2 ** n_items - 1), longest)
    counts = rng.integers(1, 1000, size=len(sets))
    lengths = np.array([len(s) for s in sets], np.int64)
    flat = np.array([i for s in sets for i in s], np.int64)
    recode = rng.permutation(n_items).astype(np.int64) if recoded else None
    want = _reference([[recode[i] for i in s] for s in sets] if recoded else sets, counts)
    got = canonical(flat.astype(np.int32), lengths, counts, recode=recode)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_canonical_of_nothing_and_of_the_widest_ids():
    items, ptr, counts = canonical(np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0))
    assert len(items) == len(counts) == 0 and ptr.tolist() == [0]
    top = 2 ** 31 - 1   # 31-bit items: one item per key word after the length
    sets = [[top, 0, 5], [5, top], [top], [0], [0, 5, 7, top]]
    got = canonical(np.array([i for s in sets for i in s], np.int64),
                    np.array([len(s) for s in sets]), np.arange(5))
    for g, w in zip(got, _reference(sets, range(5))):
        assert np.array_equal(g, w)
