"""Writing one HDF5 file from slices (hpcrec.io.h5slices): the checksum algebra, and files
equal to the in-memory writer's. The MPI runs (every rank writing its rows) are in
test_io_stream_mpi.py.
"""
from __future__ import annotations

import errno
import os
import zlib

import h5py
import numpy as np
import pytest
from helpers import h5_contents

from hpcrec.core.errors import OutputError
from hpcrec.io import h5slices, hdf5, ratings, transactions
from hpcrec.io.synthetic import ratings as synthetic_ratings


@pytest.mark.parametrize("la,lb", [(0, 0), (0, 5), (5, 0), (1, 1), (100, 37), (3, 1000), (70001, 12345)])
def test_crc32_combine_equals_crc_of_the_concatenation(la, lb):
    a, b = os.urandom(la), os.urandom(lb)
    assert hdf5.crc32_combine(zlib.crc32(a), zlib.crc32(b), lb) == zlib.crc32(a + b)


def test_sliced_file_equals_the_in_memory_image(tmp_path):
    """Same datasets, dtypes, attributes and checksums as hdf5.write_h5, and every checksum
    matches the values read back."""
    r = synthetic_ratings(n_users=80, n_items=90, n_ratings=3000)
    r.item_titles = np.array([f"title {k}" for k in range(r.n_items)], dtype=object)
    ratings.write_h5(r, tmp_path / "sliced.h5")
    hdf5.write_h5(tmp_path / "image.h5", ratings.KIND, {
        "user_ids": hdf5.label_data(r.user_ids), "item_ids": hdf5.label_data(r.item_ids),
        "item_title": r.item_titles, "item_genres": r.item_genres, "user": r.user, "item": r.item, "rating": r.rating,
        "timestamp": r.timestamp}, attrs={"n_ratings": r.nnz, "n_users": r.n_users,
                                          "n_items": r.n_items, "source": r.meta["source"]})
    assert h5_contents(tmp_path / "sliced.h5") == h5_contents(tmp_path / "image.h5")
    with hdf5.open_checked(tmp_path / "sliced.h5", "ratings") as fh:
        hdf5._verify(fh, tmp_path / "sliced.h5")     # every dataset's CRC-32 holds
    for name in ("sliced.h5", "image.h5"):      # image.h5: small datasets first, as files before 16y
        back = ratings.read_h5(tmp_path / name)
        assert np.array_equal(back.user, r.user) and np.array_equal(back.rating, r.rating)
        assert np.array_equal(back.item_ids, r.item_ids) and back.item_titles.tolist() == r.item_titles.tolist()


def test_large_datasets_come_first_their_offsets_from_their_lengths_alone(tmp_path):
    """The reserved datasets' offsets do not depend on the small datasets or the attributes
    (a rank writes its pieces before the dictionary of ids is known), and they lie before
    the small datasets in the file."""
    reserved = {"user": (np.dtype("<i4"), 1000, 0), "rating": (np.dtype("<f4"), 1000, 0)}
    bare = hdf5.build(h5slices.SparseImage(), "ratings", {}, {}, reserved)
    crcs = {k: (dt, n, 12345) for k, (dt, n, _) in reserved.items()}
    full = hdf5.build(h5slices.SparseImage(), "ratings", {
        "user_ids": np.arange(50_000), "item_title": np.array(["t" * 300] * 100, dtype=object)},
        {"n_users": 50_000, "source": "s" * 1000}, crcs)
    assert bare == full and bare["user"] < bare["rating"]
    r = synthetic_ratings(n_users=80, n_items=90, n_ratings=3000)
    ratings.write_h5(r, tmp_path / "r.h5")
    with h5py.File(tmp_path / "r.h5", "r") as fh:
        assert fh["timestamp"].id.get_offset() < fh["user_ids"].id.get_offset()


def test_an_output_left_unclosed_leaves_nothing(tmp_path):
    """Leaving a Slices block without close (a reader that gave up after writing its first
    pieces), or with an error, removes the temporary file and keeps the previous output."""
    (tmp_path / "t.h5").write_bytes(b"previous")
    values = np.arange(100_000, dtype=np.int64)
    with h5slices.Slices(tmp_path / "t.h5", "ratings", {"timestamp": (np.int64, len(values))}) as out:
        out.put("timestamp", values)
    with pytest.raises(ValueError, match="gave up"):
        with h5slices.Slices(tmp_path / "t.h5", "ratings", {"timestamp": (np.int64, len(values))}) as out:
            out.put("timestamp", values)
            raise ValueError("gave up")
    with pytest.raises(RuntimeError, match="pieces never written: rating"):
        with h5slices.Slices(tmp_path / "t.h5", "ratings", {"timestamp": (np.int64, len(values)),
                                                            "rating": (np.float32, 3)}) as out:
            out.put("timestamp", values)
            out.close({}, {})
    assert [p.name for p in tmp_path.iterdir()] == ["t.h5"] and (tmp_path / "t.h5").read_bytes() == b"previous"


def test_empty_transactions_and_holes(tmp_path):
    tx = transactions.from_lists([[], [], []])
    transactions.write_h5(tx, tmp_path / "e.h5")
    back = transactions.read_h5(tmp_path / "e.h5")
    assert back.n_rows == 3 and back.nnz == 0


def test_failed_slice_write_leaves_nothing(tmp_path, monkeypatch):
    def full(fd, data, offset):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(h5slices, "_pwrite_all", full)
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.h5").write_bytes(b"previous")
    with pytest.raises(OutputError, match="No space left on device"):
        transactions.write_h5(transactions.from_lists([[1, 2], [3]]), out / "t.h5")
    assert [p.name for p in out.iterdir()] == ["t.h5"] and (out / "t.h5").read_bytes() == b"previous"


@pytest.mark.parametrize("block", [4096, 3 * 4096, 1 << 23])
def test_writes_around_the_page_cache_equal_plain_ones(tmp_path, monkeypatch, block):
    """Whole blocks written with O_DIRECT (heads and tails through the page cache), the
    same without it, and with a device that refuses the alignment (EINVAL): one file."""
    r = synthetic_ratings(n_users=300, n_items=200, n_ratings=20000, seed=3)
    monkeypatch.setattr(h5slices, "WRITE_BYTES", block)
    ratings.write_h5(r, tmp_path / "direct.h5")
    with monkeypatch.context() as m:
        m.setattr(h5slices, "_open_direct", lambda path: None)
        ratings.write_h5(r, tmp_path / "plain.h5")
    written = []

    def refused(fd, direct, piece, dtype, add, at, pool):
        written.append(at)
        raise OSError(errno.EINVAL, "Invalid argument")
    with monkeypatch.context() as m:
        m.setattr(h5slices, "_direct", refused)
        ratings.write_h5(r, tmp_path / "refused.h5")
    assert (tmp_path / "direct.h5").read_bytes() == (tmp_path / "plain.h5").read_bytes()
    assert (tmp_path / "refused.h5").read_bytes() == (tmp_path / "plain.h5").read_bytes()
    assert len(written) == 4 or h5slices._open_direct(tmp_path / "plain.h5") is None


def _written_both_ways(tmp_path, piece, dtype, convert, at):
    """(bytes from ``at`` on, CRC-32) of ``piece`` written by ``_write_piece`` around the
    page cache (``O_DIRECT``, where the file system allows it) and through it."""
    from concurrent.futures import ThreadPoolExecutor
    for name, direct in (("direct", True), ("plain", False)):
        path = tmp_path / name
        path.write_bytes(b"")
        fd = os.open(path, os.O_WRONLY)
        dfd = h5slices._open_direct(path) if direct else None
        try:
            with ThreadPoolExecutor(1) as pool:
                crc = h5slices._write_piece(fd, dfd, piece, dtype, convert, at, pool)
        finally:
            os.close(fd)
            if dfd is not None:
                os.close(dfd)
        yield path.read_bytes()[at:], crc


@pytest.mark.parametrize("at", [0, 3, 4096 - 8, 4096 + 5])
@pytest.mark.parametrize("block", [4096, 3 * 4096, 1 << 23])
@pytest.mark.parametrize("kind,stored,add", [(np.int64, "<i8", 123456789), (np.int32, "<u2", 0),
                                             (np.int32, "<i8", 7)])
def test_pieces_with_an_offset_added_around_the_page_cache(tmp_path, monkeypatch, at, block, kind, stored, add):
    """A piece written with a number added (a rank's row pointers after the previous ranks')
    or cast to another stored dtype (int32 item codes stored as uint16): the same bytes and
    CRC-32 around the page cache as through it, at aligned and unaligned offsets, with whole
    blocks, partial ones and items cut by a block's edge."""
    monkeypatch.setattr(h5slices, "WRITE_BYTES", block)
    piece = np.cumsum(np.random.default_rng(at).integers(0, 9, 5000)).astype(kind)
    dtype = np.dtype(stored)
    expected = (piece.astype(np.int64) + add).astype(dtype).tobytes()
    for written, crc in _written_both_ways(tmp_path, piece, dtype, h5slices._converter(add, None), at):
        assert written == expected and crc == zlib.crc32(expected)


@pytest.mark.parametrize("at", [0, 3, 4096 + 5])
@pytest.mark.parametrize("block", [4096, 3 * 4096 + 8, 1 << 23])
@pytest.mark.parametrize("case", ["lookup", "divide"])
def test_pieces_converted_block_by_block(tmp_path, monkeypatch, at, block, case):
    """A piece written through ``convert`` (item codes renumbered by a lookup table, counts
    divided into supports): the converted values' bytes and CRC-32, around the page cache
    and through it, with blocks cut inside an item, as in a file from ``Slices.put``."""
    monkeypatch.setattr(h5slices, "WRITE_BYTES", block)
    rng = np.random.default_rng(at + block)
    if case == "lookup":
        piece, table = rng.integers(0, 50, 7000).astype(np.int32), rng.permutation(50).astype(np.int32)
        dtype, expected = np.dtype("<i4"), table[piece].astype("<i4").tobytes()
        def convert(part, out):
            np.take(table, part, out=out)
    else:
        piece = rng.integers(1, 10**6, 7000).astype(np.int64)
        dtype, expected = np.dtype("<f8"), (piece / 7.0).astype("<f8").tobytes()
        def convert(part, out):
            np.divide(part, 7.0, out=out)
    for written, crc in _written_both_ways(tmp_path, piece, dtype, convert, at):
        assert written == expected and crc == zlib.crc32(expected)
