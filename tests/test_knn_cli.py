"""The k-NN models through the command line: train, evaluate, recommend, neighbors; and
the same model file from 1 and 2 ranks."""
import json

import h5py
import numpy as np

from knn_data import small_ratings


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
