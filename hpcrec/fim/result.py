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


def canonical(items: np.ndarray, lengths: np.ndarray, counts: np.ndarray, recode=None):
    """Itemsets in canonical order: items ascending within each itemset (after mapping them
    through ``recode``, if given), itemsets by (length, items). Returns (int32 items, ptr,
    counts). A caller that can drop its arrays before the result is written calls
    :func:`sorted_records`, drops them, then :func:`decoded`."""
    return decoded(*sorted_records(items, lengths, counts, recode))


def sorted_records(items: np.ndarray, lengths: np.ndarray, counts: np.ndarray, recode=None):
    """The itemsets as records in canonical order: (records, layout, number of items).

    Compiled passes (:mod:`hpcrec.kernels.order`): one record per itemset (int64 key
    words holding its length and items, then its count), scattered into buckets that
    fit in cache and each bucket sorted there: no step reads the itemsets in a random
    order. Allocates two arrays of records (8 bytes a key word and a count), one freed
    on return."""
    from ..kernels import order  # here: min_count needs no Numba
    lengths = np.asarray(lengths, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    items = np.asarray(items)
    recode = np.zeros(0, np.int64) if recode is None else np.asarray(recode, dtype=np.int64)
    longest = int(lengths.max(initial=0))
    bits = int(recode.max(initial=0) if len(recode) else items.max(initial=0)).bit_length() or 1
    lay = order.layout(bits, longest)
    rec = np.empty((len(lengths), lay[3] + 1), np.int64)   # key words, then the count
    order.build_records(items, lengths, counts, recode, lay, rec)
    done = np.empty_like(rec)
    order.sort_records(rec, done, lay[3])
    return done, lay, int(lengths.sum())


def decoded(records: np.ndarray, layout, n_items: int):
    """(int32 items, ptr, counts) of :func:`sorted_records`' result, in one sequential pass."""
    from ..kernels import order
    n = len(records)
    out_items = np.empty(n_items, np.int32)
    out_ptr = np.empty(n + 1, np.int64)
    out_counts = np.empty(n, np.int64)
    order.decode(records, layout, out_items, out_ptr, out_counts)
    return out_items, out_ptr, out_counts
