"""The merge of sorted record runs (hpcrec.kernels.merge) against a stable sort of the whole,
and the distributed ordering built on it (hpcrec.fim.engine.merged_records) on one rank
against hpcrec.fim.result.sorted_records (on several ranks: tests/fim/test_fim_mpi.py)."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import shuffled_itemsets

from hpcrec.core.comm import serial
from hpcrec.fim.engine import _scratch, merged_records
from hpcrec.fim.result import records, sorted_records
from hpcrec.kernels import merge


def _runs(rng, sizes, n_words, high):
    runs = []
    for n in sizes:
        rec = rng.integers(0, high, size=(n, n_words + 1), dtype=np.int64)
        runs.append(rec[np.lexsort(rec[:, n_words - 1::-1].T)] if n else rec)  # by key words
    return runs


@pytest.mark.parametrize("sizes", [[0], [5], [0, 0, 0], [7, 0], [0, 9], [0, 40, 0],
                                   [13, 1, 27], [100, 100, 3, 50, 0, 8, 1000]])
@pytest.mark.parametrize("n_words, high", [(1, 1 << 40), (2, 3), (3, 2)])
def test_merge_equals_a_stable_sort(sizes, n_words, high):
    """Empty runs, one run holding everything, odd run counts, and many equal keys (high 2-3:
    ties across runs keep the run order, as a stable sort of the concatenation does)."""
    rng = np.random.default_rng(len(sizes) * 31 + n_words)
    runs = _runs(rng, sizes, n_words, high)
    whole = np.concatenate(runs) if runs else np.zeros((0, n_words + 1), np.int64)
    bounds = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    want = whole[np.lexsort(whole[:, n_words - 1::-1].T)]   # lexsort is stable
    rec = whole.copy()
    dst = np.full_like(rec, -1)
    got = merge.merge_runs(rec, bounds, n_words, dst)
    assert np.array_equal(got, want)
    # the result is one of the two arrays given (no third allocated in the kernel)
    assert got.ctypes.data in (rec.ctypes.data, dst.ctypes.data)


def test_merged_records_on_one_rank():
    rng = np.random.default_rng(9)
    flat, lengths, counts = shuffled_itemsets(rng, 300)
    got = merged_records(records(flat, lengths, counts), serial(), "all")
    want = sorted_records(records(flat, lengths, counts))
    assert got.layout == want.layout and got.n_items == want.n_items
    assert np.array_equal(got.rec, want.rec)


def test_scratch_reuses_the_spare_records_where_they_fit():
    """The merge writes into the sort's spare records when they hold enough words (no new
    array), else into a new array; either way of the records' shape."""
    spare = np.zeros((10, 3), np.int64)
    fits = _scratch(spare, np.ones((7, 4), np.int64))
    assert fits.shape == (7, 4) and fits.dtype == np.int64 and np.shares_memory(fits, spare)
    new = _scratch(spare, np.ones((8, 4), np.int64))
    assert new.shape == (8, 4) and not np.shares_memory(new, spare)
    own = _scratch(spare, spare[:4])   # never the records to be merged themselves
    assert own.shape == (4, 3) and not np.shares_memory(own, spare)
