"""The top-k kernel against a sort: best first, ties by lower column, -inf entries (masked
seen items) last, k up to the row length."""
import numpy as np
import pytest

from hpcrec.kernels.topk import top_k_rows
from hpcrec.recommender import top_k


def reference(scores, k):
    """Stable sort of each row by descending score (ties: lower column first)."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("k", [1, 3, 10, 40])
def test_top_k_rows_equals_a_stable_sort(k):
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, (50, 40)).astype(np.float64)   # many ties
    scores[rng.random(scores.shape) < 0.2] = -np.inf            # masked entries
    scores[3] = -np.inf                                          # a row masked entirely
    np.testing.assert_array_equal(top_k_rows(scores, k), reference(scores, k))
    np.testing.assert_array_equal(top_k(scores, k), reference(scores, k))


def test_top_k_of_float32_and_noncontiguous_rows():
    rng = np.random.default_rng(1)
    scores = rng.normal(0, 1, (30, 200))
    view = scores[:, ::2]
    np.testing.assert_array_equal(top_k(view, 7), reference(view, 7))
    np.testing.assert_array_equal(top_k_rows(view.astype(np.float32), 7),
                                  reference(view.astype(np.float32), 7))
    assert top_k(scores, 0).shape == (30, 0) and top_k(scores, 500).shape == (30, 200)
