"""ItemKNN / UserKNN as estimators: recommend, similar_items, damaged files, bad inputs (what every
recommender shares, save/load among it, is in tests/contract/test_recommenders.py)."""
import h5py
import numpy as np
import pandas as pd
import pytest
from helpers import small_ratings

from hpcrec.core.errors import InputError
from hpcrec.io import hdf5
from hpcrec.knn import ItemKNN, UserKNN
from hpcrec.recommender import Recommender


@pytest.fixture(scope="module")
def data():
    return small_ratings(7)


@pytest.mark.parametrize("cls", [ItemKNN, UserKNN])
def test_recommend_ranks_the_predictions_of_unseen_items(cls, data):
    train, _ = data
    model = cls(k=5, clip=False).fit(train)
    items = model.item_ids
    for user in (101, 117, 130):
        seen = set(train.item[train.user == user])
        unseen = np.array([i for i in items if i not in seen])
        pred = model.predict(np.full(len(unseen), user), unseen)
        best = unseen[np.lexsort((np.searchsorted(items, unseen), -pred))][:4]
        ids, scores = model.recommend(user, k=4)
        np.testing.assert_array_equal(ids, best)
        np.testing.assert_allclose(scores, np.sort(pred)[::-1][:4], rtol=1e-12)
    ids, _ = model.recommend([101, 102], k=3, exclude_seen=False)
    assert ids.shape == (2, 3)


def test_similar_items_agree_between_item_and_user_models(data):
    train, _ = data
    item_model = ItemKNN(similarity="pearson-baseline", max_neighbors=None).fit(train)
    user_model = UserKNN(similarity="pearson-baseline").fit(train)
    for item in (1001, 1010):
        ids_i, sim_i = item_model.similar_items(item, k=5)
        ids_u, sim_u = user_model.similar_items(item, k=5)
        np.testing.assert_array_equal(ids_i, ids_u)
        np.testing.assert_allclose(sim_i, sim_u, rtol=1e-12)
        assert item not in ids_i and np.all(np.diff(sim_i) <= 0) and np.all(sim_i > 0)
    with pytest.raises(InputError, match="unknown item id 424242"):
        item_model.similar_items(424242)
    with pytest.raises(InputError, match="k must be"):
        item_model.similar_items(1001, k=0)


@pytest.mark.parametrize("cls", [ItemKNN, UserKNN])
def test_similar_items_honour_the_measure(cls, data):
    """Any measure, computed on demand, equals the stored lists of an item-based model
    trained with that similarity (save/load: tests/contract/test_recommenders.py)."""
    train, _ = data
    model = cls(similarity="pearson-baseline").fit(train)
    for measure in ("cosine", "msd", "pearson", "pearson-baseline"):
        reference = ItemKNN(similarity=measure, max_neighbors=None).fit(train)
        for item in (1001, 1010):
            ids, sim = model.similar_items(item, k=5, measure=measure)
            ids_ref, sim_ref = reference.similar_items(item, k=5)
            np.testing.assert_array_equal(ids, ids_ref)
            np.testing.assert_allclose(sim, sim_ref, rtol=1e-12)


def test_damaged_model_file_is_an_input_error(data, tmp_path):
    path = tmp_path / "model.h5"
    ItemKNN().fit(data[0]).save(path)
    with h5py.File(path, "a") as fh:
        del fh["state/neighbor_idx"]
    with pytest.raises(InputError, match="missing state/neighbor_idx"):
        Recommender.load(path)
    ItemKNN().fit(data[0]).save(path)
    with h5py.File(path, "a") as fh:
        fh["state/neighbor_idx"][0] = 10 ** 6
    with pytest.raises(InputError, match="fails its checksum"):
        Recommender.load(path)
    with h5py.File(path, "a") as fh:   # the same damage with a matching checksum
        ds = fh["state/neighbor_idx"]
        ds.attrs[hdf5.CHECKSUM] = np.uint32(hdf5.checksum(ds[()]))
    with pytest.raises(InputError, match="not a valid sparse matrix"):
        Recommender.load(path)


def test_cold_start_is_the_baseline_never_nan(data):
    train, _ = data
    model = ItemKNN(damping=1e12).fit(train)      # predictions reduce to the baseline
    known_user, known_item = 101, 1001
    pred = model.predict([9999, known_user, 9999, known_user], [known_item, 8888, 8888, known_item])
    assert np.isfinite(pred).all()
    mu = train.rating.mean()
    assert pred[2] == pytest.approx(mu)
    assert pred[0] == pytest.approx(pred[3] - model.bu[model.user_index(known_user)[0]])
    assert pred[1] == pytest.approx(pred[3] - model.bi[model.item_index(known_item)[0]])


@pytest.mark.parametrize("kwargs,message", [
    ({"k": 0}, "k must be an integer >= 1"),
    ({"k": -3}, "k must be an integer >= 1"),
    ({"k": 2.5}, "k must be an integer >= 1"),
    ({"min_k": -1}, "min_k must be"),
    ({"similarity": "jaccard"}, "unknown similarity 'jaccard'"),
    ({"prediction": "zscore"}, "unknown prediction rule"),
    ({"k": 50, "max_neighbors": 10}, "max_neighbors .* must be at least k"),
    ({"shrinkage": float("nan")}, "shrinkage must be"),
    ({"damping": -1}, "damping must be"),
    ({"baseline_options": {"method": "svd"}}, "unknown baseline method"),
    ({"baseline_options": {"method": "als", "reg": 0.1}}, "unknown option"),
    ({"baseline_options": {"n_epochs": -1}}, "n_epochs"),
])
def test_bad_parameters_are_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        ItemKNN(**kwargs)


def test_bad_ratings_are_input_errors(data):
    train, _ = data
    nan = train.copy()
    nan.loc[3, "rating"] = np.nan
    with pytest.raises(InputError, match="not a finite number"):
        ItemKNN().fit(nan)
    twice = pd.concat([train, train.iloc[:1]], ignore_index=True)
    with pytest.raises(InputError, match="more than once"):
        UserKNN().fit(twice)
    with pytest.raises(InputError, match="not fitted"):
        ItemKNN().predict([1], [1])
