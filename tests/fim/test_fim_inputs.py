"""Edge cases and bad inputs of hpcrec.fim: clear errors, never a crash or a half-written file."""
from __future__ import annotations

import csv
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError, MemoryBudgetError
from hpcrec.fim import apriori, association_rules, fpgrowth, fpmax, mine_itemsets
from hpcrec.io.results import join_items, read_itemsets, split_items

ALGOS = [apriori, fpgrowth, fpmax]


def as_dict(frame):
    return dict(zip((frozenset(s) for s in frame["itemsets"]), frame["support"]))


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), "0.5", True])
def test_min_support_out_of_range(algo, bad):
    with pytest.raises(ValueError, match="min_support"):
        algo([["a", "b"]], min_support=bad, comm=serial())


@pytest.mark.parametrize("algo", ALGOS)
def test_bad_max_len_and_device(algo):
    with pytest.raises(ValueError, match="max_len"):
        algo([["a"]], min_support=0.5, max_len=0, comm=serial())
    with pytest.raises(ValueError, match="device"):
        algo([["a"]], min_support=0.5, device="tpu", comm=serial())


def test_non_boolean_onehot():
    df = pd.DataFrame({"a": [0, 1, 2], "b": [1, 1, 0]})
    with pytest.raises(ValueError, match="The allowed values for a DataFrame are True, False, 0, 1"):
        apriori(df, 0.5, comm=serial())


def test_empty_inputs():
    empty = pd.DataFrame({"a": pd.Series(dtype=bool)})
    for algo in ALGOS:
        out = algo(empty, 0.5, comm=serial())
        assert list(out.columns) == ["support", "itemsets"] and len(out) == 0
        with pytest.raises(InputError, match="no transactions"):
            algo([], 0.5, comm=serial())


def test_single_and_identical_transactions():
    for rows in ([["x", "y", "z", "w"]], [["x", "y", "z", "w"]] * 7):
        every = {frozenset(c) for k in range(1, 5) for c in itertools.combinations("xyzw", k)}
        for algo in (apriori, fpgrowth):
            got = as_dict(algo(rows, 1.0, use_colnames=True, comm=serial()))
            assert got == {s: 1.0 for s in every}
        assert as_dict(fpmax(rows, 1.0, use_colnames=True, comm=serial())) == {frozenset("xyzw"): 1.0}


def test_itemsets_longer_than_64_items(monkeypatch):
    rows = [list(range(70))] * 5 + [[0, 1]]
    top = fpmax(rows, 0.5, comm=serial())
    assert list(top["itemsets"]) == [frozenset(range(70))]
    pairs = fpgrowth(rows, 0.5, max_len=2, comm=serial())
    assert len(pairs) == 70 + 70 * 69 // 2
    assert as_dict(apriori(rows, 0.5, max_len=2, comm=serial())) == as_dict(pairs)
    # without max_len the answer has 2**70 itemsets: a clear error, not the OOM killer
    monkeypatch.setenv("HPCREC_MEMORY_LIMIT", "64M")
    for algo in (apriori, fpgrowth):
        with pytest.raises(MemoryBudgetError, match="max_len"):
            algo(rows, 0.5, comm=serial())


def test_unicode_and_separator_labels_round_trip(tmp_path):
    labels = ["Käse", "面包", "a|b", "back\\slash", "comma,item", 'quote"d', "|", "x\\|y"]
    for text in labels + [""]:
        assert split_items(join_items([text, "z"])) == [text, "z"]
    rows = [labels[:5], labels[2:], labels, labels[::2]]
    res = mine_itemsets(rows, 0.5, "fpgrowth", comm=serial())
    from hpcrec.io.results import write_itemsets
    for suffix in ("csv", "parquet", "h5"):
        out = tmp_path / f"sets.{suffix}"
        write_itemsets(out, res)
        sets, support, meta = read_itemsets(out)
        expected = [tuple(str(res.labels[i]) for i in res.itemset(x)) for x in range(len(res))]
        assert sets == expected
        assert np.array_equal(support, res.support)
        assert meta["n_transactions"] == 4


@pytest.mark.parametrize("n_labels", [6, 9])   # every label used / some unused
@pytest.mark.parametrize("n, dtype", [(500, np.int64), (500, np.int32), (0, np.int32)])
def test_used_labels_is_unique_with_inverse(n_labels, n, dtype):
    from hpcrec.io.results import used_labels
    items = np.random.default_rng(n_labels).integers(0, 6, n).astype(dtype)
    used, table = used_labels(items, n_labels)
    want, inverse = np.unique(items, return_inverse=True)
    assert used.tolist() == want.tolist()
    assert (table is None) == (len(want) == n_labels)
    index = items if table is None else table[items]
    assert index.tolist() == inverse.tolist()
    assert table is None or table.dtype == np.int32



@pytest.mark.parametrize("n_used", [40, 25, 0])   # every label used / some / none (no itemsets)
def test_h5_itemsets_with_unused_labels_round_trip(tmp_path, monkeypatch, n_used):
    """The HDF5 writer renumbers the items into the labels used block by block, as it
    writes them (blocks of 4 KiB here, cut inside items): the file reads back as the
    result's label tuples, supports and counts."""
    from hpcrec.fim.result import Itemsets
    from hpcrec.io import h5slices
    from hpcrec.io.results import write_itemsets
    monkeypatch.setattr(h5slices, "WRITE_BYTES", 4096 + 4)
    rng = np.random.default_rng(n_used)
    pool = np.sort(rng.choice(40, n_used, replace=False))
    lengths = rng.integers(1, 6, 3000 if n_used else 0)
    items = np.concatenate([np.sort(rng.choice(pool, k, replace=False)) for k in lengths]
                           ).astype(np.int32) if n_used else np.zeros(0, np.int32)
    ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    res = Itemsets(items, ptr, rng.integers(1, 997, len(lengths)).astype(np.int64), 997,
                   np.array([f"L{i}" for i in range(40)]))
    out = tmp_path / "sets.h5"
    write_itemsets(out, res)
    sets, support, meta = read_itemsets(out)
    assert sets == [tuple(f"L{i}" for i in res.itemset(x)) for x in range(len(res))]
    assert np.array_equal(support, res.counts / 997) and meta["n_transactions"] == 997
    import h5py
    with h5py.File(out) as fh:
        assert len(fh["labels"]) == len(np.unique(items))


def test_csv_without_sidecar_recovers_n(tmp_path):
    res = mine_itemsets([["a", "b"], ["a"], ["b", "c"]] * 37, 0.1, "apriori", comm=serial())
    from hpcrec.io.results import meta_path, write_itemsets
    out = tmp_path / "s.csv"
    write_itemsets(out, res)
    meta_path(out).unlink()
    assert read_itemsets(out)[2]["n_transactions"] == 111
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["support", "itemsets", "count"]


def test_rules_errors():
    df = pd.DataFrame({"support": [0.5], "itemsets": [frozenset(["a"])]})
    with pytest.raises(ValueError, match="Metric must be 'confidence' or 'lift'"):
        association_rules(df, 2, metric="nonsense", comm=serial())
    with pytest.raises(ValueError, match="empty"):
        association_rules(df.iloc[:0], 2, comm=serial())
    with pytest.raises(ValueError, match="columns"):
        association_rules(df.rename(columns={"support": "s"}), 2, comm=serial())
    empty = association_rules(df, 2, comm=serial())
    assert len(empty) == 0 and list(empty.columns)[:3] == ["antecedents", "consequents", "antecedent support"]


def one_error_line(err: str) -> None:
    lines = [line for line in err.splitlines() if line.startswith("hpcrec: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("content,name", [(b"", "empty.csv"), (b"\x00\x01garbage\xff", "bin.dat"),
                                          (b"1 2 x\n", "bad.dat"), (b"\xff\xfe\xfa,a\n", "latin.csv")])
def test_cli_bad_input_files(tmp_path, run_cli, content, name):
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out.csv"
    rc, _, err = run_cli("mine", src, "--min-support", "0.5", "-o", out)
    assert rc == 2
    one_error_line(err)
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_cli_bad_arguments(tmp_path, run_cli):
    src = tmp_path / "b.csv"
    src.write_text("a,b\nb,c\n")
    for args in (["--min-support", "0"], ["--min-support", "0.5", "--max-len", "0"]):
        rc, _, err = run_cli("mine", src, *args, "-o", tmp_path / "o.csv")
        assert rc == 2
        one_error_line(err)
    rc, _, err = run_cli("mine", src, "--min-support", "0.5", "-o", tmp_path / "o.txt")
    assert rc == 2 and "output must end in" in err
    rc, _, err = run_cli("rules", src, "-o", tmp_path / "r.csv")
    assert rc == 2
    one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"]


def test_cli_explosion_is_a_clear_error(tmp_path, run_cli):
    src = tmp_path / "wide.csv"
    with open(src, "w", newline="") as fh:
        csv.writer(fh).writerows([[f"item{i}" for i in range(70)]] * 4)
    rc, _, err = run_cli("mine", src, "--min-support", "0.5", "-o", tmp_path / "o.csv",
                         env={"HPCREC_MEMORY_LIMIT": "32M"})
    assert rc == 2 and "max_len" in err
    one_error_line(err)
    assert not (tmp_path / "o.csv").exists()


def test_cli_time_limit_gives_flagged_partial_output(tmp_path, run_cli, shared_data):
    out = tmp_path / "p.csv"
    rc, _, err = run_cli("mine", shared_data / "fim" / "retail_dataset.csv", "--min-support", "0.1",
                         "--algorithm", "apriori", "--time-limit", "0", "-o", out)
    assert rc == 0, err
    meta = json.loads((tmp_path / "p.csv.meta.json").read_text())
    assert meta["partial"] is True and meta["levels"] == 1
    frame = pd.read_csv(out)
    assert len(frame) == 9 and "|" not in "".join(frame["itemsets"])
    assert "partial" in err


def test_cli_time_limit_stops_the_pfp_miners_flagged_partial(tmp_path, run_cli):
    """A stop requested at once ends after the first batch of item groups: the output holds
    the itemsets found there (fewer than all, each also in the full result: groups are mined
    rarest item first), flagged partial, with no complete length."""
    data = tmp_path / "dense.h5"
    rc, _, err = run_cli("generate", "transactions", "--dense", "--rows", "3000", "--attributes",
                         "30", "--max-values", "3", "--clusters", "4", "--seed", "7", "-o", data)
    assert rc == 0, err
    for algorithm in ("fpgrowth", "fpmax", "fpclose"):
        full, part = tmp_path / f"{algorithm}.csv", tmp_path / f"{algorithm}-part.csv"
        rc, _, err = run_cli("mine", data, "--min-support", "0.8", "--algorithm", algorithm,
                             "-o", full)
        assert rc == 0 and "partial" not in err, err
        rc, _, err = run_cli("mine", data, "--min-support", "0.8", "--algorithm", algorithm,
                             "--time-limit", "0", "-o", part)
        assert rc == 0 and "partial" in err, err
        meta = json.loads(part.with_name(part.name + ".meta.json").read_text())
        assert meta["partial"] is True and meta["levels"] == 0 and meta["algorithm"] == algorithm
        whole = dict(zip(*pd.read_csv(full, dtype=str)[["itemsets", "count"]].to_numpy().T))
        got = dict(zip(*pd.read_csv(part, dtype=str)[["itemsets", "count"]].to_numpy().T))
        assert 0 < len(got) < len(whole) and all(whole[s] == c for s, c in got.items())


def test_apriori_stops_within_a_level_past_the_budget(monkeypatch):
    """A level of more sets than the budget holds stops at the first block past it, with
    the budget's error: the level's blocks never take much more than the budget (they
    used to be joined first and checked at the level's end: twice its sets)."""
    import tracemalloc

    from hpcrec.fim import count_distribution as cd
    rows = [list(range(28))] * 3 + [[0]]   # levels of C(28, k) sets: 1.2 M at k = 7
    monkeypatch.setattr(cd, "BLOCK", 1 << 14)
    monkeypatch.setenv("HPCREC_MEMORY_LIMIT", "48M")
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError, match="itemsets found so far"):
            mine_itemsets(rows, 0.5, "apriori", comm=serial())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48 << 20, peak


@pytest.mark.parametrize("algorithm", ["fpgrowth", "fpclose"])
def test_the_share_of_sets_follows_what_a_set_takes(algorithm, monkeypatch):
    """FP-Close's store takes more a set than FP-Growth's records (items, metadata, table
    slot: about 140 B at 11 items, against 64): its rank stops at a smaller share of the
    budget (``pfp.SET_BYTES``; at 64 B a set, longtail 0.0002 reached 6.9 GB under a 3 GB
    budget, 3.9 GB now, benchmarks/README.md session 22). Rows of all items but one:
    every subset is closed (2 M sets)."""
    from hpcrec.fim import pfp
    from hpcrec.kernels import projected
    rows = [[i for i in range(21) if i != j] for j in range(21)]
    monkeypatch.setenv("HPCREC_MEMORY_LIMIT", "48M")
    mode = {"fpgrowth": projected.FREQUENT, "fpclose": projected.CLOSED}[algorithm]
    share = (48 << 20) // pfp.SET_BYTES[mode]
    with pytest.raises(MemoryBudgetError, match=f"more than {share} itemsets on one rank"):
        mine_itemsets(rows, 1 / 21, algorithm, comm=serial())
    assert pfp.SET_BYTES[projected.CLOSED] >= 140 and pfp.SET_BYTES[projected.MAXIMAL] >= 376
