"""The lattice kernels against enumeration: counts of every subset of the first k items."""
from __future__ import annotations

import itertools

import numpy as np

from hpcrec.kernels import lattice as L


def test_subset_counts_are_the_enumerated_supports():
    rng = np.random.default_rng(4)
    X = rng.random((300, 9)) < 0.45
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    idx = np.nonzero(X)[1].astype(np.int32)
    k, minc = 6, 20
    hist = L.mask_histogram(ptr, idx, k)
    assert hist.sum() == 300
    for max_len in (0, 2):
        flat, lengths, counts = L.frequent_subsets(hist, k, minc, max_len)
        got = dict(zip(map(tuple, np.split(flat, np.cumsum(lengths)[:-1])), counts.tolist()))
        expected = {c: int(X[:, list(c)].all(1).sum())
                    for n in range(1, (max_len or k) + 1) for c in itertools.combinations(range(k), n)}
        assert got == {c: v for c, v in expected.items() if v >= minc}
