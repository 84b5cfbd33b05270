"""Split points of a partitioned HDF5 transaction read, searched on disk, and the checks
that the partitioned read keeps (each part checks only its own slice of row pointers)."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from hpcrec import io
from hpcrec.core.comm import serial, weighted_bounds
from hpcrec.core.errors import InputError
from hpcrec.io import hdf5
from hpcrec.io import transactions as T
from hpcrec.kernels.csr import csr


@pytest.mark.parametrize("stored", [np.int64, np.uint32])
@pytest.mark.parametrize("n", [0, 1, 7, 3000, 200_000])
def test_split_rows_equals_weighted_bounds(tmp_path, monkeypatch, n, stored):
    monkeypatch.setattr(T, "SEARCH_SPAN", 16)   # many bisection steps even on small files
    rng = np.random.default_rng(n)
    lengths = rng.integers(0, 20, n) * (rng.random(n) < 0.7)
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    with h5py.File(tmp_path / "p.h5", "w") as fh:
        fh.create_dataset("indptr", data=indptr.astype(stored), chunks=(min(4096, len(indptr)),))
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


def _random_rows(n_items: int, n_rows: int, seed: int) -> T.Transactions:
    """``n_rows`` random sorted rows over ``n_items`` items (the first and last among them)."""
    rng = np.random.default_rng(seed)
    rows = [np.unique(rng.integers(0, n_items, rng.integers(0, 8))) for _ in range(n_rows)]
    rows += [np.array([0, n_items - 1])]
    indptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    return T.Transactions(csr(indptr, np.concatenate(rows).astype(np.int32)), np.arange(n_items) * 3)


def _reads_back_as_written(path, tx: T.Transactions) -> None:
    """The file reads back, whole and in 2 and 3 parts, as ``tx``'s parts: int32 codes
    and int64 pointers (contiguous, however narrow they are stored), the same rows and shard."""
    for parts in (1, 2, 3):
        for r in range(parts):
            got, want = T.read_h5(path, r, parts), tx.part(r, parts)
            assert got.rows.indices.dtype == np.int32 and got.rows.indices.flags.c_contiguous
            assert got.rows.indptr.dtype == np.int64 and got.rows.indptr.flags.c_contiguous
            assert np.array_equal(got.rows.indices, want.rows.indices)
            assert np.array_equal(got.rows.indptr, want.rows.indptr) and got.shard == want.shard


@pytest.mark.parametrize("n_items,stored", [(5, "uint16"), (1 << 16, "uint16"), ((1 << 16) + 1, "int32")])
def test_item_codes_are_stored_as_narrow_as_the_items_allow(tmp_path, n_items, stored):
    """Up to 65,536 items the codes are stored as uint16 (65,535 included), beyond as int32;
    either reads back, whole and in parts, as the int32 codes that were written."""
    tx = _random_rows(n_items, 500, n_items)
    T.write_h5(tx, tmp_path / "t.h5")
    with h5py.File(tmp_path / "t.h5", "r") as fh:
        assert fh["indices"].dtype == np.dtype(stored)
    _reads_back_as_written(tmp_path / "t.h5", tx)


def test_files_with_int32_item_codes_read_as_before(tmp_path):
    """A file written before the narrow codes and pointers (int32 ``indices``, int64
    ``indptr``; small datasets first, the layout before 16y) reads, whole and in parts,
    exactly as the same rows written now."""
    tx = _random_rows(300, 2000, 1)
    T.write_h5(tx, tmp_path / "new.h5")
    hdf5.write_h5(tmp_path / "old.h5", T.KIND, {
        "item_labels": hdf5.label_data(tx.labels), "indptr": tx.indptr, "indices": tx.indices},
        attrs={"n_transactions": tx.n_rows, "n_items": tx.n_items})
    with h5py.File(tmp_path / "old.h5", "r") as old, h5py.File(tmp_path / "new.h5", "r") as new:
        assert old["indices"].dtype == np.int32 and new["indices"].dtype == np.uint16
        assert old["indptr"].dtype == np.int64 and new["indptr"].dtype == np.uint32
    for parts in (1, 2, 5):
        for r in range(parts):
            a, b = T.read_h5(tmp_path / "old.h5", r, parts), T.read_h5(tmp_path / "new.h5", r, parts)
            assert a.rows.indices.dtype == b.rows.indices.dtype == np.int32
            assert np.array_equal(a.rows.indices, b.rows.indices) and np.array_equal(a.rows.indptr, b.rows.indptr)
            assert a.shard == b.shard and np.array_equal(a.labels, b.labels)


@pytest.mark.parametrize("limit,stored", [(None, "uint32"), (0, "uint32"), (-1, "int64")])
def test_row_pointers_are_stored_as_narrow_as_the_total_allows(tmp_path, monkeypatch, limit, stored):
    """Row pointers are stored as uint32 while the total item count fits it (the limit,
    uint32's largest value, moved here to the file's total plus ``limit``), else int64;
    either reads back, whole and in parts, as the int64 pointers that were written."""
    tx = _random_rows(40, 700, 3)
    if limit is not None:
        monkeypatch.setattr(T, "NARROW_POINTERS", tx.nnz + limit)
        assert T.pointer_dtype(tx.nnz) == np.dtype(stored)
    T.write_h5(tx, tmp_path / "t.h5")
    with h5py.File(tmp_path / "t.h5", "r") as fh:
        assert fh["indptr"].dtype == np.dtype(stored)
    _reads_back_as_written(tmp_path / "t.h5", tx)


def test_a_pointer_past_the_narrow_type_is_refused_not_wrapped(tmp_path):
    """An unchecked Transactions whose inner row pointer exceeds uint32 (its total fits)
    must not be stored wrapped round: the write fails and leaves no file."""
    tx = _random_rows(10, 3000, 4)
    tx.rows.indptr[1500] = (1 << 32) + int(tx.rows.indptr[1500])
    with pytest.raises(ValueError, match="range"):
        T.write_h5(tx, tmp_path / "t.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("where", [0, -1])
def test_a_code_past_the_narrow_type_is_refused_not_wrapped(tmp_path, monkeypatch, direct, where):
    """An unchecked Transactions whose code does not fit uint16 (70,000 among 10 items)
    must not be stored wrapped round to a valid-looking code (70,000 % 65,536): the write
    fails and leaves no file, with O_DIRECT and through the page cache alike."""
    from hpcrec.io import h5slices
    if not direct:
        monkeypatch.setattr(h5slices, "_open_direct", lambda path: None)
    tx = _random_rows(10, 3000, 2)
    tx.rows.indices[where] = 70_000
    with pytest.raises(ValueError, match="range"):
        T.write_h5(tx, tmp_path / "t.h5")
    assert list(tmp_path.iterdir()) == []
