"""The parallel streaming readers against the serial readers they replace (differential tests).

Serial here: shared data and generated files (small chunks, so every file spans several),
byte ranges of stand-in ranks, and the fall back to the serial reader outside the fast
grammar. The MPI runs (2 and 3 ranks) are in test_io_stream_mpi.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcrec.core.comm import serial
from hpcrec.io import formats, ratings, streamread, textscan, transactions

FIELDS_T = ("indptr", "indices", "labels")
FIELDS_R = ("user", "item", "rating", "timestamp", "user_ids", "item_ids", "item_titles",
            "item_genres")


def assert_same(a, b, fields):
    for f in fields:
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is None and y is None, f
            continue
        assert x.dtype == y.dtype and np.array_equal(x, y), f


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 97 bytes, row pointers reserved for 2 rows and a table of text labels that
    starts with 2 slots (so that they grow, and the tokenizers resume, many times)."""
    monkeypatch.setattr(textscan, "CHUNK_BYTES", 97)
    monkeypatch.setattr(textscan, "ROW_BYTES", 1 << 40)
    monkeypatch.setattr(textscan, "LABEL_SLOTS", 2)


@pytest.mark.parametrize("name", ["retail.dat", "T10I4D100K.dat"])
def test_fimi_shared_data(shared_data, name):
    path = shared_data / "fim" / name
    fast = streamread.read_fimi(path, serial())
    assert fast is not None, "a plain FIMI file takes the fast path"
    assert_same(fast, transactions.read_fimi(path), FIELDS_T)


@pytest.mark.parametrize("name", ["u.data", "u1.base", "ua.test"])
def test_movielens_shared_data(shared_data, name):
    path = shared_data / "ml-100k" / name
    fast = streamread.read_ratings(path, "ml100k", serial())
    assert fast is not None
    slow = ratings.read_ml100k(path)
    assert_same(fast, slow, FIELDS_R)
    assert fast.meta == slow.meta


def _ranges(path, size):
    return [textscan.byte_range(path, r, size) for r in range(size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 40])
def test_byte_ranges_split_at_line_starts(tmp_path, size):
    data = b"1 2\n\n333333333333 4\n5\r\n" * 5 + b"6 7"
    path = tmp_path / "x.dat"
    path.write_bytes(data)
    ranges = _ranges(path, size)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (lo, hi), (lo2, _) in zip(ranges, ranges[1:]):
        assert hi == lo2 and lo <= hi
        assert hi in (0, len(data)) or data[hi - 1:hi] == b"\n"
    pieces = [b"".join(bytes(b) for b in textscan.chunks(path, lo, hi, 5)) for lo, hi in ranges]
    assert b"".join(pieces) == data


@pytest.mark.parametrize("nbytes", [7, 100, 5000, 20000])
def test_chunks_end_at_line_ends(tmp_path, nbytes):
    """Blocks cover the range, end at line ends, and exceed ``nbytes`` only by a long first line
    (lines of 9000 bytes: the search for the last newline looks back further than 4 KiB)."""
    rng = np.random.default_rng(3)
    data = b"".join(b"7" * int(n) + b"\n" for n in rng.choice([0, 3, 40, 9000], 60)) + b"12"
    path = tmp_path / "x.dat"
    path.write_bytes(data)
    blocks = [bytes(b) for b in textscan.chunks(path, 0, len(data), nbytes)]
    assert b"".join(blocks) == data
    for b in blocks[:-1]:
        assert b.endswith(b"\n") and len(b) - nbytes < b.index(b"\n") + 1  # longer: one long line


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.one_of(st.lists(st.integers(0, 9), max_size=8),
                               st.lists(st.integers(0, 9), min_size=20, max_size=40),
                               st.sets(st.integers(0, 9)).map(sorted)), max_size=12),
       increasing=st.booleans())
def test_sort_unique_rows(rows, increasing):
    """Rows sorted and deduplicated in place: unordered ones (short: insertion sort; long:
    a sort call), and ordered ones (only moved); with a lookup every column is mapped
    first (an increasing map, as for FIMI ids, or any map, as for a rank's label numbers)."""
    from hpcrec.kernels import textparse
    lookup = np.array([0, 2, 3, 7, 8, 9, 20, 21, 30, 31] if increasing else
                      [5, 1, 9, 0, 7, 2, 8, 3, 6, 4], dtype=np.int32)
    for table in (np.zeros(0, np.int32), lookup):
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=indptr[1:])
        cols = np.array([x for r in rows for x in r], dtype=np.int32)
        ptr = textparse.sort_unique_rows(indptr, cols, table)
        want = [sorted({int(table[x]) if len(table) else x for x in r}) for r in rows]
        assert [cols[ptr[i]:ptr[i + 1]].tolist() for i in range(len(rows))] == want


fimi_lines = st.lists(st.lists(st.integers(0, 10 ** 6), max_size=6), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=fimi_lines, sep=st.sampled_from([" ", "\t", "  "]), eol=st.sampled_from(["\n", "\r\n"]),
       last=st.booleans(), span=st.sampled_from([1 << 20, 64]))
def test_fimi_fast_path_equals_serial(tmp_path, monkeypatch, small_chunks, rows, sep, eol, last, span):
    """With the ids' presence table made by the tokenizer, and (a span of 64: most ids above
    it) with the dictionary's own pass over the ids."""
    monkeypatch.setattr(textscan, "DENSE_SPAN", span)
    text = eol.join(sep.join(map(str, r)) for r in rows) + (eol if last else "")
    path = tmp_path / "g.dat"
    path.write_text(text, newline="")
    try:
        slow = transactions.read_fimi(path)
    except Exception as exc:   # noqa: BLE001 - e.g. an empty file: the fast path defers
        assert streamread.read_fimi(path, serial()) is None
        with pytest.raises(type(exc), match="empty"):
            formats.load_transactions(path, serial(), format="fimi")
        return
    fast = streamread.read_fimi(path, serial())
    assert fast is not None
    assert_same(fast, slow, FIELDS_T)


number = st.one_of(st.integers(0, 10 ** 6).map(str),
                   st.decimals(min_value=-100, max_value=100, places=3, allow_nan=False).map(str),
                   st.sampled_from(["4.", ".5", "0.1", "3.333333333333", "007", "-0", "5.25"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 10 ** 9), st.sampled_from(["1", "02", "3", "17"]),
                               number, st.integers(0, 10 ** 12)), min_size=1, max_size=40),
       header=st.booleans(), stamps=st.booleans(), eol=st.sampled_from(["\n", "\r\n"]))
def test_ratings_csv_fast_path_equals_serial(tmp_path, small_chunks, rows, header, stamps, eol):
    lines = [",".join([str(u), i, r] + ([str(t)] if stamps else [])) for u, i, r, t in rows]
    if header:
        lines.insert(0, "user,item,rating" + (",timestamp" if stamps else ""))
    path = tmp_path / "r.csv"
    path.write_text(eol.join(lines) + eol, newline="")
    slow = ratings.read_ratings_csv(path)
    fast = streamread.read_ratings(path, "ratings-csv", serial())
    assert fast is not None
    assert_same(fast, slow, FIELDS_R)


@pytest.mark.parametrize("text", ["1,2,3\n" * 50, "1,2,3,4\n" * 40 + "5,6,7,8", "\n1,2,3\r\n" * 30,
                                  "9,9,5\n" + "\n" * 20 + "1,2,3\n" * 30])
def test_ratings_columns_hold_the_densest_lines(tmp_path, small_chunks, text):
    """The columns are reserved for the most lines the bytes can hold (no counting pass):
    files of the shortest lines, the last without its LF, with blank lines, fill them."""
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode())
    n_fields = text.strip().split("\n")[0].count(",") + 1
    lines = sum(1 for ln in text.split("\n") if ln.strip())
    bound = streamread.max_rows(len(text), n_fields)
    assert lines <= bound and (bound <= lines + 1 or "\n\n" in text)   # tight without blank lines
    fast = streamread.read_ratings(path, "ratings-csv", serial())
    assert fast is not None and fast.nnz == lines
    assert_same(fast, ratings.read_ratings_csv(path), FIELDS_R)


@pytest.mark.parametrize("text", [
    "u1,i1,4\nu2,i1,3\n",          # text ids: the serial reader keeps them as text
    "1,2,3e0\n",                    # exponent
    "1,2,3\n4,5\n",                 # ragged
    "+1,2,3\n",                     # signed id
    '"1",2,3\n',                    # quoted
    "1,2,nan\n",                    # not a number
    "1,2,3.0000000000000001\n",      # 16 digits: beyond exact decimal conversion
    "1,2,\n", "-1,2,3\n", "1,-2,3\n",  # empty field, negative ids
    "1,2,3\r4,5,6\n",                # lone CR
    "1,2,3,4\n5,6,7\n", "1.5,2,3\n", "1,2,3,-4\n",
])
def test_outside_the_grammar_the_serial_reader_decides(tmp_path, text):
    path = tmp_path / "r.csv"
    path.write_text(text)
    assert streamread.read_ratings(path, "ratings-csv", serial()) is None
    try:
        want = ratings.read_ratings_csv(path)
    except Exception as exc:  # noqa: BLE001 - the same error through the public loader
        with pytest.raises(type(exc), match=str(exc).split(": ", 1)[-1][:30].replace("(", r"\(")):
            formats.load_ratings(path, serial(), format="ratings-csv")
        return
    assert_same(formats.load_ratings(path, serial(), format="ratings-csv"), want, FIELDS_R)


def test_sparse_ids_use_merged_uniques(tmp_path, monkeypatch):
    monkeypatch.setattr(textscan, "DENSE_SPAN", 4)
    path = tmp_path / "s.dat"
    path.write_text("999999999999 5\n5 77\n\n123456789012345678\n")
    fast = streamread.read_fimi(path, serial())
    assert fast is not None and fast.labels.dtype == np.int64
    assert_same(fast, transactions.read_fimi(path), FIELDS_T)


@pytest.mark.parametrize("text", ["2147483647 1\n3\n", "1 2\n" * 60 + "2147483648 7\n",
                                  "3 999999999999999999\n1\n" + "4 5\n" * 60,
                                  "1000000000005 1000000000000\n" * 30 + "1000000000003\n"])
def test_ids_beyond_int32_are_parsed_again_as_int64(tmp_path, small_chunks, text):
    """Ids are parsed as int32 first; one beyond its range (in any chunk) means int64 ids
    (the last file: a dense table of ids from a large first one on)."""
    path = tmp_path / "w.dat"
    path.write_text(text)
    fast = streamread.read_fimi(path, serial())
    assert fast is not None
    assert_same(fast, transactions.read_fimi(path), FIELDS_T)


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
@pytest.mark.parametrize("kind", ["plain", "crlf", "wide", "bad", "blank"])
def test_ratings_parsed_by_threads_equal_the_serial_reader(tmp_path, small_chunks, monkeypatch,
                                                           threads, kind):
    """A rank with cores of its own cuts every chunk into pieces parsed at once: the same
    columns (ids beyond int32 in a later piece, a bad line in one, the last without LF,
    blank lines: rows moved down, or more line ends than the columns hold rows). The
    values differ from run to run (a fresh column may hold the last run's values)."""
    from hpcrec.core import device
    monkeypatch.setattr(device, "share_cores", lambda comm=None: threads)
    monkeypatch.setattr(textscan, "CHUNK_BYTES", 200)
    ks = range(100 * threads, 100 * threads + 40)
    text = {"plain": "".join(f"{k},{k % 7},{k / 8},{k * 99}\n" for k in ks),
            "crlf": "".join(f"\n{k % 5},{k},{k % 9}.5\r\n" for k in ks) + "4,5,6",
            "wide": "".join(f"{k},2,{k}\n" for k in ks) + "7,2147483648,4\n" + "1,2,3\n" * 30,
            "bad": "".join(f"{k},2,{k}\n" for k in ks) + "1,2,x\n" + "1,2,3\n" * 30,
            "blank": "".join(f"{k % 10},2,{k % 7}\n" + "\n" * (k % 3) for k in ks) + "\n" * 400
            + "".join(f"{k % 10},1,{k % 9}\n" for k in ks)}[kind]
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    fast = streamread.read_ratings(path, "ratings-csv", serial())
    assert (fast is None) == (kind == "bad")
    if fast is not None:
        assert_same(fast, ratings.read_ratings_csv(path), FIELDS_R)


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
@pytest.mark.parametrize("kind", ["plain", "wide", "bad"])
def test_fimi_parsed_by_threads_equals_the_serial_reader(tmp_path, small_chunks, monkeypatch,
                                                         threads, kind):
    """FIMI pieces parsed at once, their rows appended in order (row pointers of 2 rows
    that grow in every piece, empty lines, an id beyond int32 or a bad byte in a later
    piece, the last line without LF); values differ from run to run."""
    from hpcrec.core import device
    monkeypatch.setattr(device, "share_cores", lambda comm=None: threads)
    monkeypatch.setattr(textscan, "CHUNK_BYTES", 300)
    ks = range(100 * threads, 100 * threads + 60)
    text = "".join(f"{k} {k % 13}\t{k // 3}\n" + ("\n" if k % 7 == 0 else "") for k in ks)
    text += {"plain": "5 6", "wide": "1 2147483648\n1 2\n" * 20, "bad": "1 x\n1 2\n" * 20}[kind]
    path = tmp_path / "t.dat"
    path.write_bytes(text.encode())
    fast = streamread.read_fimi(path, serial())
    assert (fast is None) == (kind == "bad")
    if fast is not None:
        assert_same(fast, transactions.read_fimi(path), FIELDS_T)


@pytest.mark.parametrize("lines", [1, 2, 7])
@pytest.mark.parametrize("parts", [1, 2, 3, 9])
def test_split_lines_cuts_at_line_ends(lines, parts):
    block = np.frombuffer(b"".join(b"%d,x\n" % (10 ** k) for k in range(lines)), np.uint8)
    pieces = textscan.split_lines(block, parts)
    assert b"".join(p.tobytes() for p in pieces) == block.tobytes()
    assert 1 <= len(pieces) <= min(parts, lines) and all(p[-1] == 10 for p in pieces)


@pytest.mark.parametrize("digits", range(1, 17))
def test_numerals_of_every_length_equal_the_serial_reader(tmp_path, digits):
    """Ids, timestamps and ratings of 1..16 digits (16: outside the grammar), with the
    dot at every place, at every offset of the tokenizer's 8-byte reads."""
    rng = np.random.default_rng(digits)
    num = lambda: "".join(map(str, rng.integers(0, 10, digits)))   # noqa: E731
    lines = []
    for pad in range(8):
        dot = pad % (digits + 1)
        rating = num()
        lines.append(f"{'1' * (pad + 1)},{num()},{rating[:dot]}.{rating[dot:]},{num()}")
        lines.append(f"{num()},{pad},-{rating},{num()}")
    path = tmp_path / "n.csv"
    path.write_text("\n".join(lines))           # the last line without its LF
    fast = streamread.read_ratings(path, "ratings-csv", serial())
    assert (fast is None) == (digits > 15)
    if fast is not None:
        assert_same(fast, ratings.read_ratings_csv(path), FIELDS_R)


@pytest.mark.parametrize("text", ["2147483647,1,3\n1,2,3\n", "1,2,3\n" * 60 + "7,2147483648,4\n",
                                  "1,2,3,4\n" * 40 + "999999999999999,1,2,3\n" + "2,2,2,2\n" * 30])
def test_ratings_ids_beyond_int32_are_parsed_again_as_int64(tmp_path, small_chunks, text):
    """Ratings ids are parsed as int32 first; one beyond its range (a user or an item, in
    any chunk) means every rank parses again into int64 ids."""
    path = tmp_path / "w.csv"
    path.write_text(text)
    fast = streamread.read_ratings(path, "ratings-csv", serial())
    assert fast is not None
    assert_same(fast, ratings.read_ratings_csv(path), FIELDS_R)


def test_hdf5_is_recognised_by_its_signature_without_h5py(tmp_path):
    """At byte 0 or after a user block (as HDF5's own test); text, folders and empty files are not."""
    import h5py

    from hpcrec.io import hdf5
    for block in (0, 512, 4096):
        with h5py.File(tmp_path / f"u{block}.h5", "w", userblock_size=block) as fh:
            fh["x"] = np.arange(3)
        assert hdf5.is_hdf5(tmp_path / f"u{block}.h5") and h5py.is_hdf5(tmp_path / f"u{block}.h5")
    (tmp_path / "t.dat").write_text("1 2\n" * 1000)
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "late.h5").write_bytes(b"x" * 100 + hdf5.SIGNATURE)   # not at a block boundary
    for name in ("t.dat", "empty.h5", "late.h5", "."):
        assert not hdf5.is_hdf5(tmp_path / name)


basket_cell = st.one_of(st.sampled_from(["", " ", "milk", " bread ", "a", "Z", "10", "2", "a b",
                                         "abcdefgh", "abcdefghi", "~~~~~~~~", "item number 12345"]),
                        st.text(alphabet="abcxyz019 \t-_.;", max_size=6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(basket_cell, max_size=6), min_size=1, max_size=30),
       header=st.booleans(), eol=st.sampled_from(["\n", "\r\n"]), last=st.booleans())
def test_baskets_csv_fast_path_equals_serial(tmp_path, small_chunks, rows, header, eol, last):
    """Blank lines, lines of blanks (empty baskets), empty and padded cells, repeated items,
    the pandas-index header, CRLF: the compiled path gives the csv-module reader's result."""
    lines = [",".join(r) for r in rows]
    if header:
        lines.insert(0, "0,1,2")
    path = tmp_path / "b.csv"
    path.write_text(eol.join(lines) + (eol if last else ""), newline="")
    try:
        slow = transactions.read_baskets_csv(path)
    except Exception:   # noqa: BLE001 - no baskets at all: the serial reader says so
        assert streamread.read_baskets(path, serial()) is None
        return
    fast = streamread.read_baskets(path, serial())
    if not lines[0] or not slow.n_items:
        assert fast is None     # a blank first line, or no item: left to the serial reader
        return
    assert fast is not None
    assert_same(fast, slow, FIELDS_T)


@pytest.mark.parametrize("text", ["milk\n,\nbread\n", "milk\r\n,,\r\n \r\n\r\nbread", "a\n \t, ,\n\n"])
def test_baskets_of_empty_cells_are_empty_baskets(tmp_path, text):
    """A line of commas or blanks is an empty basket, a blank line none (as csv.reader)."""
    path = tmp_path / "e.csv"
    path.write_text(text, newline="")
    fast = streamread.read_baskets(path, serial())
    assert fast is not None
    assert_same(fast, transactions.read_baskets_csv(path), FIELDS_T)


@pytest.mark.parametrize("text", [
    '"milk, 2%",bread\n',            # quoted (a cell may hold commas or newlines)
    "café,bread\n",                   # non-ASCII text
    "\ufeffmilk,bread\n",             # byte-order mark
    "milk\rbread\n",                  # lone CR
    "milk,\x0bbread\n",               # control character (str.strip() would remove it)
    ",,\n , \n",                      # no item at all
    "x" * 140_000 + ",bread\n",       # a cell beyond the csv module's field limit
])
def test_baskets_outside_the_grammar_the_serial_reader_decides(tmp_path, text):
    path = tmp_path / "b.csv"
    path.write_text(text, newline="")
    assert streamread.read_baskets(path, serial()) is None
    try:
        want = transactions.read_baskets_csv(path)
    except Exception as exc:  # noqa: BLE001 - the same error through the public loader
        with pytest.raises(type(exc)):
            formats.load_transactions(path, serial(), format="baskets-csv")
        return
    assert_same(formats.load_transactions(path, serial(), format="baskets-csv"), want, FIELDS_T)


@pytest.mark.parametrize("shift", [0, 5])
def test_recode_in_place_and_into_a_new_array(shift):
    """One int32 array is recoded in place (compiled loop); int64 ids or several arrays go
    into one new array; codes are the table's either way."""
    rng = np.random.default_rng(7)
    ids = rng.integers(shift, shift + 50, 1000)
    labels = np.unique(ids)
    lookup = np.full(50, -1, np.int32)
    lookup[labels - shift] = np.arange(len(labels), dtype=np.int32)
    want = np.searchsorted(labels, ids).astype(np.int32)
    own = ids.astype(np.int32)
    assert textscan.recode([own], labels, lookup, shift) is own and np.array_equal(own, want)
    both = textscan.recode([ids[:300], ids[300:]], labels, lookup, shift)
    assert both.dtype == np.int32 and np.array_equal(both, want)
    assert np.array_equal(textscan.recode([ids], labels, None, 0), want)


def test_ratings_written_early_then_given_up_leave_only_the_serial_outcome(tmp_path):
    """An ml-100k folder whose u.user lacks a user: the fast reader opened the output and
    wrote the value columns, then gave up (the serial reader decides); its temporary file
    is gone and the serial reader's error stands, the previous output kept."""
    (tmp_path / "u.data").write_text("1\t10\t5\t100\n2\t10\t3\t101\n3\t20\t4\t102\n")
    (tmp_path / "u.user").write_text("1|24|M|x|1\n2|53|F|y|2\n")
    (tmp_path / "o.h5").write_bytes(b"previous")
    with pytest.raises(formats.InputError, match="id 3 is not in the id table"):
        formats.convert(tmp_path, tmp_path / "o.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.h5", "u.data", "u.user"]
    (tmp_path / "u.user").write_text("1|24|M|x|1\n2|53|F|y|2\n3|30|F|z|3\n")
    formats.convert(tmp_path, tmp_path / "o.h5")
    back = ratings.read_h5(tmp_path / "o.h5")
    assert back.rating.tolist() == [5, 3, 4] and back.timestamp.tolist() == [100, 101, 102]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.h5", "u.data", "u.user"]
