"""Option names of the glossary (docs/develop.md): ``min_support`` is a fraction only in
``mine``; k-NN's co-rating count is ``--min-co-ratings``, its k ``--k-neighbors`` and the
ranking cut-off ``--metrics-k``. The old spellings still work and warn once (rank 0)."""
import json

import h5py
import numpy as np

from knn_data import small_ratings

WARNING = "warning: {} is deprecated, use {}"


def write_csv(tmp_path):
    train, test = small_ratings(11)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.iloc[:-3].to_csv(tmp_path / "test.csv", index=False)


def states(path):
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
    new, old = states(tmp_path / "new.h5"), states(tmp_path / "old.h5")
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
