"""The canonical order of a mining result (by length, then items ascending), in compiled passes.

Each itemset becomes one record of int64 words followed by its count: word 0 holds its
length above its first ``head`` items (recoded and sorted, ``bits`` bits an item,
left-aligned), every further word ``per`` items, so records compare word by word as
(length, items) (:func:`build_records`). :func:`sort_records` scatters the records by
the highest differing bits of word 0 (2^RADIX buckets; a bucket still large is scattered
again by its next bits) until each bucket fits in cache; then each bucket is sorted by
word 0 (radix passes over its differing bits only) and its runs of equal word 0, which
only itemsets longer than ``head`` items form, by their further words. :func:`decode` then writes the items,
offsets and counts in one sequential pass. So no step reads the itemsets in a random
order (on millions of itemsets a random gather costs a cache and TLB miss each).

Layout ``(bits, head, per, words)``: see :func:`layout`.

Where the frequent items are at most 63 (the dense data sets), a record is shorter: the
items' bit mask in one word, then the count (the mask layout ``(0, width, 0, 1)``,
:func:`mask_layout`; the search writes it from the bit mask it keeps anyway,
:func:`pack_mask`). Such records are sorted as one-word keys: :func:`mask_buckets`
scatters them by length and the top ``split`` bits of the complemented mask, so that the
rest of the mask and the count fit one int64, each bucket is sorted as plain integers
(NumPy's vectorized sort) and :func:`decode_masks` writes the itemsets out. Over 64 to 126
items the mask takes two words, 63 items each (``(0, width, 0, 2)``). Where the buckets
of (length, top bits) that leave one-word keys are few enough (:data:`TABLE_MAX`: a
little over 63 items, e.g. 64 items with 17 count bits take 18 top bits),
:func:`mask_buckets` makes one-word keys of them too; otherwise :func:`mask2_buckets`
turns the records into two-word keys in buckets by length, each bucket is sorted as
records of two key words (:func:`sort_records`; 16 bytes a set, the record layout's 32)
and :func:`decode_masks2` writes them out.
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

from .support import popcount

RADIX = 11      # bits a radix pass sorts (2048 buckets: the histograms stay in L2) ...
RADIX_SMALL = 8  # ... or, under 2^16 keys, 256 buckets (less to clear per bucket)
SMALL = 32      # ranges up to this size are sorted by insertion
MASK_BITS = 8   # items of up to this many bits are sorted through a bit mask of 4 words
LEAF = 32768    # buckets up to this many records (1 MB of 4-word records: a core's L2) sorted in cache
SPLIT_MAX = 14  # mask layout: at most 2^14 buckets of each length (histograms of 8 MB at most)
TABLE_MAX = 1 << 23  # two mask words: buckets of (length, top bits) up to 2^23 (a 64 MB table) ...
TABLE_FREE = 1 << 16  # ... and to the records' number, which such a table costs at most (or 2^16)
NUMBA_SORT = 1024  # mask layout: buckets below this many keys sorted in compiled code, larger by NumPy


def layout(bits: int, longest: int, bound: int = 0) -> tuple[int, int, int, int]:
    """(bits, head, per, words) of the keys of itemsets of at most ``longest`` items of
    ``bits`` bits: word 0 holds the length above ``head`` items, every further word
    ``per`` items; ``words`` words in all. Every word is non-negative. ``bound`` (if
    larger than ``longest``): the length field holds lengths up to it, so records of
    itemsets up to ``bound`` items differ from these in their number of words only
    (:func:`widened`)."""
    per = max(1, 63 // bits)
    head = max(1, (63 - max(longest, bound).bit_length()) // bits)
    return bits, head, per, key_words(head, per, longest)


MASK_WORD = 63   # items a word of the mask layout holds (its words stay non-negative)


def mask_layout(width: int) -> tuple[int, int, int, int]:
    """The layout of records that are a bit mask over ``width`` (at most 126) items, then
    the count; item v is bit v of the search's 4-word mask (so a caller maps the lowest
    item to the highest bit); over 63 items two words, bits 0..62 and 64..126."""
    return 0, width, 0, 1 if width <= MASK_WORD else 2


def key_words(head: int, per: int, longest: int) -> int:
    """Key words of a record of ``longest`` items (:func:`layout`)."""
    return 1 + -(-max(0, longest - head) // per)


def widened(rec: np.ndarray, words: int, used: int | None = None,
            rows: int | None = None) -> np.ndarray:
    """Records ``rec`` (key words, then the count) with ``words`` key words, in an array of
    ``rows`` rows (default: ``rec``'s): the first ``used`` (default all) copied, the words
    added zero, as :func:`pack` leaves those past an itemset's items; rows past ``used``
    are left unwritten (``np.empty``: room whose pages cost memory only when written)."""
    used = len(rec) if used is None else used
    rows = len(rec) if rows is None else rows
    if rec.shape == (rows, words + 1):
        return rec
    old = rec.shape[1] - 1
    out = np.empty((rows, words + 1), np.int64)
    out[:used, :old] = rec[:used, :old]
    out[:used, old:words] = 0
    out[:used, words] = rec[:used, old]
    return out


@njit(cache=True)
def _sorted_itemset(items, start, k, recode, out):
    """``items[start:start + k]``, mapped through ``recode`` unless it is empty, into
    ``out[:k]`` in ascending order (insertion sort: itemsets are short)."""
    for t in range(k):
        v = np.int64(items[start + t])
        if len(recode):
            v = recode[v]
        u = t
        while u > 0 and out[u - 1] > v:
            out[u] = out[u - 1]
            u -= 1
        out[u] = v


@njit(cache=True, inline="always")
def with_bit(q, v):
    """The 4-word bit mask q with item v (below 2^MASK_BITS) added (also the search's,
    :mod:`.projected`)."""
    b = np.int64(1) << (v & 63)
    w = v >> 6
    return (q[0] | b if w == 0 else q[0], q[1] | b if w == 1 else q[1],
            q[2] | b if w == 2 else q[2], q[3] | b if w == 3 else q[3])


@njit(cache=True, inline="always")
def pack_mask(q, k, form, rec, x):
    """The key words of the itemset of k items whose bits are set in the 4-word mask q
    into rec[x, :-1], as :func:`pack` packs them (read lowest bit first: ascending; also
    the search's, :mod:`.projected`); in the mask layout (bits 0) q's first word."""
    bits, head, per = form
    if bits == 0:
        rec[x, 0] = q[0]
        if rec.shape[1] > 2:   # two mask words
            rec[x, 1] = q[1]
        return
    m0, m1, m2, m3 = q
    s = 0
    word = np.int64(k) << (head * bits)
    shift = (head - 1) * bits
    w = 0
    for _ in range(k):
        while m0 == 0 and s < 3:
            m0, m1, m2, m3 = m1, m2, m3, np.int64(0)
            s += 1
        word |= np.int64((s << 6) + trailing_zeros(m0)) << shift
        m0 &= m0 - 1
        shift -= bits
        if shift < 0:   # a word full: the head's after ``head`` items
            rec[x, w] = word
            w, word, shift = w + 1, np.int64(0), (per - 1) * bits
    for u in range(w, rec.shape[1] - 1):
        rec[x, u] = word
        word = 0


@njit(cache=True)
def pack(row, k, form, rec, x):
    """The key words of the itemset row[:k] (recoded, ascending) into rec[x, :-1]
    (``form = (bits, head, per)``; words past its items zero)."""
    bits, head, per = form
    word = np.int64(k) << (head * bits)
    shift = (head - 1) * bits
    for t in range(min(k, head)):
        word |= np.int64(row[t]) << shift
        shift -= bits
    rec[x, 0] = word
    w, word, shift = 1, np.int64(0), (per - 1) * bits
    for t in range(head, k):
        word |= np.int64(row[t]) << shift
        shift -= bits
        if shift < 0:
            rec[x, w] = word
            w, word, shift = w + 1, np.int64(0), (per - 1) * bits
    for v in range(w, rec.shape[1] - 1):
        rec[x, v] = word
        word = 0


@njit(cache=True)
def build_records(items, lengths, counts, recode, layout, rec):
    """Row x of ``rec`` (shape (n, words + 1)): the key words of itemset x, whose items
    follow one another in ``items`` as ``lengths`` says, then its count. Items of up to
    MASK_BITS bits (the dense data sets) are packed from a 4-word bit mask kept in
    registers (no buffer, no sort)."""
    bits, head, per, n_words = layout
    row = np.empty(max(1, head + per * (n_words - 1)), np.int64)
    mapped = len(recode) > 0
    at = 0
    for x in range(len(lengths)):
        k = lengths[x]
        if bits <= MASK_BITS:   # the items' bits, read back in ascending order: no sort
            q = (np.int64(0), np.int64(0), np.int64(0), np.int64(0))
            for t in range(at, at + k):
                q = with_bit(q, recode[items[t]] if mapped else np.int64(items[t]))
            pack_mask(q, k, (bits, head, per), rec, x)
        else:
            _sorted_itemset(items, at, k, recode, row)
            pack(row, k, (bits, head, per), rec, x)
        at += k
        rec[x, n_words] = counts[x]


@njit(cache=True)
def _insertion(keys, vals, lo, hi):
    for i in range(lo + 1, hi):
        k, v = keys[i], vals[i]
        j = i
        while j > lo and keys[j - 1] > k:
            keys[j] = keys[j - 1]
            vals[j] = vals[j - 1]
            j -= 1
        keys[j] = k
        vals[j] = v


@njit(cache=True)
def sort_pairs(keys, vals, lo, hi):
    """Stable sort of the non-negative ``keys[lo:hi]``, ``vals[lo:hi]`` moved alike: LSD
    radix passes of RADIX (small ranges: RADIX_SMALL) bits over the bits that differ between the keys only (a pass
    whose digit is the same in every key is skipped); small ranges by insertion."""
    n = hi - lo
    if n <= SMALL:
        _insertion(keys, vals, lo, hi)
        return
    low, top = _varying(keys, lo, hi)
    if top == 0:
        return
    radix = RADIX if n >= 1 << 16 else RADIX_SMALL
    n_digits = (top - low + radix - 1) // radix
    size = 1 << radix
    mask = size - 1
    hist = np.zeros((n_digits, size), np.int64)
    for i in range(lo, hi):
        k = keys[i] >> low
        for d in range(n_digits):
            hist[d, (k >> (d * radix)) & mask] += 1
    src_k, src_v = keys[lo:hi], vals[lo:hi]
    dst_k, dst_v = np.empty(n, keys.dtype), np.empty(n, vals.dtype)
    moved = False
    for d in range(n_digits):
        shift = low + d * radix
        if hist[d, (src_k[0] >> shift) & mask] == n:
            continue    # one bucket: this digit is the same in every key
        total = 0
        for b in range(size):
            c = hist[d, b]
            hist[d, b] = total
            total += c
        for i in range(n):
            b = (src_k[i] >> shift) & mask
            p = hist[d, b]
            hist[d, b] = p + 1
            dst_k[p] = src_k[i]
            dst_v[p] = src_v[i]
        src_k, dst_k = dst_k, src_k
        src_v, dst_v = dst_v, src_v
        moved = not moved
    if moved:   # the sorted pairs lie in the scratch arrays
        keys[lo:hi] = src_k
        vals[lo:hi] = src_v


@njit(cache=True)
def _varying(keys, lo, hi):
    """(lowest, one past the highest) bit in which keys[lo:hi] differ; (0, 0) if none."""
    any_bit, all_bits = np.int64(0), np.int64(-1)
    for i in range(lo, hi):
        any_bit |= keys[i]
        all_bits &= keys[i]
    return _span(any_bit ^ all_bits)


@njit(cache=True, inline="always")
def _span(vary):
    """(lowest, one past the highest) bit set in ``vary`` (non-negative); (0, 0) if none."""
    if vary == 0:
        return 0, 0
    return trailing_zeros(vary), 64 - leading_zeros(vary)


@njit(cache=True)
def row_less(rec, a, b, n_words):
    """Whether record a's words come before record b's (also the merge's test,
    :mod:`.merge`)."""
    for w in range(n_words):
        if rec[a, w] != rec[b, w]:
            return rec[a, w] < rec[b, w]
    return False


@njit(cache=True)
def _sort_bucket(rec, dst, in_place, lo, hi, n_words, scratch):
    """The records rec[lo:hi] sorted into dst[lo:hi] (``in_place``: ``dst`` is ``rec``;
    ``scratch`` = (key, idx, tmp), each of at least hi - lo entries): by word 0, then each
    run of equal word 0 by the further words."""
    key, idx, tmp = scratch
    n = hi - lo
    for i in range(n):
        key[i] = rec[lo + i, 0]
        idx[i] = lo + i
    sort_pairs(key, idx, 0, n)
    a = 0
    while a < n:   # runs of equal word 0: itemsets longer than ``head`` items only
        b = a + 1
        while b < n and key[b] == key[a]:
            b += 1
        if b - a > 1:
            if b - a <= SMALL:
                for i in range(a + 1, b):
                    v = idx[i]
                    j = i
                    while j > a and row_less(rec, v, idx[j - 1], n_words):
                        idx[j] = idx[j - 1]
                        j -= 1
                    idx[j] = v
            else:   # LSD over the further words, last first: stable sorts of the run
                for w in range(n_words - 1, 0, -1):
                    for i in range(a, b):
                        key[i] = rec[idx[i], w]
                    sort_pairs(key, idx, a, b)
        a = b
    if in_place:   # through the scratch rows
        for i in range(n):
            for w in range(rec.shape[1]):
                tmp[i, w] = rec[idx[i], w]
        src = tmp
        for i in range(n):
            idx[i] = i
    else:
        src = rec
    for i in range(n):
        for w in range(rec.shape[1]):
            dst[lo + i, w] = src[idx[i], w]


@njit(cache=True)
def _scatter(src, dst, lo, hi, shift, size):
    """Records src[lo:hi] into dst[lo:hi], bucketed (stably) by bits shift.. of word 0
    (``size`` buckets); returns the buckets' bounds (size + 1) and, per bucket, the bits
    in which its words 0 differ (gathered while moving them: no pass to find them)."""
    mask = size - 1
    start = np.zeros(size + 1, np.int64)
    for i in range(lo, hi):
        start[((src[i, 0] >> shift) & mask) + 1] += 1
    start[0] = lo
    for b in range(size):
        start[b + 1] += start[b]
    fill = start[:size].copy()
    any_bit = np.zeros(size, np.int64)
    all_bits = np.full(size, -1, np.int64)
    for i in range(lo, hi):
        word = src[i, 0]
        b = (word >> shift) & mask
        p = fill[b]
        fill[b] = p + 1
        any_bit[b] |= word
        all_bits[b] &= word
        for w in range(src.shape[1]):
            dst[p, w] = src[i, w]
    return start, any_bit ^ all_bits


@njit(cache=True)
def sort_records(rec, out, n_words):
    """The records ``rec`` (n, words + 1) in order of their words, into ``out`` (same
    shape; ``rec`` is scratch): MSD radix scatters by the highest RADIX differing bits of
    word 0, back and forth between the two arrays, until a bucket holds at most LEAF
    records (or one word 0); each of those is sorted in cache (:func:`_sort_bucket`).
    A bucket's differing bits come from the scatter that made it."""
    low, top = _varying(rec[:, 0], 0, rec.shape[0])
    stack = [(0, rec.shape[0], 0, low, top)]   # (lo, hi, 0: in rec / 1: in out, bits)
    key = np.empty(LEAF, np.int64)
    idx = np.empty(LEAF, np.int64)
    tmp = np.empty((LEAF, rec.shape[1]), np.int64)
    while len(stack):
        lo, hi, where, low, top = stack.pop()
        src, dst = (out, rec) if where else (rec, out)
        if hi - lo <= LEAF or top == 0:
            if hi - lo > len(key):   # one long run of equal word 0
                key, idx = np.empty(hi - lo, np.int64), np.empty(hi - lo, np.int64)
                tmp = np.empty((hi - lo, rec.shape[1]), np.int64)
            _sort_bucket(src, out, where == 1, lo, hi, n_words, (key, idx, tmp))
            continue
        shift = max(low, top - RADIX)
        bounds, vary = _scatter(src, dst, lo, hi, shift, np.int64(1) << (top - shift))
        for b in range(len(bounds) - 1):
            if bounds[b + 1] > bounds[b]:
                low, top = _span(vary[b])
                stack.append((bounds[b], bounds[b + 1], 1 - where, low, top))


@njit(cache=True)
def mask_buckets(rec, width, split, count_bits, start, keys):
    """Records of the mask layout (over ``width`` items, one or two mask words) as
    one-word keys into ``keys``, scattered (stably) into buckets by length, then by the
    top ``split`` bits of the complemented mask (the lowest item is the highest bit, so a
    set with the lower first differing item has the smaller complement); a key holds the
    rest of the complemented mask (over two words: the rest of the first word's, then the
    second word's) above the count (``count_bits`` bits). ``start`` (zeros, one more than
    the buckets: a row of ``1 << split`` per length) gets the buckets' bounds."""
    two = rec.shape[1] > 2
    head = MASK_WORD if two else width   # the mask bits of word 0
    tail = width - head                  # ... and of word 1
    full0 = (np.int64(1) << head) - 1
    full1 = (np.int64(1) << tail) - 1
    low = head - split
    rest = (np.int64(1) << low) - 1
    for x in range(rec.shape[0]):
        q = rec[x, 0]
        k = popcount(np.uint64(q)) + (popcount(np.uint64(rec[x, 1])) if two else 0)
        start[(np.int64(k) << split) | ((full0 ^ q) >> low)] += 1
    counts_to_starts(start)
    for x in range(rec.shape[0]):
        q = rec[x, 0]
        k = popcount(np.uint64(q)) + (popcount(np.uint64(rec[x, 1])) if two else 0)
        b = (np.int64(k) << split) | ((full0 ^ q) >> low)
        p = start[b]
        start[b] = p + 1
        second = full1 ^ rec[x, 1] if two else np.int64(0)
        keys[p] = (((((full0 ^ q) & rest) << tail) | second) << count_bits) | rec[x, rec.shape[1] - 1]
    ends_to_bounds(start)


@njit(cache=True)
def counts_to_starts(start):
    """Counts per bucket (``start[:-1]``) made each bucket's first position, in place (the
    total into ``start[-1]``), for a scatter that advances them (no copy of a table that
    may hold millions of buckets)."""
    total = 0
    for b in range(len(start) - 1):
        c = start[b]
        start[b] = total
        total += c
    start[len(start) - 1] = total


@njit(cache=True)
def ends_to_bounds(start):
    """After the scatter (each bucket's position advanced to the next bucket's start): the
    buckets' bounds again."""
    for b in range(len(start) - 2, 0, -1):
        start[b] = start[b - 1]
    if len(start) > 1:
        start[0] = 0


@njit(cache=True)
def sort_buckets(keys, start, below):
    """Each bucket of ``keys`` (bounds ``start``) of fewer than ``below`` keys sorted."""
    for b in range(len(start) - 1):
        if start[b + 1] - start[b] > 1 and start[b + 1] - start[b] < below:
            keys[start[b]:start[b + 1]].sort()


@njit(cache=True, inline="always")
def _write_bits(z, columns, base, out_items, at):
    """The items ``columns[base + b]`` of the bits b set in ``z``, highest bit first
    (ascending items), into ``out_items`` from ``at``; returns the position after them."""
    while z != 0:
        i = 63 - leading_zeros(z)
        out_items[at] = columns[base + i]
        at += 1
        z ^= np.int64(1) << i
    return at


@njit(cache=True)
def decode_masks(keys, start, form, columns, out_items, out_ptr, out_counts):
    """The itemsets of sorted :func:`mask_buckets` keys (``form = (width, split,
    count_bits, words)``) written out as :func:`decode` writes records: ``columns[64 * w
    + b]`` is the item of bit b of mask word w."""
    width, split, count_bits, words = form
    head = MASK_WORD if words == 2 else width
    tail = width - head
    full0 = (np.int64(1) << head) - 1
    full1 = (np.int64(1) << tail) - 1
    low = head - split
    tops = (np.int64(1) << split) - 1
    counts = (np.int64(1) << count_bits) - 1
    at = 0
    out_ptr[0] = 0
    for b in range(len(start) - 1):
        top = (np.int64(b) & tops) << low
        for x in range(start[b], start[b + 1]):
            v = keys[x] >> count_bits
            at = _write_bits(full0 ^ (top | (v >> tail)), columns, 0, out_items, at)
            if tail:
                at = _write_bits(full1 ^ (v & full1), columns, 64, out_items, at)
            out_counts[x] = keys[x] & counts
            out_ptr[x + 1] = at


@njit(cache=True)
def mask2_buckets(rec, width, count_bits, keys):
    """Records of the two-word mask layout (over ``width`` items, 64 to 126) as two-word
    keys into ``keys`` (n, 2), scattered (stably) into buckets by length: the complemented
    first word, then the complemented second word above the count (``count_bits`` bits),
    so that keys compare as the itemsets of a length do. Returns the buckets' bounds."""
    full0 = (np.int64(1) << MASK_WORD) - 1
    full1 = (np.int64(1) << (width - MASK_WORD)) - 1
    start = np.zeros(width + 2, np.int64)
    for x in range(rec.shape[0]):
        start[popcount(np.uint64(rec[x, 0])) + popcount(np.uint64(rec[x, 1])) + 1] += 1
    for b in range(len(start) - 1):
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    for x in range(rec.shape[0]):
        k = popcount(np.uint64(rec[x, 0])) + popcount(np.uint64(rec[x, 1]))
        p = fill[k]
        fill[k] = p + 1
        keys[p, 0] = full0 ^ rec[x, 0]
        keys[p, 1] = ((full1 ^ rec[x, 1]) << count_bits) | rec[x, 2]
    return start


@njit(cache=True)
def decode_masks2(keys, width, count_bits, columns, out_items, out_ptr, out_counts):
    """The itemsets of sorted :func:`mask2_buckets` keys written out as :func:`decode`
    writes records: ``columns[64 * w + b]`` is the item of bit b of mask word w."""
    full0 = (np.int64(1) << MASK_WORD) - 1
    full1 = (np.int64(1) << (width - MASK_WORD)) - 1
    counts = (np.int64(1) << count_bits) - 1
    at = 0
    out_ptr[0] = 0
    for x in range(keys.shape[0]):
        at = _write_bits(full0 ^ keys[x, 0], columns, 0, out_items, at)
        at = _write_bits(full1 ^ (keys[x, 1] >> count_bits), columns, 64, out_items, at)
        out_counts[x] = keys[x, 1] & counts
        out_ptr[x + 1] = at


@njit(cache=True)
def longest_mask(rec):
    """The most items of a record of the mask layout (0 if none)."""
    most = 0
    for x in range(rec.shape[0]):
        k = 0
        for w in range(rec.shape[1] - 1):
            k += popcount(np.uint64(rec[x, w]))
        most = max(most, np.int64(k))
    return most


@njit(cache=True)
def decode(rec, layout, out_items, out_ptr, out_counts):
    """The sorted records written out one after the other: items into ``out_items``,
    offsets into ``out_ptr``, counts into ``out_counts``."""
    bits, head, per, n_words = layout
    mask = (np.int64(1) << bits) - 1
    at = 0
    out_ptr[0] = 0
    for i in range(rec.shape[0]):
        word = rec[i, 0]
        k = word >> (head * bits)
        shift = (head - 1) * bits
        for t in range(min(k, head)):
            out_items[at + t] = (word >> shift) & mask
            shift -= bits
        w, shift = 1, (per - 1) * bits
        for t in range(head, k):
            out_items[at + t] = (rec[i, w] >> shift) & mask
            shift -= bits
            if shift < 0:
                w, shift = w + 1, (per - 1) * bits
        out_counts[i] = rec[i, n_words]
        at += k
        out_ptr[i + 1] = at
