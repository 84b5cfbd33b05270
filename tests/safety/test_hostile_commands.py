"""Hostile inputs through the commands that read models, itemset files and bench records.

Complements ``test_hostile_inputs.py`` (whose data corpus and checks are reused): the data
corpus goes through ``evaluate --test``, ``cv``, ``rules`` and ``bench run``; damaged model
files through ``evaluate``, ``recommend``, ``neighbors`` and ``plot``; damaged itemset files
through ``rules``; damaged records through ``bench report``. Each case: exit 2, one
``hpcrec: error:`` line, no traceback, nothing written. Everything runs in-process
(``cli_main``); a sample also runs as real processes.
"""
from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest
from test_hostile_inputs import (
    H5_NAMES,
    TEXT_CASES,
    _check_failure,
    _text_case,
    _tx_file,
    hostile_h5,  # noqa: F401 - the fixture, shared with that module
)

from hpcrec import io
from hpcrec.core.comm import serial
from hpcrec.io.synthetic import ratings as synthetic_ratings
from hpcrec.mf import BiasedSGD


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small valid model and a valid test-ratings file: (folder, model path, test path, model)."""
    folder = tmp_path_factory.mktemp("model")
    data = synthetic_ratings(n_users=30, n_items=40, n_ratings=400)
    model = BiasedSGD(factors=4, epochs=2).fit(data, serial())
    model.save(folder / "model.h5")
    io.write_h5(data, folder / "test.h5")
    return folder, folder / "model.h5", folder / "test.h5", model


def _out(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    return out


# -- the data corpus through evaluate --test, cv and rules ---------------------------------
DATA_ARGV = {
    "evaluate": ["evaluate", "{model}", "--test", "{path}"],
    "cv": ["cv", "{path}", "--folds", "2", "--epochs", "1", "--factors", "2"],
    "rules": ["rules", "{path}", "-o", "{out}/rules.csv"],
    "bench-read": ["bench", "run", "read", "--input", "{path}", "-r", "{out}/r.jsonl"],
    "bench-mine": ["bench", "run", "mine", "--input", "{path}", "-r", "{out}/r.jsonl",
                   "--output", "{out}/itemsets.csv"],
    "bench-train": ["bench", "run", "train", "--input", "{path}", "-r", "{out}/r.jsonl",
                    "--epochs", "1", "--output", "{out}/model.h5"],
}


def _data_argv(command, path, out, model):
    return [a.format(path=path, out=out, model=model) for a in DATA_ARGV[command]]


@pytest.mark.parametrize("command", sorted(DATA_ARGV))
@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_text_corpus(cli_main, trained, tmp_path, command, name):
    path, expected = _text_case(name)
    out = _out(tmp_path)
    rc, _, err = cli_main(*_data_argv(command, path, out, trained[1]))
    _check_failure(rc, err, None, out)       # worded per command: the exact lines are checked
    assert str(path) in err                  # by test_hostile_inputs (info, convert)


@pytest.mark.parametrize("command", sorted(DATA_ARGV))
@pytest.mark.parametrize("name", H5_NAMES)
def test_hdf5_corpus(cli_main, hostile_h5, trained, tmp_path, command, name):
    path, expected = hostile_h5[name]
    out = _out(tmp_path)
    rc, _, err = cli_main(*_data_argv(command, path, out, trained[1]))
    _check_failure(rc, err, None, out)
    assert str(path) in err


# -- damaged model files through evaluate, recommend, neighbors, plot ----------------------
def _copy(src, dst):
    dst.write_bytes(src.read_bytes())
    return dst


def _edit(path, edit):
    with h5py.File(path, "r+") as fh:
        edit(fh)
    return path


def _set_attr(name, value):
    def edit(fh):
        fh.attrs[name] = value
    return edit


def _set_dataset(name, data):
    def edit(fh):
        del fh[name]
        fh[name] = data
    return edit


def _delete(name):
    def edit(fh):
        del fh[name]
    return edit


def _build_model_cases(folder, good, n_users, n_items, n_seen):
    """name -> (path, expected error after 'hpcrec: error: ', or None: checked loosely)."""
    cases = {}

    def edited(name, edit, message):
        path = _edit(_copy(good, folder / f"{name}.h5"), edit)
        cases[name] = (path, None if message is None else message.format(p=path))

    data = good.read_bytes()
    (folder / "zero.h5").write_bytes(b"")
    cases["zero_bytes"] = (folder / "zero.h5", f"{folder / 'zero.h5'}: not an HDF5 file")
    (folder / "garbage.h5").write_bytes(os.urandom(4096))
    cases["garbage"] = (folder / "garbage.h5", f"{folder / 'garbage.h5'}: not an HDF5 file")
    (folder / "truncated.h5").write_bytes(data[:len(data) // 2])
    cases["truncated"] = (folder / "truncated.h5", None)
    tx = _tx_file(folder / "transactions.h5")
    cases["transactions"] = (tx, f"{tx}: holds transactions, expected model")
    edited("version", _set_attr("hpcrec_format_version", 99),
           "{p}: format version 99 not supported (this hpcrec reads version 1)")
    edited("unknown_model", _set_attr("model", "no-such-model"),
           "{p}: unknown model type 'no-such-model'")
    edited("params_json", _set_attr("params", "{factors: 4"), "{p}: damaged model parameters")
    edited("params_list", _set_attr("params", "[4, 2]"), "{p}: damaged model parameters")
    edited("params_key", _set_attr("params", json.dumps({"bogus": 1})),
           "{p}: damaged model parameters")
    edited("history_json", _set_attr("history", "[{"), "{p}: damaged model parameters")
    edited("history_items", _set_attr("history", "[1, 2]"), "{p}: damaged model parameters")
    edited("history_no_epoch", _set_attr("history", json.dumps([{"train_rmse": 1.0}])),
           "{p}: damaged model parameters")
    bad_state = "{p}: model state arrays do not match the id tables and factors"
    edited("P_shape", _set_dataset("state/P", np.zeros((n_users + 1, 4), np.float32)), bad_state)
    edited("Q_transposed", _set_dataset("state/Q", np.zeros((4, n_items), np.float32)), bad_state)
    edited("P_1d", _set_dataset("state/P", np.zeros(n_users * 4, np.float32)), bad_state)
    edited("bu_short", _set_dataset("state/bu", np.zeros(n_users - 1, np.float32)), bad_state)
    edited("bi_2d", _set_dataset("state/bi", np.zeros((n_items, 1), np.float32)), bad_state)
    edited("P_text", _set_dataset("state/P", np.full((n_users, 4), b"x")), bad_state)
    edited("scalars_short", _set_dataset("state/scalars", np.zeros(2)),
           "{p}: model state is incomplete (P, Q, bu, bi, scalars)")
    edited("no_Q", _delete("state/Q"), "{p}: model state is incomplete (P, Q, bu, bi, scalars)")
    edited("no_state", _delete("state"), "{p}: model state is incomplete (P, Q, bu, bi, scalars)")
    edited("seen_indptr", _set_dataset("seen_indptr", np.zeros(3, np.int64)), None)
    seen = "{p}: damaged seen-items index (seen_indptr, seen_items)"
    edited("seen_item_range", _set_dataset("seen_items", np.full(n_seen, n_items, np.int32)), seen)
    falling = np.full(n_users + 1, n_seen, np.int64)
    falling[[0, 2]] = 0                      # rises to n_seen, falls back, ends at n_seen
    edited("seen_indptr_falls", _set_dataset("seen_indptr", falling), seen)
    edited("no_item_ids", _delete("item_ids"), "{p}: missing dataset 'item_ids'")
    return cases


@pytest.fixture(scope="module")
def hostile_models(trained, tmp_path_factory):
    _, good, _, model = trained
    return _build_model_cases(tmp_path_factory.mktemp("models"), good,
                              len(model.user_ids), len(model.item_ids), len(model.seen_items))


MODEL_NAMES = ["zero_bytes", "garbage", "truncated", "transactions", "version", "unknown_model",
               "params_json", "params_list", "params_key", "history_json",
               "history_items", "history_no_epoch", "P_shape",
               "Q_transposed", "P_1d", "bu_short", "bi_2d", "P_text", "scalars_short", "no_Q",
               "no_state", "seen_indptr", "seen_item_range", "seen_indptr_falls",
               "no_item_ids"]
MODEL_ARGV = {
    "evaluate": ["evaluate", "{model}", "--test", "{test}"],
    "recommend": ["recommend", "{model}", "--user", "{user}"],
    "neighbors": ["neighbors", "{model}", "--item", "{item}"],
    "plot": ["plot", "{model}", "-o", "{out}"],
}


def test_model_corpus_is_complete(hostile_models):
    assert sorted(hostile_models) == sorted(MODEL_NAMES)


def test_valid_model_passes(cli_main, trained, tmp_path):
    """The commands work on the undamaged model, so the failures below are the damage's."""
    _, good, test, model = trained
    for command in ("evaluate", "recommend", "neighbors"):
        argv = [a.format(model=good, test=test, user=model.user_ids[0], item=model.item_ids[0],
                         out=tmp_path) for a in MODEL_ARGV[command]]
        rc, out, err = cli_main(*argv)
        assert rc == 0 and out, (command, err)


@pytest.mark.parametrize("command", sorted(MODEL_ARGV))
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_corpus(cli_main, trained, hostile_models, tmp_path, command, name):
    _, _, test, model = trained
    path, expected = hostile_models[name]
    out = _out(tmp_path)
    argv = [a.format(model=path, test=test, user=model.user_ids[0], item=model.item_ids[0],
                     out=out) for a in MODEL_ARGV[command]]
    rc, _, err = cli_main(*argv)
    _check_failure(rc, err, expected, out)
    assert str(path) in err


# -- damaged itemset files through rules ---------------------------------------------------
GOOD_CSV = "support,itemsets,count\n0.5,a,2\n0.5,b,2\n0.25,a|b,1\n"


def _build_itemset_cases(folder):
    cases = {}

    def text(name, body, message, meta=None, encoding="utf-8"):
        path = folder / f"{name}.csv"
        path.write_bytes(body.encode(encoding) if isinstance(body, str) else body)
        if meta is not None:
            (folder / f"{name}.csv.meta.json").write_text(meta)
        cases[name] = (path, None if message is None else message.format(p=path))

    n_bad = "{{p}}: the number of transactions must be a positive integer, got {}"
    not_csv = "{p}: not an itemset CSV (needs the columns 'support' and 'itemsets')"
    text("empty", "", not_csv)
    text("no_columns", "a,b,c\n1,2,3\n", not_csv)
    text("no_support", "itemsets,count\na,2\n", not_csv)
    text("support_big", "support,itemsets,count\n1.5,a,2\n", "{p}: supports must lie in (0, 1]")
    text("support_negative", "support,itemsets,count\n-0.5,a,2\n", "{p}: supports must lie in (0, 1]")
    text("support_nan", "support,itemsets,count\nnan,a,2\n", "{p}: supports must lie in (0, 1]")
    text("support_text", "support,itemsets,count\nhalf,a,2\n",
         "{p}: line 2: support/count is not a number")
    text("count_text", "support,itemsets,count\n0.5,a,two\n",
         "{p}: line 2: support/count is not a number")
    text("ragged", "support,itemsets,count\n0.5,a\n", "{p}: line 2: 2 fields, the header has 3")
    text("no_count_no_meta", "support,itemsets\n0.5,a\n0.5,b\n0.25,a|b\n",
         "{p}: the number of transactions is unknown; give --num-transactions")
    text("counts_disagree", "support,itemsets,count\n0.5,a,2\n0.5,b,3\n",
         "{p}: counts and supports disagree on the number of transactions")
    text("unpaired_escape", "support,itemsets,count\n0.5,a\\,2\n",
         "{p}: line 2: itemset 'a\\\\' ends with an unpaired escape '\\'")
    text("latin1", "support,itemsets,count\n0.5,café,2\n", "{p}: not UTF-8 text", encoding="latin-1")
    text("meta_json", GOOD_CSV, "{p}.meta.json: metadata is not a JSON object",
         meta="{n_transactions")
    text("meta_list", GOOD_CSV, "{p}.meta.json: metadata is not a JSON object", meta="[1, 2]")
    text("meta_n_text", GOOD_CSV, n_bad.format("'four'"),
         meta=json.dumps({"n_transactions": "four"}))
    text("meta_n_negative", GOOD_CSV, n_bad.format(-4), meta=json.dumps({"n_transactions": -4}))
    text("missing_subset", "support,itemsets,count\n0.25,a|b,1\n",
         "{p}: a subset of itemset {{a, b}} is missing; rules need every frequent itemset "
         "(as 'hpcrec mine' writes them)")

    garbage = folder / "garbage.parquet"
    garbage.write_bytes(os.urandom(2048))
    cases["parquet_garbage"] = (garbage, None)
    empty = folder / "empty.parquet"
    empty.write_bytes(b"")
    cases["parquet_empty"] = (empty, None)
    import pyarrow as pa
    import pyarrow.parquet as pq

    def parquet(name, columns, message, meta=None):
        path = folder / f"{name}.parquet"
        table = pa.table(columns)
        if meta is not None:
            table = table.replace_schema_metadata({"hpcrec": meta})
        pq.write_table(table, path)
        cases[name] = (path, message.format(p=path))

    not_parquet = "{p}: not an itemset file (needs the columns 'support' and 'itemsets')"
    wrong_type = "{p}: 'support' must hold numbers and 'itemsets' lists of items"
    parquet("parquet_no_support", {"itemsets": [["a"]], "count": [2]}, not_parquet)
    parquet("parquet_text_support", {"support": ["x"], "itemsets": [["a"]], "count": [2]},
            wrong_type)
    parquet("parquet_flat_itemsets", {"support": [0.5], "itemsets": [3], "count": [2]}, wrong_type)
    parquet("parquet_meta", {"support": [0.5], "itemsets": [["a"]], "count": [2]},
            "{p}: metadata is not a JSON object", meta="{oops")
    parquet("parquet_text_count", {"support": [0.5], "itemsets": [["a"]], "count": ["2"]},
            "{p}: 'count' must hold integers")
    parquet("parquet_support_big", {"support": [2.0], "itemsets": [["a"]], "count": [2]},
            "{p}: supports must lie in (0, 1]")
    unknown = folder / "itemsets.txt"
    unknown.write_text(GOOD_CSV)
    cases["suffix"] = (unknown, f"{unknown}: an itemset file ends in .csv, .parquet, .h5, .hdf5")
    return cases


@pytest.fixture(scope="module")
def hostile_itemsets(tmp_path_factory):
    return _build_itemset_cases(tmp_path_factory.mktemp("itemsets"))


ITEMSET_NAMES = ["empty", "no_columns", "no_support", "support_big", "support_negative",
                 "support_nan", "support_text", "count_text", "ragged", "no_count_no_meta",
                 "counts_disagree", "unpaired_escape", "latin1", "meta_json",
                 "meta_list", "meta_n_text", "meta_n_negative", "missing_subset",
                 "parquet_garbage", "parquet_empty", "parquet_no_support", "parquet_text_support",
                 "parquet_flat_itemsets", "parquet_meta", "parquet_text_count",
                 "parquet_support_big", "suffix"]


def test_itemset_corpus_is_complete(hostile_itemsets):
    assert sorted(hostile_itemsets) == sorted(ITEMSET_NAMES)


def test_valid_itemsets_pass(cli_main, tmp_path):
    src = tmp_path / "good.csv"
    src.write_text(GOOD_CSV)
    rc, _, err = cli_main("rules", src, "-o", tmp_path / "rules.csv", "--min-threshold", "0.1")
    assert rc == 0, err
    assert (tmp_path / "rules.csv").read_text().count("\n") == 3   # header, a->b, b->a


@pytest.mark.parametrize("name", ITEMSET_NAMES)
def test_itemset_corpus(cli_main, hostile_itemsets, tmp_path, name):
    path, expected = hostile_itemsets[name]
    out = _out(tmp_path)
    rc, _, err = cli_main("rules", path, "-o", out / "rules.csv")
    _check_failure(rc, err, expected, out)
    assert str(path) in err


# -- a sample as real processes: no traceback from the interpreter either -------------------
def test_subprocess_sample(run_cli, trained, hostile_models, hostile_itemsets, tmp_path):
    _, _, test, model = trained
    out = _out(tmp_path)
    for argv, (path, expected) in [
            (["evaluate", "{p}", "--test", test], hostile_models["P_shape"]),
            (["plot", "{p}", "-o", out], hostile_models["truncated"]),
            (["rules", "{p}", "-o", out / "r.csv"], hostile_itemsets["parquet_garbage"])]:
        rc, _, err = run_cli(*[str(a).replace("{p}", str(path)) for a in argv])
        _check_failure(rc, err, expected, out)


# -- damaged records through bench report -----------------------------------------------------
GOOD_RECORD = {"workload": "read", "ranks": 1, "nodes": 1, "gpus": 0, "threads_per_rank": 1,
               "total_s": 1.0, "throughput": 1.0, "throughput_unit": "rows/s",
               "phases": {"read": 1.0}, "params": {"input": "x.h5"}, "host": "h",
               "comm_calls": 0, "data_nnz": 1, "peak_rss_max_bytes": 1}
NOT_RECORD = "{p}:1: not an hpcrec bench record"
RECORD_CASES = {
    "empty": (b"", "no records to report"),
    "latin1": (b"\xff\xfe{}\n", "{p}: not UTF-8 text"),
    "garbage": (b"\x00\x01" * 100, "{p}:1: not a JSON record (Expecting value)"),
    "list": (b"[1, 2]\n", NOT_RECORD),
    "minimal": (json.dumps({k: GOOD_RECORD[k] for k in ("workload", "ranks", "total_s", "phases")}),
                NOT_RECORD + " (field 'nodes' missing or of the wrong type)"),
    "ranks_text": (json.dumps({**GOOD_RECORD, "ranks": "2"}),
                   NOT_RECORD + " (field 'ranks' missing or of the wrong type)"),
    "ranks_bool": (json.dumps({**GOOD_RECORD, "ranks": True}),
                   NOT_RECORD + " (field 'ranks' missing or of the wrong type)"),
    "ranks_zero": (json.dumps({**GOOD_RECORD, "ranks": 0}),
                   NOT_RECORD + " (ranks, nodes or total_s out of range)"),
    "total_text": (json.dumps({**GOOD_RECORD, "total_s": "nan"}),
                   NOT_RECORD + " (field 'total_s' missing or of the wrong type)"),
    "phases_list": (json.dumps({**GOOD_RECORD, "phases": [1.0]}),
                    NOT_RECORD + " (field 'phases' missing or of the wrong type)"),
    "phase_text": (json.dumps({**GOOD_RECORD, "phases": {"read": "1s"}}),
                   NOT_RECORD + " (phase times must be numbers)"),
}


def test_valid_record_passes(cli_main, tmp_path):
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps(GOOD_RECORD) + "\n")
    rc, _, err = cli_main("bench", "report", src, "-o", tmp_path / "report")
    assert rc == 0, err


@pytest.mark.parametrize("name", sorted(RECORD_CASES))
def test_record_corpus(cli_main, tmp_path, name):
    body, message = RECORD_CASES[name]
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(body if isinstance(body, bytes) else (body + "\n").encode())
    out = _out(tmp_path)
    rc, _, err = cli_main("bench", "report", path, "-o", out)
    _check_failure(rc, err, message.format(p=path), out)
