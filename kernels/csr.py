"""The compressed-sparse-row type that crosses every kernel boundary.

Row ``r`` holds columns ``indices[indptr[r]:indptr[r + 1]]`` with values ``data[...]``
(``data`` is None for a pattern: transactions, tid-lists). A NamedTuple, so Numba
kernels take it as one argument and read its fields without a copy; only a parallel
loop (``prange``) cannot take it whole (its ``shape`` is a nested tuple): pass its arrays
into the loop as a flat tuple.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np


class Csr(NamedTuple):
    """Compressed sparse rows; ``shape`` is (rows, columns), columns -1 where unknown."""
    indptr: np.ndarray             # int64, rows + 1
    indices: np.ndarray            # int32 (or int64)
    data: Optional[np.ndarray]     # values per entry, or None for a 0/1 pattern
    shape: tuple

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) of row ``r``."""
        s, e = self.indptr[r], self.indptr[r + 1]
        return self.indices[s:e], self.data[s:e]


def csr(indptr, indices, data=None, n_cols: int = -1) -> Csr:
    """A :class:`Csr` from its arrays (``n_cols`` -1: not known or not needed)."""
    return Csr(indptr, indices, data, (len(indptr) - 1, int(n_cols)))
