"""Kernels and objectives of hpcrec.mf against independent references: finite differences,
dense computations and numpy.linalg.lstsq."""
import numpy as np
import pytest

from hpcrec.core.comm import serial
from hpcrec.kernels import mf_als, sparse
from hpcrec.kernels.csr import csr
from hpcrec.kernels.mf_als import als_half_step
from hpcrec.kernels.mf_sgd import _run_rounds, sgd_epoch
from hpcrec.kernels.protocols import BlockedRatings, Factors, RowProblem, SgdRates, Side
from hpcrec.mf.course import gram, loss_and_grad


def _fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        hi = f()
        x[idx] = old - eps
        lo = f()
        x[idx] = old
        g[idx] = (hi - lo) / (2 * eps)
    return g


def test_sgd_step_is_gradient_step_of_rating_loss():
    """One kernel update equals -lr/2 times the finite-difference gradient of
    (r - r̂)² + reg(|p|² + |q|²) + reg_b(b_u² + b_i²) (the factor 2 absorbed into lr)."""
    rng = np.random.default_rng(1)
    d, mu, r, lr, reg, reg_b = 5, 3.5, 4.0, 1e-3, 0.1, 0.03
    P = rng.normal(0, 0.5, (1, d))
    Q = rng.normal(0, 0.5, (1, d))
    bu, bi = np.array([0.2]), np.array([-0.3])

    def loss():
        e = r - (mu + bu[0] + bi[0] + P[0] @ Q[0])
        return 0.5 * (e * e + reg * (P[0] @ P[0] + Q[0] @ Q[0]) + reg_b * (bu[0] ** 2 + bi[0] ** 2))

    grads = [_fd_grad(loss, x) for x in (P, Q, bu, bi)]
    arrays = [x.astype(np.float32) for x in (P, Q, bu, bi)]
    sse = sgd_epoch(BlockedRatings(np.zeros(1, np.int32), np.zeros(1, np.int32),
                                   np.array([r], np.float32), np.array([0, 1])),
                    np.zeros((1, 1), np.int64), Factors(*arrays), SgdRates(mu, lr, lr, reg, reg_b))
    e = r - (mu + bu[0] + bi[0] + P[0] @ Q[0])
    assert sse == pytest.approx(e * e, rel=1e-5)
    for before, after, g in zip((P, Q, bu, bi), arrays, grads):
        np.testing.assert_allclose(after, before - lr * g, rtol=0, atol=1e-6)


def test_sgd_rounds_in_sequence_equal_one_block():
    """Blocks run round after round (with -1 padding) follow the same sequential order as
    one block holding them back to back."""
    rng = np.random.default_rng(2)
    u = np.repeat(np.arange(4), 10).astype(np.int32)
    i = rng.integers(0, 5, 40).astype(np.int32)
    r = rng.integers(1, 6, 40).astype(np.float32)

    def factors():
        g = np.random.default_rng(3)
        return [g.normal(0, .1, (4, 3)).astype(np.float32), g.normal(0, .1, (5, 3)).astype(np.float32),
                np.zeros(4, np.float32), np.zeros(5, np.float32)]

    a, b = factors(), factors()
    rates = SgdRates(3.0, .01, .01, .02, .02)
    sa = sgd_epoch(BlockedRatings(u, i, r, np.array([0, 20, 40])), np.array([[0, -1], [1, -1]]),
                   Factors(*a), rates)
    sb = sgd_epoch(BlockedRatings(u, i, r, np.array([0, 40])), np.zeros((1, 1), np.int64),
                   Factors(*b), rates)
    assert sa == pytest.approx(sb, rel=1e-12)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_sgd_two_blocks_per_thread_equal_one_after_the_other():
    """A thread walks two independent blocks of a round side by side (pair=2): the state
    and the SSE are bit for bit those of the blocks run one at a time (pair=1), and of the
    blocks run in separate rounds; unequal lengths, empty blocks and padding included."""
    rng = np.random.default_rng(5)
    n_u, n_i, d, g = 24, 18, 40, 3  # d = 40: vector loop plus remainder
    u = rng.integers(0, n_u, 300).astype(np.int32)
    i = rng.integers(0, n_i, 300).astype(np.int32)
    keep = ~((u // 8 == 2) & (i // 6 == 1))  # block (2, 1) stays empty
    u, i = u[keep], i[keep]
    r = rng.integers(1, 6, len(u)).astype(np.float32)
    block = (u // 8) * g + i // 6
    order = np.lexsort((u, block))
    u, i, r = u[order], i[order], r[order]
    ptr = np.searchsorted(block[order], np.arange(g * g + 1)).astype(np.int64)
    rounds = np.array([[a * g + (a + t) % g for a in range(g)] + [-1] for t in range(g)], np.int64)
    serial_rounds = rounds[:, :g].reshape(-1, 1)

    def run(pair, rr):
        gen = np.random.default_rng(3)
        state = [gen.normal(0, .1, (n_u, d)).astype(np.float32),
                 gen.normal(0, .1, (n_i, d)).astype(np.float32),
                 np.zeros(n_u, np.float32), np.zeros(n_i, np.float32)]
        sse = _run_rounds(BlockedRatings(u, i, r, ptr), rr, *state, SgdRates(3.0, .05, .05, .02, .01),
                          pair)
        return sse, state

    ref_sse, ref = run(1, rounds)
    for pair, rr in ((2, rounds), (1, serial_rounds), (2, serial_rounds)):
        sse, state = run(pair, rr)
        assert sse == pytest.approx(ref_sse, rel=1e-12)
        for x, y in zip(state, ref):
            np.testing.assert_array_equal(x, y)
    sse, _ = run(2, rounds)
    assert sse == ref_sse  # same per-block sums added in the same order


def test_counting_sorts_equal_lexsort():
    """csr_permutation sorts by (row, col) as np.lexsort, grouped_by_row then sort_rows by
    (row, col, value) (-0.0 before 0.0, negative values, repeated entries, long rows, empty input);
    bucket_permutation is the stable sort by one key, grouped_by_row the same order
    applied to the entries, and merged_by_row joins such groups of consecutive pieces."""
    rng = np.random.default_rng(8)
    for trial in range(60):
        n = int(rng.integers(0, 400))
        n_rows, n_cols = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        rows = rng.integers(0, n_rows, n).astype(np.int32)
        cols = rng.integers(0, n_cols, n).astype(np.int32 if trial % 3 else np.int64)
        vals = (rng.normal(size=n) if trial % 2 else rng.integers(-2, 3, n)).astype(np.float32)
        vals[rng.random(n) < 0.1] = -0.0
        ptr, order = sparse.csr_permutation(rows, cols, n_rows, n_cols)
        np.testing.assert_array_equal(order, np.lexsort((cols, rows)))
        np.testing.assert_array_equal(ptr, np.searchsorted(rows[order], np.arange(n_rows + 1)))
        c, bits = np.empty_like(cols), np.empty(n, np.uint32)
        sptr = sparse.grouped_by_row(rows, cols, vals.view(np.uint32), n_rows, c, bits)
        sparse.sort_rows(sptr, c, bits)
        positive_zero = (vals == 0) & ~np.signbit(vals)       # after -0.0
        want = np.lexsort((positive_zero, vals, cols, rows))
        np.testing.assert_array_equal(sptr, ptr)
        assert c.dtype == cols.dtype
        np.testing.assert_array_equal(c, cols[want])
        np.testing.assert_array_equal(bits, vals[want].view(np.uint32))   # -0.0 and 0.0 too
        bptr, border = sparse.bucket_permutation(cols, n_cols)
        np.testing.assert_array_equal(border, np.argsort(cols, kind="stable"))
        np.testing.assert_array_equal(bptr, np.searchsorted(cols[border], np.arange(n_cols + 1)))
        g_rows, g_vals = np.empty_like(rows), np.empty_like(vals)
        gptr = sparse.grouped_by_row(cols, rows, vals, n_cols, g_rows, g_vals)   # by column
        np.testing.assert_array_equal(gptr, bptr)
        np.testing.assert_array_equal(g_rows, rows[border])
        np.testing.assert_array_equal(g_vals.view(np.uint32), vals[border].view(np.uint32))
        cut = int(rng.integers(0, n + 1))   # the same entries grouped in two sources, then joined
        parts = [(np.empty_like(rows[a:z]), np.empty_like(vals[a:z])) for a, z in ((0, cut), (cut, n))]
        ptrs = [sparse.grouped_by_row(cols[a:z], rows[a:z], vals[a:z], n_cols, *part)
                for (a, z), part in zip(((0, cut), (cut, n)), parts)]
        m_rows, m_vals = np.empty_like(rows), np.empty_like(vals)
        mptr = sparse.merged_by_row(np.array([np.diff(p) for p in ptrs]),
                                    *(np.concatenate([p[k] for p in parts]) for k in (0, 1)), m_rows, m_vals)
        np.testing.assert_array_equal(mptr, bptr)
        np.testing.assert_array_equal(m_rows, g_rows)
        np.testing.assert_array_equal(m_vals.view(np.uint32), g_vals.view(np.uint32))


def _csr(rows, cols, vals, n):
    order = np.lexsort((cols, rows))
    return (np.searchsorted(rows[order], np.arange(n + 1)).astype(np.int64), cols[order].astype(np.int32),
            vals[order].astype(np.float64))


EXPLICIT = lambda mu: np.array([0.0, 1.0, 0.0, -mu, 1.0])  # noqa: E731  (see kernels/mf_als.py)
IMPLICIT = lambda alpha: np.array([1.0, 0.0, alpha, 1.0, alpha])  # noqa: E731


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cg_steps", [0, 4])
@pytest.mark.parametrize("n_cols, density", [(9, 0.5), (300_000, 2e-4)])
def test_als_half_step_matches_lstsq(weighted, cg_steps, n_cols, density):
    """Explicit ALS with biases: Cholesky exactly, and CG with D = d + 1 steps (exact in
    exact arithmetic) from a random start, equal numpy's least squares. 300,000 columns
    of 3 float64s are several of CG's cache-sized column blocks (mf_als.COL_BLOCK_BYTES)."""
    assert n_cols < 64 or 3 * 8 * n_cols > 3 * mf_als.COL_BLOCK_BYTES
    rng = np.random.default_rng(4)
    n_rows, d, reg, reg_b, mu = 6, 3, 0.3, 0.1, 3.2
    mask = rng.random((n_rows, n_cols)) < density
    mask[0] = False                       # a row without ratings
    rows, cols = np.nonzero(mask)
    vals = rng.integers(1, 6, len(rows)).astype(np.float64)
    X = rng.normal(0, 1, (n_cols, d))
    xb = rng.normal(0, 0.3, n_cols)
    indptr, c, v = _csr(rows, cols, vals, n_rows)
    Y, yb = rng.normal(0, 1, (n_rows, d)), rng.normal(0, 1, n_rows)
    als_half_step(csr(indptr, c, v), X, xb,
                  RowProblem(EXPLICIT(mu), np.zeros((d, d)), True, reg, reg_b, weighted, cg_steps),
                  Y, yb)
    for row in range(n_rows):
        J = cols[rows == row]
        t = vals[rows == row] - mu - xb[J]
        scale = max(len(J), 1) if weighted else 1
        A = np.hstack([X[J], np.ones((len(J), 1))])
        lam = np.sqrt(np.r_[np.full(d, reg * scale), reg_b * scale])
        theta = np.linalg.lstsq(np.vstack([A, np.diag(lam)]), np.r_[t, np.zeros(d + 1)], rcond=None)[0]
        np.testing.assert_allclose(np.r_[Y[row], yb[row]], theta, atol=1e-10 if cg_steps == 0 else 1e-7)


def _implicit_problem(seed=5):
    rng = np.random.default_rng(seed)
    n_rows, n_cols, d = 7, 12, 4
    mask = rng.random((n_rows, n_cols)) < 0.3
    mask[2] = False                       # a row without values
    rows, cols = np.nonzero(mask)
    vals = rng.integers(1, 4, len(rows)).astype(np.float64)
    X = rng.normal(0, 1, (n_cols, d))
    return mask, rows, cols, vals, X


def _implicit_dense(mask, rows, vals, X, row, alpha, reg, weighted):
    """Hu-Koren-Volinsky row problem written out over all columns: confidence 1 + α v and
    preference 1 on observed entries, confidence 1 and preference 0 elsewhere."""
    conf = np.ones(mask.shape[1])
    conf[mask[row]] += alpha * vals[rows == row]
    pref = mask[row].astype(np.float64)
    scale = max(mask[row].sum(), 1) if weighted else 1
    sw = np.sqrt(conf)[:, None]
    A = np.vstack([sw * X, np.sqrt(reg * scale) * np.eye(X.shape[1])])
    return np.linalg.lstsq(A, np.r_[sw[:, 0] * pref, np.zeros(X.shape[1])], rcond=None)[0]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cg_steps", [0, 4])
def test_implicit_half_step_matches_dense_weighted_lstsq(weighted, cg_steps):
    """The Gram trick equals the dense weighted problem over all columns."""
    mask, rows, cols, vals, X = _implicit_problem()
    n_rows, n_cols, d = mask.shape[0], mask.shape[1], X.shape[1]
    alpha, reg = 2.0, 0.2
    indptr, c, v = _csr(rows, cols, vals, n_rows)
    Y, yb = np.random.default_rng(1).normal(0, 1, (n_rows, d)), np.zeros(n_rows)
    als_half_step(csr(indptr, c, v), X, np.zeros(n_cols),
                  RowProblem(IMPLICIT(alpha), X.T @ X, False, reg, 0.0, weighted, cg_steps), Y, yb)
    for row in range(n_rows):
        theta = _implicit_dense(mask, rows, vals, X, row, alpha, reg, weighted)
        np.testing.assert_allclose(Y[row], theta, atol=1e-10 if cg_steps == 0 else 1e-7)
    assert not yb.any()


def test_few_cg_steps_approach_the_solution_monotonically():
    """Warm-started CG: each extra step lowers the error in the A-norm (CG's guarantee),
    and one step from the exact solution stays there."""
    mask, rows, cols, vals, X = _implicit_problem(seed=8)
    n_rows, n_cols, d = mask.shape[0], mask.shape[1], X.shape[1]
    indptr, c, v = _csr(rows, cols, vals, n_rows)
    exact = np.array([_implicit_dense(mask, rows, vals, X, r, 1.0, 0.1, True) for r in range(n_rows)])
    start = np.random.default_rng(2).normal(0, 1, (n_rows, d))
    errors = []
    for steps in (1, 2, 3):
        Y = start.copy()
        als_half_step(csr(indptr, c, v), X, np.zeros(n_cols),
                      RowProblem(IMPLICIT(1.0), X.T @ X, False, 0.1, 0.0, True, steps), Y,
                      np.zeros(n_rows))
        errors.append(np.abs(Y - exact).max())
    assert errors[0] > errors[1] > errors[2]
    Y = exact.copy()
    als_half_step(csr(indptr, c, v), X, np.zeros(n_cols),
                  RowProblem(IMPLICIT(1.0), X.T @ X, False, 0.1, 0.0, True, 1), Y, np.zeros(n_rows))
    np.testing.assert_allclose(Y, exact, atol=1e-9)


def test_gram_and_sse_kernels_equal_numpy():
    rng = np.random.default_rng(3)
    X = rng.normal(0, 1, (37, 5))
    out = np.empty((5, 5))
    mf_als.gram(X, 3, 30, out)
    np.testing.assert_allclose(out, X[3:30].T @ X[3:30], rtol=1e-12)
    rows, cols = np.nonzero(rng.random((6, 37)) < 0.4)
    vals = rng.random(len(rows))
    indptr, c, v = _csr(rows, cols, vals, 6)
    Y, yb, xb = rng.normal(0, 1, (10, 5)), rng.normal(0, 1, 10), rng.normal(0, 1, 37)
    ref = (((0.5 + 2 * v) - 1.5 - yb[4 + np.repeat(np.arange(6), np.diff(indptr))] - xb[c]
            - np.einsum("ij,ij->i", Y[4 + np.repeat(np.arange(6), np.diff(indptr))], X[c])) ** 2).sum()
    got = mf_als.sse(csr(indptr, c, v), Side(Y, yb), 4, Side(X, xb), (1.5, 0.5, 2.0))
    assert got == pytest.approx(ref, rel=1e-12)


def test_row_weights_add_a_per_row_part_growing_with_the_column_blocks():
    """Ranks are balanced by these weights: ratings plus one fixed part per row, larger when
    the other side spans more cache-sized column blocks (see mf_als.COL_BLOCK_BYTES)."""
    counts = np.array([0, 5, 1000])
    one_block = mf_als.row_weights(counts, 100, 64) - counts
    many = mf_als.row_weights(counts, 50 * mf_als.COL_BLOCK_BYTES // 256, 64) - counts
    assert len(set(one_block)) == 1 and len(set(many)) == 1
    assert 64 // 2 < one_block[0] < many[0]


def test_gram_adds_its_chunks_in_float64(monkeypatch):
    """float32 factors: each chunk's product in float32, the chunks summed in float64, the
    same bits for any chunk-internal thread count; several chunks equal one."""
    X = np.random.default_rng(4).normal(0, 1, (1000, 6)).astype(np.float32)
    one, many = np.empty((6, 6)), np.empty((6, 6))
    mf_als.gram(X, 10, 990, one)
    monkeypatch.setattr(mf_als, "GRAM_CHUNK", 97)
    mf_als.gram(X, 10, 990, many)
    ref = X[10:990].astype(np.float64).T @ X[10:990].astype(np.float64)
    for out in (one, many):
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("fit_bias", [False, True])
def test_float32_cg_keeps_float32_and_matches_float64(fit_bias):
    """float32 factors and values: the CG half-step computes in float32 (results float32)
    and lands within float32 rounding of the float64 computation."""
    mask, rows, cols, vals, X = _implicit_problem(seed=9)
    n_rows, n_cols, d = mask.shape[0], mask.shape[1], X.shape[1]
    indptr, c, v = _csr(rows, cols, vals, n_rows)
    coef = IMPLICIT(1.0) if not fit_bias else EXPLICIT(2.0)
    start = np.random.default_rng(5).normal(0, 0.1, (n_rows, d))
    out = {}
    for dtype in (np.float64, np.float32):
        Y, yb = start.astype(dtype), np.zeros(n_rows, dtype)
        als_half_step(csr(indptr, c, v.astype(dtype)), X.astype(dtype), np.full(n_cols, 0.1, dtype),
                      RowProblem(coef, X.T @ X, fit_bias, 0.1, 0.05, True, 3), Y, yb)
        assert Y.dtype == dtype and yb.dtype == dtype
        out[dtype] = np.c_[Y, yb]
    np.testing.assert_allclose(out[np.float32], out[np.float64], rtol=1e-4, atol=1e-5)


def _course_setup(seed=6):
    rng = np.random.default_rng(seed)
    N, M, d = 7, 9, 3
    mask = rng.random((N, M)) < 0.4
    u, i = np.nonzero(mask)
    r = rng.integers(1, 6, len(u)).astype(np.float64)
    return rng.normal(0, .5, (N, d)), rng.normal(0, .5, (M, d)), u, i, r


def test_gravity_identity_against_dense():
    U, V, *_ = _course_setup()
    comm = serial()
    fast = np.sum(gram(np, U, comm) * gram(np, V, comm))
    assert fast == pytest.approx(np.sum((U @ V.T) ** 2), rel=1e-12)


def test_course_loss_gradient_matches_finite_differences_and_dense_loss():
    U, V, u, i, r = _course_setup()
    N, M = U.shape[0], V.shape[0]
    reg, grav, comm = 0.3, 0.7, serial()

    def dense():
        S = U @ V.T
        return (np.mean((S[u, i] - r) ** 2) + reg * ((U ** 2).sum() / N + (V ** 2).sum() / M)
                + grav * (S ** 2).sum() / (N * M))

    parts, dU, dV = loss_and_grad(np, U, V, u, i, r, len(r), reg, grav, comm)
    assert sum(parts.values()) == pytest.approx(dense(), rel=1e-12)
    np.testing.assert_allclose(dU, _fd_grad(dense, U), atol=1e-7)
    np.testing.assert_allclose(dV, _fd_grad(dense, V), atol=1e-7)
