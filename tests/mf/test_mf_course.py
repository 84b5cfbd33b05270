"""The course's model (CourseGD): trajectory against a dense NumPy reference, and the
course's published figures on MovieLens 100K (90/10 random split)."""
import numpy as np
import pytest

from hpcrec.core.comm import serial
from hpcrec.io import splits
from hpcrec.io.ratings import read_ml100k
from hpcrec.mf import CourseGD


@pytest.fixture(scope="module")
def ml100k_split(shared_data):
    r = read_ml100k(shared_data / "ml-100k" / "u.data")
    return splits.random_split(r, 0.1, seed=0)


def _dense_gd(train, d, init_std, lr, reg, grav, iters, seed, batch=None):
    """Full-batch GD on the dense formulation (mask matrix, U Vᵀ formed explicitly)."""
    rng = np.random.default_rng([seed, 1])
    U = rng.normal(0.0, init_std, (train.n_users, d))
    V = rng.normal(0.0, init_std, (train.n_items, d))
    N, M = U.shape[0], V.shape[0]
    W = np.zeros((N, M))
    R = np.zeros((N, M))
    np.add.at(W, (train.user, train.item), 1.0)
    np.add.at(R, (train.user, train.item), train.rating)
    n = train.nnz
    mse = []
    for _ in range(iters):
        S = U @ V.T
        G = 2.0 / n * (W * S - R) + 2.0 * grav / (N * M) * S
        mse.append(float(((S[train.user, train.item] - train.rating) ** 2).mean()))
        U, V = U - lr * (G @ V + 2 * reg / N * U), V - lr * (G.T @ U + 2 * reg / M * V)
    return U, V, mse


def test_gd_trajectory_matches_dense_reference():
    from hpcrec.io import synthetic
    r = synthetic.ratings(n_users=60, n_items=40, n_ratings=600, seed=2)
    model = CourseGD(factors=5, epochs=25, lr=5.0, reg=0.1, gravity=1.0, init_std=0.3,
                     dtype="float64", seed=4).fit(r, serial())
    U, V, mse = _dense_gd(r, 5, 0.3, 5.0, 0.1, 1.0, 25, 4)
    np.testing.assert_allclose(model.P, U, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.Q, V, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([h["train_mse"] for h in model.history], mse, rtol=1e-9)


def test_minibatch_gd_learns(ml100k_split):
    train, test = ml100k_split
    model = CourseGD(factors=20, epochs=3, lr=10.0, init_std=0.5, batch_size=2000,
                     seed=1).fit(train, serial(), test=test)
    full = CourseGD(factors=20, epochs=3, lr=10.0, init_std=0.5, seed=1).fit(train, serial())
    # 3 epochs of 45 mini-batch steps get much further than 3 full-batch steps
    assert model.history[-1]["train_mse"] < 0.5 * full.history[-1]["train_mse"]


def test_course_plain_model_short(ml100k_split):
    """First 100 of the course's 1000 iterations: the error falls steadily."""
    train, test = ml100k_split
    model = CourseGD(factors=30, epochs=100, lr=10.0, init_std=0.5).fit(train, serial())
    mse = [h["train_mse"] for h in model.history]
    assert mse[-1] < 0.5 * mse[0]
    assert np.all(np.diff(mse[5:]) < 0)


@pytest.mark.slow
def test_course_figure_plain_model(ml100k_split):
    """Course: dim 30, init σ 0.5, lr 10, 1000 iterations -> train MSE ≈ 0.37."""
    train, test = ml100k_split
    model = CourseGD(factors=30, epochs=1000, lr=10.0, init_std=0.5).fit(train, serial(), test=test)
    assert model.history[-1]["train_mse"] == pytest.approx(0.37, abs=0.04)


@pytest.mark.slow
def test_course_figure_regularized_model(ml100k_split):
    """Course: reg 0.1, gravity 1.0, dim 35, σ 0.05, lr 20, 2000 iterations -> train MSE ≈ 1.00."""
    train, test = ml100k_split
    model = CourseGD(factors=35, epochs=2000, lr=20.0, init_std=0.05, reg=0.1,
                     gravity=1.0).fit(train, serial(), test=test)
    assert model.history[-1]["train_mse"] == pytest.approx(1.00, abs=0.08)
