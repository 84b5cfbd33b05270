"""The GPU k-NN similarity code (hpcrec.kernels.knn_cuda), run on NumPy/SciPy as CI has no GPU.

Against the CPU kernel: with integer ratings (many exact ties) cosine, MSD and Pearson
lists must be identical bit for bit, neighbor order included; pearson-baseline (float
residuals) equal to rounding. Then the model and the CLI on ``device="gpu"``.
"""
from functools import partial

import numpy as np
import pandas as pd
import pytest
from helpers import small_ratings

from hpcrec import kernels
from hpcrec.core import context
from hpcrec.core.comm import serial, world
from hpcrec.core.errors import DeviceError, InputError
from hpcrec.kernels import knn_cuda
from hpcrec.knn import ItemKNN, UserKNN
from hpcrec.knn import similarity as sims


def csr_pair(ratings: pd.DataFrame, user_based: bool):
    users = ratings.user.to_numpy() - 101
    items = ratings.item.to_numpy() - 1001
    vals = ratings.rating.to_numpy()
    xs, ys = (users, items) if user_based else (items, users)
    n_x, n_y = xs.max() + 1, ys.max() + 1
    return sims.from_coo(xs, ys, vals, n_x, n_y), sims.from_coo(ys, xs, vals, n_y, n_x)


def integer_ratings(seed, **kw):
    train, _ = small_ratings(seed, **kw)
    return train.assign(rating=np.round(train.rating))


@pytest.fixture
def numpy_gpu(monkeypatch):
    """The GPU k-NN kernel, registered for device 'gpu', computes with NumPy/SciPy."""
    monkeypatch.setitem(kernels.TABLE, ("knn", "gpu"), partial(knn_cuda.SimilarityRows, xp=np))


def both(x, y, measure, keep, min_support=1, shrinkage=100.0):
    args = (x, y, 0, x.n_rows, measure, min_support, shrinkage, keep)
    return sims.neighbor_rows(*args), sims.neighbor_rows(*args, device="gpu")


@pytest.mark.parametrize("measure", ["cosine", "msd", "pearson"])
@pytest.mark.parametrize("user_based", [False, True])
@pytest.mark.parametrize("keep,min_support", [(1000, 1), (5, 1), (8, 3)])
def test_integer_ratings_identical_to_cpu_kernel(numpy_gpu, measure, user_based, keep, min_support):
    x, y = csr_pair(integer_ratings(3), user_based)
    cpu, gpu = both(x, y, measure, keep, min_support)
    for a, b in zip(cpu, gpu):
        np.testing.assert_array_equal(a, b)
    sim = cpu[2]
    assert len(sim) > 0 and len(np.unique(sim)) < len(sim)  # ties were there to order


@pytest.mark.parametrize("user_based", [False, True])
@pytest.mark.parametrize("shrinkage", [100.0, 1.0, 0.0])  # 1: the CPU kernel once divided by 0
def test_pearson_baseline_residuals_equal_to_rounding(numpy_gpu, user_based, shrinkage):
    train, _ = small_ratings(4)
    residual = train.rating - train.rating.mean() + 0.01 * (train.user % 7)  # float, tie-free
    x, y = csr_pair(train.assign(rating=residual), user_based)
    cpu, gpu = both(x, y, "pearson-baseline", 10, shrinkage=shrinkage)
    np.testing.assert_array_equal(cpu[0], gpu[0])
    np.testing.assert_array_equal(cpu[1], gpu[1])
    np.testing.assert_allclose(cpu[2], gpu[2], rtol=1e-12, atol=1e-15)


def test_blocks_give_the_same_lists(numpy_gpu, monkeypatch):
    x, y = csr_pair(integer_ratings(5, n_users=50, n_items=40), False)
    whole = sims.neighbor_rows(x, y, 0, x.n_rows, "pearson", 1, 100.0, 7, device="gpu")
    monkeypatch.setattr(knn_cuda, "BLOCK_BYTES", 8 * knn_cuda._DENSE_PER_ENTRY * x.n_rows * 3)
    assert knn_cuda.SimilarityRows(x, y, 0, xp=np).block_rows(7) == 3
    blocked = sims.neighbor_rows(x, y, 0, x.n_rows, "pearson", 1, 100.0, 7, device="gpu")
    for a, b in zip(whole, blocked):
        np.testing.assert_array_equal(a, b)


@pytest.fixture
def fake_gpu(monkeypatch, numpy_gpu):
    """device='gpu' resolves to the GPU path, whose array module is NumPy."""
    monkeypatch.setattr(context, "resolve_device",
                        lambda device, comm=None: "cpu" if device == "cpu" else "gpu")


@pytest.mark.parametrize("cls,measure", [(ItemKNN, "pearson-baseline"), (UserKNN, "msd")])
def test_model_on_the_gpu_path_predicts_as_on_the_cpu(fake_gpu, cls, measure):
    train, test = small_ratings(6)
    kw = dict(similarity=measure, k=10, max_neighbors=20)
    cpu = cls(**kw).fit(train, serial())
    gpu = cls(device="gpu", **kw).fit(train, serial())
    assert gpu.params()["device"] == "gpu"
    np.testing.assert_array_equal(gpu.neighbors.indices, cpu.neighbors.indices)
    np.testing.assert_allclose(gpu.predict(test.user, test.item), cpu.predict(test.user, test.item),
                               rtol=1e-12)


@pytest.fixture
def no_gpu(monkeypatch):
    """This machine has no usable GPU, whatever it really has."""
    from hpcrec.core import device as backend
    monkeypatch.setattr(backend, "gpu_available", lambda: False)


def test_device_choices(no_gpu):
    with pytest.raises(InputError, match="unknown device 'tpu'"):
        ItemKNN(device="tpu")
    train, _ = small_ratings(7)
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        ItemKNN(device="gpu").fit(train, serial())


def test_cli_device_gpu_without_a_gpu_is_one_clear_line(no_gpu, cli_main, tmp_path):
    train, _ = small_ratings(7)
    data = tmp_path / "r.csv"
    train.to_csv(data, index=False)
    rc, out, err = cli_main("train", data, "--model", "item-knn", "--device", "gpu",
                            "--out", tmp_path / "m.h5")
    assert rc == 2 and "no CUDA GPU" in err and "Traceback" not in err
    assert not (tmp_path / "m.h5").exists()


@pytest.mark.mpi
def test_gpu_path_under_mpi_equals_serial(fake_gpu):
    train, test = small_ratings(8, n_users=70, n_items=50)
    kw = dict(similarity="pearson", k=6, max_neighbors=12, device="gpu")
    dist = ItemKNN(**kw).fit(train, world())
    ref = ItemKNN(**kw).fit(train, serial())
    for a, b in zip((dist.neighbors.indptr, dist.neighbors.indices, dist.neighbors.data),
                    (ref.neighbors.indptr, ref.neighbors.indices, ref.neighbors.data)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.gpu
@pytest.mark.parametrize("measure", ["pearson", "pearson-baseline"])
def test_real_gpu_equals_cpu_kernel(measure):
    from hpcrec.core.device import gpu_available
    if not gpu_available():
        pytest.skip("needs a CUDA GPU with CuPy")
    train, _ = small_ratings(9, n_users=300, n_items=200, density=0.1)
    ratings = integer_ratings(9, n_users=300, n_items=200, density=0.1) if measure == "pearson" else train
    x, y = csr_pair(ratings, False)
    args = (x, y, 0, x.n_rows, measure, 1, 100.0, 20)
    cpu, gpu = sims.neighbor_rows(*args), sims.neighbor_rows(*args, device="gpu")
    np.testing.assert_array_equal(cpu[0], gpu[0])
    np.testing.assert_array_equal(cpu[1], gpu[1])
    np.testing.assert_allclose(cpu[2], gpu[2], rtol=1e-12)


def test_cli_device_auto_without_a_gpu_warns_in_one_line(no_gpu, cli_main, tmp_path):
    from hpcrec.core import device as backend
    backend._warn_once.cache_clear()
    train, _ = small_ratings(7)
    data = tmp_path / "r.csv"
    train.to_csv(data, index=False)
    rc, out, err = cli_main("train", data, "--model", "item-knn", "--device", "auto",
                            "--out", tmp_path / "m.h5")
    assert rc == 0 and (tmp_path / "m.h5").exists()
    warning = [line for line in err.splitlines() if "no usable CUDA GPU" in line]
    assert warning == ["warning: no usable CUDA GPU (or CuPy missing): device 'auto' runs on the CPU"], err
    assert ".py:" not in err
