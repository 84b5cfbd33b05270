"""Brief fuzzing of the text readers (hypothesis): any bytes give a valid object or an InputError.

Also two positive properties with independent oracles: generated FIMI lines and
generated basket CSV rows (written by the csv module) parse back to the same sets.
"""
from __future__ import annotations

import csv
import io as pyio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcrec.core.errors import InputError
from hpcrec.io import formats, ratings, transactions
from hpcrec.io.ratings import Ratings
from hpcrec.io.transactions import Transactions

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# bytes biased towards the characters the formats care about
ALPHABET = st.sampled_from(list(b"0123456789 \t\n\r,:|-.e+naif\"x") + [0x00, 0xff, 0xe9])
CONTENT = st.one_of(st.binary(max_size=200),
                    st.lists(ALPHABET, max_size=200).map(bytes))

READERS = {
    "u.data": ratings.read_ml100k,
    "ratings.dat": ratings.read_ml1m,
    "r.csv": ratings.read_ratings_csv,
    "movies_dir/ratings.csv": ratings.read_ml_csv,
    "t.dat": transactions.read_fimi,
    "b.csv": transactions.read_baskets_csv,
    "h.csv": transactions.read_onehot_csv,
}


def _valid(result) -> None:
    if isinstance(result, Transactions):
        result.validate()
        assert result.n_rows >= 0
    else:
        assert isinstance(result, Ratings)
        result.validate()
        assert result.nnz > 0


@FUZZ
@given(content=CONTENT, name=st.sampled_from(sorted(READERS)))
def test_readers_never_crash(tmp_path, content, name):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    try:
        _valid(READERS[name](path))
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)              # one line for the CLI


@FUZZ
@given(content=CONTENT, name=st.sampled_from(["x.dat", "x.csv", "u1.base", "ratings.dat"]))
def test_detect_and_load_never_crash(tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    try:
        _valid(formats.load_any(path))
    except InputError:
        pass


@FUZZ
@given(st.lists(st.lists(st.integers(0, 10 ** 12), max_size=8), min_size=1, max_size=30)
       .filter(any),                                      # all-empty is an "empty file"
       st.sampled_from([" ", "\t", "  "]), st.sampled_from(["\n", "\r\n"]))
def test_fimi_property(tmp_path, rows, sep, newline):
    path = tmp_path / "p.dat"
    path.write_text(newline.join(sep.join(map(str, r)) for r in rows) + newline, newline="")
    tx = transactions.read_fimi(path)
    assert [set(r) for r in tx.to_lists()] == [set(r) for r in rows]


ITEM = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1,
               max_size=6)


@FUZZ
@given(st.lists(st.lists(ITEM, min_size=1, max_size=6), min_size=1, max_size=20))
def test_baskets_csv_property(tmp_path, rows):
    buf = pyio.StringIO()
    csv.writer(buf).writerows(rows)
    path = tmp_path / "p.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    tx = transactions.read_baskets_csv(path, header=False)
    assert [set(r) for r in tx.to_lists()] == [{c.strip() for c in r if c.strip()} for r in rows]
