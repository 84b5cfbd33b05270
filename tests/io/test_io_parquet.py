"""Parquet ratings: the same Ratings as the CSV of the same table, on any number of ranks.

Runs serially and under MPI (2 and 3 ranks: each rank reads its own row groups).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpcrec.core.comm import serial, world
from hpcrec.core.errors import InputError
from hpcrec.io import formats, parquet

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _tables(folder: Path, text_ids: bool = False):
    rng = np.random.default_rng(3)
    n = 3000
    users = rng.integers(1, 300, n)
    items = rng.integers(10 ** 9, 10 ** 9 + 500, n)
    rating = rng.integers(1, 11, n) / 2
    stamp = rng.integers(0, 10 ** 9, n)
    user_col = [f"u{u}" for u in users] if text_ids else users
    table = pa.table({"userId": user_col, "movieId": items, "rating": rating, "timestamp": stamp})
    pq.write_table(table, folder / "r.parquet", row_group_size=700)
    lines = [f"{u},{i},{r},{t}" for u, i, r, t in zip(user_col, items, rating, stamp)]
    (folder / "r.csv").write_text("user,item,rating,timestamp\n" + "\n".join(lines) + "\n")


def _folder(tmp_path) -> Path:
    return Path(world().bcast_obj(str(tmp_path) if world().is_root else None))


@pytest.mark.parametrize("text_ids", [False, True])
def test_parquet_equals_csv_serial(tmp_path, text_ids):
    _tables(tmp_path, text_ids)
    a = formats.load_ratings(tmp_path / "r.parquet", serial())
    b = formats.load_ratings(tmp_path / "r.csv", serial())
    for f in ("user", "item", "rating", "timestamp", "user_ids", "item_ids"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert formats.detect_format(tmp_path / "r.parquet") == "ratings-parquet"


def test_parquet_bad_files(tmp_path):
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        formats.load_ratings(tmp_path / "x.parquet", serial())
    pq.write_table(pa.table({"user": [1], "rating": [3.0]}), tmp_path / "y.parquet")
    with pytest.raises(InputError, match="no item column"):
        formats.load_ratings(tmp_path / "y.parquet", serial())
    pq.write_table(pa.table({"user": [1], "item": [2], "rating": [float("nan")]}), tmp_path / "z.parquet")
    with pytest.raises(InputError, match="not a finite"):
        formats.load_ratings(tmp_path / "z.parquet", serial())


@pytest.mark.mpi
@pytest.mark.parametrize("text_ids", [False, True])
def test_parquet_under_mpi(tmp_path, text_ids):
    c = world()
    folder = _folder(tmp_path)
    with c.collective_errors():
        if c.is_root:
            _tables(folder, text_ids)
    part = parquet.read_ratings(folder / "r.parquet", c)
    whole = formats.load_ratings(folder / "r.csv", serial())
    got = c.allgather_obj((part.offset, part.user, part.item, part.rating))
    assert [g[0] for g in got] == list(np.cumsum([0] + [len(g[1]) for g in got[:-1]]))
    assert np.array_equal(np.concatenate([g[1] for g in got]), whole.user)
    assert np.array_equal(np.concatenate([g[2] for g in got]), whole.item)
    assert np.array_equal(part.user_ids, whole.user_ids)
    mine = formats.load_ratings(folder / "r.parquet", c)
    lo, hi = c.chunk(whole.nnz)
    assert np.array_equal(mine.rating, whole.rating[lo:hi])
    out = folder / "p.h5"
    formats.convert(folder / "r.parquet", out, comm=c)
    if c.is_root:
        back = formats.load_ratings(out, serial())
        assert np.array_equal(back.item, whole.item) and np.array_equal(back.item_ids, whole.item_ids)
    c.barrier()
