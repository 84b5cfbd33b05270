"""Every input format -> in memory -> HDF5 -> read back: equal to an independent parse.

Oracles are plain-Python parses of the same bytes (csv module, str.split), the facts
stated in the shared data READMEs, and hand-written expectations for tiny files.
"""
from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hpcrec import io
from hpcrec.core.comm import serial
from hpcrec.io import formats
from hpcrec.io import ratings as rmod
from hpcrec.io import transactions as tmod
from hpcrec.io.ratings import Ratings
from hpcrec.io.transactions import Transactions
from hpcrec.kernels.csr import Csr, csr


def tx_roundtrip(tx: Transactions, tmp_path) -> Transactions:
    path = io.write_h5(tx, tmp_path / "tx.h5")
    back = io.load_transactions(path, serial(), partition=False)
    for t in (tx, back):   # every reader hands out the kernels' one CSR type
        assert isinstance(t.rows, Csr) and t.rows.data is None
        assert t.rows.shape == (t.n_rows, t.n_items)
        assert t.rows.indptr.dtype == np.int64 and t.rows.indices.dtype == np.int32
    assert np.array_equal(back.rows.indptr, tx.rows.indptr)
    assert np.array_equal(back.rows.indices, tx.rows.indices)
    assert list(back.labels) == list(tx.labels)
    assert back.labels.dtype.kind == tx.labels.dtype.kind
    return back


def baskets(tx: Transactions) -> list[set]:
    return [set(row) for row in tx.to_lists()]


def rt_roundtrip(r: Ratings, tmp_path) -> Ratings:
    path = io.write_h5(r, tmp_path / "r.h5")
    back = io.load_ratings(path, serial(), partition=False)
    for name in ("user", "item", "rating", "timestamp", "user_ids", "item_ids"):
        assert np.array_equal(getattr(back, name), getattr(r, name)), name
    for name in ("item_titles", "item_genres"):
        a, b = getattr(back, name), getattr(r, name)
        assert (a is None and b is None) or list(a) == list(b), name
    return back


def triples(r: Ratings) -> list[tuple]:
    f = r.to_frame()
    return sorted(zip(f.user.tolist(), f.item.tolist(), f.rating.tolist(), f.timestamp.tolist()))


# -- transactions ----------------------------------------------------------------------------

def test_retail_dataset_csv(shared_data, tmp_path):
    path = shared_data / "fim" / "retail_dataset.csv"
    with open(path, newline="", encoding="utf-8") as fh:      # oracle: csv module, CRLF-aware
        rows = list(csv.reader(fh))
    assert rows[0] == [str(i) for i in range(7)]
    want = [{c.strip() for c in r if c.strip()} for r in rows[1:]]
    tx = io.load_transactions(path, serial())
    assert formats.detect_format(path) == "baskets-csv"
    back = tx_roundtrip(tx, tmp_path)
    assert baskets(back) == want
    # facts from fim/README.md
    assert (back.n_rows, back.n_items, back.nnz) == (315, 9, 1277)
    assert list(back.labels) == ["Bagel", "Bread", "Cheese", "Diaper", "Eggs", "Meat", "Milk",
                                 "Pencil", "Wine"]


def test_retail_dat_fimi(shared_data, tmp_path):
    path = shared_data / "fim" / "retail.dat"
    want = [{int(t) for t in line.split()} for line in path.read_text().splitlines()]
    tx = io.load_transactions(path, serial())
    back = tx_roundtrip(tx, tmp_path)
    assert (back.n_rows, back.n_items, back.nnz) == (88162, 16470, 908576)   # fim/README.md
    assert back.labels.dtype == np.int64
    assert baskets(back) == want


def test_fimi_duplicates_blank_lines_crlf(tmp_path):
    path = tmp_path / "small.dat"
    path.write_bytes(b"3 1 3 2\r\n\r\n7\t 1  \n10 2")
    back = tx_roundtrip(io.load_transactions(path, serial()), tmp_path)
    assert baskets(back) == [{1, 2, 3}, set(), {1, 7}, {2, 10}]
    assert list(back.labels) == [1, 2, 3, 7, 10]
    assert back.nnz == 7


def test_baskets_csv_quoted_unicode_and_separators(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text('"a,b",naïve,日本\r\n  x|y ,"say ""hi""",,\n\n,,\n"line\nbreak",odd\u2028sep\n',
                    encoding="utf-8")
    back = tx_roundtrip(io.load_transactions(path, serial()), tmp_path)
    # the blank line is skipped, the ',,' row is an empty transaction
    assert baskets(back) == [{"a,b", "naïve", "日本"}, {"x|y", 'say "hi"'}, set(),
                             {"line\nbreak", "odd\u2028sep"}]


def test_baskets_csv_without_header_and_forced_header(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("0,1\nmilk,bread\n")
    assert baskets(tmod.read_baskets_csv(path)) == [{"milk", "bread"}]      # 0..k-1 header
    assert baskets(tmod.read_baskets_csv(path, header=False)) == [{"0", "1"}, {"milk", "bread"}]
    path.write_text("milk,bread\neggs\n")
    assert baskets(tmod.read_baskets_csv(path)) == [{"milk", "bread"}, {"eggs"}]
    assert baskets(tmod.read_baskets_csv(path, header=True)) == [{"eggs"}]


def test_onehot_csv(tmp_path):
    rng = np.random.default_rng(1)
    dense = rng.random((20, 6)) < 0.4
    names = ["apple", "b,c", "Crème", "d", "e", "f"]
    frame = pd.DataFrame(dense, columns=names)
    frame["d"] = frame["d"].astype(int)                          # 0/1 and True/False mixed
    path = tmp_path / "onehot.csv"
    frame.to_csv(path, index=False)
    back = tx_roundtrip(io.load_transactions(path, serial(), format="onehot-csv"), tmp_path)
    want = [{names[j] for j in np.flatnonzero(row)} for row in dense]
    assert baskets(back) == want
    assert sorted(back.labels) == sorted(names)


LISTS = [["milk", "bread", "milk"], [], ["eggs"], ["bread", "eggs", "beer"], ["beer"]]


def test_list_of_lists(tmp_path):
    back = tx_roundtrip(io.load_transactions(LISTS, serial()), tmp_path)
    assert baskets(back) == [set(t) for t in LISTS]
    assert list(back.labels) == ["beer", "bread", "eggs", "milk"]
    ints = tx_roundtrip(io.load_transactions([[5, 1, 5], [2]], serial()), tmp_path)
    assert ints.labels.dtype == np.int64 and baskets(ints) == [{1, 5}, {2}]


def test_list_of_lists_skips_missing_cells():
    nan = float("nan")
    tx = io.load_transactions([["a", nan, None], [nan]], serial())
    assert baskets(tx) == [{"a"}, set()] and list(tx.labels) == ["a"]


def _onehot(lists):
    items = sorted({x for t in lists for x in t})
    return pd.DataFrame([[x in t for x in items] for t in lists], columns=items)


@pytest.mark.parametrize("variant", ["bool", "int", "sparse"])
def test_onehot_dataframe(tmp_path, variant):
    df = _onehot(LISTS)
    if variant == "int":
        df = df.astype(int)
    elif variant == "sparse":
        df = df.astype(pd.SparseDtype(bool, False))
    back = tx_roundtrip(io.load_transactions(df, serial()), tmp_path)
    assert baskets(back) == [set(t) for t in LISTS]


def test_onehot_dataframe_rejects_non_binary_and_duplicates():
    with pytest.raises(io.formats.InputError, match="allowed values"):
        io.load_transactions(pd.DataFrame({"a": [0, 2]}), serial())
    df = pd.DataFrame([[1, 0]], columns=["a", "a"])
    with pytest.raises(io.formats.InputError, match="duplicate item column 'a'"):
        io.load_transactions(df, serial())


# -- ratings ---------------------------------------------------------------------------------

def _ml100k_oracle(folder, name="u.data"):
    rows = [tuple(int(x) for x in line.split("\t")) for line in
            (folder / name).read_text().splitlines()]
    titles, genres = {}, {}
    genre_names = [g.split("|")[0] for g in (folder / "u.genre").read_text("latin-1").split("\n")
                   if g.strip()]
    for line in (folder / "u.item").read_text("latin-1").splitlines():
        f = line.split("|")
        titles[int(f[0])] = f[1]
        genres[int(f[0])] = "|".join(g for g, flag in zip(genre_names, f[5:]) if flag == "1")
    return sorted((u, i, float(r), t) for u, i, r, t in rows), titles, genres


def test_movielens_100k(shared_data, tmp_path):
    folder = shared_data / "ml-100k"
    want, titles, genres = _ml100k_oracle(folder)
    for source in (folder, folder / "u.data"):
        assert formats.detect_format(source) == "movielens"
    r = io.load_ratings(folder / "u.data", serial())
    back = rt_roundtrip(r, tmp_path)
    assert triples(back) == want
    assert (back.n_users, back.n_items, back.nnz) == (943, 1682, 100000)
    assert {int(i): t for i, t in zip(back.item_ids, back.item_titles)} == titles
    assert {int(i): g for i, g in zip(back.item_ids, back.item_genres)} == genres
    assert titles[1] == "Toy Story (1995)" and any("é" in t for t in titles.values())


def test_movielens_100k_fold_keeps_full_id_tables(shared_data, tmp_path):
    folder = shared_data / "ml-100k"
    want, _, _ = _ml100k_oracle(folder, "u1.test")
    back = rt_roundtrip(io.load_ratings(folder / "u1.test", serial()), tmp_path)
    assert triples(back) == want and back.nnz == 20000
    assert (back.n_users, back.n_items) == (943, 1682)          # from u.user / u.item


def _ml100k_tables_pandas(folder):
    """The side tables as the earlier pandas-based reader gave them (the reference)."""
    items = pd.read_csv(folder / "u.item", sep="|", header=None, dtype=str, encoding="latin-1",
                        keep_default_na=False, index_col=False)
    genre_names = [g.split("|")[0] for g in (folder / "u.genre").read_text("latin-1").splitlines()
                   if g.strip()]
    flags = items.iloc[:, 5:].to_numpy() == "1"
    genres = ["|".join(genre_names[k] for k in np.flatnonzero(row)) for row in flags]
    order = np.argsort(items[0].astype(np.int64).to_numpy(), kind="stable")
    users = pd.read_csv(folder / "u.user", sep="|", header=None, dtype=str, encoding="latin-1")
    return (np.sort(users[0].astype(np.int64).to_numpy()), items[0].astype(np.int64).to_numpy()[order],
            items[1].to_numpy(dtype=object)[order], np.array(genres, dtype=object)[order])


def test_ml100k_side_tables_match_pandas_without_importing_it(shared_data):
    folder = shared_data / "ml-100k"
    got = rmod.ml100k_tables(folder / "u.data")
    for g, w in zip(got, _ml100k_tables_pandas(folder)):
        assert g.dtype == w.dtype and g.tolist() == w.tolist()
    code = ("import sys; from pathlib import Path; from hpcrec.io import ratings; "
            f"ratings.ml100k_tables(Path({str(folder / 'u.data')!r})); "
            "print('pandas.core.frame' in sys.modules)")  # pandas itself is a lazy stub
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ml100k_side_tables_hostile(tmp_path):
    (tmp_path / "u.genre").write_text("unknown|0\nAction|1\n")
    item = tmp_path / "u.item"
    item.write_bytes("2|Bête (1995)|01-Jan-1995||url|0|1\r\n\r\n1|Toy|x||u|1|0\n3|Short\n"
                     .encode("latin-1"))
    (tmp_path / "u.user").write_text("5|24|M|x|1\n\n4|53|F|y|2\n")
    users, ids, titles, genres = rmod.ml100k_tables(tmp_path / "u.data")
    assert users.tolist() == [4, 5] and ids.tolist() == [1, 2, 3]
    assert titles.tolist() == ["Toy", "Bête (1995)", "Short"]
    assert genres.tolist() == ["unknown", "Action", ""]
    for text, message in [("1|A|d||u|0|1|1\n2|B|d||u|0|1|1|1\n", "line 2: 9 fields, more than"),
                          ("1|A\nx|B\n", "line 2: item id 'x' is not an integer"),
                          ("1|A\n2.5|B\n", "line 2: item id '2.5' is not an integer"),
                          ("1|A\n2\n", "line 2: 1 field"), ("\n\n", "empty file"),
                          ("1|A\x00\n", "binary data")]:
        item.write_bytes(text.encode("latin-1"))
        with pytest.raises(io.formats.InputError, match=message):
            rmod.ml100k_tables(tmp_path / "u.data")


def test_ml1m_format(tmp_path):
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::10::5::978300760\n2::10::3::978302109\n"
                                        "1::20::4::978301968\n")
    (folder / "movies.dat").write_bytes("10::Amélie (2001)::Comedy|Romance\n20::Heat (1995)::"
                                        "Action|Crime|Thriller\n30::Unrated::Drama\n"
                                        .encode("latin-1"))
    for source in (folder, folder / "ratings.dat"):
        assert formats.detect_format(source) == "movielens"
        back = rt_roundtrip(io.load_ratings(source, serial()), tmp_path)
        assert triples(back) == [(1, 10, 5.0, 978300760), (1, 20, 4.0, 978301968),
                                 (2, 10, 3.0, 978302109)]
        assert list(back.item_ids) == [10, 20]
        assert list(back.item_titles) == ["Amélie (2001)", "Heat (1995)"]
        assert list(back.item_genres) == ["Comedy|Romance", "Action|Crime|Thriller"]


def test_ml1m_format_under_other_name(tmp_path):
    path = tmp_path / "my_ratings.dat"
    path.write_text("7::8::2.5::0\n")
    assert formats.detect_format(path) == "movielens"
    assert triples(io.load_ratings(path, serial())) == [(7, 8, 2.5, 0)]


def test_ml_latest_small_format(tmp_path):
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
                                        "1,3,4.5,964981247\n2,3,0.5,964982224\n")
    (folder / "movies.csv").write_text('movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n'
                                       '3,"Grumpier Old Men, The (1995)",Comedy|Romance\n'
                                       '4,Waiting to Exhale (1995),(no genres listed)\n')
    for source in (folder, folder / "ratings.csv"):
        assert formats.detect_format(source) == "movielens"
        back = rt_roundtrip(io.load_ratings(source, serial()), tmp_path)
        assert triples(back) == [(1, 1, 4.0, 964982703), (1, 3, 4.5, 964981247),
                                 (2, 3, 0.5, 964982224)]
        assert list(back.item_titles) == ["Toy Story (1995)", "Grumpier Old Men, The (1995)"]
        assert list(back.item_genres) == ["Adventure|Animation", "Comedy|Romance"]


@pytest.mark.parametrize("text,want", [
    ("user,item,rating\n1,2,3.5\n4,2,1\n", [(1, 2, 3.5, 0), (4, 2, 1.0, 0)]),
    ("1,2,3.5,100\n4,2,1,200\n", [(1, 2, 3.5, 100), (4, 2, 1.0, 200)]),
    ("u,i,score\nalice,Le Film,4\nbob,x|y,2\n", [("alice", "Le Film", 4.0, 0), ("bob", "x|y", 2.0, 0)]),
    ("7,  a,1\n007,b,2\n", [(7, "a", 1.0, 0), (7, "b", 2.0, 0)]),
])
def test_generic_ratings_csv(tmp_path, text, want):
    path = tmp_path / "r.csv"
    path.write_text(text)
    back = rt_roundtrip(io.load_ratings(path, serial(), format="ratings-csv"), tmp_path)
    got = [(u.strip() if isinstance(u, str) else u, i.strip() if isinstance(i, str) else i, r, t)
           for u, i, r, t in triples(back)]
    assert sorted(got, key=str) == sorted(want, key=str)


def test_ratings_from_frame_and_arrays(tmp_path):
    df = pd.DataFrame({"user": ["b", "a", "b"], "item": [3, 1, 1], "rating": [1.0, 2.0, 3.0]})
    back = rt_roundtrip(io.load_ratings(df, serial()), tmp_path)
    assert triples(back) == [("a", 1, 2.0, 0), ("b", 1, 3.0, 0), ("b", 3, 1.0, 0)]
    arr = io.load_ratings((np.array([5, 5]), np.array([9, 8]), np.array([1, 2]),
                           np.array([10, 20])), serial())
    assert triples(rt_roundtrip(arr, tmp_path)) == [(5, 8, 2.0, 20), (5, 9, 1.0, 10)]


def test_ratings_reject_bad_arrays():
    with pytest.raises(io.formats.InputError, match="ratings must be numbers"):
        rmod.from_arrays([1], [2], ["x"])
    with pytest.raises(io.formats.InputError, match="same length"):
        rmod.from_arrays([1, 2], [2], [3])
    with pytest.raises(io.formats.InputError, match="not a finite number"):
        rmod.from_arrays([1], [2], [float("inf")])
    with pytest.raises(io.formats.InputError, match="missing value"):
        rmod.from_arrays(np.array(["a", None], dtype=object), [1, 2], [1, 2])


@pytest.mark.parametrize("user_ids, error", [
    ([7, 3, 5], None),                  # unsorted but distinct: read as written
    ([3, 5, 5], "lists an id twice"),   # sorted with a repeat
    ([5, 3, 5], "lists an id twice"),   # unsorted with a repeat
    (["b", "a", "b"], "lists an id twice"),
])
def test_ratings_h5_id_tables_must_be_distinct(tmp_path, user_ids, error):
    import h5py
    path = io.write_h5(rmod.from_arrays([1, 2, 3], [1, 1, 2], [1.0, 2.0, 3.0]), tmp_path / "r.h5")
    with h5py.File(path, "r+") as fh:
        del fh["user_ids"]
        fh["user_ids"] = user_ids if isinstance(user_ids[0], int) else np.array(user_ids, dtype="O")
    if error is None:
        assert list(io.load_ratings(path, serial(), partition=False).user_ids) == user_ids
    else:
        with pytest.raises(io.formats.InputError, match=error):
            io.load_ratings(path, serial(), partition=False)


def test_kind_of_and_wrong_kind(tmp_path, shared_data):
    tx_path = io.write_h5(io.load_transactions(LISTS, serial()), tmp_path / "t.h5")
    assert formats.kind_of(tx_path) == "transactions"
    with pytest.raises(io.formats.InputError, match="holds transactions, expected ratings"):
        io.load_ratings(tx_path, serial())
    with pytest.raises(io.formats.InputError, match="holds ratings"):
        io.load_transactions(shared_data / "ml-100k" / "u.data", serial())


def test_transactions_hold_one_csr():
    """``rows`` is a Csr (dtypes and column count set from the labels whatever it was made
    with); ``indptr``/``indices`` are read-only views of it; a part holds a Csr too."""
    tx = Transactions(csr(np.array([0, 2, 2, 3]), np.array([0, 2, 1])), np.array([10, 20, 30]))
    assert tx.rows.shape == (3, 3) and tx.rows.indices.dtype == np.int32
    assert tx.indptr is tx.rows.indptr and tx.indices is tx.rows.indices
    with pytest.raises(AttributeError):
        tx.indptr = np.zeros(4, np.int64)
    part = tx.part(1, 2)
    assert isinstance(part.rows, Csr) and part.rows.shape == (part.n_rows, 3)
    assert [list(part.row(i)) for i in range(part.n_rows)] == \
        [list(tx.row(part.offset + i)) for i in range(part.n_rows)]
