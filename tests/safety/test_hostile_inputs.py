"""Hostile inputs through every command that reads data: one exact error line, exit 2, no output.

The corpus: small text files committed in ``tests/safety/bad_inputs/`` and binary / HDF5 files
built by the ``hostile_h5`` fixture (truncated, wrong schema or version, wrong dtypes,
declared sizes that disagree with the arrays, NaN ratings, ...). Every case runs through
every command that reads a data file (``ARGV``) in-process (fast); a sample also runs as
a real subprocess to prove there is no traceback and nothing is left behind.
"""
from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from hpcrec import io
from hpcrec.core.comm import serial

BAD = Path(__file__).resolve().parent / "bad_inputs"
FIMI_INT = "item ids must be non-negative integers (FIMI format)"

# file in bad_inputs/ -> the error after "hpcrec: error: PATH: " ({p} is the path itself)
TEXT_CASES = {
    "empty.csv": "{p}: empty file",
    "blank.dat": "{p}: empty file",
    "negative_id.dat": f"{{p}}: line 2: {FIMI_INT}, got '3 -4'",
    "float_id.dat": f"{{p}}: line 1: {FIMI_INT}, got '1 2.5'",
    "word_id.dat": f"{{p}}: line 2: {FIMI_INT}, got '3 x7'",
    "huge_id.dat": f"{{p}}: line 1: {FIMI_INT}, got '99999999999999999999999 1'",
    "u_text_rating.base": "{p}: line 2: rating 'good' is not a number",
    "u_nan_rating.base": "{p}: line 2: rating nan is not a finite number",
    "u_inf_rating.base": "{p}: line 1: rating inf is not a finite number",
    "u_negative_user.base": "{p}: line 1: negative user id -1",
    "u_float_item.base": "{p}: line 1: item '2.5' is not an integer",
    "u_short_line.base": "{p}: line 2: missing field (expected 4 fields separated by TAB)",
    "u_long_line.base": "{p}: line 1: more than 4 fields separated by TAB",
    "u_wrong_separator.base": "{p}: line 1: 1 field(s), expected 4 separated by TAB",
    "ratings_text.csv": "{p}: line 3: rating 'x' is not a number",
    "ratings_ragged.csv": "{p}: line 2: missing field (expected 3 fields separated by ',')",
    "ratings_inf.csv": "{p}: line 2: rating -inf is not a finite number",
    "ratings_header_only.csv": "{p}: no ratings",
    "ratings_bad_timestamp.csv": "{p}: line 2: timestamp 'yesterday' is not an integer",
    "baskets_header_only.csv": "{p}: no transactions",
    "baskets_latin1.csv": "{p}: not UTF-8 text (byte 7)",
    "text_named.h5": "{p}: not an HDF5 file",
    "unknown_extension.xyz": "{p}: cannot tell the format from the name; give --format "
                             "(baskets-csv, fimi, onehot-csv, movielens, ratings-csv, "
                             "ratings-parquet, hdf5)",
    "ml1m_bad_rating": "{p}/ratings.dat: line 2: rating 'x' is not a number",
    "does_not_exist.dat": "no such file or folder: {p}",
}


def _tx_file(path, **attrs):
    tx = io.load_transactions([[1, 2], [2, 3, 4], [5]], serial())
    io.write_h5(tx, path)
    with h5py.File(path, "r+") as fh:
        for key, value in attrs.items():
            fh.attrs[key] = value
    return path


def _rt_file(path):
    io.write_h5(io.load_ratings(([1, 2, 2], [7, 7, 8], [1.0, 2.0, 3.0]), serial()), path)
    return path


def _replace(path, name, data):
    with h5py.File(path, "r+") as fh:
        del fh[name]
        fh[name] = data
    return path


def _build_h5_cases(folder: Path) -> dict:
    """name -> (path, expected error after 'hpcrec: error: ')."""
    cases = {}

    def add(name, path, message):
        cases[name] = (path, None if message is None else message.format(p=path))

    big = io.load_transactions([[i, i + 1, i * 7 % 1000] for i in range(20000)], serial())
    full = io.write_h5(big, folder / "full.h5")
    data = full.read_bytes()
    (folder / "truncated.h5").write_bytes(data[:len(data) // 2])
    add("truncated", folder / "truncated.h5", None)        # message from HDF5: checked loosely
    with h5py.File(full, "r") as src, h5py.File(folder / "gzip.h5", "w") as dst:
        dst.attrs.update(src.attrs)  # deflate, as hpcrec wrote before its files were contiguous
        for name, ds in src.items():
            dst.create_dataset(name, data=ds[()], compression="gzip", chunks=(4096,))
    zipped = (folder / "gzip.h5").read_bytes()
    middle = len(zipped) // 2
    (folder / "zeroed.h5").write_bytes(zipped[:middle] + bytes(4096) + zipped[middle + 4096:])
    add("zeroed_block", folder / "zeroed.h5", None)        # compressed chunk destroyed
    (folder / "garbage.h5").write_bytes(os.urandom(4096))
    add("garbage", folder / "garbage.h5", "{p}: not an HDF5 file")
    (folder / "garbage.dat").write_bytes(b"\x00\x01\x02" + os.urandom(2000))
    add("binary", folder / "garbage.dat", "{p}: binary data, not a text file")
    (folder / "zero.h5").write_bytes(b"")
    add("zero_bytes", folder / "zero.h5", "{p}: not an HDF5 file")
    with h5py.File(folder / "plain.h5", "w") as fh:
        fh["x"] = np.arange(3)
    add("no_kind", folder / "plain.h5", "{p}: not an hpcrec file (no 'hpcrec_kind' attribute)")
    add("version", _tx_file(folder / "v99.h5", hpcrec_format_version=99),
        "{p}: format version 99 not supported (this hpcrec reads version 1)")
    add("version_text", _tx_file(folder / "vtext.h5", hpcrec_format_version="one"),
        "{p}: format version one not supported (this hpcrec reads version 1)")
    add("kind", _tx_file(folder / "model.h5", hpcrec_kind="model"),
        "{p}: holds model, expected transactions or ratings")
    add("declared_rows", _tx_file(folder / "rows.h5", n_transactions=10),
        "{p}: dataset 'indptr' has 4 entries, the file declares 11")
    add("declared_items", _tx_file(folder / "items.h5", n_items=3),
        "{p}: dataset 'item_labels' has 5 entries, the file declares 3")
    add("attr_type", _tx_file(folder / "attr.h5", n_transactions="three"),
        "{p}: attribute 'n_transactions' is not a non-negative integer")
    add("float_indices", _replace(_tx_file(folder / "fidx.h5"), "indices", np.zeros(6)),
        "{p}: dataset 'indices' has dtype float64 and 1 dimension(s); expected kind 'iu' with 1")
    add("2d_indptr", _replace(_tx_file(folder / "2d.h5"), "indptr", np.zeros((4, 2), np.int64)),
        "{p}: dataset 'indptr' has dtype int64 and 2 dimension(s); expected kind 'iu' with 1")
    add("short_indices", _replace(_tx_file(folder / "short.h5"), "indices", np.zeros(5, np.int32)),
        "{p}: dataset 'indices' has 5 entries, the file declares 6")
    add("falling_indptr", _replace(_tx_file(folder / "fall.h5"), "indptr",
                                   np.array([0, 3, 2, 6], np.int64)),
        "{p}: row pointers are not a valid CSR index")
    add("unsorted_row", _replace(_tx_file(folder / "unsorted.h5"), "indices",
                                 np.array([1, 0, 1, 2, 3, 4], np.int32)),
        "{p}: items are not sorted and unique within each transaction")
    add("index_range", _replace(_tx_file(folder / "range.h5"), "indices",
                                np.array([0, 1, 1, 2, 3, 9], np.int32)),
        "{p}: item index out of range 0..4")
    with h5py.File(_tx_file(folder / "missing.h5"), "r+") as fh:
        del fh["indices"]
    add("missing_dataset", folder / "missing.h5", "{p}: missing dataset 'indices'")
    add("nan_rating", _replace(_rt_file(folder / "nan.h5"), "rating",
                               np.array([1.0, np.nan, 3.0], np.float32)),
        "{p}: rating nan at entry 2 is not a finite number")
    add("user_range", _replace(_rt_file(folder / "urange.h5"), "user",
                               np.array([0, 1, 7], np.int32)),
        "{p}: user index out of range 0..1")
    add("wide_user", _replace(_rt_file(folder / "wide.h5"), "user",
                              np.array([0, 1, 2 ** 32 + 1], np.int64)),
        "{p}: user index out of range 0..1")
    add("string_rating", _replace(_rt_file(folder / "srating.h5"), "rating",
                                  np.array([b"1", b"2", b"3"])),
        "{p}: dataset 'rating' has dtype |S1 and 1 dimension(s); expected kind 'f' with 1")
    with h5py.File(_rt_file(folder / "nusers.h5"), "r+") as fh:
        fh.attrs["n_users"] = 5
    add("declared_users", folder / "nusers.h5",
        "{p}: dataset 'user_ids' has 2 entries, the file declares 5")
    with h5py.File(_rt_file(folder / "bad_utf8.h5"), "r+") as fh:
        del fh["item_ids"]
        fh.create_dataset("item_ids", data=np.array([b"\xff\xfe", b"ok"], dtype=object),
                          dtype=h5py.string_dtype("utf-8"))
    add("bad_utf8", folder / "bad_utf8.h5", None)          # undecodable: checked loosely
    return cases


@pytest.fixture(scope="module")
def hostile_h5(tmp_path_factory):
    return _build_h5_cases(tmp_path_factory.mktemp("hostile"))


def _text_case(name):
    path = BAD / name
    return path, TEXT_CASES[name].format(p=path)


def _check_failure(rc, err, expected, out_dir):
    assert rc == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpcrec: error: "), err
    assert "Traceback" not in err
    if expected is not None:
        assert lines[0] == f"hpcrec: error: {expected}"
    assert not list(out_dir.iterdir()), "output or temporary file left behind"


# every command that reads a data file: its argv for input PATH, output under OUT
ARGV = {
    "info": ["info", "{path}", "--json"],
    "convert": ["convert", "{path}", "-o", "{out}/out.h5"],
    "mine": ["mine", "{path}", "-o", "{out}/itemsets.h5", "--min-support", "0.5"],
    "train": ["train", "{path}", "-o", "{out}/model.h5", "--epochs", "1"],
}
COMMANDS = ["info", "convert"]          # the exact error line is checked for these
OTHER_COMMANDS = ["mine", "train"]      # these may word it for their kind: one line is checked


def _argv(command, path, out_dir):
    return [a.format(path=path, out=out_dir) for a in ARGV[command]]


@pytest.mark.parametrize("command", COMMANDS + OTHER_COMMANDS)
@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_text_corpus(cli_main, tmp_path, command, name):
    path, expected = _text_case(name)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, _, err = cli_main(*_argv(command, path, out_dir))
    _check_failure(rc, err, expected if command in COMMANDS else None, out_dir)


H5_NAMES = ["truncated", "zeroed_block", "garbage", "binary", "zero_bytes", "no_kind", "version", "version_text",
            "kind", "declared_rows", "declared_items", "attr_type", "float_indices", "2d_indptr",
            "short_indices", "falling_indptr", "unsorted_row", "index_range", "missing_dataset",
            "nan_rating", "user_range", "wide_user", "string_rating", "declared_users", "bad_utf8"]


@pytest.mark.parametrize("command", COMMANDS + OTHER_COMMANDS)
@pytest.mark.parametrize("name", H5_NAMES)
def test_hdf5_corpus(cli_main, hostile_h5, tmp_path, command, name):
    path, expected = hostile_h5[name]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, _, err = cli_main(*_argv(command, path, out_dir))
    if command in OTHER_COMMANDS:
        _check_failure(rc, err, None, out_dir)
        return
    _check_failure(rc, err, expected, out_dir)
    if expected is None:
        assert str(path) in err and ("HDF5" in err or "damaged" in err)


def test_h5_corpus_is_complete(hostile_h5):
    assert sorted(hostile_h5) == sorted(H5_NAMES)


@pytest.mark.parametrize("name", ["u_text_rating.base", "negative_id.dat", "empty.csv",
                                  "does_not_exist.dat"])
def test_subprocess_sample(run_cli, tmp_path, name):
    path, expected = _text_case(name)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, out, err = run_cli("convert", path, "-o", out_dir / "x.h5")
    _check_failure(rc, err, expected, out_dir)


def test_subprocess_hdf5_sample(run_cli, hostile_h5, tmp_path):
    for name in ("truncated", "version", "declared_rows"):
        path, expected = hostile_h5[name]
        rc, out, err = run_cli("info", path, "--json")
        _check_failure(rc, err, expected, tmp_path)


def test_unicode_and_separator_items_round_trip(run_cli, tmp_path):
    """Item names with commas, quotes, pipes, tabs and non-ASCII letters survive conversion."""
    out = tmp_path / "u.h5"
    rc, _, err = run_cli("convert", BAD / "unicode_items.csv", "-o", out)
    assert rc == 0, err
    back = io.load_transactions(out, serial(), partition=False)
    assert [set(r) for r in back.to_lists()] == [
        {"a,b", "naïve", "日本", "x|y", "tab\there"}, {'say "hi"', "a;b"}]


def test_onehot_csv_bad_value(cli_main, tmp_path):
    path = tmp_path / "onehot.csv"
    path.write_text("a,b\n1,0\n2,1\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, _, err = cli_main("convert", path, "-o", out_dir / "o.h5", "--format", "onehot-csv")
    _check_failure(rc, err, f"{path}: The allowed values for a DataFrame are True, False, 0, 1. "
                            "Found value 2", out_dir)


def test_output_folder_missing(cli_main, tmp_path):
    rc, _, err = cli_main("convert", BAD / "unicode_items.csv", "-o",
                              tmp_path / "no" / "such" / "o.h5")
    assert rc == 2 and err == f"hpcrec: error: output folder does not exist: {tmp_path / 'no' / 'such'}\n"


def test_failed_convert_keeps_previous_output(cli_main, tmp_path):
    out = tmp_path / "o.h5"
    out.write_bytes(b"previous")
    rc, _, err = cli_main("convert", BAD / "negative_id.dat", "-o", out)
    assert rc == 2 and out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.h5"]


@pytest.mark.parametrize("command", [("train", "--epochs", "1", "--out"), ("mine", "--min-support", "0.5", "-o")])
@pytest.mark.parametrize("content", [b"", b"  \n\n"])
def test_empty_csv_is_an_empty_file_for_every_reader(cli_main, tmp_path, command, content):
    """An empty .csv has no format to sniff: 'empty file', not 'holds transactions'."""
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    out_file = tmp_path / ("model.h5" if command[0] == "train" else "itemsets.csv")
    rc, out, err = cli_main(command[0], path, *command[1:], out_file)
    assert rc == 2 and f"{path}: empty file" in err, err
    assert not out_file.exists()
