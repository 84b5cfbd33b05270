"""Records dealt to the ranks' blocks by splitters (hpcrec.kernels.blocks) against a
reference built from a stable sort, and the distributed ordering built on it
(hpcrec.fim.engine.ordered_records) on one rank against hpcrec.fim.result.sorted_records
(on several ranks: tests/fim/test_fim_mpi.py)."""
from __future__ import annotations

from itertools import groupby

import numpy as np
import pytest
from helpers import shuffled_itemsets

from hpcrec.core.comm import serial
from hpcrec.fim.engine import _scratch, ordered_records
from hpcrec.fim.result import bucket_lengths, mask_form, records, sorted_records
from hpcrec.kernels import blocks, order


def _reference(keys, spl):
    """Each key's block (the splitters at or below it) and the records' grouped order."""
    dest = np.zeros(len(keys), np.int64)
    for s in spl:
        dest += np.array([tuple(k) >= tuple(s) for k in keys], np.int64)
    return dest, np.argsort(dest, kind="stable")


@pytest.mark.parametrize("n, n_blocks", [(0, 1), (0, 3), (1, 2), (50, 1), (200, 2), (300, 5)])
@pytest.mark.parametrize("n_words, high", [(1, 1 << 40), (2, 3), (3, 2)])
def test_deal_groups_by_block_in_the_given_order(n, n_blocks, n_words, high):
    """Many equal keys (high 2-3) and keys equal to a splitter (taken from the records):
    a key equal to a splitter goes to the block above it; each block keeps the records'
    order; a count per block."""
    rng = np.random.default_rng(n * 7 + n_words)
    rec = rng.integers(0, high, size=(n, n_words + 1), dtype=np.int64)
    keys = blocks.sort_keys(rec, np.arange(n, dtype=np.int64), n_words, 0)
    assert np.array_equal(keys, rec[:, :n_words])
    pool = keys[rng.integers(0, max(n, 1), n_blocks - 1)] if n else \
        rng.integers(0, high, size=(n_blocks - 1, n_words), dtype=np.int64)
    spl = np.ascontiguousarray(pool[np.lexsort(pool.T[::-1])])
    out = np.full_like(rec, -1)
    per = blocks.deal(rec, n_words, 0, spl, out)
    dest, grouped = _reference(keys, spl)
    assert np.array_equal(per, np.bincount(dest, minlength=n_blocks))
    assert np.array_equal(out, rec[grouped])


@pytest.mark.parametrize("width", [40, 64, 80])
def test_mask_sort_keys_order_as_the_buckets_do(width):
    """In the mask layout a record's sort key (length, complemented mask; over two words
    length and both complemented words) orders the records as sorted_records does: records
    arranged by their keys come out of the buckets' stable scatter already sorted in every
    bucket (64 items with counts of 10 bits: one-word keys of two mask words; 80 items
    with 31: two-word keys by length, already in order)."""
    rng = np.random.default_rng(3)
    flat, lengths, counts = shuffled_itemsets(rng, 500, width)
    form = mask_form(rng.permutation(width).astype(np.int64), 999 if width == 64 else 1 << 30)
    rec = records(flat, lengths, counts, form=form).rec
    keys = blocks.sort_keys(rec, np.arange(len(rec), dtype=np.int64), 1 + form.words, form.width)
    assert np.array_equal(keys[:, 0], lengths)
    arranged = rec[np.lexsort(keys.T[::-1])]
    want = sorted_records(records(flat, lengths, counts, form=form))
    rows = bucket_lengths(form, int(lengths.max()), len(rec))
    assert (rows > 0) == (width < 80) and want.keys.ndim == (1 if rows else 2)
    if rows:
        out = np.empty(len(rec), np.int64)
        start = np.zeros((rows << form.split) + 1, np.int64)
        order.mask_buckets(arranged, form.width, form.split, form.count_bits, start, out)
    else:
        out = np.empty((len(rec), 2), np.int64)
        start = order.mask2_buckets(arranged, form.width, form.count_bits, out)
    assert np.array_equal(start, want.start) and np.array_equal(out, want.keys)


@pytest.mark.parametrize("masked", [0, 40, 64, 80])
def test_ordered_records_on_one_rank(masked):
    rng = np.random.default_rng(9)
    flat, lengths, counts = shuffled_itemsets(rng, 300, masked or 40)
    most = 999 if masked == 64 else 1 << 30   # 64: two mask words as one-word keys
    form = mask_form(np.arange(masked, dtype=np.int64), most) if masked else None
    got = ordered_records(records(flat, lengths, counts, form=form), serial(), "all")
    want = sorted_records(records(flat, lengths, counts, form=form))
    assert got.n_items == want.n_items
    if masked:
        assert np.array_equal(got.keys, want.keys) and np.array_equal(got.start, want.start)
    else:
        assert got.layout == want.layout and np.array_equal(got.rec, want.rec)


def test_scratch_reuses_the_spare_records_where_they_fit():
    """The sort writes into the records sent when they hold enough words (no new array),
    else into a new array; either way of the received records' shape."""
    spare = np.zeros((10, 3), np.int64)
    fits = _scratch(spare, np.ones((7, 4), np.int64))
    assert fits.shape == (7, 4) and fits.dtype == np.int64 and np.shares_memory(fits, spare)
    new = _scratch(spare, np.ones((8, 4), np.int64))
    assert new.shape == (8, 4) and not np.shares_memory(new, spare)
    own = _scratch(spare, spare[:4])   # never the records to be sorted themselves
    assert own.shape == (4, 3) and not np.shares_memory(own, spare)


def test_pieces_cut_buckets_into_blocks_and_placed_rejoins_them():
    """pieces: the run-length code of each block's buckets, blocks cut anywhere (inside a
    bucket, at its edges, empty blocks); placed: pieces of several senders into buckets,
    each bucket's pieces in the senders' order."""
    rng = np.random.default_rng(11)
    sizes = rng.integers(0, 4, size=40) * rng.integers(0, 2, size=40)
    start = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    bucket = np.repeat(np.arange(40), sizes)
    n = int(start[-1])
    cuts = np.array([0, 0, 3, start[7], start[7], n - 1, n], np.int64)
    ids, counts, per = blocks.pieces(start, cuts)
    assert per.sum() == len(ids) and counts.sum() == n and counts.min() > 0
    at = np.concatenate(([0], np.cumsum(per)))
    for d in range(len(cuts) - 1):
        runs = [(b, len(list(g))) for b, g in groupby(bucket[cuts[d]:cuts[d + 1]])]
        assert list(zip(ids[at[d]:at[d + 1]], counts[at[d]:at[d + 1]])) == runs
    keys = rng.permutation(n).astype(np.int64)   # block after block
    for senders in ([(0, 3), (3, 6)], [(3, 6), (0, 3)], [(2, 6), (0, 2)]):   # blocks a sender holds
        parts = [(keys[cuts[a]:cuts[b]], ids[at[a]:at[b]], counts[at[a]:at[b]]) for a, b in senders]
        want = {b: [] for b in range(40)}
        for k, i, c in parts:
            for bucket_id, piece in zip(i, np.split(k, np.cumsum(c)[:-1])):
                want[bucket_id] += piece.tolist()
        got, bounds = np.empty(n, np.int64), np.full(41, 7, np.int64)   # refilled
        blocks.placed(*(np.concatenate(x) for x in zip(*parts)), bounds, got)
        assert np.array_equal(bounds, start)
        assert got.tolist() == [k for b in range(40) for k in want[b]]
