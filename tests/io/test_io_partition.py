"""Rank-partitioned reads: the union of all ranks' slices is the whole file, with no overlap.

Run under any rank count (``mpiexec -n 2|3 ... --with-mpi -m mpi``). Rank 0 writes each
file to its own temporary folder and broadcasts the path; every rank compares the
gathered slices with the whole file read serially.
"""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec import io
from hpcrec.core.comm import serial, world
from hpcrec.io import ratings as rmod
from hpcrec.io.transactions import Transactions

pytestmark = pytest.mark.mpi


def _shared_path(tmp_path, name):
    return world().bcast_obj(str(tmp_path / name) if world().is_root else None)


def _write_on_root(data, path):
    c = world()
    with c.collective_errors():
        if c.is_root:
            io.write_h5(data, path)
    c.barrier()
    return path


def _transactions(lengths, seed=0) -> Transactions:
    rng = np.random.default_rng(seed)
    rows = [sorted(rng.choice(40, size=k, replace=False).tolist()) for k in lengths]
    return io.load_transactions(rows + [[39]], serial(), partition=False)   # all 40 labels


def _check_tx_partition(path, whole):
    c = world()
    mine = io.load_transactions(path, c)
    parts = c.allgather_obj((mine.offset, mine.n_rows, mine.n_total, mine.rows.indptr, mine.rows.indices))
    offset = 0
    for row_offset, n_rows, n_total, indptr, _ in parts:   # contiguous, in rank order
        assert row_offset == offset and n_total == whole.n_rows
        assert indptr[0] == 0
        offset += n_rows
    assert offset == whole.n_rows
    indices = np.concatenate([p[4] for p in parts])
    lengths = np.concatenate([np.diff(p[3]) for p in parts])
    assert np.array_equal(indices, whole.rows.indices)
    assert np.array_equal(lengths, np.diff(whole.rows.indptr))
    assert list(mine.labels) == list(whole.labels)             # every rank has all labels
    # balanced by non-zeros: no rank more than one row above an even share
    loads = [p[3][-1] for p in parts]
    assert max(loads) <= whole.nnz / c.size + np.diff(whole.rows.indptr).max(initial=0)
    return mine


@pytest.mark.parametrize("lengths", [
    [3, 1, 4, 1, 5, 9, 2],                 # 8 rows: not divisible by 3
    [5],                                   # 2 rows: fewer than 3 ranks
    [],                                    # 1 row
    [0, 0, 0, 0, 30, 0, 0],                # one heavy row, empty ones
    list(range(1, 40)) * 3,                # skewed lengths
])
def test_transactions_partition_union(tmp_path, lengths):
    whole = _transactions(lengths)
    path = _write_on_root(whole, _shared_path(tmp_path, "tx.h5"))
    _check_tx_partition(path, whole)


def test_transactions_partition_of_shared_fimi(shared_data, tmp_path):
    source = shared_data / "fim" / "T10I4D100K.dat"
    whole = io.load_transactions(source, serial(), partition=False)
    path = _write_on_root(whole, _shared_path(tmp_path, "t10.h5"))
    _check_tx_partition(path, whole)
    text_part = io.load_transactions(source, world())          # text: parsed, then sliced
    h5_part = io.load_transactions(path, world())
    assert np.array_equal(text_part.rows.indptr, h5_part.rows.indptr)
    assert np.array_equal(text_part.rows.indices, h5_part.rows.indices)
    assert text_part.offset == h5_part.offset


def _ratings(n, seed=0):
    rng = np.random.default_rng(seed)
    users, items = rng.integers(0, 9, n), rng.integers(100, 120, n)
    return rmod.from_arrays(users, items, rng.integers(1, 6, n), np.arange(n) * 10)


@pytest.mark.parametrize("n", [1, 2, 7, 100, 101])
def test_ratings_partition_union(tmp_path, n):
    c = world()
    whole = _ratings(n)
    path = _write_on_root(whole, _shared_path(tmp_path, "r.h5"))
    mine = io.load_ratings(path, c)
    parts = c.allgather_obj((mine.offset, mine.nnz, mine.n_total, mine.user, mine.item,
                             mine.rating, mine.timestamp))
    offset = 0
    for off, nnz, total, *_ in parts:
        assert off == offset and total == n
        offset += nnz
    assert offset == n
    sizes = [p[1] for p in parts]
    assert max(sizes) - min(sizes) <= 1                        # equal shares
    for k, name in enumerate(("user", "item", "rating", "timestamp"), start=3):
        assert np.array_equal(np.concatenate([p[k] for p in parts]), getattr(whole, name)), name
    assert np.array_equal(mine.user_ids, whole.user_ids)
    assert np.array_equal(mine.item_ids, whole.item_ids)


def test_ratings_partition_of_movielens(shared_data):
    c = world()
    whole = io.load_ratings(shared_data / "ml-100k" / "u.data", serial(), partition=False)
    mine = io.load_ratings(shared_data / "ml-100k" / "u.data", c)
    gathered = np.concatenate(c.allgather_obj(mine.rating))
    assert np.array_equal(gathered, whole.rating)
    assert sum(c.allgather_obj(mine.nnz)) == 100000
