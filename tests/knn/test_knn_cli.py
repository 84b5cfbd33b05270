"""The k-NN models through the command line: train, evaluate, recommend, neighbors; the
same model file from 1 and 2 ranks; the option names of the glossary (docs/develop.md):
``min_support`` is a fraction only in ``mine``, k-NN's co-rating count is
``--min-co-ratings``, its k ``--k-neighbors``, the ranking cut-off ``--metrics-k``; the old
spellings still work and warn once (rank 0)."""
import json

import h5py
import numpy as np
from helpers import small_ratings


def write_csv(tmp_path):
    train, test = small_ratings(11)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.iloc[:-3].to_csv(tmp_path / "test.csv", index=False)
    return train


def test_train_evaluate_recommend_neighbors(run_cli, tmp_path):
    train = write_csv(tmp_path)
    model = tmp_path / "m.h5"
    rc, out, err = run_cli("train", tmp_path / "train.csv", "--model", "item-knn", "--similarity",
                           "pearson", "--k", "10", "--max-neighbors", "20", "--damping", "0.5",
                           "-o", model)
    assert rc == 0, err
    rc, out, err = run_cli("evaluate", model, "--test", tmp_path / "test.csv", "--k", "5")
    assert rc == 0, err
    result = json.loads(out)
    assert 0 < result["rmse"] < 1.5 and result["n"] > 0
    rc, out, err = run_cli("recommend", model, "--user", "101", "-k", "3", "--json")
    assert rc == 0, err
    rows = json.loads(out)
    assert len(rows) == 3 and not set(r["item"] for r in rows) & set(train.item[train.user == 101])
    rc, out, err = run_cli("neighbors", model, "--item", "1002", "-k", "4", "--json")
    assert rc == 0, err
    assert len(json.loads(out)["neighbors"]) == 4


def test_bad_knn_options_are_one_line_errors(run_cli, tmp_path):
    write_csv(tmp_path)
    rc, out, err = run_cli("train", tmp_path / "train.csv", "--model", "user-knn", "--k-neighbors", "0",
                           "-o", tmp_path / "m.h5")
    assert rc == 2 and err.strip().splitlines() == ["hpcrec: error: k must be an integer >= 1, got 0"]
    assert not (tmp_path / "m.h5").exists()


def test_two_ranks_write_the_serial_model(run_cli, mpirun, tmp_path):
    write_csv(tmp_path)
    args = ("train", tmp_path / "train.csv", "--model", "user-knn", "--k", "5")
    rc, _, err = run_cli(*args, "-o", tmp_path / "one.h5")
    assert rc == 0, err
    rc, _, err = mpirun(2, *args, "-o", tmp_path / "two.h5")
    assert rc == 0, err
    with h5py.File(tmp_path / "one.h5") as a, h5py.File(tmp_path / "two.h5") as b:
        for name in a["state"]:
            np.testing.assert_array_equal(a["state"][name][()], b["state"][name][()])


WARNING = "warning: {} is deprecated, use {}"


def model_state(path):
    with h5py.File(path) as fh:
        return {name: fh["state"][name][()] for name in fh["state"]}


def test_new_and_deprecated_knn_options_build_the_same_model(run_cli, tmp_path):
    write_csv(tmp_path)
    base = ("train", tmp_path / "train.csv", "--model", "item-knn", "--similarity", "cosine")
    rc, _, err = run_cli(*base, "--k-neighbors", "7", "--min-co-ratings", "3", "-o", tmp_path / "new.h5")
    assert rc == 0 and "is deprecated" not in err, err
    rc, _, err = run_cli(*base, "--k", "7", "--min-support", "2", "--min-support", "3",
                         "-o", tmp_path / "old.h5")
    assert rc == 0, err
    assert err.count(WARNING.format("--min-support", "--min-co-ratings")) == 1   # given twice
    assert err.count(WARNING.format("--k", "--k-neighbors")) == 1
    new, old = model_state(tmp_path / "new.h5"), model_state(tmp_path / "old.h5")
    assert new.keys() == old.keys()
    for name in new:
        np.testing.assert_array_equal(new[name], old[name])
    with h5py.File(tmp_path / "new.h5") as fh:
        params = json.loads(fh.attrs["params"])
    assert params["k"] == 7 and params["min_support"] == 3


def test_metrics_k_and_its_alias(run_cli, mpirun, tmp_path):
    write_csv(tmp_path)
    model = tmp_path / "m.h5"
    assert run_cli("train", tmp_path / "train.csv", "--model", "user-knn", "-o", model)[0] == 0
    rc, new, err = run_cli("evaluate", model, "--test", tmp_path / "test.csv", "--metrics-k", "3")
    assert rc == 0 and "is deprecated" not in err and "precision_at_k" in json.loads(new)
    rc, old, err = run_cli("evaluate", model, "--test", tmp_path / "test.csv", "--k", "3")
    assert rc == 0 and old == new and err.count(WARNING.format("--k", "--metrics-k")) == 1
    rc, two, err = mpirun(2, "evaluate", model, "--test", tmp_path / "test.csv", "--k", "3")
    assert rc == 0 and json.loads(two).keys() == json.loads(new).keys()
    assert err.count(WARNING.format("--k", "--metrics-k")) == 1   # rank 0 only


def test_an_alias_that_does_not_apply_is_named_as_typed(run_cli, tmp_path):
    write_csv(tmp_path)
    rc, _, err = run_cli("train", tmp_path / "train.csv", "--model", "biased-sgd", "--min-support", "2",
                         "-o", tmp_path / "m.h5")
    assert rc == 2 and "option --min-support does not apply to model biased-sgd" in err
