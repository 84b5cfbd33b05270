"""The canonical-order kernels (hpcrec.kernels.order) against Python and NumPy references:
the stable radix sort of key/value pairs, and the record sort with its bucket scatter, run
refinement and decoding (through hpcrec.fim.result.canonical), and the records of the mask
layout (hpcrec.fim.result.mask_form) sorted as one-word keys in buckets."""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec.fim.result import canonical, decoded, mask_form, records, sorted_records
from hpcrec.kernels import order


@pytest.mark.parametrize("n, high", [(0, 1), (1, 1), (20, 4), (500, 3), (5000, 1 << 62),
                                     (70_000, 1 << 40), (70_000, 7)])
def test_sort_pairs_is_a_stable_sort(n, high):
    """Small ranges (insertion), 256- and 2048-bucket passes, many ties, wide keys."""
    rng = np.random.default_rng(n)
    keys = rng.integers(0, high, size=n, dtype=np.int64) << int(rng.integers(0, 2))
    vals = np.arange(n, dtype=np.int64)
    want = np.argsort(keys, kind="stable")
    k, v = keys.copy(), vals.copy()
    order.sort_pairs(k, v, 0, n)
    assert np.array_equal(v, want) and np.array_equal(k, keys[want])


def test_sort_pairs_sorts_only_its_range():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 1000, size=300, dtype=np.int64)
    vals = np.arange(300, dtype=np.int32)
    k, v = keys.copy(), vals.copy()
    order.sort_pairs(k, v, 50, 250)
    want = 50 + np.argsort(keys[50:250], kind="stable")
    assert np.array_equal(v[50:250], want)
    assert np.array_equal(k[:50], keys[:50]) and np.array_equal(k[250:], keys[250:])
    assert np.array_equal(v[:50], vals[:50]) and np.array_equal(v[250:], vals[250:])


def _reference(sets, counts):
    recs = sorted((len(s), tuple(sorted(s)), c) for s, c in zip(sets, counts))
    items = np.array([i for _, s, _ in recs for i in s], np.int32)
    ptr = np.concatenate(([0], np.cumsum([k for k, _, _ in recs]))).astype(np.int64)
    return items, ptr, np.array([c for _, _, c in recs], np.int64)


def _check(sets, counts, recode=None):
    flat = np.array([i for s in sets for i in s], np.int32)
    lengths = np.array([len(s) for s in sets], np.int64)
    mapped = [[recode[i] for i in s] for s in sets] if recode is not None else sets
    got = canonical(flat, lengths, np.asarray(counts), recode=recode)
    for g, w in zip(got, _reference(mapped, counts)):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_long_runs_of_equal_first_words():
    """Many long itemsets sharing their length and first ``head`` items: runs of equal
    word 0 longer than SMALL (radix over the further words) and shorter (insertion), with
    ties in the second word decided by the third, and buckets above LEAF records."""
    bits, longest = 7, 19
    head, per = order.layout(bits, longest)[1:3]
    rng = np.random.default_rng(5)
    common = list(range(head))                     # every set starts with the same items
    seen, sets = set(), []
    while len(sets) < 3 * order.LEAF:
        k = int(rng.integers(head + 1, longest + 1))
        tail = sorted(int(x) for x in rng.choice(np.arange(head, 100), size=k - head,
                                                 replace=False))
        if k - head > per and rng.random() < 0.5:  # equal second word, third word differs
            tail[:per] = list(range(head, head + per))
            tail = sorted(set(tail))
            if len(tail) != k - head:
                continue
        s = tuple(common + tail)
        if s not in seen:
            seen.add(s)
            sets.append(list(rng.permutation(s)))
    counts = rng.integers(1, 10**12, size=len(sets))
    _check(sets, counts)
    _check(sets, counts, recode=rng.permutation(100).astype(np.int64))


@pytest.mark.parametrize("bits", [1, 7, 8, 12, 31])
def test_lengths_across_the_word_boundaries(bits):
    """Itemsets of every length around head and head + k * per, items of ``bits`` bits
    (1 bit: items 0 and 1; 8 bits: the last word of the 4-word masks of MASK_BITS; 31
    bits: one item a word after word 0), all ids at the top."""
    top = (1 << bits) - 1
    longest = min(top + 1, 3 * max(1, 63 // bits) + 4)
    rng = np.random.default_rng(bits)
    seen, sets = set(), []
    for _ in range(3000):
        k = int(rng.integers(1, longest + 1))
        pool = np.arange(top + 1) if top < 4096 else \
            np.unique(np.concatenate((rng.integers(0, top, 64), [top, top - 1, 0])))
        if k > len(pool):
            continue
        s = frozenset(int(x) for x in rng.choice(pool, size=k, replace=False))
        if s not in seen:
            seen.add(s)
            sets.append(list(s))
    _check(sets, rng.integers(1, 100, size=len(sets)))


def test_one_itemset_and_nothing():
    _check([[7, 3, 5]], [4])
    _check([[0]], [1])
    items, ptr, counts = canonical(np.zeros(0, np.int32), np.zeros(0, np.int64),
                                   np.zeros(0, np.int64), recode=np.arange(5))
    assert len(items) == len(counts) == 0 and ptr.tolist() == [0]


def test_skewed_buckets_and_a_run_longer_than_a_bucket():
    """A bucket above LEAF records that must be scattered again by lower bits (2.5 LEAF
    sets {0, c} beside one far away), and one run of equal word 0 longer than LEAF (sets of
    one length sharing their first ``head`` items)."""
    n = 5 * order.LEAF // 2
    sets = [[c, 0] for c in range(n, 0, -1)] + [[3 * n + 1, 3 * n]]
    _check(sets, np.arange(len(sets)) % 7 + 1)
    head = order.layout(7, 12)[1]
    rng = np.random.default_rng(9)
    tails = {tuple(sorted(int(x) for x in rng.choice(np.arange(head, 100), 3, replace=False)))
             for _ in range(3 * order.LEAF)}
    sets = [list(range(head)) + list(t) for t in tails] + [[99] * 1 + [1]]
    _check(sets, rng.integers(1, 5, size=len(sets)))


def _distinct_sets(rng, universe, n, longest):
    seen, sets = set(), []
    while len(sets) < n:
        k = int(rng.integers(1, longest + 1))
        s = frozenset(int(x) for x in rng.choice(universe, size=k, replace=False))
        if s not in seen:
            seen.add(s)
            sets.append(list(rng.permutation(sorted(s))))
    return sets


@pytest.mark.parametrize("width, most, split", [(40, 4000, 0), (61, 8000, 11), (63, 4095, 12),
                                               (63, 8000, 13), (63, 16383, 14), (3, 1, 0)])
@pytest.mark.parametrize("below", [2, 1 << 30])
def test_mask_layout_sorts_to_the_canonical_order(width, most, split, below, monkeypatch):
    """Sets of ``width`` recoded items (their columns spread over 0..299, in no order;
    lengths up to ``width``), counts up to ``most``: the buckets take ``split`` top mask
    bits so that the rest and the count fit one word; every bucket sorted by NumPy
    (``below`` 2) or in compiled code."""
    monkeypatch.setattr(order, "NUMBA_SORT", below)
    rng = np.random.default_rng(width + most)
    columns = rng.choice(300, size=width, replace=False).astype(np.int64)
    sets = _distinct_sets(rng, np.arange(width), 3000 if width > 3 else 7, width)
    counts = rng.integers(1, most + 1, size=len(sets))
    counts[0] = most
    flat = np.array([i for s in sets for i in s], np.int32)
    form = mask_form(columns, most)
    assert (form.width, form.split) == (width, split)
    recs = records(flat, np.array([len(s) for s in sets]), counts, form=form)
    assert recs.longest == max(map(len, sets)) and recs.rec.shape[1] == 2
    got = decoded(sorted_records(recs))
    for g, w in zip(got, _reference([[columns[i] for i in s] for s in sets], counts)):
        assert g.dtype == w.dtype and np.array_equal(g, w)


@pytest.mark.parametrize("width, most, key_words", [(64, 1, 1), (65, 127, 1), (64, 100000, 2),
                                                   (90, 8000, 2), (113, 8191, 2)])
def test_two_word_mask_layout_sorts_to_the_canonical_order(width, most, key_words):
    """64 to 126 items: records of two mask words (the lowest 63 columns in the first) and
    the count, sorted and decoded in canonical order: as one-word keys in buckets of
    (length, top bits) where the table is small (a few items past 63, few count bits),
    else as two-word keys in buckets by length, where sets that differ only in the second
    word's items come in runs of equal first words."""
    rng = np.random.default_rng(width + most)
    columns = rng.choice(300, size=width, replace=False).astype(np.int64)
    sets = _distinct_sets(rng, np.arange(width), 3000, width)
    more = [sorted({0, 1, 2, 3, 4, 63 + j}) for j in range(min(40, width - 63))]
    more.append(list(range(63, width)))   # the second word's items only
    seen = {frozenset(s) for s in sets}
    sets += [s for s in more if frozenset(s) not in seen]
    counts = rng.integers(1, most + 1, size=len(sets))
    counts[0] = most
    flat = np.array([i for s in sets for i in s], np.int32)
    form = mask_form(columns, most)
    assert (form.width, form.words, form.split) == (width, 2, width + most.bit_length() - 63)
    recs = records(flat, np.array([len(s) for s in sets]), counts, form=form)
    assert recs.longest == max(map(len, sets)) and recs.rec.shape[1] == 3
    keys = sorted_records(recs)
    assert keys.keys.ndim == key_words
    got = decoded(keys)
    for g, w in zip(got, _reference([[columns[i] for i in s] for s in sets], counts)):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_mask_form_only_where_the_keys_fit():
    """At most 63 items, and at most SPLIT_MAX top bits taken by the buckets: 63 items with
    counts of SPLIT_MAX bits, not one more; over 63 items two words, the second holding
    the items past 63 and the count; no form for no items."""
    most = (1 << order.SPLIT_MAX) - 1
    assert mask_form(np.arange(63), most).split == order.SPLIT_MAX
    assert mask_form(np.arange(63), most + 1) is None
    assert mask_form(np.arange(64), most + 1).words == 2 and mask_form(np.zeros(0, np.int64), 5) is None
    assert mask_form(np.arange(100), (1 << 26) - 1).words == 2   # 37 items and 26 count bits
    assert mask_form(np.arange(100), 1 << 26) is None
    assert mask_form(np.arange(0, 100, 2), (1 << 13) - 1).split == 0
    assert mask_form(np.arange(0, 100, 2), 1 << 13).split == 1
    assert mask_form(np.arange(64), 1023).split == 64 + 10 - 63   # two words: one-word keys' split
