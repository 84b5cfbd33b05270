"""``hpcrec demo`` (the course end to end) and the course API it is made of.

The demo runs once per module under 2 MPI ranks (``--quick``); its numbers are checked
against independent oracles: the mlxtend documentation's five-transaction itemsets,
mlxtend itself on the baskets the demo mined, and Surprise's SVD on the same split.
"""
from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import MPIEXEC, run_command

from hpcrec.core.comm import serial, world
from hpcrec.course import baskets, movies, story
from hpcrec.io import synthetic

# mlxtend's documentation (fpgrowth example, min_support=0.6): 11 itemsets
FIVE_BASKETS = {("Kidney Beans",): 1.0, ("Eggs",): 0.8, ("Yogurt",): 0.6, ("Onion",): 0.6,
                ("Milk",): 0.6, ("Eggs", "Kidney Beans"): 0.8, ("Kidney Beans", "Yogurt"): 0.6,
                ("Eggs", "Onion"): 0.6, ("Kidney Beans", "Onion"): 0.6,
                ("Eggs", "Kidney Beans", "Onion"): 0.6, ("Kidney Beans", "Milk"): 0.6}
FILES = ["five_baskets_itemsets.csv", "retail_baskets.csv", "retail_item_supports.csv",
         "retail_support_sweep.csv", "retail_itemsets.csv", "retail_rules.csv", "ml_summary.csv",
         "ml_rating_counts.csv", "ml_activity.csv", "ml_top_movies.csv", "ml_by_genre.csv",
         "mf_sweep.csv", "mf_comparison.csv", "mf_history.csv", "mf_neighbors.csv", "mf_tsne.csv",
         "retail_support_sweep.png", "ml_exploration.png", "mf_rmse.png", "mf_history.png",
         "mf_norms.png", "mf_tsne.png", "report.md"]
MODELS = ["observed-only GD", "regularized GD", "biased SGD", "ALS"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's output folder and stdout, from one 2-rank run."""
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    out = tmp_path_factory.mktemp("demo") / "out"
    rc, stdout, stderr = run_command(
        [MPIEXEC, "-n", 2, sys.executable, "-m", "mpi4py", "-m", "hpcrec", "-q", "demo",
         "--out", out, "--quick"], env={"HPCREC_EXPECT_RANKS": 2, "MPLBACKEND": "Agg"},
        timeout=600)
    assert rc == 0, stderr
    return out, stdout


def _sets(column):
    return [tuple(sorted(s.split(" & "))) for s in column]


def _mlxtend_frame(path):
    from mlxtend.preprocessing import TransactionEncoder
    rows = [line.split(",") for line in path.read_text().splitlines()]
    enc = TransactionEncoder()
    return pd.DataFrame(enc.fit(rows).transform(rows), columns=enc.columns_), rows


def test_outputs_complete(demo):
    out, stdout = demo
    for name in FILES:
        f = out / name
        assert f.is_file() and f.stat().st_size > 0, name
        if name.endswith(".png"):
            assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "staging files left behind"
    assert stdout.count("hpcrec demo:") == 1 and "on 2 rank(s)" in stdout  # rank 0 prints once
    report = (out / "report.md").read_text()
    for heading in ("## 1. Retail", "## 2. FP-Growth", "## 3. Ratings", "## 4. Regularization",
                    "## 5. The models", "## 6. Neighbors"):
        assert heading in report
    cmp = pd.read_csv(out / "mf_comparison.csv")
    for r in cmp.itertuples():  # the report quotes the numbers of the CSV
        assert f"{r.test_rmse:.3f}" in report
    nb = pd.read_csv(out / "mf_neighbors.csv")
    assert sorted(nb["model"].unique()) == sorted(MODELS)
    assert (nb.groupby(["model", "measure"]).size() == 6).all()
    assert len(pd.read_csv(out / "mf_sweep.csv")) == len(story.QUICK.sweep_grid)


def test_five_baskets_match_mlxtend_docs(demo):
    out, _ = demo
    got = pd.read_csv(out / "five_baskets_itemsets.csv")
    assert dict(zip(_sets(got["itemsets"]), got["support"])) == pytest.approx(FIVE_BASKETS)


def test_retail_itemsets_and_rules_match_mlxtend(demo):
    from mlxtend.frequent_patterns import apriori, association_rules
    out, _ = demo
    onehot, rows = _mlxtend_frame(out / "retail_baskets.csv")
    assert len(rows) == 315 and set(onehot.columns) == set(baskets.RETAIL_ITEMS)
    ref = apriori(onehot, min_support=0.2, use_colnames=True)
    got = pd.read_csv(out / "retail_itemsets.csv")
    assert dict(zip(_sets(got["itemsets"]), got["support"])) == pytest.approx(
        {tuple(sorted(s)): v for s, v in zip(ref["itemsets"], ref["support"])})
    ref_rules = association_rules(ref, num_itemsets=len(onehot), metric="confidence", min_threshold=0.6)
    rules = pd.read_csv(out / "retail_rules.csv")
    assert len(rules) == len(ref_rules) > 0
    key = lambda a, c: (tuple(sorted(a)), tuple(sorted(c)))  # noqa: E731
    want = {key(a, c): r for a, c, r in zip(ref_rules["antecedents"], ref_rules["consequents"],
                                            ref_rules.itertuples())}
    for row in rules.itertuples():
        r = want[key(row.antecedents.split(" & "), row.consequents.split(" & "))]
        for m in ("support", "confidence", "lift", "leverage", "conviction"):
            assert getattr(row, m) == pytest.approx(getattr(r, m), rel=1e-9), m
    assert (rules["confidence"] >= 0.6).all()
    assert rules["lift"].is_monotonic_decreasing
    sweep = pd.read_csv(out / "retail_support_sweep.csv")
    for s, n in zip(sweep["min_support"], sweep["n_itemsets"]):
        assert n == len(apriori(onehot, min_support=s, use_colnames=True))


def test_rmse_band_and_ordering(demo):
    """Biased models reach Surprise's SVD error on the same split and beat the course's
    observed-only model; regularization helps that model on the test set."""
    surprise = pytest.importorskip("surprise")
    out, _ = demo
    cmp = pd.read_csv(out / "mf_comparison.csv").set_index("model")
    assert list(cmp.index) == MODELS
    r, _, _ = movies.movie_ratings(seed=0, comm=serial())
    train, test = movies.split(r, seed=0)
    data = surprise.Dataset.load_from_df(train.to_frame()[["user", "item", "rating"]],
                                         surprise.Reader(rating_scale=(1, 5)))
    svd = surprise.SVD(n_factors=64, n_epochs=20, random_state=0).fit(data.build_full_trainset())
    frame = test.to_frame()
    pred = [svd.predict(u, i).est for u, i in zip(frame["user"], frame["item"])]
    svd_rmse = math.sqrt(np.mean((np.array(pred) - frame["rating"].to_numpy()) ** 2))
    for name in ("biased SGD", "ALS"):
        assert 0.6 < cmp.loc[name, "test_rmse"] < svd_rmse + 0.03, (name, svd_rmse)
        assert cmp.loc[name, "test_rmse"] < cmp.loc["observed-only GD", "test_rmse"] - 0.1
    assert cmp.loc["regularized GD", "test_rmse"] < cmp.loc["observed-only GD", "test_rmse"]
    # regularization shrinks the vectors of rarely rated movies
    assert cmp.loc["regularized GD", "rare_norm"] < 0.7 * cmp.loc["observed-only GD", "rare_norm"]
    assert cmp.loc["observed-only GD", "train_rmse"] < cmp.loc["observed-only GD", "test_rmse"]


def test_bad_data_dir_one_line_no_output(cli_main, tmp_path):
    rc, out, err = cli_main("demo", "--out", tmp_path / "o", "--data-dir", tmp_path / "missing")
    assert rc == 2 and "no such folder" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


# -- the course API -------------------------------------------------------------------------

def test_synthetic_retail_is_seeded_and_shaped_like_the_lecture_set():
    a, b = baskets.synthetic_retail(seed=0), baskets.synthetic_retail(seed=0)
    assert a == b and a != baskets.synthetic_retail(seed=1)
    assert len(a) == baskets.RETAIL_ROWS and all(a)
    onehot = pd.DataFrame([[i in row for i in baskets.RETAIL_ITEMS] for row in a],
                          columns=baskets.RETAIL_ITEMS)
    # the demo's set: supports within 3 binomial standard deviations of the lecture file's
    # (+0.02: the file has no empty basket, nor has the stand-in, which lifts supports a little)
    target = np.array(baskets.RETAIL_SUPPORT)
    assert np.all(np.abs(onehot.mean().to_numpy() - target)
                  < 3 * np.sqrt(target * (1 - target) / len(a)) + 0.02)


def test_retail_file_is_used_when_given(shared_data):
    tx, source = baskets.retail_baskets(shared_data / "fim")
    assert str(shared_data / "fim") in source and tx.n_rows == 315
    got = baskets.item_supports(tx).set_index("item")["support"]
    assert np.allclose(got[list(baskets.RETAIL_ITEMS)], baskets.RETAIL_SUPPORT, atol=5e-4)


def test_offline_download_falls_back_to_synthetic(monkeypatch, tmp_path):
    from hpcrec.core.errors import InputError

    def offline(name, directory):
        raise InputError("cannot download https://files.grouplens.org/x (offline)")
    monkeypatch.setattr(movies, "fetch_dataset", offline)
    r, source, folder = movies.movie_ratings(tmp_path, download=True, comm=serial())
    assert folder is None and "download failed" in source and "synthetic" in source
    assert (r.n_users, r.n_items, r.nnz) == (943, 1682, 100_000)


def test_exploration_of_movielens(shared_data):
    r, source, folder = movies.movie_ratings(shared_data, comm=serial())
    assert "MovieLens 100K" in source
    ex = movies.explore(r, movies.user_table(folder))
    raw = pd.read_csv(shared_data / "ml-100k" / "u.data", sep="\t", names=["u", "i", "r", "t"])
    users = pd.read_csv(shared_data / "ml-100k" / "u.user", sep="|", names=["u", "age", "g", "occ", "z"])
    occ = raw.merge(users, on="u").groupby("occ")["r"].agg(["size", "mean"])
    got = ex["by_occupation"].set_index("occupation").loc[occ.index]
    assert (got["ratings"] == occ["size"]).all() and np.allclose(got["mean_rating"], occ["mean"])
    assert ex["summary"]["ratings"].iloc[0] == len(raw) == movies.rating_matrix(r).nnz
    assert ex["top_movies"]["ratings"].iloc[0] == raw["i"].value_counts().iloc[0]
    item, title = movies.pick_movie(r)
    assert (item, title) == (95, "Aladdin (1992)")


def test_neighbors_and_norms_against_numpy():
    r = synthetic.ratings(n_users=80, n_items=60, n_ratings=1500, seed=5)
    model = movies.course_model(epochs=3, seed=1).fit(r, serial())
    nb = movies.neighbors(model, 7, k=4)
    Q = model.Q.astype(float)
    j = int(model.item_index([7])[0])
    for measure, scores in (("dot", Q @ Q[j]),
                            ("cosine", Q @ Q[j] / (np.linalg.norm(Q, axis=1) * np.linalg.norm(Q[j])))):
        scores[j] = -np.inf
        want = model.item_ids[np.argsort(-scores)[:4]]
        assert nb[nb["measure"] == measure]["item"].tolist() == want.tolist()
    pop = np.bincount(r.item, minlength=r.n_items)
    g = movies.norm_groups(model, fraction=0.1)
    order = np.argsort(-pop, kind="stable")
    assert g["popular_norm"] == pytest.approx(np.linalg.norm(Q[order[:6]], axis=1).mean())


TINY = story.Settings(support_thresholds=(0.2,), sweep_grid=((0.1, 0.1),),
                      epochs={"gd": 2, "sgd": 2, "als": 2}, tsne_items=40)


def test_write_is_all_or_nothing(tmp_path, monkeypatch):
    res = story.run(seed=2, settings=TINY, comm=serial())
    story.write(res, tmp_path / "ok")
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(FILES)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(story.figures, "tsne", broken)
    with pytest.raises(RuntimeError):
        story.write(res, tmp_path / "failed")
    assert list((tmp_path / "failed").iterdir()) == []


@pytest.mark.mpi
def test_story_under_any_rank_count():
    """All steps complete under the job's ranks; mining is rank-count invariant."""
    comm = world()
    res = story.run(seed=1, settings=TINY, comm=comm)
    ref = baskets.basket_analysis(baskets.retail_baskets(seed=1)[0], comm=serial())
    pd.testing.assert_frame_equal(res["tables"]["retail_rules"], ref["rules"])
    assert len(res["tables"]["five_baskets_itemsets"]) == 11
    assert list(res["tables"]["mf_comparison"]["model"]) == MODELS
    if comm.is_root:
        assert {"mf_neighbors", "mf_tsne", "ml_by_genre"} <= set(res["tables"])
