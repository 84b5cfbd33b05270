"""Numba kernel of the top-k selection per row (ranking: recommend, evaluate --k).

``np.argpartition`` over a block of users x items scores costs about as much as scoring
the block (it moves every score, and its ``-scores`` input is one more block-sized
temporary); for k much smaller than the row, one pass per row that keeps the k best in a
sorted buffer touches each score once and inserts rarely.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True)
def top_k_rows(scores, k):
    """Column indices (int64, rows x k) of the ``k`` largest entries of each row of
    ``scores``, best first; of equal scores the lower column comes first (k <= columns)."""
    n, m = scores.shape
    out = np.empty((n, k), dtype=np.int64)
    for r in nb.prange(n):
        row = scores[r]
        best = np.empty(k, dtype=scores.dtype)   # best[0] >= best[1] >= ... (sorted buffer)
        idx = out[r]
        for c in range(m):   # the first k enter insertion-sorted (stable); later ones only if strictly better
            v = row[c]
            if c < k:
                p = c
            elif v > best[k - 1]:
                p = k - 1
            else:
                continue
            while p > 0 and best[p - 1] < v:
                best[p] = best[p - 1]
                idx[p] = idx[p - 1]
                p -= 1
            best[p] = v
            idx[p] = c
    return out
