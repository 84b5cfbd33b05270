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
    levels: int = 0            # longest itemset length searched completely (whole: found)
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


class MaskForm(NamedTuple):
    """How records take the mask layout (:func:`hpcrec.kernels.order.mask_layout`):
    ``bit``: each recoded item's bit (the lowest column the highest), ``columns``: each
    bit's column (over two words: of bit b of word w at 64 w + b); ``split``: top mask
    bits a bucket takes so that the rest and the count (``count_bits``) fit one int64
    (one word; two words take none: :func:`mask_form`)."""
    bit: np.ndarray
    columns: np.ndarray
    split: int
    count_bits: int

    @property
    def width(self) -> int:
        return len(self.bit)

    @property
    def words(self) -> int:
        """Mask words of a record: 63 items a word (``order.MASK_WORD``)."""
        return 1 if self.width <= 63 else 2


def mask_form(order: np.ndarray, most: int) -> MaskForm | None:
    """The mask layout for sets of the recoded items whose columns are ``order`` with
    counts up to ``most``, or None where the buckets would be too many
    (:data:`~hpcrec.kernels.order.SPLIT_MAX`) or the items more than 63 + 63 - the count's
    bits. Over 63 items the mask takes two words, the lowest 63 columns the first, highest
    first; the second word's rest holds the count, and ``split`` is what one-word keys
    would take (:func:`bucket_lengths`)."""
    from ..kernels.order import MASK_WORD, SPLIT_MAX
    order = np.asarray(order, np.int64)
    width, count_bits = len(order), int(most).bit_length()
    rank = np.empty(width, np.int64)
    rank[np.argsort(order)] = np.arange(width)
    split = max(0, width + count_bits - MASK_WORD)
    if MASK_WORD < width and width - MASK_WORD + count_bits <= MASK_WORD:
        bit = np.where(rank < MASK_WORD, MASK_WORD - 1 - rank, 64 + width - 1 - rank)
        columns = np.zeros(64 + width - MASK_WORD, np.int64)
        columns[bit] = order
        return MaskForm(bit, columns, split, count_bits)
    if not 0 < width <= MASK_WORD or split > SPLIT_MAX:
        return None
    return MaskForm(width - 1 - rank, np.sort(order)[::-1].copy(), split, count_bits)


def bucket_lengths(form: MaskForm, longest: int, n: int) -> int:
    """The lengths (rows of ``1 << form.split`` buckets) of the bucket table that sorts
    ``n`` records of the mask layout whose longest set has ``longest`` items as one-word
    keys, or 0 where two mask words are sorted as two-word keys instead: their table
    would exceed :data:`~hpcrec.kernels.order.TABLE_MAX` entries, or both 2^16 and the
    records' number. One word: a row for every length up to the width."""
    from ..kernels.order import TABLE_FREE, TABLE_MAX
    if form.words == 1:
        return form.width + 1
    size = (longest + 1) << form.split
    return longest + 1 if size <= min(TABLE_MAX, max(TABLE_FREE, n)) else 0


class Records(NamedTuple):
    """Itemsets as canonical records (:mod:`hpcrec.kernels.order`): ``rec`` (n, words + 1)
    int64, each row an itemset's key words (length, then items) and its count; their
    ``layout`` (bits, head, per, words); ``n_items``: the items of all itemsets; ``form``:
    where the records take the mask layout, its :class:`MaskForm`."""
    rec: np.ndarray
    layout: tuple
    n_items: int
    form: MaskForm | None = None

    @property
    def longest(self) -> int:
        """The most items of an itemset here (0 if none)."""
        if self.form is not None:
            from ..kernels import order
            return int(order.longest_mask(self.rec))
        bits, head = self.layout[:2]
        return int((self.rec[:, 0] >> (bits * head)).max(initial=0))


def without_ranges(recs: Records, ranges: list) -> Records:
    """``recs`` but the records in the row ranges ``[a, b)`` of ``ranges``."""
    if not ranges:
        return recs
    keep = np.ones(len(recs.rec), np.bool_)
    for a, b in ranges:
        keep[a:b] = False
    if recs.form is not None:   # the items are the mask's bits
        gone = np.ascontiguousarray(recs.rec[~keep, :-1])
        dropped = int(np.unpackbits(gone.view(np.uint8)).sum())
    else:                       # the length field above the head items
        bits, head = recs.layout[:2]
        dropped = int((recs.rec[~keep, 0] >> (bits * head)).sum())
    return recs._replace(rec=recs.rec[keep], n_items=recs.n_items - dropped)


class Keys(NamedTuple):
    """Records of the mask layout sorted as one-word keys in buckets of (length, top mask
    bits) (``start``: their bounds, :func:`hpcrec.kernels.order.mask_buckets`), or over two
    mask words, where such buckets would be too many, as rows of two-word keys in buckets
    by length (:func:`hpcrec.kernels.order.mask2_buckets`)."""
    keys: np.ndarray
    start: np.ndarray
    n_items: int
    form: MaskForm


def canonical(items: np.ndarray, lengths: np.ndarray, counts: np.ndarray, recode=None):
    """Itemsets in canonical order: items ascending within each itemset (after mapping them
    through ``recode``, if given), itemsets by (length, items). Returns (int32 items, ptr,
    counts). A caller that can drop its arrays before the result is written calls
    :func:`records` and :func:`sorted_records`, drops them, then :func:`decoded`."""
    return decoded(sorted_records(records(items, lengths, counts, recode)))


def records(items: np.ndarray, lengths: np.ndarray, counts: np.ndarray, recode=None,
            bound: int = 0, form: MaskForm | None = None) -> Records:
    """The itemsets (items back to back, as ``lengths`` says, mapped through ``recode`` if
    given) as :class:`Records` in their given order, one pass (``bound``: see
    :func:`hpcrec.kernels.order.layout`; ranks whose records are merged agree on it). With
    a ``form`` (items recoded: ``form`` replaces ``recode``) in the mask layout."""
    from ..kernels import order  # here: min_count needs no Numba
    lengths = np.asarray(lengths, dtype=np.int64)
    items = np.asarray(items)
    if form is not None:
        recode, lay = form.bit, order.mask_layout(form.width)
    else:
        recode = np.zeros(0, np.int64) if recode is None else np.asarray(recode, dtype=np.int64)
        bits = int(recode.max(initial=0) if len(recode) else items.max(initial=0)).bit_length() or 1
        lay = order.layout(bits, int(lengths.max(initial=0)), bound)
    rec = np.empty((len(lengths), lay[3] + 1), np.int64)   # key words, then the count
    order.build_records(items, lengths, np.asarray(counts, dtype=np.int64), recode, lay, rec)
    return Records(rec, lay, int(lengths.sum()), form)


def level_records(levels: list, counts: list, starts: list, recode,
                  form: MaskForm | None = None) -> Records:
    """This rank's share of apriori's levels (one array (n_k, k) of recoded items per
    length k; of level k the rows from ``starts[k]``, as many as its ``counts[k]``), as
    :class:`Records` (items mapped through ``recode``, or in the mask layout of ``form``),
    built level by level without joining the levels into one array. Their layout is that
    of the whole levels, which every rank holds, so every rank agrees on it."""
    from ..kernels import order
    if form is not None:
        recode, lay = form.bit, order.mask_layout(form.width)
    else:
        recode = np.asarray(recode, dtype=np.int64)
        longest = max((f.shape[1] for f in levels if len(f)), default=0)
        lay = order.layout(int(recode.max(initial=0)).bit_length() or 1, longest)
    rec = np.empty((sum(len(c) for c in counts), lay[3] + 1), np.int64)
    at = n_items = 0
    for f, c, a in zip(levels, counts, starts):
        if len(c):
            k, b = f.shape[1], a + len(c)
            order.build_records(np.ascontiguousarray(f[a:b]).reshape(-1),
                                np.full(b - a, k, np.int64), np.asarray(c, np.int64),
                                recode, lay, rec[at:at + b - a])
            at, n_items = at + b - a, n_items + k * (b - a)
    return Records(rec, lay, n_items, form)


def sorted_records(recs: Records, longest: int | None = None) -> Records | Keys:
    """The records in canonical order: scattered into buckets that fit in cache and each
    bucket sorted there (:func:`hpcrec.kernels.order.sort_records`), so no step reads the
    itemsets in a random order. ``recs.rec`` is the sort's scratch (its order is lost);
    allocates one more array of records. Records of the mask layout become sorted
    :class:`Keys` instead (one or two int64 each, :func:`bucket_lengths`; ``longest``:
    the most items of a set here, if known)."""
    from ..kernels import order
    form = recs.form
    if form is not None:
        if longest is None:   # one word: the table has a row for every length anyway
            longest = recs.longest if form.words == 2 else form.width
        lengths = bucket_lengths(form, longest, len(recs.rec))
        if not lengths:
            return two_word_keys(recs)
        keys, start = bucketed_keys(recs, lengths)
        sort_in_buckets(keys, start)
        return Keys(keys, start, recs.n_items, form)
    done = np.empty_like(recs.rec)
    order.sort_records(recs.rec, done, recs.layout[3])
    return recs._replace(rec=done)


def bucketed_keys(recs: Records, lengths: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys, bounds): the one-word keys of records of the mask layout, scattered into
    their buckets of (length below ``lengths``, top mask bits), each bucket unsorted
    (:func:`~hpcrec.kernels.order.mask_buckets`)."""
    from ..kernels import order
    form = recs.form
    keys = np.empty(len(recs.rec), np.int64)
    start = np.zeros((lengths << form.split) + 1, np.int64)
    order.mask_buckets(recs.rec, form.width, form.split, form.count_bits, start, keys)
    return keys, start


def two_word_keys(recs: Records) -> Keys:
    """Records of two mask words as sorted two-word keys in buckets by length."""
    from ..kernels import order
    keys = np.empty((len(recs.rec), 2), np.int64)
    start = order.mask2_buckets(recs.rec, recs.form.width, recs.form.count_bits, keys)
    done = np.empty_like(keys)
    for b in np.flatnonzero(np.diff(start)):
        order.sort_records(keys[start[b]:start[b + 1]], done[start[b]:start[b + 1]], 2)
    return Keys(done, start, recs.n_items, recs.form)


def sort_in_buckets(keys: np.ndarray, start: np.ndarray) -> None:
    """Each bucket of ``keys`` (bounds ``start``) sorted: small ones in compiled code, the
    others by NumPy's vectorized sort."""
    from ..kernels import order
    order.sort_buckets(keys, start, order.NUMBA_SORT)
    for b in np.flatnonzero(np.diff(start) >= order.NUMBA_SORT):
        keys[start[b]:start[b + 1]].sort()


def decoded(recs: Records | Keys):
    """(int32 items, ptr, counts) of sorted :class:`Records` or :class:`Keys`, in one
    sequential pass."""
    from ..kernels import order
    keyed = isinstance(recs, Keys)
    n = len(recs.keys if keyed else recs.rec)
    out_items = np.empty(recs.n_items, np.int32)
    out_ptr = np.empty(n + 1, np.int64)
    out_counts = np.empty(n, np.int64)
    if keyed and recs.keys.ndim == 2:
        order.decode_masks2(recs.keys, recs.form.width, recs.form.count_bits, recs.form.columns,
                            out_items, out_ptr, out_counts)
    elif keyed:
        form = recs.form
        order.decode_masks(recs.keys, recs.start, (form.width, form.split, form.count_bits,
                                                   form.words),
                           form.columns, out_items, out_ptr, out_counts)
    else:
        order.decode(recs.rec, recs.layout, out_items, out_ptr, out_counts)
    return out_items, out_ptr, out_counts
