"""Split points of a partitioned HDF5 transaction read, searched on disk, and the checks
that the partitioned read keeps (each part checks only its own slice of row pointers)."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from hpcrec import io
from hpcrec.core.comm import serial, weighted_bounds
from hpcrec.core.errors import InputError
from hpcrec.io import transactions as T


@pytest.mark.parametrize("n", [0, 1, 7, 3000, 200_000])
def test_split_rows_equals_weighted_bounds(tmp_path, monkeypatch, n):
    monkeypatch.setattr(T, "SEARCH_SPAN", 16)   # many bisection steps even on small files
    rng = np.random.default_rng(n)
    lengths = rng.integers(0, 20, n) * (rng.random(n) < 0.7)
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    with h5py.File(tmp_path / "p.h5", "w") as fh:
        fh.create_dataset("indptr", data=indptr, chunks=(min(4096, len(indptr)),))
        for parts in (1, 2, 3, 5, 64):
            assert np.array_equal(T._split_rows(fh["indptr"], n, parts),
                                  weighted_bounds(indptr, parts))


def _file(tmp_path, rows):
    path = tmp_path / "t.h5"
    io.write_h5(io.load_transactions(rows, serial(), partition=False), path)
    return path


@pytest.mark.parametrize("parts", [1, 2, 3, 4])
def test_parts_rebuild_the_file(tmp_path, parts):
    rows = [[i % 7, 7 + i % 5] if i % 3 else [i % 9] for i in range(50)]
    path = _file(tmp_path, rows)
    whole = T.read_h5(path)
    got = [T.read_h5(path, r, parts) for r in range(parts)]
    assert sum(g.n_rows for g in got) == whole.n_rows
    assert np.array_equal(np.concatenate([g.rows.indices for g in got]), whole.rows.indices)
    assert np.array_equal(np.concatenate([np.diff(g.rows.indptr) for g in got]),
                          np.diff(whole.rows.indptr))


@pytest.mark.parametrize("where", [1, 10, 24, 39])
def test_a_falling_pointer_is_found_by_some_part(tmp_path, where):
    path = _file(tmp_path, [[0, 1]] * 40)
    with h5py.File(path, "r+") as fh:
        ptr = fh["indptr"][()]
        ptr[where] = ptr[where - 1] - 1 if where > 1 else 5   # breaks monotony at `where`
        fh["indptr"][...] = ptr
    for parts in (1, 2, 3, 5):
        failed = 0
        for r in range(parts):
            try:
                T.read_h5(path, r, parts)
            except InputError as exc:
                assert "row pointers are not a valid CSR index" in str(exc)
                failed += 1
        assert failed >= 1, parts
