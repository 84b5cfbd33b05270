"""Format detection of ``.csv`` files: ratings against baskets, never a silent guess.

A headerless ``user,item,rating`` file used to be read as 3-item baskets of numbers by every
caller; a ratings header other than three fixed spellings did too (its header row became a
basket). Detection now knows ratings headers by their third name, and a headerless numeric
file goes to what the caller reads, or is refused where nothing says which.
"""
from __future__ import annotations

import pytest

from hpcrec import io
from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError
from hpcrec.io import formats

HEADERLESS = "1,10,4\n1,11,3.5\n2,10,5\n"


def _write(tmp_path, text, name="r.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _triples(r):
    f = r.to_frame()
    return sorted(zip(f.user.tolist(), f.item.tolist(), f.rating.tolist()))


@pytest.mark.parametrize("text", [HEADERLESS, "1,10,4,978300760\n2,11,3,978300761\n"])
def test_headerless_numeric_rows_are_refused_without_a_kind(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match="--format ratings-csv or --format baskets-csv"):
        formats.detect_format(path)
    assert formats.detect_format(path, "ratings") == "ratings-csv"
    assert formats.detect_format(path, "transactions") == "baskets-csv"


def test_headerless_ratings_read_as_ratings_by_a_ratings_caller(tmp_path):
    path = _write(tmp_path, HEADERLESS)
    got = io.load_ratings(path, serial())
    assert _triples(got) == [(1, 10, 4.0), (1, 11, 3.5), (2, 10, 5.0)]
    baskets = io.load_transactions(path, serial())      # a miner asked for baskets
    assert baskets.n_rows == 3 and sorted(baskets.labels) == sorted({"1", "10", "4", "11",
                                                                       "3.5", "2", "5"})


@pytest.mark.parametrize("header", ["user_id,item_id,rating", "User,Item,Score",
                                    '"userId","movieId","rating","timestamp"',
                                    "customer,product,stars"])
def test_ratings_headers_are_known_by_their_third_name(tmp_path, header):
    extra = ",9" if header.count(",") == 3 else ""
    path = _write(tmp_path, f"{header}\n1,10,4{extra}\n2,11,3{extra}\n")
    assert formats.detect_format(path) == "ratings-csv"
    assert _triples(io.load_ratings(path, serial())) == [(1, 10, 4.0), (2, 11, 3.0)]


@pytest.mark.parametrize("text", [
    "1,2,3\n4,5\n6,7,8,9\n",            # widths differ: baskets of numbered items
    "1,2,3,4,5\n6,7,8,9,10\n",          # five per row: no ratings shape
    "milk,bread,eggs\nbeer,chips,salsa\n",
    "1,2,x\n3,4,y\n",                   # a third cell that is no number
])
def test_other_csv_stay_baskets(tmp_path, text):
    assert formats.detect_format(_write(tmp_path, text)) == "baskets-csv"


def test_headerless_zero_one_rows_stay_refused(tmp_path):
    path = _write(tmp_path, "1,0,1\n0,1,1\n")
    for kind in (None, "transactions", "ratings"):
        with pytest.raises(InputError, match="one-hot or baskets"):
            formats.detect_format(path, kind)


def test_convert_refuses_headerless_numeric_rows(run_cli, tmp_path):
    path = _write(tmp_path, HEADERLESS)
    rc, _, err = run_cli("convert", path, "-o", tmp_path / "o.h5")
    assert rc == 2 and "give --format ratings-csv or --format baskets-csv" in err
    assert "Traceback" not in err and not (tmp_path / "o.h5").exists()
    rc, _, err = run_cli("convert", path, "-o", tmp_path / "o.h5", "--format", "ratings-csv")
    assert rc == 0, err


def test_one_line_is_too_little_to_call_it_ratings(tmp_path):
    assert formats.detect_format(_write(tmp_path, "0,1,2\n")) == "baskets-csv"
