"""Sparse top-K similarities against a dense reference written from the definitions,
and against Surprise's own similarity functions."""
import numpy as np
import pytest
from helpers import small_ratings

from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError
from hpcrec.knn import similarity as sims


def dense_reference(R, measure, min_support=1, shrinkage=100.0):
    """Similarity of every pair of rows of R (NaN = missing), straight from the definitions."""
    n = R.shape[0]
    S = np.zeros((n, n))
    least = max(2, min_support) if measure == "pearson-baseline" else max(1, min_support)
    for a in range(n):
        for b in range(n):
            common = ~np.isnan(R[a]) & ~np.isnan(R[b])
            m = common.sum()
            va, vb = R[a, common], R[b, common]
            if a == b or m < least:
                continue
            if measure == "cosine":
                S[a, b] = va @ vb / np.sqrt((va @ va) * (vb @ vb))
            elif measure == "msd":
                S[a, b] = 1 / (np.mean((va - vb) ** 2) + 1)
            elif measure == "pearson":
                ca, cb = va - va.mean(), vb - vb.mean()
                den = np.sqrt((ca @ ca) * (cb @ cb))
                S[a, b] = ca @ cb / den if den > 0 else 0.0
            else:  # pearson-baseline on residuals
                S[a, b] = va @ vb / np.sqrt((va @ va) * (vb @ vb)) * (m - 1) / (m - 1 + shrinkage)
    return S


def matrices(seed=0, user_based=False, sparse=False):
    """Dense x-major matrix with NaN holes, and the same ratings as the two CSRs.

    ``sparse``: so few ratings that rows touch fewer rows than exist (the kernel then
    tracks the rows it touches instead of scanning them all)."""
    train, _ = small_ratings(seed, n_users=40, n_items=150, density=0.05) if sparse else small_ratings(seed)
    users = train.user.to_numpy() - 101
    items = train.item.to_numpy() - 1001
    vals = train.rating.to_numpy()
    xs, ys = (users, items) if user_based else (items, users)
    n_x, n_y = xs.max() + 1, ys.max() + 1
    R = np.full((n_x, n_y), np.nan)
    R[xs, ys] = vals
    return R, sims.from_coo(xs, ys, vals, n_x, n_y), sims.from_coo(ys, xs, vals, n_y, n_x)


def to_dense(lists: sims.Csr, n: int) -> np.ndarray:
    S = np.zeros((n, n))
    for r in range(n):
        idx, val = lists.row(r)
        S[r, idx] = val
    return S


@pytest.mark.parametrize("user_based,sparse", [(False, False), (True, False), (False, True),
                                               (True, True)])
@pytest.mark.parametrize("measure", list(sims.MEASURES))
def test_all_neighbors_equal_dense_reference(measure, user_based, sparse):
    R, x, y = matrices(1, user_based, sparse)
    lists = sims.neighbor_lists(x, y, measure, min_support=2, shrinkage=10.0, keep=None, comm=serial())
    ref = dense_reference(R, measure, min_support=2, shrinkage=10.0)
    ref[ref <= 0] = 0.0                     # only positive similarities are kept
    np.testing.assert_allclose(to_dense(lists, R.shape[0]), ref, rtol=1e-12, atol=1e-12)
    for r in range(R.shape[0]):             # lists are best first
        assert np.all(np.diff(lists.row(r)[1]) <= 0)


@pytest.mark.parametrize("measure", list(sims.MEASURES))
def test_top_k_is_the_best_of_each_row(measure):
    R, x, y = matrices(2)
    keep = 4
    lists = sims.neighbor_lists(x, y, measure, keep=keep, comm=serial())
    ref = dense_reference(R, measure)
    for r in range(R.shape[0]):
        positive = np.flatnonzero(ref[r] > 0)
        best = positive[np.lexsort((positive, -ref[r, positive]))][:keep]
        idx, val = lists.row(r)
        np.testing.assert_array_equal(idx, best)
        np.testing.assert_allclose(val, ref[r, best], rtol=1e-12)


@pytest.mark.parametrize("name", ["cosine", "msd", "pearson", "pearson_baseline"])
def test_equal_to_surprise_similarity_functions(name):
    surprise_sims = pytest.importorskip("surprise.similarities")
    R, x, y = matrices(3)
    n_x = R.shape[0]
    yr = {c: [(r, R[r, c]) for r in np.flatnonzero(~np.isnan(R[:, c]))] for c in range(R.shape[1])}
    if name == "pearson_baseline":
        # zero biases: residuals are the ratings minus the global mean
        mu = np.nanmean(R)
        S = surprise_sims.pearson_baseline(n_x, yr, 1, mu, np.zeros(n_x), np.zeros(R.shape[1]), 100.0)
        x = x._replace(data=x.data - mu)
        y = y._replace(data=y.data - mu)
    else:
        S = getattr(surprise_sims, name)(n_x, yr, 1)
    S = np.nan_to_num(np.asarray(S))
    np.fill_diagonal(S, 0.0)
    S[S <= 0] = 0.0
    lists = sims.neighbor_lists(x, y, sims.measure_name(name), comm=serial())
    np.testing.assert_allclose(to_dense(lists, n_x), S, rtol=1e-10, atol=1e-12)


def test_unknown_measure_is_an_input_error():
    with pytest.raises(InputError, match="unknown similarity 'jaccard'"):
        sims.measure_name("jaccard")


def test_blocks_and_threads_do_not_change_the_lists(monkeypatch):
    import numba
    R, x, y = matrices(4)
    whole = sims.neighbor_lists(x, y, "pearson", keep=6, comm=serial())
    monkeypatch.setattr(sims.kernels, "BLOCK_ENTRIES", 13)   # blocks of 2 rows
    numba.set_num_threads(1)
    try:
        blocked = sims.neighbor_lists(x, y, "pearson", keep=6, comm=serial())
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip((whole.indptr, whole.indices, whole.data), (blocked.indptr, blocked.indices, blocked.data)):
        np.testing.assert_array_equal(a, b)
