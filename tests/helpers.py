"""What several test modules share (not a test module): small data sets, the tiny model of
every registered recommender, and a simulated GPU.

Fixtures that wrap these for pytest (command runners, the shared data folder, ``device``)
are in conftest.py.
"""
import os
import socket
import stat

import numpy as np
import pandas as pd
import pytest


def small_ratings(seed: int = 0, n_users: int = 40, n_items: int = 30, density: float = 0.35):
    """(train, test) DataFrames of user, item, rating with continuous float32-exact ratings.

    Continuous ratings make similarity ties (where Surprise and hpcrec may order
    neighbors differently) vanishingly unlikely. The test set holds a few pairs with a
    user and an item unseen in training.
    """
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    u, i = np.nonzero(mask)
    user_bias, item_bias = rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_items)
    r = np.clip(3.2 + user_bias[u] + item_bias[i] + rng.normal(0, 0.8, len(u)), 1, 5)
    r = np.round(r, 2).astype(np.float32).astype(np.float64)
    df = pd.DataFrame({"user": u + 101, "item": i + 1001, "rating": r}).sample(frac=1, random_state=seed)
    test_mask = rng.random(len(df)) < 0.2
    train, test = df[~test_mask].reset_index(drop=True), df[test_mask].reset_index(drop=True)
    cold = pd.DataFrame({"user": [9999, 101, 9999], "item": [1001, 8888, 8888], "rating": [3.0, 3.0, 3.0]})
    return train, pd.concat([test, cold], ignore_index=True)


# -- recommenders ---------------------------------------------------------------------------
# The tiny configuration of every registered model the contract tests train. A model added
# to the registry without a row here fails tests/contract (see test_every_model_has_a_row).
TINY_MODELS = {
    "biased-sgd": dict(factors=4, epochs=3, blocks=2),
    "als": dict(factors=4, epochs=3),
    "wals": dict(factors=4, epochs=3, threshold=3.0),
    "course-gd": dict(factors=4, epochs=8, lr=5.0, init_std=0.1, dtype="float64"),
    "item-knn": dict(k=7, similarity="msd", prediction="means", damping=0.1),
    "user-knn": dict(k=7, similarity="pearson", max_neighbors=20),
}
# What each model promises across rank counts (docs/mf.md, docs/knn.md): the largest
# difference of predictions between p ranks and one, or None: the accuracy of one rank only
# (DSGD's update order depends on the ranks), deterministic for a fixed rank count on the CPU.
RANK_TOLERANCE = {"biased-sgd": None, "als": 1e-6, "wals": 1e-6, "course-gd": 1e-9,
                  "item-knn": 0.0, "user-knn": 0.0}


def tiny_model(name: str, device: str = "cpu", **kw):
    from hpcrec.recommender import models
    return models()[name](**{**TINY_MODELS[name], "device": device, **kw})


def tiny_ratings(seed: int = 0):
    """(train, test) Ratings: 40 users x 30 items, about 400 ratings in 1..5, and a test set."""
    from hpcrec.io import splits, synthetic
    return splits.random_split(synthetic.ratings(n_users=40, n_items=30, n_ratings=500, seed=seed),
                               0.2, seed=seed)


# -- devices --------------------------------------------------------------------------------

def simulate_gpu(monkeypatch) -> None:
    """Make device 'gpu' usable without one: NumPy stands in for CuPy (the array-module
    paths), Numba-CUDA kernels run on its simulator (NUMBA_ENABLE_CUDASIM=1, which
    scripts/test.sh sets). On a machine with a real GPU (simulator off) nothing is changed."""
    import numba

    from hpcrec.core import device as backend
    if not numba.config.ENABLE_CUDASIM:
        if backend.gpu_available():
            return
        pytest.skip("no GPU and NUMBA_ENABLE_CUDASIM unset: no simulated GPU")
    monkeypatch.setattr(backend, "_cupy", lambda: np)
    monkeypatch.setattr(backend, "select_gpu", lambda comm=None: 0)
    from hpcrec.kernels import arrays  # the CuPy kernels' array module: NumPy instead
    monkeypatch.setattr(arrays, "gpu_array_module", lambda: np)


# -- transactions ---------------------------------------------------------------------------

def tiny_baskets(seed: int = 0, rows: int = 61, items: int = 7):
    """Transactions as lists of item names over a few items with varied frequencies."""
    rng = np.random.default_rng(seed)
    X = rng.random((rows, items)) < rng.uniform(0.15, 0.75, size=items)
    names = np.array([f"i{j}" for j in range(items)], dtype=object)
    return [names[np.flatnonzero(r)].tolist() for r in X]


def brute_force_itemsets(rows, min_support: float, target: str = "frequent") -> dict:
    """{frozenset: support} of every frequent ('frequent'), maximal or closed itemset,
    by counting every subset of the items: the oracle of the miners' contract."""
    import itertools
    items = sorted({x for r in rows for x in r})
    sets = [set(r) for r in rows]
    counts = {}
    for size in range(1, len(items) + 1):
        for combo in itertools.combinations(items, size):
            c = sum(1 for s in sets if s.issuperset(combo))
            if c / len(rows) >= min_support:
                counts[frozenset(combo)] = c
    if target == "maximal":
        counts = {s: c for s, c in counts.items() if not any(s < t for t in counts)}
    elif target == "closed":
        counts = {s: c for s, c in counts.items()
                  if not any(s < t and counts[t] == c for t in counts)}
    return {s: c / len(rows) for s, c in counts.items()}


# -- ranks ----------------------------------------------------------------------------------
# Contract tests take ``comm`` from these: one rank in the serial run, and every rank of the
# job in scripts/test.sh's runs at 2 and 3 ranks (``-m mpi``).
COMMS = ["serial", pytest.param("world", marks=pytest.mark.mpi)]


def make_comm(name: str):
    from hpcrec.core.comm import serial, world
    return serial() if name == "serial" else world()


def needs_ranks(comm, n: int = 2) -> None:
    """Skip the calling test below ``n`` ranks: what it checks happens between ranks."""
    if comm.size < n:
        pytest.skip(f"needs {n} or more ranks")


def shared_tmp(comm, tmp_path):
    """A folder every rank of ``comm`` sees: rank 0's ``tmp_path``."""
    return type(tmp_path)(comm.bcast_obj(str(tmp_path)))


# -- special files ----------------------------------------------------------------------------

SPECIAL_KINDS = ("char_device", "fifo", "socket", "folder")


def special_file(kind: str, path):
    """Make a non-regular file at ``path`` (inside a test's temporary folder, never a system
    path): a private character device like /dev/null, a FIFO, a Unix socket or a folder."""
    if kind == "char_device":
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "folder":
        path.mkdir()
    else:
        raise ValueError(f"unknown special file kind {kind!r}")
    return path


def h5_contents(path) -> dict:
    """Every attribute, dataset value and dtype of an HDF5 file (flat), to compare two files
    that must hold the same data whatever their byte layout."""
    import h5py
    out = {}
    with h5py.File(path, "r") as fh:
        out.update({f"@{k}": str(v) for k, v in fh.attrs.items()})
        for name, ds in fh.items():
            out[name] = ds.asstr()[()].tolist() if h5py.check_string_dtype(ds.dtype) else ds[()].tolist()
            out.update({f"{name}@{k}": str(v) for k, v in ds.attrs.items()})
            out[f"{name}:dtype"] = str(ds.dtype)
    return out


def shuffled_itemsets(rng, n: int, items: int = 40):
    """n distinct itemsets over ``items`` items (lengths 1-9, shuffled) with counts."""
    sets = list({tuple(sorted(rng.choice(items, size=rng.integers(1, 10), replace=False).tolist()))
                 for _ in range(n)})
    rng.shuffle(sets)
    flat = np.array([i for s in sets for i in s], np.int64)
    lengths = np.array([len(s) for s in sets], np.int64)
    return flat, lengths, rng.integers(1, 1000, size=len(sets)).astype(np.int64)
