"""Factorization models on a real GPU against the same models on the CPU (``-m gpu``).

Skipped without a CUDA GPU, CuPy and Numba-CUDA (with the simulator off): these are the
checks benchmarks/gpu_check.sh runs on a GPU machine. The SGD comparison needs
MovieLens 100K (the shared data folder, or ``HPCREC_DATA``).
"""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec.core.comm import serial, world
from hpcrec.core.device import gpu_available
from hpcrec.io import splits, synthetic
from hpcrec.mf import ALS, WALS, BiasedSGD, CourseGD

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module", autouse=True)
def real_gpu():
    from numba import config
    if config.ENABLE_CUDASIM or not gpu_available():
        pytest.skip("needs a CUDA GPU with CuPy and Numba-CUDA (NUMBA_ENABLE_CUDASIM unset)")


@pytest.fixture(scope="module")
def planted():
    r = synthetic.ratings(n_users=600, n_items=400, n_ratings=30_000, seed=5)
    return splits.random_split(r, 0.2, seed=2)


def assert_same_factors(gpu, cpu, rtol=1e-4):
    """Float32 factors after a few sweeps, compared norm-wise: the GPU sums in another order
    than the CPU kernels: on an H100, 6 of 19,200 entries of P differed by more than 1e-5 +
    1e-4 relative (at most 3.3e-5, entries near zero), all others agreed."""
    for name in ("P", "Q", "bu", "bi"):
        a, b = (np.asarray(getattr(m, name), dtype=np.float64) for m in (gpu, cpu))
        assert a.shape == b.shape, name
        scale = np.linalg.norm(b)
        err = np.linalg.norm(a - b) / scale if scale else np.linalg.norm(a)  # WALS: no biases
        assert err < rtol, f"{name}: relative difference {err:.2e}"


def test_sgd_same_test_rmse_on_ml100k(shared_data):
    base, test = (shared_data / "ml-100k" / f"u1.{part}" for part in ("base", "test"))
    if not base.exists():
        pytest.skip(f"{base} not found")
    kw = dict(factors=64, epochs=25, seed=0)
    cpu = BiasedSGD(device="cpu", **kw).fit(str(base), serial(), test=str(test))
    gpu = BiasedSGD(device="gpu", **kw).fit(str(base), serial(), test=str(test))
    assert abs(gpu.history[-1]["test_rmse"] - cpu.history[-1]["test_rmse"]) < 0.005, \
        (gpu.history[-1], cpu.history[-1])


def test_sgd_learns_on_planted_data(planted):
    train, test = planted
    cpu = BiasedSGD(factors=32, epochs=20, device="cpu").fit(train, serial(), test=test)
    gpu = BiasedSGD(factors=32, epochs=20, device="gpu").fit(train, serial(), test=test)
    assert abs(gpu.history[-1]["test_rmse"] - cpu.history[-1]["test_rmse"]) < 0.01


@pytest.mark.parametrize("model", [lambda d: ALS(factors=32, epochs=4, device=d),
                                   lambda d: ALS(factors=32, epochs=4, solver="cg", device=d),
                                   lambda d: WALS(factors=16, epochs=4, threshold=3, device=d)])
def test_alternating_models_same_factors(planted, model):
    train, _ = planted
    assert_same_factors(model("gpu").fit(train, serial()), model("cpu").fit(train, serial()))


def test_course_gd_same_loss_curve(planted):
    train, _ = planted
    kw = dict(factors=16, epochs=40, lr=5.0, reg=0.1, gravity=1.0, init_std=0.1)
    cpu = CourseGD(device="cpu", **kw).fit(train, serial())
    gpu = CourseGD(device="gpu", **kw).fit(train, serial())
    for key in ("train_mse", "loss_reg", "loss_gravity"):
        np.testing.assert_allclose([h[key] for h in gpu.history], [h[key] for h in cpu.history],
                                   rtol=1e-3, err_msg=key)


@pytest.mark.mpi
def test_als_one_gpu_per_rank_equals_serial_cpu(planted):
    """Under mpiexec (ranks share the node's GPUs round-robin): same factors as 1 CPU rank."""
    train, _ = planted
    gpu = ALS(factors=16, epochs=3, device="gpu").fit(train, world())
    cpu = ALS(factors=16, epochs=3, device="cpu").fit(train, serial())
    assert_same_factors(gpu, cpu)
