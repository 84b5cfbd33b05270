"""Predictions equal to Surprise's KNNBaseline / KNNWithMeans / KNNBasic (within 1e-6)
where the definitions match: all neighbors kept, no damping, Surprise's baseline options,
min_support 2 (with one co-rating, cosine similarities are exactly 1: ties that Surprise
breaks by input order and hpcrec by index).
Where Surprise cannot predict (unknown ids; KNNBasic without enough neighbors) it returns
the global mean, hpcrec the baseline: those pairs are checked against BaselineOnly."""
import numpy as np
import pytest
from helpers import small_ratings

from hpcrec.knn import ItemKNN, UserKNN

surprise = pytest.importorskip("surprise")

SURPRISE_EXACT = {"max_neighbors": None, "damping": 0.0}


def surprise_fit(algo, train):
    lo, hi = train.rating.min(), train.rating.max()
    data = surprise.Dataset.load_from_df(train[["user", "item", "rating"]],
                                         surprise.Reader(rating_scale=(lo, hi)))
    return algo.fit(data.build_full_trainset())


def surprise_predict(algo, test):
    preds = [algo.predict(u, i) for u, i in zip(test.user, test.item)]
    return np.array([p.est for p in preds]), np.array([p.details["was_impossible"] for p in preds])


CASES = [  # (surprise class, hpcrec prediction rule, similarity, user_based, baseline method)
    ("KNNBaseline", "baseline", "pearson_baseline", False, "als"),
    ("KNNBaseline", "baseline", "pearson_baseline", True, "als"),
    ("KNNBaseline", "baseline", "pearson_baseline", False, "sgd"),
    ("KNNBaseline", "baseline", "msd", True, "sgd"),
    ("KNNBaseline", "baseline", "cosine", False, "als"),
    ("KNNWithMeans", "means", "pearson", False, "als"),
    ("KNNWithMeans", "means", "msd", True, "als"),
    ("KNNBasic", "basic", "cosine", True, "als"),
    ("KNNBasic", "basic", "pearson", False, "als"),
]


@pytest.mark.parametrize("algo_name,rule,sim,user_based,method", CASES)
@pytest.mark.parametrize("k,min_k", [(5, 2), (40, 1)])
def test_predictions_equal_surprise(algo_name, rule, sim, user_based, method, k, min_k):
    train, test = small_ratings(5)
    bsl = {"method": method}
    algo = getattr(surprise, algo_name)(k=k, min_k=min_k, verbose=False, bsl_options=bsl,
                                        sim_options={"name": sim, "user_based": user_based,
                                                     "shrinkage": 20, "min_support": 2})
    expected, impossible = surprise_predict(surprise_fit(algo, train), test)
    cls = UserKNN if user_based else ItemKNN
    model = cls(k=k, min_k=min_k, similarity=sim, shrinkage=20, min_support=2, prediction=rule,
                baseline_options=bsl, **SURPRISE_EXACT).fit(train)
    got = model.predict(test.user, test.item)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got[~impossible], expected[~impossible], atol=1e-6, rtol=0)
    if impossible.any():   # hpcrec's documented fallback: the baseline of the known side
        baseline_only = surprise_fit(surprise.BaselineOnly(bsl_options=bsl, verbose=False), train)
        fallback, _ = surprise_predict(baseline_only, test[impossible])
        np.testing.assert_allclose(got[impossible], fallback, atol=1e-6, rtol=0)
    assert (~impossible).sum() > 0.8 * len(test)


def test_large_damping_gives_the_baseline_and_defaults_stay_in_range():
    train, test = small_ratings(6)
    bsl = {"method": "als"}
    baseline_only = surprise_fit(surprise.BaselineOnly(bsl_options=bsl, verbose=False), train)
    expected, _ = surprise_predict(baseline_only, test)
    damped = ItemKNN(damping=1e12, baseline_options=bsl).fit(train).predict(test.user, test.item)
    np.testing.assert_allclose(damped, expected, atol=1e-6, rtol=0)
    default = UserKNN().fit(train).predict(test.user, test.item)
    assert ((default >= train.rating.min()) & (default <= train.rating.max())).all()
