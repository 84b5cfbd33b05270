"""The mining result shared by every algorithm, and the support threshold they all apply.

:class:`Itemsets` holds frequent itemsets as flat column indices with exact integer counts,
in one canonical order (by length, then lexicographically by column index), so results
compare byte for byte across algorithms and rank counts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

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


class Records(NamedTuple):
    """Itemsets as canonical records (:mod:`hpcrec.kernels.order`): ``rec`` (n, words + 1)
    int64, each row an itemset's key words (length, then items) and its count; their
    ``layout`` (bits, head, per, words); ``n_items``: the items of all itemsets."""
    rec: np.ndarray
    layout: tuple
    n_items: int

    @property
    def longest(self) -> int:
        """The most items of an itemset here (0 if none)."""
        bits, head = self.layout[:2]
        return int((self.rec[:, 0] >> (bits * head)).max(initial=0))


def canonical(items: np.ndarray, lengths: np.ndarray, counts: np.ndarray, recode=None):
    """Itemsets in canonical order: items ascending within each itemset (after mapping them
    through ``recode``, if given), itemsets by (length, items). Returns (int32 items, ptr,
    counts). A caller that can drop its arrays before the result is written calls
    :func:`records` and :func:`sorted_records`, drops them, then :func:`decoded`."""
    return decoded(sorted_records(records(items, lengths, counts, recode)))


def records(items: np.ndarray, lengths: np.ndarray, counts: np.ndarray, recode=None,
            bound: int = 0) -> Records:
    """The itemsets (items back to back, as ``lengths`` says, mapped through ``recode`` if
    given) as :class:`Records` in their given order, one pass (``bound``: see
    :func:`hpcrec.kernels.order.layout`; ranks whose records are merged agree on it)."""
    from ..kernels import order  # here: min_count needs no Numba
    lengths = np.asarray(lengths, dtype=np.int64)
    items = np.asarray(items)
    recode = np.zeros(0, np.int64) if recode is None else np.asarray(recode, dtype=np.int64)
    bits = int(recode.max(initial=0) if len(recode) else items.max(initial=0)).bit_length() or 1
    lay = order.layout(bits, int(lengths.max(initial=0)), bound)
    rec = np.empty((len(lengths), lay[3] + 1), np.int64)   # key words, then the count
    order.build_records(items, lengths, np.asarray(counts, dtype=np.int64), recode, lay, rec)
    return Records(rec, lay, int(lengths.sum()))


def sorted_records(recs: Records) -> Records:
    """The records in canonical order: scattered into buckets that fit in cache and each
    bucket sorted there (:func:`hpcrec.kernels.order.sort_records`), so no step reads the
    itemsets in a random order. ``recs.rec`` is the sort's scratch (its order is lost);
    allocates one more array of records."""
    from ..kernels import order
    done = np.empty_like(recs.rec)
    order.sort_records(recs.rec, done, recs.layout[3])
    return recs._replace(rec=done)


def mask_form(universe: np.ndarray, most: int):
    """The one-word keys of itemsets of the column indices ``universe`` with counts up to
    ``most`` (:func:`hpcrec.kernels.order.mask_keys`: the length, the items as a bit mask
    over ``universe``, the count): (bit_of, item_at, width, count_bits), or None where they
    do not fit 63 bits (more than 57 items less the count's bits: the dense data sets fit)."""
    universe = np.unique(universe)
    width, count_bits = len(universe), int(most).bit_length()
    if not width or width.bit_length() + width + count_bits > 63:
        return None
    bit_of = np.zeros(int(universe[-1]) + 1, np.int64)
    bit_of[universe] = np.int64(1) << np.arange(width - 1, -1, -1, dtype=np.int64)
    return bit_of, universe[::-1].astype(np.int64), width, count_bits


def keyed_decoded(recs: Records, form):
    """``decoded(sorted_records(recs))`` by one-word keys (``form``: :func:`mask_form` of
    the itemsets' items and counts): the keys are written over the front of ``recs.rec``
    (its records are lost), sorted in place and the itemsets read back from them. No
    records moved, no second key word, no array added (chess 0.6 FP-Growth: sort and
    decode about 9 ms instead of 13)."""
    from ..kernels import order
    bit_of, item_at, width, count_bits = form
    keys = np.ravel(recs.rec)[:len(recs.rec)]
    order.mask_keys(recs.rec, recs.layout, bit_of, width, count_bits, keys)
    keys.sort()   # distinct keys: any sort gives the one order
    out_items = np.empty(recs.n_items, np.int32)
    out_ptr = np.empty(len(keys) + 1, np.int64)
    out_counts = np.empty(len(keys), np.int64)
    order.decode_keys(keys, width, count_bits, item_at, out_items, out_ptr, out_counts)
    return out_items, out_ptr, out_counts


def decoded(recs: Records):
    """(int32 items, ptr, counts) of sorted :class:`Records`, in one sequential pass."""
    from ..kernels import order
    n = len(recs.rec)
    out_items = np.empty(recs.n_items, np.int32)
    out_ptr = np.empty(n + 1, np.int64)
    out_counts = np.empty(n, np.int64)
    order.decode(recs.rec, recs.layout, out_items, out_ptr, out_counts)
    return out_items, out_ptr, out_counts
