"""The mining result shared by every algorithm, and the support threshold they all apply.

:class:`Itemsets` holds frequent itemsets as flat column indices with exact integer counts,
in one canonical order (by length, then lexicographically by column index), so results
compare byte for byte across algorithms and rank counts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def min_count(min_support: float, n: int) -> int:
    """Smallest count c with ``c / n >= min_support`` in floating point, as mlxtend tests it.

    ``ceil(min_support * n)`` alone can be off by one when the product rounds across an
    integer; the two loops settle the boundary with the very division mlxtend uses.
    """
    c = max(1, math.ceil(min_support * n))
    while c > 1 and (c - 1) / n >= min_support:
        c -= 1
    while c / n < min_support:
        c += 1
    return c


@dataclass
class Itemsets:
    items: np.ndarray          # int32 column indices, ascending within each itemset
    ptr: np.ndarray            # int64 offsets, one more than itemsets
    counts: np.ndarray         # int64 number of transactions holding each itemset
    n_transactions: int
    labels: np.ndarray         # column labels (item names or ids)
    partial: bool = False      # stopped early: only the first `levels` lengths are complete
    levels: int = 0            # longest itemset length searched completely
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.ptr)

    @property
    def support(self) -> np.ndarray:
        """Support fractions computed as mlxtend does (count / n in float64)."""
        return self.counts / float(self.n_transactions) if self.n_transactions else \
            np.zeros(len(self.counts))

    def itemset(self, x: int) -> np.ndarray:
        return self.items[self.ptr[x]:self.ptr[x + 1]]


def canonical(items: np.ndarray, lengths: np.ndarray, counts: np.ndarray):
    """Sort items within each itemset and itemsets by (length, items); returns (items, ptr, counts)."""
    from ..kernels.support import sorted_rows_and_keys  # here: min_count needs no Numba
    lengths = np.asarray(lengths, dtype=np.int64)
    items = np.asarray(items, dtype=np.int32)
    counts = np.asarray(counts, dtype=np.int64)
    ptr = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=ptr[1:])
    out_items, out_counts, out_len = [], [], []
    bits = int(items.max(initial=0)).bit_length() or 1
    for k in np.unique(lengths):
        sel = np.flatnonzero(lengths == k)
        rows, keys = sorted_rows_and_keys(items, ptr[sel], int(k), bits)
        order = np.argsort(keys[0]) if len(keys) == 1 else np.lexsort(keys[::-1])
        out_items.append(rows[order].reshape(-1))
        out_counts.append(counts[sel][order])
        out_len.append(np.full(len(sel), k, np.int64))
    if not out_len:
        return np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int64)
    lengths = np.concatenate(out_len)
    ptr = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return np.concatenate(out_items).astype(np.int32), ptr, np.concatenate(out_counts)
