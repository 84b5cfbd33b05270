"""hpcrec.metrics and hpcrec.model_selection against brute-force definitions, scikit-learn
and Surprise (as peers where the definitions match)."""
import numpy as np
import pytest

from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError
from hpcrec.io import splits, synthetic
from hpcrec.io.ratings import Ratings
from hpcrec.metrics import evaluate
from hpcrec.mf import ALS, BiasedSGD
from hpcrec.model_selection import configurations, cross_validate, search
from hpcrec.recommender import Recommender


class FixedScores(Recommender):
    """A model whose scores are a given matrix (for checking the metrics)."""

    def __init__(self, scores, seed=0):
        super().__init__(seed)
        self.S = scores

    def _fit(self, train, comm, test, callback):
        return {}

    def _predict_index(self, u, i):
        return np.where((u >= 0) & (i >= 0), self.S[np.maximum(u, 0), np.maximum(i, 0)], 3.0)

    def _score_users(self, u):
        return self.S[u]

    # the rest of the contract, which the metrics never use
    measures = ("dot",)
    default_measure = "dot"

    def params(self):
        return {"seed": self.seed}

    def _check_params(self):
        pass

    def _similar_index(self, j, k, measure):
        raise NotImplementedError

    def set_checkpoint(self, directory, every=1, resume=False):
        raise NotImplementedError

    def _state(self):
        raise NotImplementedError

    def _set_state(self, state):
        raise NotImplementedError


def _brute(S, train, test, k, threshold):
    seen = {(u, i) for u, i in zip(train.user, train.item)}
    out = []
    for u in np.unique(test.user[test.rating >= threshold]):
        pos = set(test.item[(test.user == u) & (test.rating >= threshold)].tolist())
        cand = [i for i in range(S.shape[1]) if (u, i) not in seen]
        ranked = sorted(cand, key=lambda i: (-S[u, i], i))[:k]
        hits = [j + 1 for j, i in enumerate(ranked) if i in pos]
        dcg = sum(1 / np.log2(h + 1) for h in hits)
        idcg = sum(1 / np.log2(j + 2) for j in range(min(len(pos), k)))
        ap = sum((n + 1) / h for n, h in enumerate(hits)) / min(len(pos), k)
        out.append((len(hits) / k, len(hits) / len(pos), dcg / idcg, ap))
    return np.mean(out, axis=0)


def test_metrics_match_brute_force_and_sklearn():
    from sklearn.metrics import ndcg_score
    rng = np.random.default_rng(0)
    n_u, n_i = 30, 25
    S = rng.normal(size=(n_u, n_i))
    r = synthetic.ratings(n_users=n_u, n_items=n_i, n_ratings=300, seed=1)
    train, test = splits.random_split(r, 0.3, seed=2)
    model = FixedScores(S).fit(train, serial())
    res = evaluate(model, test, k=5, comm=serial(), threshold=4.0)
    ref = _brute(S, train, test, 5, 4.0)
    assert [res[m] for m in ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k")] == \
        pytest.approx(ref.tolist())
    pred = S[test.user, test.item]
    assert res["rmse"] == pytest.approx(np.sqrt(np.mean((pred - test.rating) ** 2)))
    assert res["mae"] == pytest.approx(np.mean(np.abs(pred - test.rating)))
    assert res["n"] == test.nnz and res["n_cold"] == 0
    # one user, one seen item (excluded): NDCG@k as scikit-learn defines it for binary relevance
    one = FixedScores(S[:1]).fit(([0], [0], [3.0]), serial())
    one.user_ids, one.item_ids = np.array([0]), np.arange(n_i)
    res = evaluate(one, ([0, 0, 0], [1, 4, 7], [5.0, 5.0, 4.0]), k=6, comm=serial())
    truth = np.zeros(n_i - 1)
    truth[[0, 3, 6]] = 1
    assert res["ndcg_at_k"] == pytest.approx(ndcg_score([truth], [S[0, 1:]], k=6))
    # k beyond the items left: the missing slots count as misses (precision = hits / k)
    res = evaluate(model, test, k=n_i + 5, comm=serial(), threshold=4.0)
    ref = _brute(S, train, test, n_i + 5, 4.0)
    assert [res[m] for m in ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k")] == \
        pytest.approx(ref.tolist())


def test_rmse_mae_agree_with_surprise():
    surprise = pytest.importorskip("surprise")
    from surprise import accuracy
    rng = np.random.default_rng(3)
    truth, est = rng.uniform(1, 5, 50), rng.uniform(1, 5, 50)
    preds = [surprise.Prediction(0, 0, t, e, {}) for t, e in zip(truth, est)]
    r = Ratings(np.arange(50) % 5, np.arange(50), truth, None, np.arange(5), np.arange(50))
    model = FixedScores(np.tile(est, (5, 1))).fit(r, serial())
    res = evaluate(model, r, comm=serial())
    assert res["rmse"] == pytest.approx(accuracy.rmse(preds, verbose=False))
    assert res["mae"] == pytest.approx(accuracy.mae(preds, verbose=False))


def test_cold_start_counted_and_finite():
    train = synthetic.ratings(n_users=40, n_items=30, n_ratings=300, seed=4)
    model = BiasedSGD(factors=4, epochs=2).fit(train, serial())
    test = ([1, 999, 2], [1, 1, 999], [3.0, 4.0, 5.0])
    res = evaluate(model, test, comm=serial())
    assert res["n_cold"] == 2 and np.isfinite(res["rmse"])
    with pytest.raises(InputError, match="k must be"):
        evaluate(model, test, k=0, comm=serial())


def test_biased_sgd_with_surprise_settings_matches_surprise_svd(shared_data):
    """Same model, loss and hyper-parameters as Surprise's SVD defaults (100 factors,
    20 epochs, lr 0.005, reg 0.02, init N(0, 0.1)): the accuracy must agree on u1."""
    surprise = pytest.importorskip("surprise")
    folder = shared_data / "ml-100k"
    train, test = splits.movielens_fold(folder, "u1")
    ours = BiasedSGD(factors=100, epochs=20, lr=0.005, reg=0.02, reg_bias=0.02, decay=1.0,
                     init_std=0.1).fit(train, serial())
    reader = surprise.Reader(line_format="user item rating timestamp", sep="\t")
    data = surprise.Dataset.load_from_folds([(folder / "u1.base", folder / "u1.test")], reader)
    trainset, testset = next(surprise.model_selection.PredefinedKFold().split(data))
    algo = surprise.SVD(random_state=0).fit(trainset)
    theirs = surprise.accuracy.rmse(algo.test(testset), verbose=False)
    assert evaluate(ours, test, comm=serial())["rmse"] == pytest.approx(theirs, abs=0.01)


def test_cross_validation_folds_and_search(shared_data):
    res = cross_validate(lambda: ALS(factors=4, epochs=2), shared_data / "ml-100k" / "u.data",
                         comm=serial())
    assert [f["fold"] for f in res["folds"]] == ["u1", "u2", "u3", "u4", "u5"]
    assert all(f["n"] == 20000 for f in res["folds"])
    r = synthetic.ratings(n_users=60, n_items=40, n_ratings=800, seed=5)
    k3 = cross_validate(lambda: ALS(factors=3, epochs=2), r, folds=3, comm=serial())
    assert sum(f["n"] for f in k3["folds"]) == r.nnz
    best = search(ALS, {"reg": [0.05, 50.0, 1.0]}, r, folds=3, comm=serial(), factors=3, epochs=2)
    assert sorted(b["params"]["reg"] for b in best) == [0.05, 1.0, 50.0]
    means = [b["mean"]["rmse"] for b in best]
    assert means == sorted(means)
    for b in best:
        alone = cross_validate(lambda: ALS(**b["params"]), r, folds=3, comm=serial())
        assert alone["mean"]["rmse"] == b["mean"]["rmse"]
    assert len(configurations({"a": [1, 2, 3], "b": [4, 5]})) == 6
    assert len(configurations({"a": [1, 2, 3], "b": [4, 5]}, n_iter=4)) == 4
    with pytest.raises(InputError):
        configurations({"a": []})
    with pytest.raises(InputError, match="folds"):
        cross_validate(lambda: ALS(), r, folds="x", comm=serial())


@pytest.mark.mpi
def test_search_over_ranks_equals_serial():
    from hpcrec.core.comm import world
    r = synthetic.ratings(n_users=60, n_items=40, n_ratings=800, seed=6)
    space = {"reg": [0.05, 0.2, 1.0], "factors": [2, 3]}
    dist = search(ALS, space, r, folds=3, comm=world(), epochs=2)
    ref = search(ALS, space, r, folds=3, comm=serial(), epochs=2)
    assert [d["params"] for d in dist] == [s["params"] for s in ref]
    assert [d["mean"]["rmse"] for d in dist] == pytest.approx([s["mean"]["rmse"] for s in ref])
