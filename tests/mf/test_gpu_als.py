"""The GPU ALS half-step (array-module code), run with NumPy standing in for CuPy.

Oracles: the CPU Numba kernel (same arguments), and a dense per-row reference that sums
the unobserved entries explicitly instead of using the Gram-matrix trick.
"""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec.kernels import mf_als
from hpcrec.kernels import mf_als_cuda as G
from hpcrec.kernels.csr import csr
from hpcrec.kernels.protocols import RowProblem

EXPLICIT, IMPLICIT = np.array([0.0, 1.0, 0.0, -3.5, 1.0]), np.array([1.0, 0.0, 2.0, 1.0, 2.0])
CASES = [  # fit_bias, weighted, coef
    (True, True, EXPLICIT), (True, False, EXPLICIT), (False, False, IMPLICIT), (False, True, IMPLICIT)]


def problem(n_rows=30, n_cols=20, d=5, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    observed = rng.random((n_rows, n_cols)) < density
    observed[3] = False                      # a row without ratings
    observed[7] = True                       # a row rating every column
    rows, cols = np.nonzero(observed)
    vals = rng.integers(1, 6, len(rows)).astype(np.float64)
    indptr = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
    X = rng.standard_normal((n_cols, d))
    x_bias = rng.standard_normal(n_cols)
    return observed, indptr, cols.astype(np.int32), vals, X, x_bias


def dense_reference(observed, vals, X, x_bias, coef, fit_bias, reg, reg_bias, weighted):
    """Row by row, the weighted least-squares problem written out over all columns."""
    g, a0, a1, b0, b1 = coef
    n_rows, n_cols = observed.shape
    d = X.shape[1]
    Xa = np.hstack((X, np.ones((n_cols, 1)))) if fit_bias else X
    R = np.zeros(observed.shape)
    R[observed] = vals
    out = []
    for row in range(n_rows):
        obs = observed[row]
        w = a0 + a1 * R[row, obs]
        A = (Xa[obs] * w[:, None]).T @ Xa[obs]
        A[:d, :d] += g * sum(np.outer(x, x) for x in X)           # every column, one by one
        count = max(obs.sum(), 1) if weighted else 1
        A += count * np.diag([reg] * d + [reg_bias] * (Xa.shape[1] - d))
        b = Xa[obs].T @ (b0 + b1 * R[row, obs] - x_bias[obs])
        out.append(np.linalg.solve(A, b))
    return np.array(out)


def run(kernel, data, fit_bias, weighted, coef, cg_steps=0, dtype=np.float64, **kw):
    observed, indptr, cols, vals, X, x_bias = data
    rng = np.random.default_rng(9)
    Y = rng.standard_normal((observed.shape[0], X.shape[1])).astype(dtype)  # the CG start
    yb = rng.standard_normal(observed.shape[0]).astype(dtype) if fit_bias else np.zeros(observed.shape[0], dtype)
    kernel(csr(indptr, cols, vals), X.astype(dtype), x_bias if fit_bias else 0 * x_bias,
           RowProblem(coef, X.T @ X, fit_bias, 0.1, 0.05, weighted, cg_steps), Y, yb, **kw)
    return np.hstack((Y, yb[:, None])) if fit_bias else Y


@pytest.mark.parametrize("fit_bias, weighted, coef", CASES)
def test_equals_cpu_kernel_and_dense_reference(fit_bias, weighted, coef):
    data = problem()
    observed, _, _, vals, X, x_bias = data
    ref = dense_reference(observed, vals, X, x_bias if fit_bias else 0 * x_bias, coef, fit_bias,
                          0.1, 0.05, weighted)
    cpu = run(mf_als.als_half_step, data, fit_bias, weighted, coef)
    np.testing.assert_allclose(cpu, ref, rtol=1e-9, atol=1e-11)
    for block in (None, 2):
        gpu = run(G.als_half_step, data, fit_bias, weighted, coef,
                  options=G.GpuSolve(np, batch_bytes=2000, cholesky_block=block))
        np.testing.assert_allclose(gpu, cpu, rtol=1e-10, atol=1e-12)
    # conjugate gradients: a few steps equal the CPU kernel's; D steps reach the solution
    for steps in (2, X.shape[1] + fit_bias):
        cg_cpu = run(mf_als.als_half_step, data, fit_bias, weighted, coef, steps)
        cg_gpu = run(G.als_half_step, data, fit_bias, weighted, coef, steps,
                     options=G.GpuSolve(np, batch_bytes=2000))
        np.testing.assert_allclose(cg_gpu, cg_cpu, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(cg_gpu, ref, rtol=1e-6, atol=1e-7)


def test_float32_factors_within_float32_tolerance():
    data = problem(d=8)
    f64 = run(G.als_half_step, data, True, True, EXPLICIT, options=G.GpuSolve(np))
    data32 = (*data[:4], data[4].astype(np.float32), data[5])
    f32 = run(G.als_half_step, data32, True, True, EXPLICIT, dtype=np.float32, options=G.GpuSolve(np))
    np.testing.assert_allclose(f32, f64, rtol=1e-4, atol=1e-5)


def test_row_batches_cover_rows_once_within_budget():
    counts = np.array([0, 5, 1, 40, 3, 3, 0, 17])
    width, itemsize, budget = 4, 8, 2000
    seen, prev_longest = [], np.inf
    for rows, longest in G.row_batches(counts, width, itemsize, budget):
        assert longest == counts[rows].max() <= prev_longest
        assert len(rows) == 1 or len(rows) * max(longest, width) * width * itemsize <= budget
        prev_longest = longest
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(len(counts)))


@pytest.mark.parametrize("block", [None, 1, 3, 4, 16])
def test_spd_solve_stacked(block):
    rng = np.random.default_rng(2)
    M = rng.standard_normal((6, 10, 10))
    A = M @ M.transpose(0, 2, 1) + 0.5 * np.eye(10)
    b = rng.standard_normal((6, 10))
    np.testing.assert_allclose(G.spd_solve(np, A, b, block),
                               np.linalg.solve(A, b[..., None])[..., 0], rtol=1e-9)
    if block is not None:
        L = np.tril(G.blocked_cholesky(np, A, block))
        np.testing.assert_allclose(L, np.linalg.cholesky(A), rtol=1e-10, atol=1e-12)


@pytest.mark.gpu
def test_cupy_matches_cpu_kernel():
    from hpcrec.core.device import gpu_available
    if not gpu_available():
        pytest.skip("needs a CUDA GPU with CuPy")
    data = problem(n_rows=300, n_cols=200, d=16, density=0.1)
    for fit_bias, weighted, coef in CASES:
        for steps in (0, 3):
            cpu = run(mf_als.als_half_step, data, fit_bias, weighted, coef, steps)
            gpu = run(G.als_half_step, data, fit_bias, weighted, coef, steps,
                      options=G.GpuSolve(batch_bytes=1 << 16))
            np.testing.assert_allclose(gpu, cpu, rtol=1e-9, atol=1e-11)


# -- as the models' kernel ---------------------------------------------------------------------

def use_gpu_kernel(monkeypatch):
    """Make hpcrec.mf's ALS models dispatch to the GPU half-step, run with NumPy."""
    from functools import partial

    from hpcrec import kernels
    monkeypatch.setitem(kernels.TABLE, ("als", "cpu"),
                        partial(G.als_half_step, options=G.GpuSolve(np, batch_bytes=1 << 16)))


@pytest.fixture(scope="module")
def planted():
    from hpcrec.io import synthetic
    return synthetic.ratings(n_users=120, n_items=80, n_ratings=2_000, seed=4)


def assert_same_model(a, b):
    """The models keep float32 factors: equal to float32 rounding (sums in another order)."""
    for name in ("P", "Q", "bu", "bi"):
        assert getattr(a, name).dtype == getattr(b, name).dtype == np.float32
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("model", ["als", "wals"])
def test_models_on_the_gpu_kernel_equal_cpu(planted, model, monkeypatch):
    from hpcrec.core.comm import serial
    from hpcrec.mf import ALS, WALS
    make = {"als": lambda: ALS(factors=6, epochs=3, solver="cg"),
            "wals": lambda: WALS(factors=6, epochs=3, threshold=3)}[model]
    cpu = make().fit(planted, serial())
    use_gpu_kernel(monkeypatch)
    assert_same_model(make().fit(planted, serial()), cpu)


@pytest.mark.mpi
def test_als_on_the_gpu_kernel_under_mpi_equals_serial_cpu(planted, monkeypatch):
    from hpcrec.core.comm import serial, world
    from hpcrec.mf import ALS
    cpu = ALS(factors=6, epochs=3).fit(planted, serial())
    use_gpu_kernel(monkeypatch)
    assert_same_model(ALS(factors=6, epochs=3).fit(planted, world()), cpu)
