"""``convert`` and the text loaders under MPI (2 and 3 ranks): every rank parses its own part
and writes its own rows, and the HDF5 file equals the one of the serial reader (byte for
byte the one of one rank), for shared data, generated files (FIMI, ratings, basket CSV),
ranks without a line, and the hostile corpus (where the error must be the serial reader's).

Run with ``mpiexec -n 2|3 python -m mpi4py -m pytest --with-mpi -m mpi``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import h5_contents, needs_ranks

from hpcrec.core.comm import serial, world
from hpcrec.core.errors import HpcrecError, RankFailed
from hpcrec.io import formats, h5slices, textscan, transactions

pytestmark = pytest.mark.mpi
BAD = Path(__file__).resolve().parents[1] / "safety" / "bad_inputs"


def _folder(tmp_path) -> Path:
    return Path(world().bcast_obj(str(tmp_path) if world().is_root else None))


def _check_convert(source, folder: Path, fmt=None):
    """convert() on all ranks vs the serial reader + writer on rank 0: same file or same error."""
    c = world()
    out, ref = folder / "parallel.h5", folder / "serial.h5"
    error = None
    try:
        formats.convert(source, out, fmt, c)
    except RankFailed as exc:
        error = str(exc).split(": ", 1)[1]
    except HpcrecError as exc:   # one rank: its own error, not a rank's report
        if c.size > 1:
            raise
        error = str(exc)
    want = None
    if c.is_root:
        try:
            formats.write_h5(formats.load_any(source, fmt), ref)
        except Exception as exc:  # noqa: BLE001 - compared with the parallel error
            want = str(exc)
    want = c.bcast_obj(want)
    assert error == want
    if error is None and c.is_root:
        assert h5_contents(out) == h5_contents(ref)
    c.barrier()


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(textscan, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(textscan, "LABEL_SLOTS", 4)    # the label tables grow on every rank,
    monkeypatch.setattr(textscan, "ROW_BYTES", 1 << 40)   # and the row pointers;
    monkeypatch.setattr(h5slices, "WRITE_BYTES", 256)     # slices written in many blocks


@pytest.mark.parametrize("name", ["fim/retail.dat", "fim/T10I4D100K.dat", "ml-100k/u.data",
                                  "ml-100k/u2.test", "ml-100k"])
def test_convert_shared_data(shared_data, tmp_path, small_chunks, name):
    _check_convert(shared_data / name, _folder(tmp_path))


def _write_on_root(path: Path, text: str) -> None:
    if world().is_root:
        path.write_text(text, newline="")
    world().barrier()


def test_an_id_beyond_int32_in_one_rank_makes_every_rank_parse_int64(tmp_path, small_chunks):
    folder = _folder(tmp_path)
    _write_on_root(folder / "w.dat", "1 2 3\n" * 3000 + "2147483647 2147483648 5\n")
    _check_convert(folder / "w.dat", folder)


@pytest.mark.parametrize("seed", range(4))
def test_convert_generated(tmp_path, small_chunks, seed):
    folder = _folder(tmp_path)
    rng = np.random.default_rng(seed)
    rows = ["\t".join(map(str, rng.integers(0, 50 if seed % 2 else 10 ** 12, rng.integers(0, 9))))
            for _ in range(3000)]
    _write_on_root(folder / "g.dat", ("\r\n" if seed == 3 else "\n").join(rows))
    _check_convert(folder / "g.dat", folder)
    n = 5000
    lines = [f"{u},{i},{r}" + (f",{t}" if seed % 2 else "") for u, i, r, t in zip(
        rng.integers(1, 400, n), rng.integers(10 ** 6, 10 ** 6 + 900, n),
        np.round(rng.uniform(0.5, 5, n), seed), rng.integers(0, 10 ** 9, n))]
    header = "user,item,rating" + (",timestamp" if seed % 2 else "")
    _write_on_root(folder / "r.csv", "\n".join(([header] if seed < 2 else []) + lines) + "\n")
    _check_convert(folder / "r.csv", folder)


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.iterdir()))
def test_convert_hostile_corpus(tmp_path, name):
    _check_convert(BAD / name, _folder(tmp_path))


def test_loaders_partition_like_serial(shared_data):
    c = world()
    whole = formats.load_ratings(shared_data / "ml-100k" / "u.data", partition=False)
    mine = formats.load_ratings(shared_data / "ml-100k" / "u.data", c)
    lo, hi = c.chunk(whole.nnz)
    assert (mine.offset, mine.n_total) == (lo, whole.nnz)
    for f in ("user", "item", "rating", "timestamp"):
        assert np.array_equal(getattr(mine, f), getattr(whole, f)[lo:hi])
    tx_whole = formats.load_transactions(shared_data / "fim" / "retail.dat", partition=False)
    tx = formats.load_transactions(shared_data / "fim" / "retail.dat", c)
    parts = c.allgather_obj((tx.offset, np.diff(tx.rows.indptr), tx.rows.indices))
    assert [p[0] for p in parts] == list(np.cumsum([0] + [len(p[1]) for p in parts[:-1]]))
    assert np.array_equal(np.concatenate([p[1] for p in parts]), np.diff(tx_whole.rows.indptr))
    assert np.array_equal(np.concatenate([p[2] for p in parts]), tx_whole.rows.indices)
    assert tx.n_total == tx_whole.n_rows and np.array_equal(tx.labels, tx_whole.labels)


def _baskets_text(rng, n: int) -> str:
    names = ["milk", " bread ", "a", "Z", "10", "2", "item 7", ""]
    lines = [",".join(names[j] for j in rng.integers(0, len(names), rng.integers(0, 6)))
             for _ in range(n)]
    return "0,1,2\n" + "\r\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(3))
def test_convert_baskets_csv_in_parallel(tmp_path, small_chunks, seed):
    """Basket CSV takes the parallel compiled path, and its file equals the csv-module reader's."""
    c = world()
    folder = _folder(tmp_path)
    _write_on_root(folder / "b.csv", _baskets_text(np.random.default_rng(seed), 4000))
    assert c.allgather_obj(formats.streamread.read(folder / "b.csv", "baskets-csv", None, c) is not None) \
        == [True] * c.size
    formats.convert(folder / "b.csv", folder / "parallel.h5", None, c)
    if c.is_root:
        formats.write_h5(transactions.read_baskets_csv(folder / "b.csv"), folder / "serial.h5")
        assert h5_contents(folder / "parallel.h5") == h5_contents(folder / "serial.h5")
    c.barrier()


@pytest.mark.parametrize("tail", ["café,milk\n", '"milk, 2%",bread\n', "milk\rbread\n"])
def test_baskets_outside_the_grammar_on_one_rank_only(tmp_path, small_chunks, tail):
    """Non-ASCII labels, quotes or a lone CR in the last rank's lines only: no rank takes
    the compiled path, and the file is the serial reader's (labels as they are)."""
    c = world()
    folder = _folder(tmp_path)
    _write_on_root(folder / "b.csv", _baskets_text(np.random.default_rng(4), 3000) + tail)
    assert c.allgather_obj(formats.streamread.read(folder / "b.csv", "baskets-csv", None, c) is None) \
        == [True] * c.size
    formats.convert(folder / "b.csv", folder / "parallel.h5", None, c)
    if c.is_root:
        formats.write_h5(transactions.read_baskets_csv(folder / "b.csv"), folder / "serial.h5")
        assert h5_contents(folder / "parallel.h5") == h5_contents(folder / "serial.h5")
    c.barrier()


@pytest.mark.parametrize("text,name", [
    ("1 2 3\n" * 4000, "g.dat"),
    ("user,item,rating,timestamp\n" + "".join(f"{u},{u % 7},{u % 5}.5,{u}\n" for u in range(5000)), "r.csv"),
    (_baskets_text(np.random.default_rng(9), 3000), "b.csv"),
])
def test_same_bytes_for_any_number_of_ranks(tmp_path, small_chunks, text, name):
    """Every rank writing its own rows gives, byte for byte, the file one rank writes."""
    c = world()
    folder = _folder(tmp_path)
    _write_on_root(folder / name, text)
    formats.convert(folder / name, folder / "parallel.h5", None, c)
    if c.is_root:
        formats.convert(folder / name, folder / "one.h5", None, serial())
        assert (folder / "parallel.h5").read_bytes() == (folder / "one.h5").read_bytes()
    c.barrier()


@pytest.mark.parametrize("text", [
    "5 6 7\n",                                       # one line: the other ranks have none
    "1 " * 30000 + "\n2\n3",                         # one long line holds most ranges' bytes
    "\n\n\n\n1 2\n",                                 # empty transactions before the only items
    "user,item,rating\n1,2,3\n",                     # one rating
])
def test_ranks_without_lines(tmp_path, text):
    folder = _folder(tmp_path)
    name = "few.csv" if text.startswith("user") else "few.dat"
    _write_on_root(folder / name, text)
    _check_convert(folder / name, folder)


def test_a_failing_rank_writes_nothing(tmp_path, monkeypatch):
    """A full disk on one rank: every rank reports it, and neither file nor temporary remains."""
    c = world()
    needs_ranks(c)
    folder = _folder(tmp_path)
    _write_on_root(folder / "g.dat", "1 2 3\n4 5\n" * 2000)
    if c.rank == c.size - 1:
        def full(fd, data, offset):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(h5slices, "_pwrite_all", full)
    with pytest.raises(RankFailed, match=f"rank {c.size - 1}: cannot write .*No space left on device"):
        formats.convert(folder / "g.dat", folder / "out.h5", None, c)
    c.barrier()
    assert sorted(p.name for p in folder.iterdir()) == ["g.dat"]
