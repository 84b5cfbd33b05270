"""hpcrec.mf estimators: learning, queries, cold start, determinism, checkpoint/resume, and
bad inputs — on planted synthetic data (serial). What every recommender shares (persistence
among it) is in tests/contract/test_recommenders.py."""
import h5py
import numpy as np
import pytest

from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError
from hpcrec.io import splits, synthetic
from hpcrec.mf import ALS, WALS, BiasedSGD, CourseGD

FAST = {
    "biased-sgd": lambda **kw: BiasedSGD(factors=16, epochs=15, **kw),
    "als": lambda **kw: ALS(factors=8, epochs=5, **kw),
    "wals": lambda **kw: WALS(factors=8, epochs=4, **kw),
    "course-gd": lambda **kw: CourseGD(factors=8, epochs=30, lr=5.0, init_std=0.1, **kw),
}


@pytest.fixture(scope="module")
def data():
    r = synthetic.ratings(n_users=300, n_items=200, n_ratings=12_000, seed=3)
    return splits.random_split(r, 0.2, seed=1)


@pytest.mark.parametrize("name", ["biased-sgd", "als"])
def test_models_beat_the_global_mean(data, name):
    train, test = data
    model = FAST[name]().fit(train, serial(), test=test)
    baseline = np.sqrt(np.mean((test.rating - train.rating.mean()) ** 2))
    assert model.history[-1]["test_rmse"] < 0.95 * baseline
    assert len(model.history) == model.epochs
    assert all(np.isfinite(h["train_rmse"]) for h in model.history)


def test_wals_ranks_held_out_items_above_chance(data):
    from hpcrec.metrics import evaluate
    train, test = data
    model = WALS(factors=8, epochs=6).fit(train, serial())
    res = evaluate(model, test, k=10, comm=serial(), threshold=1.0)
    # a random top-10 of the unseen items hits |held out| / |unseen| per slot
    n_seen = np.bincount(train.user, minlength=train.n_users)
    n_test = np.bincount(test.user, minlength=train.n_users)
    users = n_test > 0
    chance = np.mean(n_test[users] / (train.n_items - n_seen[users]))
    assert res["precision_at_k"] > 3 * chance


@pytest.mark.parametrize("name", ["biased-sgd", "als"])
def test_recommend_excludes_seen_and_ranks_by_score(data, name):
    train, _ = data
    model = FAST[name]().fit(train, serial())
    u = train.user[0]
    seen = train.item[train.user == u]
    ids, scores = model.recommend(train.user_ids[u], k=20)
    assert not set(train.item_ids[seen].tolist()) & set(ids.tolist())
    ref = model.mu + model.bu[u] + model.bi + model.Q.astype(np.float64) @ model.P[u].astype(np.float64)
    ref[seen] = -np.inf
    top = np.argsort(-ref, kind="stable")[:20]
    np.testing.assert_allclose(scores, ref[top], rtol=1e-6)
    np.testing.assert_array_equal(ids, train.item_ids[top])
    ids_all, _ = model.recommend(train.user_ids[u], k=20, exclude_seen=False)
    assert len(ids_all) == 20 and set(ids_all.tolist()) & set(train.item_ids[seen].tolist())
    batch, _ = model.recommend(train.user_ids[[u, u + 1]], k=20)
    np.testing.assert_array_equal(batch[0], ids)


def test_cold_start_rule(data):
    train, _ = data
    model = FAST["biased-sgd"]().fit(train, serial())
    known_u, known_i = train.user_ids[0], train.item_ids[0]
    p = model.predict([known_u, 10**9, 10**9], [10**9, known_i, 10**9])
    assert np.all(np.isfinite(p))
    lo, hi = model.rating_range
    assert p[0] == pytest.approx(np.clip(model.mu + model.bu[0], lo, hi), rel=1e-6)
    assert p[1] == pytest.approx(np.clip(model.mu + model.bi[0], lo, hi), rel=1e-6)
    assert p[2] == pytest.approx(model.mu)
    with pytest.raises(InputError, match="unknown user"):
        model.recommend(10**9)


def test_similar_items_on_planted_genres():
    r = synthetic.ratings(n_users=400, n_items=120, n_ratings=20_000, rank=6, n_genres=4,
                          noise=0.3, seed=7)
    model = ALS(factors=6, epochs=8, reg=0.05).fit(r, serial())
    Q = model.Q.astype(np.float64)  # the factors are float32; scores are computed in float64
    for measure in ("dot", "cosine"):
        ids, scores = model.similar_items(r.item_ids[0], k=5, measure=measure)
        ref = Q @ Q[0]
        if measure == "cosine":
            ref = ref / (np.linalg.norm(Q, axis=1) * np.linalg.norm(Q[0]))
        ref[0] = -np.inf
        np.testing.assert_allclose(scores, np.sort(ref)[::-1][:5])
        assert r.item_ids[0] not in ids
    # cosine neighbors share the planted genre far more often than chance (1/4)
    same = []
    for j in range(0, 120, 6):
        ids, _ = model.similar_items(r.item_ids[j], k=5, measure="cosine")
        same.append(np.mean(r.item_genres[model.item_index(ids)] == r.item_genres[j]))
    assert np.mean(same) > 0.6
    norms = model.embedding_norms()
    np.testing.assert_allclose(norms, np.linalg.norm(Q, axis=1))


def test_same_seed_same_model_and_thread_count_invariance(data):
    import numba
    train, _ = data
    a = FAST["biased-sgd"](seed=5).fit(train, serial())
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = FAST["biased-sgd"](seed=5).fit(train, serial())
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(a.P, b.P)
    np.testing.assert_array_equal(a.Q, b.Q)
    c = FAST["biased-sgd"](seed=6).fit(train, serial())
    assert not np.array_equal(a.Q, c.Q)


def test_sgd_model_does_not_depend_on_the_order_of_the_ratings(data):
    """The order inside a block is a seeded hash of each rating, not of its position: the
    same ratings in another order train the same model, bit for bit."""
    from hpcrec.io.ratings import Ratings
    train, _ = data
    perm = np.random.default_rng(0).permutation(len(train.rating))
    shuffled = Ratings(train.user[perm], train.item[perm], train.rating[perm],
                       train.timestamp[perm],
                       train.user_ids, train.item_ids)
    a = FAST["biased-sgd"](seed=5).fit(train, serial())
    b = FAST["biased-sgd"](seed=5).fit(shuffled, serial())
    for key in ("P", "Q", "bu", "bi"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    np.testing.assert_array_equal(a.seen_indptr, b.seen_indptr)
    np.testing.assert_array_equal(a.seen_items, b.seen_items)


def test_initial_rows_are_the_same_for_any_slice():
    """A rank draws only its own rows of P; any slice equals the rows of the whole draw."""
    from hpcrec.mf.sgd import _INIT_ROWS, _normal_rows
    n, d = 2 * _INIT_ROWS + 123, 3
    whole = _normal_rows(7, 0, 0, n, d, 0.1)
    assert whole.dtype == np.float32 and abs(whole.std() - 0.1) < 0.005
    for lo, hi in ((0, 1), (5, _INIT_ROWS + 9), (_INIT_ROWS, 2 * _INIT_ROWS), (n - 200, n), (17, 17)):
        np.testing.assert_array_equal(_normal_rows(7, 0, lo, hi, d, 0.1), whole[lo:hi])
    assert not np.array_equal(_normal_rows(7, 1, 0, 50, d, 0.1), whole[:50])


@pytest.mark.parametrize("name", ["biased-sgd", "als", "course-gd"])
def test_resume_is_bit_identical(data, name, tmp_path):
    train, test = data
    full = FAST[name]().fit(train, serial(), test=test)
    n = full.epochs
    first = FAST[name]()
    first.epochs = n // 2
    first.set_checkpoint(tmp_path, every=100).fit(train, serial(), test=test)  # only the final state
    with h5py.File(tmp_path / "checkpoint.h5") as fh:
        assert fh.attrs["complete"] and fh.attrs["epoch"] == n // 2

    class Crash(Exception):
        pass

    def crash(rec):   # a run dying after epoch n//2 + 1: its last checkpoint is after n//2
        if rec["epoch"] == n // 2 + 1:
            raise Crash
    with pytest.raises(Crash):
        FAST[name]().set_checkpoint(tmp_path, every=n // 2).fit(train, serial(), test=test, callback=crash)
    with h5py.File(tmp_path / "checkpoint.h5") as fh:
        assert not fh.attrs["complete"] and fh.attrs["epoch"] == n // 2
    resumed = FAST[name]().set_checkpoint(tmp_path, every=1000, resume=True)
    resumed.fit(train, serial(), test=test)
    for key in ("P", "Q", "bu", "bi"):
        np.testing.assert_array_equal(getattr(resumed, key), getattr(full, key))
    assert [h["test_rmse"] for h in resumed.history] == [h["test_rmse"] for h in full.history]


def test_resume_refuses_other_parameters(data, tmp_path):
    train, _ = data
    BiasedSGD(factors=4, epochs=3).set_checkpoint(tmp_path, every=1).fit(train, serial())
    # finished: its final checkpoint is there
    with pytest.raises(InputError, match=r"reg 0\.08 \(checkpoint\) vs 0\.5 \(this run\)"):
        BiasedSGD(factors=4, epochs=3, reg=0.5).set_checkpoint(tmp_path, resume=True).fit(train, serial())


@pytest.mark.parametrize("kwargs, match", [
    ({"factors": 0}, "factors"), ({"factors": -3}, "factors"), ({"epochs": -1}, "epochs"),
    ({"lr": -0.1}, "lr"), ({"reg": float("nan")}, "reg"), ({"order": "random"}, "order"),
])
def test_bad_parameters(data, kwargs, match):
    with pytest.raises(InputError, match=match):
        BiasedSGD(**kwargs).fit(data[0], serial())


def test_bad_ratings():
    with pytest.raises(InputError, match="finite"):
        BiasedSGD().fit(([1, 2, 3], [1, 2, 3], [4.0, np.nan, 3.0]), serial())
    with pytest.raises(InputError, match="finite"):
        ALS().fit(([1, 2], [1, 2], [4.0, np.inf]), serial())
    with pytest.raises(InputError, match="reg"):
        ALS(reg=0.0).fit(([1, 2], [1, 2], [4.0, 3.0]), serial())
    with pytest.raises(InputError, match="alpha"):
        WALS(alpha=-1.0).fit(([1, 2], [1, 2], [1.0, 1.0]), serial())
    with pytest.raises(InputError, match="> 0"):
        WALS().fit(([1, 2], [1, 2], [1.0, -1.0]), serial())
    with pytest.raises(InputError, match="solver"):
        ALS(solver="lu").fit(([1, 2], [1, 2], [4.0, 3.0]), serial())
    with pytest.raises(InputError, match="cg_steps"):
        WALS(cg_steps=0).fit(([1, 2], [1, 2], [1.0, 1.0]), serial())
    tiny = BiasedSGD(factors=2, epochs=1).fit(([1, 2], [1, 2], [4.0, 3.0]), serial())
    with pytest.raises(InputError, match="measure"):
        tiny.similar_items(1, measure="l2")
    with pytest.raises(InputError, match="unknown item"):
        tiny.similar_items(99)


def test_memory_guard_refuses_before_allocating(data, monkeypatch):
    from hpcrec.core.errors import MemoryBudgetError
    monkeypatch.setenv("HPCREC_MEMORY_FRACTION", "1e-9")
    for model in (BiasedSGD(), ALS(), CourseGD()):
        with pytest.raises(MemoryBudgetError, match="HPCREC_MEMORY_FRACTION"):
            model.fit(data[0], serial())


def test_gpu_without_a_gpu_is_a_clear_error(data):
    from hpcrec.core.device import gpu_available
    from hpcrec.core.errors import DeviceError
    if gpu_available():
        pytest.skip("a GPU is usable here")
    with pytest.raises(DeviceError, match="gpu"):
        BiasedSGD(device="gpu").fit(data[0], serial())
