"""Depth-first mining of conditional (projected) databases on the CPU (Numba).

This is the local miner of the PFP scheme: a rank holds the conditional transactions of
the items it owns (rows of recoded items, sorted ascending, item 0 the most frequent) and
finds every frequent (or maximal, or closed) itemset whose largest item is one of those
items, without talking to other ranks. The owned items' conditional databases are laid
out contiguously, a range of items at a time (:func:`conditional_rows`), and searched
depth first, largest item first (:func:`mine_range`, resumable across ranges, so a
caller can stop between them): a node's children and their tid-lists come from one scan
of the node's rows (occurrence deliver), which also writes the rows reduced to the
children's items for the next level (database reduction); equal reduced rows are merged
into one weighted row. Perfect extensions (items in every row of a node) are absorbed
instead of branched on. Memory is a stack: the rows and lists of the nodes on the
current path, plus the result store.

FP-Max prunes with the maximal sets found so far (superset lists per node, look-ahead);
FP-Close with the closed sets found so far (a table keyed by the node's set of source
rows). The filter that removes, after the ranks exchange their sets, those that another
rank's set extends is :mod:`hpcrec.kernels.superset`; the exchange that brings a rank its
conditional transactions is :mod:`hpcrec.kernels.exchange`.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

from . import order
from .csr import Csr
from .protocols import MineOptions, Store
from .support import popcount

OK, TOO_MANY = 0, 1
FREQUENT, MAXIMAL, CLOSED = 0, 1, 2  # what the search reports
MIX = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64: the golden-ratio multiplier
START_SMALL = False  # tests: the store and working arrays start at a few entries, to grow mid-search


def _record(*names):
    return np.dtype([(name, np.int64) for name in names])


# Records (NumPy structured dtypes: one cache line per record, one array per kind).
# A row of the row store: its items ri[beg:end], weight, tid-set key (the sum of the keys
# of the conditional-database rows merged into it: equal sets of source rows, equal sums).
ROW = _record("beg", "end", "wt", "key")
# A member (a child node of the node being expanded): its tid-list pool[beg:end], item, support.
MEMBER = _record("beg", "end", "item", "sup")
# Per item, scratch of a node's expansion: support and rows seen by scan 1, member slot;
# and two lists stored down the records: items seen by scan 1, perfect extensions.
SCRATCH = _record("cnt", "nrow", "slot", "seen", "perfect")
# A stored set: length, count, first item in the store's items, tid-set key.
META = _record("len", "count", "start", "key")
# FP-Max: an entry of the list of stored sets holding an item (next entry, set).
LINK = _record("next", "set")
# A slot of the per-node hash table of reduced rows (merging equal rows).
RSLOT = _record("stamp", "hash", "row")
# A search frame: the node whose children are being visited, one per depth of the path.
FRAME = np.dtype([
    ("pos", np.int64),    # the next child (member) to visit
    ("mend", np.int64),   # end of the children's members; the member stack's top
    ("top", np.int64),    # top of the tid-list pool after the children's lists
    ("plen", np.int64),   # prefix length (path and absorbed items) of the node
    ("npath", np.int64),  # path items of the node (no absorbed ones)
    ("rtop", np.int64),   # top of the row store after the children's reduced rows
    ("itop", np.int64),   # top of the row items after them
    ("low", np.int64),    # the children's smallest item: that child is a leaf
    ("lb", np.int64),     # FP-Max: the node's list of stored supersets, lpool[lb:le]
    ("le", np.int64),
    ("ent", np.int64),    # FP-Max: sets stored from here on are not in that list yet
    ("k0", np.int64),     # FP-Max (m <= MASK_ITEMS): mask of the absorbed items of the
    ("k1", np.int64),     #   node's prefix
    ("r0", np.int64),     # ... and of the children not visited yet (with the one being
    ("r1", np.int64),     #   visited): items a child's rows can hold
    ("pair", np.int64),   # FREQUENT, a node of two children: the weight of its rows that
                          #   hold both (:func:`_pair_weight`); -1 otherwise
])


class Node(NamedTuple):
    """A node X being expanded: its tid-list pool[t0:t1] (rows of the row store), its
    item (the smallest of X: children take items below it) and support."""
    t0: int
    t1: int
    item: int
    count: int

# A node is expanded by kernels that return scalars only; arrays grow in the caller.
# When the expansion returned its arrays every node, Numba's atomic reference counting
# of them took half the mining time.


@intrinsic
def prefetch(typingctx, arr, at):
    """Asks the CPU to load arr[at]'s cache line (LLVM's prefetch: read, kept in all
    levels; no fault on any address). A conditional database's rows point into the
    items of all its source rows, scattered over megabytes: reading them in row order
    waited on memory at every row (sparse data, benchmarks/README.md, session 13)."""
    def codegen(context, builder, signature, args):
        ty = signature.args[0]
        ptr = cgutils.get_item_pointer(context, builder, ty, context.make_array(ty)(
            context, builder, args[0]), [args[1]], wraparound=False)
        # declared on i8*: named llvm.prefetch.p0i8, which LLVM with opaque pointers
        # remangles to .p0, so LLVMs with typed pointers (older llvmlite) take it too
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [i8p], ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]))
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.none(arr, at), codegen


AHEAD = 8   # rows prefetched ahead by the scans of a node's rows


def _grow(arr, need, factor=2):
    """``arr`` with at least ``need`` rows (``factor`` times as many), the old ones copied.
    Allocated by NumPy, not inside a kernel: NumPy asks Linux for transparent huge pages
    on large arrays (madvise), Numba's allocator does not, and a store of millions of sets
    grown inside a kernel paid a page fault every 4 KB (benchmarks/README.md, session 5)."""
    out = np.empty((max(need, factor * arr.shape[0]),) + arr.shape[1:], arr.dtype)
    out[:arr.shape[0]] = arr
    return out


@njit(cache=True)
def _children(rows, ri, pool, node, minc, scratch, mem, tops):
    """Scan 1 of a node X (:class:`Node`): sums the row weights (cnt) and counts the rows
    (nrow) of each item below X's item. The frequent items become children (members from
    ``tops = (mtop, top)``, tid-list room in the pool from ``top``); those in every row
    (perfect extensions) are listed in ``perfect``; others get cnt 0, so the fill scan
    drops them. X's prefix items are not in its rows: the fill scans of its ancestors
    dropped them (and a root's rows hold only items below it). ``mem`` must have room for
    ``node.item`` more members. Returns (mtop, top, n_perfect, n_seen, n_rows): the items
    seen are listed in ``seen``, n_rows their rows in all. A node of at most WORD rows,
    whose items are mostly new to it, lists them with no branch on whether each is new
    (the list's next entry written at every item, its length advanced by the test); a
    larger one, whose items repeat, keeps that branch, which predicts well there
    (everywhere branch-free: retail.dat 0.0001's search -15 %, longtail 0.002's +3 %;
    benchmarks/README.md, session 23)."""
    mtop, top = tops
    bound = node.item
    n_seen = 0
    n_rows = 0
    few = node.t1 - node.t0 <= WORD
    for p in range(node.t0, node.t1):
        r = pool[p]
        if p + AHEAD < node.t1:
            prefetch(ri, rows[pool[p + AHEAD]].beg)
        w = rows[r].wt
        for q in range(rows[r].beg, rows[r].end):
            i = ri[q]
            if i >= bound:
                break
            new = scratch[i].nrow == 0
            if few or new:
                scratch[n_seen].seen = i
                n_seen += new
            scratch[i].cnt += w
            scratch[i].nrow += 1
            n_rows += 1
    mtop, top, n_perfect = _sort_seen(scratch, n_seen, node, minc, mem, (mtop, top))
    return mtop, top, n_perfect, n_seen, n_rows


@njit(cache=True, inline="always")
def _row_word(rows, rwords, r):
    """Row r's word of items (every item below WORD, :func:`conditional_rows`): rwords[r]
    (FP-Close, whose row key is the tid-set key), or where ``rwords`` is empty its key
    (FREQUENT)."""
    return rwords[r] if len(rwords) else rows[r].key


@njit(cache=True)
def _children_by_words(rows, rwords, pool, node, minc, scratch, mem, tops):
    """:func:`_children` where every item is below WORD and a row's word of items is kept
    (:func:`_row_word`): a row's items below X's item are the bits of its word below it,
    so its items are not read; the items seen are the bits of all rows' words together
    (listed lowest first). Returns (mtop, top, n_perfect, n_seen, n_rows)."""
    below = (np.int64(1) << node.item) - 1
    seen = np.int64(0)
    n_rows = 0
    for p in range(node.t0, node.t1):
        r = pool[p]
        w = rows[r].wt
        b = _row_word(rows, rwords, r) & below
        seen |= b
        while b != 0:
            i = trailing_zeros(b)
            scratch[i].cnt += w
            scratch[i].nrow += 1
            n_rows += 1
            b &= b - 1
    n_seen = 0
    while seen != 0:
        scratch[n_seen].seen = trailing_zeros(seen)
        n_seen += 1
        seen &= seen - 1
    mtop, top, n_perfect = _sort_seen(scratch, n_seen, node, minc, mem, tops)
    return mtop, top, n_perfect, n_seen, n_rows


@njit(cache=True, inline="always")
def _sort_seen(scratch, n_seen, node, minc, mem, tops):
    """The items seen below X (``scratch[:n_seen].seen``, their support and rows counted)
    sorted out (:func:`_children`): the frequent ones become members (``tops = (mtop,
    top)``), those in every row are listed as perfect extensions, the others get cnt 0.
    Returns (mtop, top, n_perfect)."""
    mtop, top = tops
    n_perfect = 0
    for x in range(n_seen):
        i = scratch[x].seen
        if scratch[i].cnt < minc:
            scratch[i].cnt = 0
        elif scratch[i].cnt == node.count:
            scratch[n_perfect].perfect = i
            n_perfect += 1
            scratch[i].cnt = 0
        else:
            mem[mtop].item = i
            mem[mtop].beg = top
            mem[mtop].end = top
            mem[mtop].sup = scratch[i].cnt
            scratch[i].slot = mtop
            top += scratch[i].nrow
            mtop += 1
    return mtop, top, n_perfect


# a root of at most PAIRS children on sparse data (:func:`_takes_pairs`): its children's
# supports and rows per grandchild item are counted in one pass over its reduced rows
# (:func:`_pair_counts`), so a child needs no counting scan of its rows
PAIRS = 512


@njit(cache=True, inline="always")
def _takes_pairs(mode, m, n_child, count, max_len):
    """Whether a root of n_child children (after its fill scan) and support ``count``
    counts their pairs (:func:`_pair_counts`). FREQUENT: more than WORD children (fewer:
    the bit searches take the children of dense roots), max_len 0 or above 2. FP-Max and
    FP-Close: more than one child, over more than MASK_ITEMS items (sparse data: on
    longtail, T10I4D100K and retail.dat the counts took 49-85 % of the cycles of the
    children's scans they replace; on the dense sets, whose children are often pruned
    unscanned, 0.5-2.3 times them; benchmarks/README.md, session 16)."""
    if n_child > PAIRS or count >= 1 << 31:
        return False
    if mode == FREQUENT:
        return n_child > WORD and (max_len <= 0 or max_len > 2)
    return n_child > 1 and m > MASK_ITEMS


@njit(cache=True)
def _pair_counts(rows, ri, span, scratch, pairs, ranks):
    """For the reduced rows rows[r0:r1] of a root X (``span = (r0, r1, base, n, item)``:
    also its children, members base..base + n - 1, their slots in ``scratch``, and X's
    item), ranked by item (ranks[1, member - base] = rank, ranks[2, rank] = item):
    pairs[k * (k - 1) // 2 + h] = (weight << 32) + rows of the rows holding the children
    of ranks k and h < k (what :func:`_children` of child k counts for h in its rows,
    which are these). One sequential pass; the children's own scans read their rows
    through their tid-lists, scattered, and most found no child (T10I4D100K:
    benchmarks/README.md, session 15)."""
    r0, r1, base, n, item = span
    k = 0
    for i in range(item):
        if scratch[i].cnt > 0:
            ranks[1, scratch[i].slot - base] = k
            ranks[2, k] = i
            k += 1
    for x in range(n * (n - 1) // 2):
        pairs[x] = 0
    for r in range(r0, r1):
        add = (rows[r].wt << 32) + 1
        b = rows[r].beg
        for q in range(b, rows[r].end):
            k = ranks[1, scratch[ri[q]].slot - base]   # ascending, as the row's items
            ranks[0, q - b] = k
            at = k * (k - 1) // 2
            for p in range(q - b):
                pairs[at + ranks[0, p]] += add


@njit(cache=True)
def _pair_children(pairs, ranks, span, node, minc, scratch, mem, tops):
    """:func:`_children` of the root's child ``a`` (member a, ``span = (base, a)``) from
    :func:`_pair_counts`: its row of the triangle read, no scan of its rows. Returns
    (mtop, top, n_perfect, n_seen)."""
    base, a = span
    k = ranks[1, a - base]
    at = k * (k - 1) // 2
    n_seen = 0
    for h in range(k):   # the ranks of the items seen (no branch: most pairs are 0)
        ranks[0, n_seen] = h
        n_seen += pairs[at + h] != 0
    for x in range(n_seen):
        h = ranks[0, x]
        i = ranks[2, h]
        scratch[i].cnt = pairs[at + h] >> 32
        scratch[i].nrow = pairs[at + h] & 0xFFFFFFFF
        scratch[x].seen = i
    mtop, top, n_perfect = _sort_seen(scratch, n_seen, node, minc, mem, tops)
    return mtop, top, n_perfect, n_seen


@njit(cache=True)
def _pair_weight(rows, ri, rwords, pool, node, a, b, words):
    """FREQUENT: the weight of the rows of a node X (:class:`Node`) that hold both items
    b < a (X's two children), i.e. the support of X + a + b. Rows are sorted: a row's
    items are read up to b, then up to a. ``words``: every item below WORD, a row's word
    of items kept (:func:`_row_word`), its items not read."""
    w = 0
    if words:
        both = (np.int64(1) << a) | (np.int64(1) << b)
        for p in range(node.t0, node.t1):
            r = pool[p]
            if _row_word(rows, rwords, r) & both == both:
                w += rows[r].wt
        return w
    for p in range(node.t0, node.t1):
        r = pool[p]
        if p + AHEAD < node.t1:
            prefetch(ri, rows[pool[p + AHEAD]].beg)
        q, e = rows[r].beg, rows[r].end
        while q < e and ri[q] < b:
            q += 1
        if q == e or ri[q] != b:
            continue
        q += 1
        while q < e and ri[q] < a:
            q += 1
        if q < e and ri[q] == a:
            w += rows[r].wt
    return w


@njit(cache=True)
def _may_branch(rows, ri, pool, node, minc):
    """Whether X's rows (:class:`Node`) holding an item below X's item weigh at least
    ``minc``. If not, X has no frequent child and no perfect extension (either lies in
    rows of that weight): its scans are skipped (sparse data: most nodes below the roots
    are such leaves, of few rows). A row's first item tells (rows are sorted); stops at
    ``minc``. A node of more than WORD rows is taken to branch, unread: on dense data
    (nodes of many light rows, seldom leaves) the check read up to every row."""
    w = 0
    if node.t1 - node.t0 > WORD:
        return True
    for p in range(node.t0, node.t1):
        r = pool[p]
        if rows[r].end > rows[r].beg and ri[rows[r].beg] < node.item:
            w += rows[r].wt
            if w >= minc:
                return True
    return False


@njit(cache=True)
def _sort_members(mem, lo, hi, scratch):
    """Members lo..hi-1 by item, largest first (FP-Max / FP-Close visit the larger item
    first, so that every superset of a set is found before it); slots follow."""
    for t in range(lo + 1, hi):
        b, e, c, s = mem[t].beg, mem[t].end, mem[t].item, mem[t].sup
        u = t
        while u > lo and mem[u - 1].item < c:
            mem[u].beg, mem[u].end = mem[u - 1].beg, mem[u - 1].end
            mem[u].item, mem[u].sup = mem[u - 1].item, mem[u - 1].sup
            u -= 1
        mem[u].beg, mem[u].end, mem[u].item, mem[u].sup = b, e, c, s
    for t in range(lo, hi):
        scratch[mem[t].item].slot = t


@njit(cache=True)
def _fill_children(rows, ri, pool, node, scratch, mem, marks, table):
    """Scan 2 (database reduction): each row of X (:class:`Node`), reduced to the
    children's items, becomes a row of the store (from ``marks = (rtop, itop, stamp)``)
    and joins its items' tid-lists. A reduced row equal to one already written here is
    merged into it (weights and keys added; found through the hash ``table``, whose slots
    of this call carry ``stamp``), so deeper nodes scan each distinct row once. Returns
    (rtop, itop)."""
    rtop, itop, stamp = marks
    bound = node.item
    mask = len(table) - 1
    for p in range(node.t0, node.t1):
        r = pool[p]
        start = itop
        h = 0
        for q in range(rows[r].beg, rows[r].end):
            i = ri[q]
            if i >= bound:
                break
            if scratch[i].cnt > 0:
                ri[itop] = i
                itop += 1
                h = (h ^ i) * MIX
        if itop == start:
            continue
        s = (h ^ (h >> 29)) & mask
        twin = -1
        while table[s].stamp == stamp:
            c = table[s].row
            if table[s].hash == h and rows[c].end - rows[c].beg == itop - start:
                u = 0
                while u < itop - start and ri[rows[c].beg + u] == ri[start + u]:
                    u += 1
                if u == itop - start:
                    twin = c
                    break
            s = (s + 1) & mask
        if twin >= 0:
            rows[twin].wt += rows[r].wt
            rows[twin].key += rows[r].key
            itop = start
            continue
        table[s].stamp = stamp
        table[s].hash = h
        table[s].row = rtop
        rows[rtop].beg = start
        rows[rtop].end = itop
        rows[rtop].wt = rows[r].wt
        rows[rtop].key = rows[r].key
        for q in range(start, itop):
            x = scratch[ri[q]].slot
            pool[mem[x].end] = rtop
            mem[x].end += 1
        rtop += 1
    return rtop, itop


@njit(cache=True, inline="always")
def _row_slot(h, narrow, mask):
    """:func:`_distinct_rows`' table slot of a row's hash (``narrow``: of its word of
    items, mixed first)."""
    if narrow:
        h *= MIX
    return (h ^ (h >> 29)) & mask


@njit(cache=True, inline="always")
def _word_slot(table, word, stamp, mask):
    """The fill scans' probe for a reduced row given as a word of its members
    (:func:`_fill_by_masks`, :func:`_fill_by_words`): (slot, row of an equal reduced row
    of this call, or -1 and the free slot for a new one)."""
    h = (word ^ (word >> 32)) * MIX   # (a product's low bits see only the word's low bits)
    s = (h ^ (h >> 29)) & mask
    while table[s].stamp == stamp:
        if table[s].hash == word:
            return s, table[s].row
        s = (s + 1) & mask
    return s, -1


@njit(cache=True)
def _fill_by_masks(rows, ri, pool, node, scratch, mem, marks, table):
    """The fill scan (:func:`_fill_children`, the same rows written; every mode, FP-Growth
    and FP-Close with every item below WORD by :func:`_fill_by_words`) for at most WORD
    children (members ``lo`` on, sorted largest item first, :func:`_sort_members`;
    ``marks = (rtop, itop, stamp, lo)``):
    a row reduced to the children's items is first the mask of their members, so an equal
    reduced row is found by comparing one word (the table's ``hash`` holds it), not by
    hashing and comparing items; only a new row's items are written, from its mask (the
    highest member holds the smallest item). On mushroom the nodes of more than WORD rows
    merge about 8 rows into one, and the fill scan was two thirds of their time
    (benchmarks/README.md, session 15)."""
    rtop, itop, stamp, lo = marks
    bound = node.item
    mask = len(table) - 1
    for p in range(node.t0, node.t1):
        r = pool[p]
        word = np.int64(0)
        for q in range(rows[r].beg, rows[r].end):
            i = ri[q]
            if i >= bound:
                break
            if scratch[i].cnt > 0:
                word |= np.int64(1) << (scratch[i].slot - lo)
        if word == 0:
            continue
        s, twin = _word_slot(table, word, stamp, mask)
        if twin >= 0:
            rows[twin].wt += rows[r].wt
            rows[twin].key += rows[r].key
            continue
        table[s].stamp = stamp
        table[s].hash = word
        table[s].row = rtop
        n = popcount(np.uint64(word))
        rows[rtop].beg = itop
        rows[rtop].end = itop + n
        rows[rtop].wt = rows[r].wt
        rows[rtop].key = rows[r].key
        k = itop + n
        b = word
        while b != 0:
            x = lo + trailing_zeros(b)
            k -= 1
            ri[k] = mem[x].item
            pool[mem[x].end] = rtop
            mem[x].end += 1
            b &= b - 1
        itop += n
        rtop += 1
    return rtop, itop


@njit(cache=True)
def _fill_by_words(store, ri, pool, node, scratch, mem, marks, table):
    """The fill scan (:func:`_fill_children`, the same rows written) of FREQUENT and
    FP-Close where every item is below WORD and a row's word of items is kept
    (:func:`_row_word`; ``store = (rows, rwords)``): a row reduced to the children's items
    (members ``lo..hi-1``, ``marks = (rtop, itop, stamp, lo, hi)``) is its word AND the
    children's, with no pass over its items; an equal reduced row is found by comparing that word (FP-Close: the
    tid-set keys added); a new row's items are written from it, lowest bit first
    (ascending), and it becomes the row's word. FP-Close took :func:`_fill_by_masks`
    before, a pass over each row's items (benchmarks/README.md, session 20)."""
    rows, rwords = store
    rtop, itop, stamp, lo, hi = marks
    mask = len(table) - 1
    apart = len(rwords) > 0
    kids = np.int64(0)
    for x in range(lo, hi):
        kids |= np.int64(1) << mem[x].item
    for p in range(node.t0, node.t1):
        r = pool[p]
        word = _row_word(rows, rwords, r) & kids
        if word == 0:
            continue
        s, twin = _word_slot(table, word, stamp, mask)
        if twin >= 0:
            rows[twin].wt += rows[r].wt
            if apart:
                rows[twin].key += rows[r].key
            continue
        table[s].stamp = stamp
        table[s].hash = word
        table[s].row = rtop
        rows[rtop].beg = itop
        rows[rtop].wt = rows[r].wt
        if apart:
            rows[rtop].key = rows[r].key
            rwords[rtop] = word
        else:
            rows[rtop].key = word
        b = word
        while b != 0:
            i = trailing_zeros(b)
            ri[itop] = i
            itop += 1
            x = scratch[i].slot
            pool[mem[x].end] = rtop
            mem[x].end += 1
            b &= b - 1
        rows[rtop].end = itop
        rtop += 1
    return rtop, itop


@njit(cache=True)
def _distinct_rows(indptr, indices, owned, lo, hi):
    """The rows with an owned item in [lo, hi) (the others give no conditional row), those
    equal in their items below ``hi`` merged (all their conditional rows for items below
    hi are equal): per distinct row, in row order, (row, end of its items below hi,
    weight: the number of equal rows, key: the sum of the rows' keys). On dense data with
    few frequent items most transactions repeat, and every conditional database shrinks.
    FP-Close's batches each pass all the round's rows (they keep their keys), most
    without an item of the batch: a row whose last item lies below the batch is skipped
    unscanned, and only the live rows are entered and walked by the bucket passes. Items
    below 64 (``hi`` <= 64: dense data) make a row's items below hi the bits of one word,
    which is its hash and its equality test (no multiply per item, no item compare)."""
    n = len(indptr) - 1
    live = np.empty((n, 4), np.int64)
    hashes = np.empty(n, np.int64)   # per row: its hash, or (narrow) its word of items
    narrow = hi <= 64
    owned_bits = np.int64(0)
    if narrow:
        for j in range(lo, hi):
            if owned[j]:
                owned_bits |= np.int64(1) << j
    n_live = 0
    for r in range(n):
        s, e = indptr[r], indptr[r + 1]
        if e == s or indices[e - 1] < lo:   # no item of the batch or above: no scan
            continue
        h = 0
        alive = False
        a = s
        if narrow:
            while a < e and indices[a] < hi:
                h |= np.int64(1) << indices[a]
                a += 1
            alive = (h & owned_bits) != 0
        else:
            while a < e and indices[a] < hi:
                h = (h ^ indices[a]) * MIX
                alive = alive or (indices[a] >= lo and owned[indices[a]])
                a += 1
        if not alive:
            continue
        key = (r + 1) * MIX
        live[n_live, 0], live[n_live, 1], live[n_live, 2] = r, a, 1
        live[n_live, 3] = key ^ (key >> 31)
        hashes[n_live] = h
        n_live += 1
    size = 1024
    while size < 2 * n_live:
        size *= 2
    table = np.full(size, -1, np.int64)
    n_out = 0   # distinct rows, compacted in place (n_out <= x)
    for x in range(n_live):
        if x + AHEAD < n_live:   # the slot probed AHEAD rows on (random in a large table)
            prefetch(table, _row_slot(hashes[x + AHEAD], narrow, size - 1))
        h = hashes[x]
        s, e = indptr[live[x, 0]], live[x, 1]
        slot = _row_slot(h, narrow, size - 1)
        while table[slot] >= 0:
            c = table[slot]
            u = indptr[live[c, 0]]
            if narrow and hashes[c] == h:
                break
            if not narrow and hashes[c] == h and live[c, 1] - u == e - s:
                v = s
                while v < e and indices[u] == indices[v]:
                    u += 1
                    v += 1
                if v == e:
                    break
            slot = (slot + 1) & (size - 1)
        if table[slot] >= 0:
            c = table[slot]
            live[c, 2] += 1
            live[c, 3] += live[x, 3]
        else:
            table[slot] = n_out
            hashes[n_out] = h
            for t in range(4):
                live[n_out, t] = live[x, t]
            n_out += 1
    return live[:n_out]


def conditional_rows(indptr, indices, owned, lo, hi, words=False, apart=False):
    """The conditional databases of the owned items j in [lo, hi), in one sequential pass.

    For every row and every owned item j in it, the row's items before j become one row
    of j's database; equal rows are merged first (:func:`_distinct_rows`). Rows are laid
    out bucket by bucket (j ascending), so mining one item walks one contiguous region of
    rows. A conditional row is a prefix of its source row: the items are those of the
    distinct rows, copied once, and every database's rows point into them (no copy of a
    prefix per item: the items of all databases would be about a row's length times
    more). Returns (rows, items, first, n_items): the rows as a row store (:data:`ROW`
    records: item range, weight, a key of the source rows: the rows of different items'
    databases that come from one transaction share it), rows first[j - lo] ..
    first[j - lo + 1] - 1 belonging to j, n_items items in all, and ``rwords``. Both
    arrays have room above the databases for the reduced rows of two levels of the
    largest one (the search's row store; allocated by NumPy, see :func:`_grow`). Every
    item below WORD: with ``words`` (FREQUENT) a row's key is instead the word of its
    items (bit i: item i), which the scans read (:func:`_fill_by_words`); with ``apart``
    (FP-Close) the word goes to rwords[row] (one per row of the row store; else
    ``rwords`` is empty), the key staying the tid-set key.
    """
    live, n_rows, most, n_src = _bucket_sizes(indptr, indices, owned, lo, hi)
    room = 0 if START_SMALL else 2
    rows = np.empty(n_rows[-1] + room * int(np.diff(n_rows).max(initial=0) + 512), ROW)
    items = np.empty(n_src + room * (most + 512), np.int32)
    rwords = np.empty(len(rows) if apart else 0, np.int64)
    _fill_buckets(indptr, indices, owned, (lo, hi, words or apart), (live, n_rows),
                  (rows, rwords), items)
    return rows, items, n_rows, n_src, rwords


@njit(cache=True)
def _bucket_sizes(indptr, indices, owned, lo, hi):
    """:func:`conditional_rows`' first pass: the distinct live rows of
    :func:`_distinct_rows`, the running sums of the rows of each owned item's bucket
    (k + 1), the most items of a bucket and the live rows' items in all."""
    k = hi - lo
    live = _distinct_rows(indptr, indices, owned, lo, hi)
    n_rows = np.zeros(k + 1, np.int64)
    n_items = np.zeros(k, np.int64)
    n_src = 0
    for x in range(len(live)):
        s = indptr[live[x, 0]]
        for p in range(s, live[x, 1]):
            j = indices[p]
            if j >= lo and owned[j]:
                n_rows[j - lo + 1] += 1
                n_items[j - lo] += p - s
        n_src += live[x, 1] - s
    for x in range(k):
        n_rows[x + 1] += n_rows[x]
    return live, n_rows, n_items.max() if k else 0, n_src


@njit(cache=True)
def _fill_buckets(indptr, indices, owned, span, sizes, store, items):
    """:func:`conditional_rows`' second pass: the live rows' items copied into ``items``,
    and each bucket's rows, prefixes of them, written into the row store (``store =
    (rows, rwords)``; ``span = (lo, hi, words)``, ``sizes`` from :func:`_bucket_sizes`):
    with ``words`` a row's word of items is its key, or where ``rwords`` is not empty
    rwords[row] (:func:`conditional_rows`)."""
    lo, hi, words = span
    live, n_rows = sizes
    rows, rwords = store
    apart = len(rwords) > 0
    fill = n_rows[:hi - lo].copy()
    q = 0
    for x in range(len(live)):
        s = indptr[live[x, 0]]
        word = np.int64(0)   # (words) the items before p
        for p in range(s, live[x, 1]):
            j = indices[p]
            items[q + p - s] = j
            if j >= lo and owned[j]:
                row = fill[j - lo]
                rows[row].beg = q
                rows[row].end = q + p - s
                rows[row].wt = live[x, 2]
                rows[row].key = word if words and not apart else live[x, 3]
                if apart:
                    rwords[row] = word
                fill[j - lo] = row + 1
            word |= np.int64(1) << (j & 63)
        q += live[x, 1] - s


def empty_store(m: int, recode=None, width: int = 0) -> Store:
    """The result store that :func:`mine_range` fills across calls (a
    :class:`~hpcrec.kernels.protocols.Store`). FP-Max and FP-Close: items of a set stored
    back to back, sorted; :data:`META` records (length, count, first item, tid-set
    key); for FP-Max, per item the sets holding it as a linked list (``head[item]`` ->
    :data:`LINK` entries); ``aux``: for FP-Close an open-addressing table (key, set + 1) on
    the tid-set key, for FP-Max each set as a 128-bit mask (two int64 words: over at most
    ``MASK_ITEMS`` items O(1) membership and subset tests, over more a signature that
    rules most sets out, :func:`_mask`); tops = (sets, items) stored;
    the search's per-item scratch (zero between calls: allocated once, not per call).
    FREQUENT: each set as its canonical record (:mod:`.order`; items mapped through
    ``recode``, none if it is None; the length field holds up to m items, as on every
    rank, whose records are merged), written by the search itself, so no items, meta records or second pass to build
    the records (benchmarks/README.md, session 8). The records start with the fewest key
    words and widen when a longer set comes (:func:`_reserve`); with ``width``, in the
    mask layout over ``width`` bits (``recode``: each item's bit; :func:`.order.mask_layout`)."""
    sets = 1 if START_SMALL else 1 << 14   # untouched room costs address space only
    recode = np.arange(m, dtype=np.int64) if recode is None else np.asarray(recode, np.int64)
    bits, head, per, words = order.mask_layout(width) if width else \
        order.layout(int(recode.max(initial=0)).bit_length() or 1, 1, m)
    return Store(np.empty(4 * sets, np.int32), np.empty(sets, META), np.empty(4 * sets, LINK),
                 np.full(m, -1, np.int64), np.zeros(2, np.int64), np.zeros((2 * sets, 2), np.int64),
                 np.zeros(m, SCRATCH), np.empty((sets, words + 1), np.int64), recode,
                 np.array([bits, head, per], np.int64))


def record_layout(store: Store) -> tuple[int, int, int, int]:
    """FREQUENT: the (bits, head, per, words) layout of the store's records."""
    bits, head, per = (int(v) for v in store.form)
    return bits, head, per, store.records.shape[1] - 1


@njit(cache=True, inline="always")
def _longest_in(records, form):
    """FREQUENT: the most items a record of ``records`` holds."""
    return form[1] + form[2] * (records.shape[1] - 2)


MASK_ITEMS = 128  # FP-Max keeps 2-word masks of its sets up to this many items
# the store's arrays grow by this factor: the copies of a store grown to n sets come to
# n / 3 rows, not n (the room not yet used is address space only: written in order)
STORE_GROWTH = 4
# FP-Max's and FP-Close's store arrays and FP-Close's table ask first for this many times
# their rows (:func:`_room`, where ``MineOptions.reserve``): address space, whose pages cost
# memory only when written, so a store of millions of sets grows with one small copy
# instead of copies of 4x steps that one rank and each rank of 2 make alike
# (benchmarks/README.md, session 19, helper h64)
RESERVE = 64


@njit(cache=True)
def _has(items, s, e, x):
    """Whether sorted items[s:e] hold x (binary search)."""
    while s < e:
        mid = (s + e) >> 1
        v = items[mid]
        if v == x:
            return True
        if v < x:
            s = mid + 1
        else:
            e = mid
    return False


@njit(cache=True)
def holds_all(items, s, e, want, t, n):
    """Whether sorted items[s:e] hold all of sorted want[t:n] (merge walk; also the
    cross-rank filter's test, :mod:`.superset`)."""
    while t < n:
        if s == e or items[s] > want[t]:
            return False
        if items[s] == want[t]:
            t += 1
        s += 1
    return True


@njit(cache=True, inline="always")
def _sort_small(a, lo, hi):
    """Sorts a[lo:hi] in place (insertion sort: the sets are short)."""
    for t in range(lo + 1, hi):
        v = a[t]
        u = t
        while u > lo and a[u - 1] > v:
            a[u] = a[u - 1]
            u -= 1
        a[u] = v


@njit(cache=True, inline="always")
def _table_slot(key, mask):
    h = key * MIX
    return (h ^ (h >> 32)) & mask


@njit(cache=True)
def _capacity(store, mode):
    """(sets, items) the store takes without growing."""
    sets, items = len(store.meta), len(store.items)
    if mode == FREQUENT:   # records only (no item array; tops[1] counts their items)
        sets, items = len(store.records), 0
    elif mode == MAXIMAL:
        sets, items = min(sets, store.aux.shape[0]), min(items, len(store.links))
    elif mode == CLOSED:
        sets = min(sets, store.aux.shape[0] // 2)
    return sets, items


def _reserve(store, n_sets, n_items, mode, longest=0, reserve=False):
    """The store's arrays grown to take n_sets more sets of n_items items in all, by
    :func:`_room` (into reserved room if ``reserve``), FREQUENT's records also widened to
    sets of ``longest`` items (the rows stored copied once, not the room); the FP-Close
    table doubled until at most half full (:func:`_doubled`: its slots are written at
    random, so room in use beyond that would be touched, and cost, whatever the sets)."""
    items, meta, links, head, tops, table, scratch, records, recode, form = store
    n_out, n_in = tops[0] + n_sets, tops[1] + n_items
    if mode == FREQUENT:   # one copy of the records stored, however their shape changes
        words = records.shape[1] - 1
        if longest > _longest_in(records, form):
            words = order.key_words(int(form[1]), int(form[2]), int(longest))
        grow = partial(_reshaped, words=words, used=int(tops[0]))
        records = _room(records, n_out, reserve, grow) if n_out > len(records) else \
            grow(records, 0, 1)
        return store._replace(records=records)
    if n_out > len(meta):
        meta = _room(meta, n_out, reserve)
    if n_in > len(items):
        items = _room(items, n_in, reserve)
    if mode == MAXIMAL and n_in > len(links):
        links = _room(links, n_in, reserve)
    if mode == MAXIMAL and n_out > table.shape[0]:
        table = _room(table, n_out, reserve)
    while mode == CLOSED and 2 * n_out > table.shape[0]:
        table = _doubled(table, reserve)
    return store._replace(items=items, meta=meta, links=links, aux=table)


def _reshaped(records, need, factor, words, used):
    """FREQUENT's records with ``words`` key words, room for ``need`` rows (``factor``
    times as many) and the first ``used`` copied (:func:`.order.widened`)."""
    return order.widened(records, words, used, max(need, factor * len(records)))


def _room(arr, need, reserve, grow=None):
    """``arr`` grown (``grow``, else :func:`_grow`) by RESERVE if ``reserve``, or by
    STORE_GROWTH: without ``reserve``, or where so much address space is refused
    (MemoryError)."""
    for factor in (RESERVE, STORE_GROWTH)[0 if reserve else 1:]:
        try:
            return (grow or _grow)(arr, need, factor)
        except MemoryError:
            if factor == STORE_GROWTH:
                raise


def _zeros(arr, need, factor):
    """Zeros of ``arr``'s kind, as many rows as :func:`_grow` gives (calloc'd: untouched
    pages cost what ``np.empty``'s do)."""
    return np.zeros((max(need, factor * arr.shape[0]),) + arr.shape[1:], arr.dtype)


def _doubled(table, reserve):
    """FP-Close: the table at twice its size. Within the room it views (:func:`_room`) it
    is rehashed in place (:func:`_rehash_in_place`): only the new half's pages are fresh
    memory, where a new table touched twice the old one's; else it moves into new room."""
    n = table.shape[0]
    room = table.base
    if not (isinstance(room, np.ndarray) and room.shape[0] >= 2 * n
            and room.shape[1:] == table.shape[1:] and room.ctypes.data == table.ctypes.data):
        room = _room(table, 2 * n, reserve, _zeros)
        _rehash(room[:2 * n], table)
        return room[:2 * n]
    _rehash_in_place(room, n)
    return room[:2 * n]


def add_sets(store: Store, flat, lengths, counts) -> Store:
    """FREQUENT: the sets (``flat`` items back to back, their lengths and counts) appended
    to the store's records, grown as the search grows them (:func:`_reserve`). The
    lattice's sets go in here, so the result is one array of records, not concatenated
    with them afterwards (a copy of every set, benchmarks/README.md, session 6)."""
    lengths = np.asarray(lengths, np.int64)
    store = _reserve(store, len(lengths), len(flat), FREQUENT, int(lengths.max(initial=0)))
    n = int(store.tops[0])
    order.build_records(flat, lengths, np.asarray(counts, np.int64), store.recode,
                        record_layout(store), store.records[n:n + len(lengths)])
    store.tops[0] += len(lengths)
    store.tops[1] += int(lengths.sum())
    return store


@njit(cache=True)
def _rehash(table, old):
    """FP-Close: the (empty) ``table``, twice the size of ``old``, filled with old's
    entries. Taken in old's slot order, an entry's slot in the new table is its old one or
    that plus old's size (linear probing, slots from the hash's low bits): two streams of
    writes, not a cache miss per set."""
    mask = table.shape[0] - 1
    for t in range(old.shape[0]):
        if old[t, 1] != 0:
            _put(table, old[t, 0], old[t, 1], mask)


@njit(cache=True, inline="always")
def _put(table, key, value, mask):
    """FP-Close: (key, value) into the first free slot from key's (linear probing)."""
    s = _table_slot(key, mask)
    while table[s, 1] != 0:
        s = (s + 1) & mask
    table[s, 0] = key
    table[s, 1] = value


@njit(cache=True)
def _rehash_in_place(room, n):
    """FP-Close: the table room[:n] rehashed into room[:2 * n] (room[n:2 * n] empty). The
    leading run room[:f] (f the first free slot) is set aside, so no run wraps round; then
    each entry, in slot order, is taken out and put back: its new slot is at most its old
    one or in the new half, so no probe passes a slot not yet taken out (it would leave a
    gap in a probe's path; the table is at most half full), and the run goes in last."""
    mask = 2 * n - 1
    f = 0
    while room[f, 1] != 0:
        f += 1
    lead = room[:f].copy()
    room[:f] = 0
    for s in range(f + 1, n):
        if room[s, 1] != 0:
            key, value = room[s, 0], room[s, 1]
            room[s, 1] = 0
            _put(room, key, value, mask)
    for t in range(f):
        _put(room, lead[t, 0], lead[t, 1], mask)


@njit(cache=True)
def _store(items, meta, links, head, tops, aux, buf, what):
    """Append the set buf[:n] (sorted here) with its count and tid-set key (``what = (n,
    count, key, mode)``) to the store (its arrays: the hot kernels take arrays, not the
    Store tuple, whose arrays Numba reference-counts at every branch join; room made by
    :func:`_reserve`); FP-Max links it from its items, FP-Close enters it in the table.
    The tops are written first and ``aux`` once per branch: written after the branches
    join, they made Numba count both arrays' references, 4 atomic operations a set."""
    n, count, key, mode = what
    n_out, n_items = tops[0], tops[1]
    tops[0] = n_out + 1
    tops[1] = n_items + n
    for t in range(n):
        items[n_items + t] = buf[t]
    _sort_small(items, n_items, n_items + n)
    meta[n_out].len = n
    meta[n_out].count = count
    meta[n_out].start = n_items
    meta[n_out].key = key
    if mode == MAXIMAL:
        w0 = w1 = np.int64(0)
        for e in range(n_items, n_items + n):
            i = items[e]
            links[e].next = head[i]
            links[e].set = n_out
            head[i] = e
            if i < 64:
                w0 |= np.int64(1) << i
            else:   # from MASK_ITEMS on folded (a signature, :func:`_mask`)
                w1 |= np.int64(1) << ((i - 64) & 63)
        aux[n_out, 0] = w0
        aux[n_out, 1] = w1
    else:
        mask = aux.shape[0] - 1
        s = _table_slot(key, mask)
        while aux[s, 1] != 0:
            s = (s + 1) & mask
        aux[s, 0] = key
        aux[s, 1] = n_out + 1


@njit(cache=True)
def _holds_stored(items, meta, z, want, n):
    """Whether stored set z holds all of sorted want[:n]."""
    s = meta[z].start
    return holds_all(items, s, s + meta[z].len, want, 0, n)


@njit(cache=True)
def _has_closure(items, meta, aux, key, count, want, n):
    """Whether a stored set with tid-set key ``key`` and this count holds all of want[:n]
    (in any order: each item is looked up, so no sort per node): then want[:n] is not
    closed (same transactions, more items)."""
    mask = aux.shape[0] - 1
    s = _table_slot(key, mask)
    for _ in range(mask + 1):
        if aux[s, 1] == 0:
            return False
        if aux[s, 0] == key and meta[aux[s, 1] - 1].count == count:
            z = aux[s, 1] - 1
            b = meta[z].start
            t = 0
            while t < n and _has(items, b, b + meta[z].len, want[t]):
                t += 1
            if t == n:
                return True
        s = (s + 1) & mask
    return False


@njit(cache=True, inline="always")
def _mask(want, n):
    """The 2-word mask of items want[:n]; items from MASK_ITEMS on are folded into word
    1 (bit item % 64): then a signature, which a set holding want[:n] covers (FP-Max's
    quick test of a stored set's items, :func:`_covered_ids`)."""
    w0 = w1 = 0
    for t in range(n):
        if want[t] < 64:
            w0 |= np.int64(1) << want[t]
        else:
            w1 |= np.int64(1) << ((want[t] - 64) & 63)
    return w0, w1


@njit(cache=True)
def _mask_members(mem, lo, hi):
    """The 2-word mask of the items of members lo..hi-1 (all below MASK_ITEMS)."""
    w0 = w1 = 0
    for x in range(lo, hi):
        if mem[x].item < 64:
            w0 |= np.int64(1) << mem[x].item
        else:
            w1 |= np.int64(1) << (mem[x].item - 64)
    return w0, w1


@njit(cache=True)
def _covered(masks, n_sets, lpool, span, w0, w1):
    """FP-Max, m <= MASK_ITEMS: whether a set listed in lpool[lb:le] or stored from set
    ``ent`` on (``span = (lb, le, ent)``; n_sets stored, their ``masks``) holds the set of
    mask (w0, w1). Newest first: a superset is most often one just stored beside the
    node. (Calls nothing: Numba reference-counts the arrays of a function that calls
    another across its branches.)"""
    lb, le, ent = span
    for z in range(n_sets - 1, ent - 1, -1):
        if (w0 & ~masks[z, 0]) == 0 and (w1 & ~masks[z, 1]) == 0:
            return True
    for x in range(le - 1, lb - 1, -1):
        if (w0 & ~lpool[x, 0]) == 0 and (w1 & ~lpool[x, 1]) == 0:
            return True
    return False


@njit(cache=True)
def _covered_ids(items, meta, sigs, n_sets, lpool, span, want, n):
    """FP-Max, m > MASK_ITEMS: :func:`_covered` by the sets' items (lpool holds set ids),
    each set's items walked only if its signature (``sigs``, the store's aux) covers
    want's (sparse data: most listed sets miss an item, and the walks over them took a
    fifth of the search)."""
    lb, le, ent = span
    s0, s1 = _mask(want, n)
    for z in range(n_sets - 1, ent - 1, -1):
        if (s0 & ~sigs[z, 0]) == 0 and (s1 & ~sigs[z, 1]) == 0 \
                and _holds_stored(items, meta, z, want, n):
            return True
    for x in range(le - 1, lb - 1, -1):
        z = lpool[x, 0]
        if (s0 & ~sigs[z, 0]) == 0 and (s1 & ~sigs[z, 1]) == 0 \
                and _holds_stored(items, meta, z, want, n):
            return True
    return False


@njit(cache=True)
def _list(store, lpool, x, z, m):
    """FP-Max: stored set z as entry x of a list: its mask (m <= MASK_ITEMS) or its id."""
    if m <= MASK_ITEMS:
        lpool[x, 0] = store.aux[z, 0]
        lpool[x, 1] = store.aux[z, 1]
    else:
        lpool[x, 0] = z


@njit(cache=True)
def _root_supersets(store, lpool, item, m):
    """FP-Max: the stored sets holding ``item`` (the root {item}) as list lpool[:le]
    (room made by the caller: one entry per stored set); returns le."""
    le = 0
    e = store.head[item]
    while e >= 0:
        _list(store, lpool, le, store.links[e].set, m)
        le += 1
        e = store.links[e].next
    return le


@njit(cache=True)
def _supersets(store, lpool, f, item, keep, m):
    """FP-Max: the list of the stored sets that contain X = frame f's node + ``item``, from
    lpool[f.le] on (room made by the caller): f's list and the sets stored since f's
    entries (its subtree's: they hold f's node), filtered by the item. Returns its end.
    Only whether some listed set holds a wanted set matters, not which, so masks may be cut
    and dropped as below. ``keep``: the mask of X's absorbed items and its ancestors' (the
    checks below X want them)."""
    le = f.le
    if m <= MASK_ITEMS:
        # masks cut to the items below X's item and the absorbed ones (the others: X's
        # path, in every set listed); a mask left empty or inside the one listed before it
        # cannot decide a check alone
        low0 = (np.int64(1) << item) - 1 if item < 64 else np.int64(-1)
        low1 = (np.int64(1) << (item - 64)) - 1 if item >= 64 else np.int64(0)
        low0 |= keep[0]
        low1 |= keep[1]
        for x in range(f.lb, f.le + store.tops[0] - f.ent):
            if x < f.le:
                e0, e1 = lpool[x, 0], lpool[x, 1]
            else:
                e0, e1 = store.aux[f.ent + x - f.le, 0], store.aux[f.ent + x - f.le, 1]
            if ((e0 if item < 64 else e1) >> (item & 63)) & 1 == 0:
                continue
            e0 &= low0
            e1 &= low1
            if e0 == 0 and e1 == 0:
                continue
            if le > f.le and (e0 & ~lpool[le - 1, 0]) == 0 and (e1 & ~lpool[le - 1, 1]) == 0:
                continue
            lpool[le, 0] = e0
            lpool[le, 1] = e1
            le += 1
        return le
    # sets whose signature lacks the item's bit are not searched for it
    w, b = (0, item) if item < 64 else (1, (item - 64) & 63)
    for x in range(f.lb, f.le):
        z = lpool[x, 0]
        if (store.aux[z, w] >> b) & 1 and _has(store.items, store.meta[z].start,
                                               store.meta[z].start + store.meta[z].len, item):
            lpool[le, 0] = z
            le += 1
    for z in range(f.ent, store.tops[0]):
        s = store.meta[z].start
        if (store.aux[z, w] >> b) & 1 and _has(store.items, s, s + store.meta[z].len, item):
            lpool[le, 0] = z
            le += 1
    return le


@njit(cache=True)
def _closure_key(rows, pool, node):
    """FP-Close: X's tid-set key, the sum of its rows' keys."""
    key = 0
    for p in range(node.t0, node.t1):
        key += rows[pool[p]].key
    return key


@njit(cache=True)
def _absorbed_and_children(prefix, absorbed, plen, mem, lo, hi, buf):
    """FP-Max: buf = X's item (the last path item of the prefix), the absorbed items
    (perfect extensions of X and of its ancestors: they may lie above X's item) and X's
    children's items (members lo..hi-1), sorted; returns their number."""
    n = 0
    item = -1
    for t in range(plen):
        if absorbed[t]:
            buf[n] = prefix[t]
            n += 1
        else:
            item = prefix[t]
    buf[n] = item
    n += 1
    for x in range(hi - 1, lo - 1, -1):
        buf[n] = mem[x].item
        n += 1
    _sort_small(buf, 0, n)
    return n


@njit(cache=True)
def _full_rows_weight(rows, lo, hi, n_child):
    """FP-Max look-ahead: the weight of the reduced rows lo..hi-1 that hold all n_child
    children, i.e. the support of X + P + all children."""
    w = 0
    for r in range(lo, hi):
        if rows[r].end - rows[r].beg == n_child:
            w += rows[r].wt
    return w


@njit(cache=True)
def _split_prefix(prefix, absorbed, plen, path, extra):
    """X's path items to path[:plen - n_extra], its absorbed ones to extra[:n_extra];
    returns n_extra."""
    n_extra = 0
    for t in range(plen):
        if absorbed[t]:
            extra[n_extra] = prefix[t]
            n_extra += 1
        else:
            path[t - n_extra] = prefix[t]
    return n_extra


@njit(cache=True)
def _subset_sizes(n_extra, top_r, npath, limit):
    """FREQUENT: the number of sets npath + r (r <= top_r subsets of n_extra items) and
    their items in all; (limit + 1, 0) when there are more than ``limit`` sets."""
    n_sets = n_items = 0
    c = 1  # C(n_extra, r)
    for r in range(top_r + 1):
        n_sets += c
        n_items += c * (npath + r)
        if n_sets > limit:
            return limit + 1, 0
        c = c * (n_extra - r) // (r + 1)
    return n_sets, n_items


@njit(cache=True)
def _emit_subsets(records, tops, form, recode, path, extra, comb, what):
    """FREQUENT: store path[:npath] with every subset of at most top_r of extra[:n_extra],
    each with ``count`` (``what = (npath, n_extra, top_r, count)``; room made by the
    caller), as canonical records (:mod:`.order`, ``form = (bits, head, per)``): the items
    are mapped through ``recode``, then written by :func:`_write_subsets` from a bit mask
    of the path when the items are below 2^MASK_BITS (the dense data sets: no sort), else
    with the path and the extra items each sorted once. (Calls nothing and takes no tuple
    of arrays: Numba reference-counts the arrays of a function that does, once per node
    of the search.)"""
    npath, n_extra = what[0], what[1]
    p = (np.int64(0), np.int64(0), np.int64(0), np.int64(0))
    for t in range(npath):
        path[t] = recode[path[t]]
    for t in range(n_extra):
        extra[t] = recode[extra[t]]
    if form[0] <= order.MASK_BITS:
        for t in range(npath):
            p = order.with_bit(p, path[t])
    else:
        _sort_small(path, 0, npath)
        _sort_small(extra, 0, n_extra)
    _write_subsets(records, tops, form, p, path, extra, comb, what)


@njit(cache=True, inline="always")
def _write_subsets(records, tops, form, p, path, extra, comb, what):
    """The records of :func:`_emit_subsets` (items recoded): each set's items are packed
    into its key words in ascending order as they come (the packing of
    :func:`.order.pack`, no buffer): read from the bit mask ``p`` of the path with the
    extra items' bits when the items are below 2^MASK_BITS (:func:`.order.pack_mask`),
    else merged from the sorted path and extra items."""
    npath, n_extra, top_r, count = what
    bits, head, per = form
    masked = bits <= order.MASK_BITS
    last = records.shape[1] - 1
    for r in range(top_r + 1):
        for t in range(r):
            comb[t] = t
        while True:
            n_out = tops[0]
            if masked:
                q = p
                for t in range(r):
                    q = order.with_bit(q, extra[comb[t]])
                order.pack_mask(q, npath + r, form, records, n_out)
            else:   # the path and the chosen extra items merged, ascending
                word = np.int64(npath + r) << (head * bits)
                shift = (head - 1) * bits
                w = a = b = 0
                for _ in range(npath + r):
                    if b == r or (a < npath and path[a] < extra[comb[b]]):
                        v = path[a]
                        a += 1
                    else:
                        v = extra[comb[b]]
                        b += 1
                    word |= np.int64(v) << shift
                    shift -= bits
                    if shift < 0:   # a word full: the head's after ``head`` items
                        records[n_out, w] = word
                        w, word, shift = w + 1, np.int64(0), (per - 1) * bits
                for u in range(w, last):
                    records[n_out, u] = word
                    word = 0
            records[n_out, last] = count
            tops[0] = n_out + 1
            tops[1] += npath + r
            t = r - 1
            while t >= 0 and comb[t] == n_extra - r + t:
                t -= 1
            if t < 0:
                break
            comb[t] += 1
            for u in range(t + 1, r):
                comb[u] = comb[u - 1] + 1


class Work(NamedTuple):
    """The search's working arrays, one set for every depth of the path (frames hold
    offsets into them). :func:`_search` never replaces one: when one is short it stops
    with GROW and the lengths it needs, and :func:`mine_range` grows it and resumes."""
    rows: np.ndarray      # the row store (ROW): conditional databases, then reduced rows
    ri: np.ndarray        # their items (int32)
    pool: np.ndarray      # tid-lists: rows of the row store (int32)
    mem: np.ndarray       # members (MEMBER): the children of the nodes on the path
    rtable: np.ndarray    # hash table of a node's reduced rows (RSLOT)
    lpool: np.ndarray     # FP-Max lists: (n, 2) set masks or ids
    frames: np.ndarray    # FRAME per depth
    scratch: np.ndarray   # SCRATCH per item
    prefix: np.ndarray    # the path's items and absorbed items (int32)
    absorbed: np.ndarray  # prefix[t] is a perfect extension, not a path item
    path: np.ndarray      # FREQUENT: the path items and absorbed items of a node
    extra: np.ndarray
    comb: np.ndarray      # a combination of extra (int64)
    buf: np.ndarray       # a set being tested or stored (int32)
    lat: np.ndarray       # FREQUENT, small nodes: bit columns (LAT: rows bits, item, support)
    lvl: np.ndarray       # ... their levels (row 0: levels in use; LEVEL per level)
    wts: np.ndarray       # ... the node's row weights, by bit (int64)
    keys: np.ndarray      # FP-Close, small nodes: the rows' tid-set keys, by bit (int64)
    wlat: np.ndarray      # FREQUENT, nodes of WORD + 1 .. WIDE rows: candidates (WIDECOL)
    wlvl: np.ndarray      # ... their levels (row 0: levels in use, planes; WLEVEL per level)
    wcols: np.ndarray     # ... their bit columns, a candidate's words a row (int64)
    wnz: np.ndarray       # ... per level, the words that hold its set's rows (int32)
    planes: np.ndarray    # ... the node's row weights as bit planes (plane, word; int64)
    wwts: np.ndarray      # ... and by row (int64)
    pairs: np.ndarray     # a root's children: pair counts (:func:`_pair_counts`)
    ranks: np.ndarray     # ... their ranks by item (3, PAIRS; int64)
    rwords: np.ndarray    # FP-Close, every item below WORD: per row of the row store, the
                          # word of its items (int64; :func:`conditional_rows`); else empty


GROW = 2  # a working array or the store is short: grow it (``need``) and search on
# where a search stands between calls of _search (``state``)
# (and the root's children whose pair counts are in ``pairs``: first member, number; 0: none)
J, DEPTH, STAMP, PENDING, P_NPATH, P_EXTRA, P_TOPR, P_COUNT, P_BASE, P_N = range(10)
# the lengths a search needs (``need``): working arrays, then more sets / items in the store
# (FREQUENT: and the longest set to be written)
N_ROWS, N_RI, N_POOL, N_MEM, N_RTABLE, N_LPOOL, N_FRAMES, N_SETS, N_ITEMS, N_LONGEST = range(10)


@njit(cache=True)
def _copy(dst, src, n):
    for t in range(n):
        dst[t] = src[t]


@njit(cache=True)
def _row_items(rows, pool, node):
    """The items of the node's rows (all, also those at or above its item)."""
    items = 0
    for p in range(node.t0, node.t1):
        items += rows[pool[p]].end - rows[pool[p]].beg
    return items


@njit(cache=True)
def _lengths(work, store, mode):
    """What the arrays take (``need``'s order): the working arrays' lengths, then the
    store's capacity in sets and items."""
    sets, items = _capacity(store, mode)
    return (len(work.rows), len(work.ri), len(work.pool), len(work.mem), len(work.rtable),
            work.lpool.shape[0], len(work.frames), sets, items)


@njit(cache=True, inline="always")
def _over(want, have):
    return want if want > have else 0


@njit(cache=True)
def _shortfall(lens, used, f, node, items, depth, mode):
    """What the arrays (lengths ``lens``, :func:`_lengths`; ``used``: the sets and items
    stored) lack for expanding ``node``, a child of frame ``f`` at ``depth`` whose rows
    hold at most ``items`` items below its item: ``need``'s first 9 entries, 0 where
    there is room. Bounds: at most ``node.item`` children, and perfect extensions and
    children together at most ``node.item`` items. (Scalars in and out: Numba
    reference-counts an array argument across branches, which here was once a node.)"""
    n = node.t1 - node.t0
    lists = used[0] if depth == 0 else 2 * f.le - f.lb + used[0] - f.ent
    if mode != MAXIMAL:
        lists = 0
    set_items = f.plen + 1 + node.item
    sets = mode != FREQUENT and (used[0] + 1 > lens[7] or used[1] + set_items > lens[8])
    return (_over(f.rtop + n, lens[0]), _over(f.itop + items, lens[1]),
            _over(f.top + items, lens[2]), _over(f.mend + node.item, lens[3]),
            _over(2 * n, lens[4]), _over(lists, lens[5]), _over(depth + 2, lens[6]),
            np.int64(1 if sets else 0), np.int64(set_items if sets else 0))


def _grown(work, need):
    """``work`` with the arrays ``need`` names grown (doubling; the hash table of reduced
    rows rebuilt empty at a power of two; FP-Close's words of the rows with the rows)."""
    rows, ri, pool, mem, rtable, lpool, frames = work[:7]
    rwords = work.rwords
    if need[N_ROWS] and len(rwords):
        rwords = _grow(rwords, need[N_ROWS])
    if need[N_RTABLE]:
        size = len(rtable)
        while size < need[N_RTABLE]:
            size *= 2
        rtable = np.zeros(size, RSLOT)
    rows, ri, pool, mem, lpool, frames = (
        _grow(a, need[x]) if need[x] else a
        for a, x in ((rows, N_ROWS), (ri, N_RI), (pool, N_POOL), (mem, N_MEM),
                     (lpool, N_LPOOL), (frames, N_FRAMES)))
    return work._replace(rows=rows, ri=ri, pool=pool, mem=mem, rtable=rtable, lpool=lpool,
                         frames=frames, rwords=rwords)


@njit(cache=True)
def _pause(state, j, depth, stamp):
    state[J], state[DEPTH], state[STAMP] = j, depth, stamp
    return GROW


@njit(cache=True)
def _start_root(frames, mem, j, n_rows, count, tops):
    """The root {j} (its n_rows rows listed in pool[:n_rows] by the caller, their weight
    ``count``) as frame 0's only member; the row store's tops (rows, items) above the
    conditional databases."""
    n_base, i_base = tops
    mem[0].item = j
    mem[0].beg = 0
    mem[0].end = n_rows
    mem[0].sup = count
    f = frames[0]
    f.pos, f.mend, f.top, f.plen, f.npath = 0, 1, n_rows, 0, 0
    f.rtop, f.itop, f.low, f.lb, f.le, f.ent = n_base, i_base, -1, 0, 0, 0
    f.k0, f.k1, f.r0, f.r1, f.pair = 0, 0, 0, 0, -1


# FREQUENT below a node of at most WORD rows: its subtree is searched over bit columns,
# with no fill scan, reduced rows or frames (:func:`_bit_columns`, :func:`_bit_search`)
WORD = 64
# a candidate item of a set: the set's rows holding it (bits of a word), item, support
BITCOL = _record("rows", "item", "sup")
# a level of that search: the candidates lat[beg:end] of a set, the next one to visit,
# the set's prefix length (path and absorbed items), path items, absorbed items and (items
# below 2^MASK_BITS) the bit mask of its path items, recoded
LEVEL = _record("beg", "end", "pos", "plen", "npath", "nextra", "q0", "q1", "q2", "q3")


@njit(cache=True)
def _prefix_mask(prefix, absorbed, plen, recode):
    """The number of absorbed items of prefix[:plen] and the bit mask of its path items,
    recoded (meaningful where the recoded items are below 2^MASK_BITS)."""
    q = (np.int64(0), np.int64(0), np.int64(0), np.int64(0))
    n_extra = 0
    for t in range(plen):
        if absorbed[t]:
            n_extra += 1
        else:
            q = order.with_bit(q, recode[prefix[t]])
    return n_extra, q


@njit(cache=True, inline="always")
def _row_members(rows, ri, r, bound, scratch, lo):
    """The children of a node (at most WORD members from ``lo``: their items have cnt > 0
    in ``scratch``) that row r holds, as a word (bit x - lo for member x), for the bit and
    wide columns: its items below ``bound`` read with no branch on whether each is a child
    (a non-child's stale slot shifts a 0). On sparse data that branch was mispredicted item
    by item: T10I4D100K 0.0001's search 0.89-1.03x (median 0.95; benchmarks/README.md,
    session 23)."""
    word = np.int64(0)
    for q in range(rows[r].beg, rows[r].end):
        i = ri[q]
        if i >= bound:
            break
        word |= np.int64(scratch[i].cnt > 0) << ((scratch[i].slot - lo) & (WORD - 1))
    return word


@njit(cache=True)
def _bit_columns(rows, ri, pool, node, scratch, mem, loc, marks):
    """FREQUENT, instead of the fill scan of a node X (:class:`Node`) of at most WORD
    rows and children: X's k-th row is bit k, its weight wts[k]; each child (members
    ``lo..hi-1``, ``marks = (lo, hi, plen, npath, (n_extra, q))``: also X's prefix length,
    path items and :func:`_prefix_mask`) gets the word of X's rows holding it in ``lat``, the first level of
    :func:`_bit_search` (``loc = (lat, lvl, wts)``; lvl[0].pos counts the levels in use)."""
    lat, lvl, wts = loc
    lo, hi, plen, npath = marks[0], marks[1], marks[2], marks[3]
    n_extra, mask = marks[4]
    for x in range(lo, hi):
        lat[x - lo].rows = 0
        lat[x - lo].item = mem[x].item
        lat[x - lo].sup = mem[x].sup
    bound = node.item
    for k in range(node.t1 - node.t0):
        r = pool[node.t0 + k]
        wts[k] = rows[r].wt
        bit = np.int64(1) << k
        b = _row_members(rows, ri, r, bound, scratch, lo)
        while b != 0:
            lat[trailing_zeros(b)].rows |= bit
            b &= b - 1
    lvl[0].pos = 1
    v = lvl[1]
    v.beg, v.end, v.pos, v.plen, v.npath, v.nextra = 0, hi - lo, 0, plen, npath, n_extra
    v.q0, v.q1, v.q2, v.q3 = mask


@njit(cache=True)
def _bit_columns_by_words(rows, rwords, pool, node, scratch, mem, loc, marks):
    """:func:`_bit_columns` where every item is below WORD and a row's word of items is
    kept (:func:`_row_word`): a row's children are the bits of its word AND theirs, its
    items are not read."""
    lat, lvl, wts = loc
    lo, hi, plen, npath = marks[0], marks[1], marks[2], marks[3]
    n_extra, mask = marks[4]
    kids = np.int64(0)
    for x in range(lo, hi):
        lat[x - lo].rows = 0
        lat[x - lo].item = mem[x].item
        lat[x - lo].sup = mem[x].sup
        kids |= np.int64(1) << mem[x].item
    for k in range(node.t1 - node.t0):
        r = pool[node.t0 + k]
        wts[k] = rows[r].wt
        bit = np.int64(1) << k
        b = _row_word(rows, rwords, r) & kids
        while b != 0:
            lat[scratch[trailing_zeros(b)].slot - lo].rows |= bit
            b &= b - 1
    lvl[0].pos = 1
    v = lvl[1]
    v.beg, v.end, v.pos, v.plen, v.npath, v.nextra = 0, hi - lo, 0, plen, npath, n_extra
    v.q0, v.q1, v.q2, v.q3 = mask


@njit(cache=True)
def _bit_search(loc, prefix, absorbed, out, form, fit, state, need):
    """FREQUENT: the subtree of a node from its bit columns (:func:`_bit_columns`), from
    where ``lvl`` stands, depth first: a candidate c of a set S (lat[pos] of S's level)
    makes S + {c}, whose candidates are S's candidates before c that S + {c}'s rows hold
    (the AND of the words; support: the weights of its bits) with at least ``minc``;
    those held by all its rows are absorbed instead (perfect extensions). Each set is
    written with every subset of its absorbed items, as :func:`_search` writes a node
    (``out = (records, tops, recode, path, extra, comb)``, ``form`` the records' layout,
    ``fit = (sets the store holds, longest set it holds, minc, max_len, limit)``).
    Where the items are below 2^MASK_BITS, a set's path comes as the bit mask of its
    level with the set's item added (no split of the prefix when nothing is absorbed).
    Returns OK, TOO_MANY, or GROW with the set's write pending in ``state`` and
    ``need`` (the store is short): the next call writes it and goes on."""
    lat, lvl, wts = loc
    records, tops, recode, path, extra, comb = out
    n_cap, longest, minc, max_len, limit = fit
    masked = form[0] <= order.MASK_BITS
    d = lvl[0].pos
    while d > 0:
        v = lvl[d]
        c = v.pos
        if c == v.end:
            d -= 1
            continue
        v.pos = c + 1
        word = lat[c].rows
        plen = v.plen
        prefix[plen] = lat[c].item
        absorbed[plen] = False
        plen += 1
        npath = v.npath + 1
        n_extra = v.nextra
        q = (v.q0, v.q1, v.q2, v.q3)
        if masked:
            q = order.with_bit(q, recode[lat[c].item])
        top = v.end
        if npath != max_len:
            for u in range(v.beg, c):
                t = lat[u].rows & word
                if t == word:
                    prefix[plen] = lat[u].item
                    absorbed[plen] = True
                    plen += 1
                    n_extra += 1
                    continue
                sup = 0
                b = t
                while b != 0:
                    sup += wts[trailing_zeros(b)]
                    b &= b - 1
                if sup >= minc:
                    lat[top].rows = t
                    lat[top].item = lat[u].item
                    lat[top].sup = sup
                    top += 1
        if top > v.end:
            d += 1
            g = lvl[d]
            g.beg, g.end, g.pos, g.plen, g.npath, g.nextra = v.end, top, v.end, plen, npath, n_extra
            g.q0, g.q1, g.q2, g.q3 = q
        top_r = n_extra if max_len <= 0 else min(n_extra, max_len - npath)
        n_sets, n_items = _subset_sizes(n_extra, top_r, npath, limit)
        count = lat[c].sup
        if tops[0] + n_sets > limit:
            lvl[0].pos = d
            return TOO_MANY
        if tops[0] + n_sets > n_cap or npath + top_r > longest:
            lvl[0].pos = d
            _split_prefix(prefix, absorbed, plen, path, extra)
            state[PENDING], state[P_NPATH], state[P_EXTRA] = 1, npath, n_extra
            state[P_TOPR], state[P_COUNT] = top_r, count
            need[N_SETS], need[N_ITEMS], need[N_LONGEST] = n_sets, n_items, npath + top_r
            return GROW
        if not masked:
            _split_prefix(prefix, absorbed, plen, path, extra)
            _emit_subsets(records, tops, form, recode, path, extra, comb,
                          (npath, n_extra, top_r, count))
            continue
        if n_extra > 0:
            _split_prefix(prefix, absorbed, plen, path, extra)
            for t in range(n_extra):
                extra[t] = recode[extra[t]]
        _write_subsets(records, tops, form, q, path, extra, comb, (npath, n_extra, top_r, count))
    lvl[0].pos = 0
    return OK


# FREQUENT below a node of WORD + 1 to WIDE rows (and at most WORD children), of weights
# below 2^PLANES, whose children hold at most FULL % of its rows on average: its subtree is
# searched over bit columns of several words, beside the one-word search above and apart
# from it (that loop is sensitive to its shape: widened in place it lost 10-25 % on the
# one-word nodes of chess and connect, benchmarks/README.md, session 13); a set of at most
# WORD rows goes on in the one-word search. Supports are popcounts of the AND with the
# weights' bit planes. The other nodes take the fill scan, which merges their rows: where
# the children hold nearly all rows (chess 0.45: 91-99 %) the reduced rows merge so much
# that the bit columns lost 1.5x (session 14); heavy rows (connect) likewise.
WIDE_WORDS = 16
WIDE = WORD * WIDE_WORDS
PLANES = 12
FULL = 80
# a candidate item of a set (its rows: its row of ``wcols``), its support
WIDECOL = _record("item", "sup")
# a level: LEVEL's fields and the number of words (``wnz``) holding its set's rows
WLEVEL = _record(*LEVEL.names, "nw")


@njit(cache=True)
def _wide_columns(rows, ri, pool, node, scratch, mem, wide, marks):
    """:func:`_bit_columns` for a node X of WORD + 1 to WIDE rows: X's k-th row is bit
    k % WORD of word k // WORD, and of ``planes[b]`` where bit b of its weight is set;
    each child gets a row of ``wcols`` and a candidate of ``wlat``, the first level of
    :func:`_wide_search` (``wide = (wlat, wlvl, wcols, wnz, planes, wwts)``; wlvl[0]: levels in
    use (pos) and planes (nw)). Returns False, with nothing written, where a weight has
    more than PLANES bits, the children hold more than FULL % of X's rows on average (or
    X has more rows than WIDE). ``marks = (the marks of :func:`_bit_columns`, words)``:
    with ``words``, a row's children are the bits of its key (:func:`conditional_rows`)."""
    wlat, wlvl, wcols, wnz, planes, wwts = wide
    marks, words = marks
    lo, hi, plen, npath = marks[0], marks[1], marks[2], marks[3]
    n_extra, mask = marks[4]
    n = node.t1 - node.t0
    n_words = (n + WORD - 1) // WORD
    heavy = 0
    for k in range(n):
        heavy |= rows[pool[node.t0 + k]].wt
    n_planes = 0
    while heavy >> n_planes:
        n_planes += 1
    held = 0   # the children's rows, all together
    for x in range(lo, hi):
        held += scratch[mem[x].item].nrow
    if n_planes > PLANES or n_words > WIDE_WORDS or 100 * held > FULL * n * (hi - lo):
        return False
    kids = np.int64(0)
    for x in range(lo, hi):
        wlat[x - lo].item = mem[x].item
        wlat[x - lo].sup = mem[x].sup
        kids |= np.int64(1) << (mem[x].item & 63)
        for w in range(n_words):
            wcols[x - lo, w] = 0
    for w in range(n_words):
        wnz[1, w] = w
        for b in range(n_planes):
            planes[b, w] = 0
    bound = node.item
    for k in range(n):
        r = pool[node.t0 + k]
        wt = rows[r].wt
        wwts[k] = wt
        w = k // WORD
        bit = np.int64(1) << (k % WORD)
        for b in range(n_planes):
            if (wt >> b) & 1:
                planes[b, w] |= bit
        if words:   # (:func:`_bit_columns_by_words`)
            b = rows[r].key & kids
            while b != 0:
                wcols[scratch[trailing_zeros(b)].slot - lo, w] |= bit
                b &= b - 1
            continue
        b = _row_members(rows, ri, r, bound, scratch, lo)
        while b != 0:
            wcols[trailing_zeros(b), w] |= bit
            b &= b - 1
    wlvl[0].pos, wlvl[0].nw = 1, n_planes
    v = wlvl[1]
    v.beg, v.end, v.pos, v.plen, v.npath, v.nextra = 0, hi - lo, 0, plen, npath, n_extra
    v.q0, v.q1, v.q2, v.q3 = mask
    v.nw = n_words
    return True


@njit(cache=True)
def _narrowed(wide, loc, c, s_rows, cands, level):
    """S + {c} of the wide search, held by at most WORD rows (the bits of c's column in
    its words wnz[d, :nw], ``s_rows = (d, nw)``), as the first level of the one-word
    search (:func:`_bit_search`, ``loc``): its k-th row becomes bit k, its weight wts[k],
    and each of its candidates (wlat[beg:end], ``cands``) the word of its rows among
    them; ``level = (plen, npath, n_extra, q)`` as in LEVEL."""
    wlat, wcols, wnz, wwts = wide[0], wide[2], wide[3], wide[5]
    lat, lvl, wts = loc
    d, nw = s_rows
    beg, end = cands
    for x in range(beg, end):
        lat[x - beg].rows = 0
        lat[x - beg].item = wlat[x].item
        lat[x - beg].sup = wlat[x].sup
    k = 0
    for t in range(nw):
        w = wnz[d, t]
        b = wcols[c, w]
        while b != 0:
            z = trailing_zeros(b)
            wts[k] = wwts[w * WORD + z]
            bit = np.int64(1) << k
            for x in range(beg, end):
                if (wcols[x, w] >> z) & 1:
                    lat[x - beg].rows |= bit
            k += 1
            b &= b - 1
    plen, npath, n_extra, q = level
    lvl[0].pos = 1
    v = lvl[1]
    v.beg, v.end, v.pos, v.plen, v.npath, v.nextra = 0, end - beg, 0, plen, npath, n_extra
    v.q0, v.q1, v.q2, v.q3 = q


@njit(cache=True)
def _wide_search(searches, prefix, absorbed, out, form, fit, state, need):
    """:func:`_bit_search` over the columns of :func:`_wide_columns`: S + {c}'s
    candidates are the AND of S's candidates' columns with c's, over the words where c's
    column holds rows (S + {c}'s words, listed in ``wnz`` for its level: a deeper set's
    rows lie in fewer words; the other words of a column are never read); a support is
    the popcount of each word with each weight plane, times the plane's value. A set of
    at most WORD rows is searched on by the one-word search (``searches = (wide, loc)``:
    the arrays of both, :func:`_narrowed`)."""
    wide, loc = searches
    wlat, wlvl, wcols, wnz, planes, wwts = wide
    records, tops, recode, path, extra, comb = out
    n_cap, longest, minc, max_len, limit = fit
    masked = form[0] <= order.MASK_BITS
    d, n_planes = wlvl[0].pos, wlvl[0].nw
    while d > 0:
        v = wlvl[d]
        c = v.pos
        if c == v.end:
            d -= 1
            continue
        v.pos = c + 1
        plen = v.plen
        prefix[plen] = wlat[c].item
        absorbed[plen] = False
        plen += 1
        npath = v.npath + 1
        n_extra = v.nextra
        q = (v.q0, v.q1, v.q2, v.q3)
        if masked:
            q = order.with_bit(q, recode[wlat[c].item])
        top = v.end
        nw = n_rows = 0
        if npath != max_len:
            for t in range(v.nw):
                w = wnz[d, t]
                if wcols[c, w] != 0:
                    wnz[d + 1, nw] = w
                    nw += 1
                    n_rows += popcount(np.uint64(wcols[c, w]))
            for u in range(v.beg, c):
                diff = 0   # the AND, written where u's candidate goes if kept
                sup = np.uint64(0)
                for t in range(nw):
                    w = wnz[d + 1, t]
                    a = wcols[c, w]
                    x = wcols[u, w] & a
                    wcols[top, w] = x
                    diff |= x ^ a
                    for b in range(n_planes):
                        sup += popcount(np.uint64(x & planes[b, w])) << np.uint64(b)
                if diff == 0:
                    prefix[plen] = wlat[u].item
                    absorbed[plen] = True
                    plen += 1
                    n_extra += 1
                    continue
                if np.int64(sup) >= minc:
                    wlat[top].item = wlat[u].item
                    wlat[top].sup = np.int64(sup)
                    top += 1
        if top > v.end and n_rows <= WORD:
            _narrowed(wide, loc, c, (d + 1, nw), (v.end, top), (plen, npath, n_extra, q))
        elif top > v.end:
            d += 1
            g = wlvl[d]
            g.beg, g.end, g.pos, g.plen, g.npath, g.nextra = v.end, top, v.end, plen, npath, n_extra
            g.q0, g.q1, g.q2, g.q3 = q
            g.nw = nw
        status = _write_set(prefix, absorbed, out, form, fit, state, need,
                            (plen, npath, n_extra, wlat[c].sup, q))
        if status == OK and loc[1][0].pos > 0:
            status = _bit_search(loc, prefix, absorbed, out, form, fit, state, need)
        if status != OK:
            wlvl[0].pos = d
            return status
    wlvl[0].pos = 0
    return OK


@njit(cache=True, inline="always")
def _write_set(prefix, absorbed, out, form, fit, state, need, what):
    """The records of a set of the bit search (``what = (plen, npath, n_extra, count,
    q)``: its prefix, path items, absorbed items, support and path mask) with every subset
    of its absorbed items; OK, TOO_MANY, or GROW with the write pending in ``state``.
    :func:`_bit_search` keeps the same steps written out: calling this there made the
    one-word search 1.07-1.28x slower on chess and connect (benchmarks/README.md, session 14)."""
    records, tops, recode, path, extra, comb = out
    n_cap, longest, minc, max_len, limit = fit
    plen, npath, n_extra, count, q = what
    top_r = n_extra if max_len <= 0 else min(n_extra, max_len - npath)
    n_sets, n_items = _subset_sizes(n_extra, top_r, npath, limit)
    if tops[0] + n_sets > limit:
        return TOO_MANY
    if tops[0] + n_sets > n_cap or npath + top_r > longest:
        _split_prefix(prefix, absorbed, plen, path, extra)
        state[PENDING], state[P_NPATH], state[P_EXTRA] = 1, npath, n_extra
        state[P_TOPR], state[P_COUNT] = top_r, count
        need[N_SETS], need[N_ITEMS], need[N_LONGEST] = n_sets, n_items, npath + top_r
        return GROW
    if form[0] > order.MASK_BITS:
        _split_prefix(prefix, absorbed, plen, path, extra)
        _emit_subsets(records, tops, form, recode, path, extra, comb,
                      (npath, n_extra, top_r, count))
        return OK
    if n_extra > 0:
        _split_prefix(prefix, absorbed, plen, path, extra)
        for t in range(n_extra):
            extra[t] = recode[extra[t]]
    _write_subsets(records, tops, form, q, path, extra, comb, (npath, n_extra, top_r, count))
    return OK


@njit(cache=True)
def _row_keys(rows, pool, node, keys):
    """FP-Close: keys[k] = the tid-set key of X's k-th row (:class:`Node`; bit k of
    :func:`_bit_columns`)."""
    for k in range(node.t1 - node.t0):
        keys[k] = rows[pool[node.t0 + k]].key


@njit(cache=True)
def _closed_bit_search(loc, keys, prefix, found, fit, need):
    """FP-Close: the subtree of a node of at most WORD rows from its bit columns
    (:func:`_bit_columns`, members sorted largest item first), from where ``lvl`` stands,
    in :func:`_search`'s order: a candidate c of a set S (lat[pos] of S's level) makes S +
    {c}, its rows the word lat[c].rows. If a stored set has S + {c}'s tid-set key (the sum
    of its rows' ``keys``), count and items, it is S + {c}'s closure and the subtree is
    pruned; else S + {c}'s candidates are S's candidates after c (smaller items) that its
    rows hold with at least ``minc`` (the AND of the words), those in all its rows
    absorbed, and S + {c} with them is stored (``found``: the store's items, meta, links,
    head, tops, aux; ``fit = (sets, items the store takes, minc, limit)``). No fill scan,
    reduced rows or frames: connect and mushroom's FP-Close nodes are nearly all of at
    most 64 distinct rows. Returns OK, TOO_MANY, or GROW with ``need`` set (the store is
    short): the next call starts that candidate anew. The AND over the candidates is
    :func:`_bit_search`'s, written out as there (see :func:`_write_set` for why)."""
    lat, lvl, wts = loc
    items, meta, links, head, tops, aux = found
    n_cap, i_cap, minc, limit = fit
    d = lvl[0].pos
    while d > 0:
        v = lvl[d]
        c = v.pos
        if c == v.end:
            d -= 1
            continue
        plen = v.plen
        most = plen + v.end - c   # S, c and every candidate after c
        if tops[0] + 1 > limit:
            lvl[0].pos = d
            return TOO_MANY
        if tops[0] + 1 > n_cap or tops[1] + most > i_cap:
            lvl[0].pos = d
            need[N_SETS], need[N_ITEMS] = 1, most
            return GROW
        v.pos = c + 1
        word = lat[c].rows
        count = lat[c].sup
        prefix[plen] = lat[c].item
        plen += 1
        key = 0
        b = word
        while b != 0:
            key += keys[trailing_zeros(b)]
            b &= b - 1
        if _has_closure(items, meta, aux, key, count, prefix, plen):
            continue
        top = v.end
        for u in range(c + 1, v.end):
            t = lat[u].rows & word
            if t == word:
                prefix[plen] = lat[u].item
                plen += 1
                continue
            sup = 0
            b = t
            while b != 0:
                sup += wts[trailing_zeros(b)]
                b &= b - 1
            if sup >= minc:
                lat[top].rows = t
                lat[top].item = lat[u].item
                lat[top].sup = sup
                top += 1
        _store(items, meta, links, head, tops, aux, prefix, (plen, count, key, CLOSED))
        if top > v.end:
            d += 1
            g = lvl[d]
            g.beg, g.end, g.pos, g.plen = v.end, top, v.end, plen
    lvl[0].pos = 0
    return OK


@njit(cache=True, inline="always")
def _with_item(w, item):
    """The 2-word mask ``w`` with ``item`` (below MASK_ITEMS) added."""
    if item < 64:
        return w[0] | (np.int64(1) << item), w[1]
    return w[0], w[1] | (np.int64(1) << (item - 64))


@njit(cache=True, inline="always")
def _words_weight(wts, word):
    """The weight of the rows of ``word`` (bit k: the node's k-th row, weight wts[k])."""
    sup = 0
    while word != 0:
        sup += wts[trailing_zeros(word)]
        word &= word - 1
    return sup


@njit(cache=True, inline="always")
def _list_room(span, n_sets):
    """FP-Max's bit searches: the lpool rows a list cut from a level's (``span = (lb, le,
    ent)``, :func:`_cut_list`) may reach, n_sets stored."""
    lb, le, ent = span
    return 2 * le - lb + n_sets - ent


@njit(cache=True)
def _cut_list(lpool, masks, span, n_sets, item):
    """FP-Max's bit searches: the list of S + {item} from lpool[le] on (room checked,
    :func:`_list_room`): the masks of S's list lpool[lb:le] and of the sets stored from
    ``ent`` on (``span = (lb, le, ent)``; n_sets stored, their ``masks``) that hold the
    item; returns its end. A level's check then scans its own list, not the node's and
    every set stored below it (on mushroom 0.1 that made the search from large nodes 5x
    slower: benchmarks/README.md, session 16)."""
    lb, le, ent = span
    w, b = (0, item) if item < 64 else (1, item - 64)
    end = le
    for x in range(lb, le):
        if (lpool[x, w] >> b) & 1:
            lpool[end, 0] = lpool[x, 0]
            lpool[end, 1] = lpool[x, 1]
            end += 1
    for z in range(ent, n_sets):
        if (masks[z, w] >> b) & 1:
            lpool[end, 0] = masks[z, 0]
            lpool[end, 1] = masks[z, 1]
            end += 1
    return end


@njit(cache=True, inline="always")
def _maximal_room(v, c, tops, lpool, fit, need):
    """FP-Max's bit searches, before candidate c of level ``v``: the span (lb, le, ent) of
    the level's list (:func:`_cut_list`) and whether the store or lpool is short for S +
    {c} (``fit = (sets, items the store takes, ...)``; then ``need`` is set for GROW)."""
    most = v.plen + v.end - c   # S, c and every candidate after c
    span = (v.npath, v.nextra, v.q2)
    lists = _list_room(span, tops[0])
    short = tops[0] + 1 > fit[0] or tops[1] + most > fit[1] or lists > lpool.shape[0]
    if short:
        need[N_SETS], need[N_ITEMS], need[N_LPOOL] = 1, most, _over(lists, lpool.shape[0])
    return short, span


@njit(cache=True, inline="always")
def _maximal_covered(lat, cands, w, found, lpool, span):
    """FP-Max's bit searches: whether a set of the level's list or one stored below X
    holds S + {c} + P (its mask ``w``) with all its candidates lat[beg:top] (``cands``)."""
    q = w
    for x in range(cands[0], cands[1]):
        q = _with_item(q, lat[x].item)
    return _covered(found[5], found[4][0], lpool, span, q[0], q[1])


@njit(cache=True, inline="always")
def _maximal_store(lat, cands, prefix, plen, count, found, limit):
    """FP-Max's bit searches: stores the maximal S + {c} + P (prefix[:plen]) with all its
    candidates lat[beg:top] (``cands``) of support ``count``; TOO_MANY past ``limit``."""
    items, meta, links, head, tops, aux = found
    n = plen
    for x in range(cands[0], cands[1]):
        prefix[n] = lat[x].item
        n += 1
    if tops[0] + 1 > limit:
        return TOO_MANY
    _store(items, meta, links, head, tops, aux, prefix, (n, count, 0, MAXIMAL))
    return OK


@njit(cache=True, inline="always")
def _maximal_push(lvl, d, cands, plen, w, lists):
    """FP-Max's bit searches: level d + 1 for S + {c}'s candidates lat[beg:top]
    (``cands``), its prefix length, mask ``w`` and list span ``lists = (lb, le, ent)``."""
    g = lvl[d + 1]
    g.beg, g.end, g.pos, g.plen = cands[0], cands[1], cands[0], plen
    g.q0, g.q1 = w
    g.npath, g.nextra, g.q2 = lists


@njit(cache=True)
def _maximal_bit_search(loc, lpool, prefix, found, fit, need):
    """FP-Max (m <= MASK_ITEMS): the subtree of a node X of at most WORD rows from its bit
    columns (:func:`_bit_columns`, members sorted largest item first), from where ``lvl``
    stands, in :func:`_search`'s order: a candidate c of a set S (lat[pos] of S's level)
    makes S + {c}, whose candidates are S's candidates after c (smaller items) that its
    rows hold with at least ``minc`` (the AND of the words), those in all its rows absorbed
    (P). If a set of X's list lpool[lb:le] or one stored below X (from set ``ent`` on;
    a level's npath, nextra, q2 = lb, le, ent: its list, cut per level by
    :func:`_cut_list`) holds S + {c} + P + all its candidates,
    the subtree is pruned: the query is a mask of the items below X's item and X's
    absorbed ones (q0, q1 of a level: S's), as X's list cuts its masks. Else, if all its
    candidates' rows together weigh at least ``minc`` (look-ahead; no candidate: S + {c}
    + P), that set is maximal and stored; else its candidates make the next level.
    ``found``: the store's items, meta, links, head, tops, aux; ``fit = (sets, items
    the store takes, minc, limit)``. Returns OK, TOO_MANY, or GROW with ``need`` set (the
    store is short): the next call starts that candidate anew. The AND over the
    candidates is :func:`_bit_search`'s, written out as there (see :func:`_write_set`)."""
    lat, lvl, wts = loc
    tops, aux = found[4], found[5]
    minc, limit = fit[2], fit[3]
    d = lvl[0].pos
    while d > 0:
        v = lvl[d]
        c = v.pos
        if c == v.end:
            d -= 1
            continue
        short, span = _maximal_room(v, c, tops, lpool, fit, need)
        if short:
            lvl[0].pos = d
            return GROW
        v.pos = c + 1
        plen = v.plen
        word = lat[c].rows
        prefix[plen] = lat[c].item
        plen += 1
        w = _with_item((v.q0, v.q1), lat[c].item)
        every = word
        top = v.end
        for u in range(c + 1, v.end):
            t = lat[u].rows & word
            if t == word:
                prefix[plen] = lat[u].item
                plen += 1
                w = _with_item(w, lat[u].item)
                continue
            sup = _words_weight(wts, t)
            if sup >= minc:
                lat[top].rows = t
                lat[top].item = lat[u].item
                lat[top].sup = sup
                top += 1
                every &= t
        if _maximal_covered(lat, (v.end, top), w, found, lpool, span):
            continue
        count = lat[c].sup
        if top > v.end:
            count = _words_weight(wts, every)
        if top == v.end or count >= minc:   # S + {c} + P (+ all candidates) is maximal
            if _maximal_store(lat, (v.end, top), prefix, plen, count, found, limit) != OK:
                lvl[0].pos = d
                return TOO_MANY
            continue
        le = _cut_list(lpool, aux, span, tops[0], lat[c].item)
        _maximal_push(lvl, d, (v.end, top), plen, w, (span[1], le, tops[0]))
        d += 1
    lvl[0].pos = 0
    return OK


SHALLOW = 3  # FP-Max: the wide search below a node of at most this many times minc


@njit(cache=True, inline="always")
def _takes_reduced(n_red, count, minc):
    """Whether FP-Max searches a node X of n_red reduced rows (after its fill scan) and
    support ``count`` by the bit columns of those rows (:func:`_reduced_columns`): up to
    WORD rows always; WORD + 1 to WIDE rows (the multi-word search) only where count is at
    most SHALLOW times minc. Its columns keep X's rows at every depth, where frames merge
    equal rows level by level: below X of a larger count (a deeper subtree) the frames
    won (in process, mushroom 0.07 / 0.1: the wide search at every count 1.0-1.2x the
    search by frames, at counts of at most 3 minc 0.95x / 0.9x, best of three rounds;
    mushroom 0.3 / 0.2 kept 0.6x; benchmarks/README.md, session 17)."""
    return n_red <= WORD or (n_red <= WIDE and count <= SHALLOW * minc)


@njit(cache=True)
def _reduced_columns(rows, ri, pool, span, scratch, mem, searches, marks):
    """FP-Max, after the fill scan of a node X (:class:`Node`) of at most WORD children: X's
    reduced rows rows[r0:r1] (``span = (p0, r0, r1, X)``: listed in pool[p0:], above the
    children's tid-lists, where the pool has room) as the bit columns of the one-word search
    (at most WORD rows, :func:`_bit_columns`) or the multi-word one (:func:`_wide_columns`,
    its gates taken with the children's reduced rows), ``marks = (lo, hi, plen, npath,
    keep)``: members lo..hi-1, X's prefix length, path items and the mask of its absorbed
    items. Equal rows are merged there (mushroom: about 8 rows into 1), so a node of
    hundreds of rows mostly fits one word, and its subtree is searched by bits instead of
    frames, each child with its own count scan (benchmarks/README.md, session 16). Returns
    lo (taken: no frame) or hi."""
    p0, r0, r1, node = span
    lo, hi, plen, npath, keep = marks
    loc, wide = searches
    n = r1 - r0
    if p0 + n > len(pool):
        return hi
    for k in range(n):
        pool[p0 + k] = r0 + k
    red = Node(p0, p0 + n, node.item, node.count)
    bits = (lo, hi, plen, npath, (np.int64(0), (keep[0], keep[1], np.int64(0), np.int64(0))))
    if n <= WORD:
        _bit_columns(rows, ri, pool, red, scratch, mem, loc, bits)
        return lo
    for x in range(lo, hi):
        scratch[mem[x].item].nrow = mem[x].end - mem[x].beg
    if _wide_columns(rows, ri, pool, red, scratch, mem, wide, (bits, False)):
        return lo
    return hi


@njit(cache=True)
def _wide_and_weight(wide, s_rows, c, cands):
    """The weight of the rows that column ``c`` and all columns wcols[lo:hi] (``cands``)
    hold, over the words wnz[d, :nw] (``s_rows = (d, nw)``; :func:`_wide_columns`): FP-Max's
    look-ahead, S + {c} + P + all its candidates, in the multi-word search."""
    wcols, wnz, planes, n_planes = wide[2], wide[3], wide[4], wide[1][0].nw
    d, nw = s_rows
    lo, hi = cands
    sup = np.uint64(0)
    for t in range(nw):
        w = wnz[d, t]
        e = wcols[c, w]
        for x in range(lo, hi):
            e &= wcols[x, w]
        for b in range(n_planes):
            sup += popcount(np.uint64(e & planes[b, w])) << np.uint64(b)
    return np.int64(sup)


@njit(cache=True)
def _maximal_wide_search(searches, lpool, prefix, found, fit, need):
    """FP-Max (m <= MASK_ITEMS): :func:`_maximal_bit_search` below a node X of WORD + 1 to
    WIDE rows, over the multi-word columns of :func:`_wide_columns` (FP-Growth's, shared):
    S + {c}'s candidates are S's after c, ANDed with c's column over the words where c's
    column holds rows (``wnz``, as :func:`_wide_search`), supports from the weight planes,
    those in all its rows absorbed (P). The maximality test is the one-word search's: X's
    list and the sets stored below X (a level's npath, nextra, q2 = lb, le, ent of its list, :func:`_cut_list`) against
    the mask of S + {c} + P + all candidates (q0, q1 of a level: S's items below X's item
    and X's absorbed ones); not covered, the look-ahead (:func:`_wide_and_weight`) stores it
    or its candidates make the next level, handed to the one-word search once they lie in
    at most WORD rows (:func:`_narrowed`; ``searches = (wide, loc)``). On mushroom the
    nodes of more than WORD rows were 81-85 % of FP-Max's search, their count and fill
    scans (benchmarks/README.md, session 15). Returns OK, TOO_MANY, or GROW with ``need``
    set (the next call starts that candidate anew, or goes on in the one-word search)."""
    wide, loc = searches
    wlat, wlvl, wcols, wnz, planes = wide[0], wide[1], wide[2], wide[3], wide[4]
    tops, aux = found[4], found[5]
    minc, limit = fit[2], fit[3]
    d, n_planes = wlvl[0].pos, wlvl[0].nw
    while d > 0:
        v = wlvl[d]
        c = v.pos
        if c == v.end:
            d -= 1
            continue
        short, span = _maximal_room(v, c, tops, lpool, fit, need)
        if short:
            wlvl[0].pos = d
            return GROW
        v.pos = c + 1
        plen = v.plen
        prefix[plen] = wlat[c].item
        plen += 1
        w = _with_item((v.q0, v.q1), wlat[c].item)
        top = v.end
        nw = n_rows = 0
        for t in range(v.nw):
            x = wnz[d, t]
            if wcols[c, x] != 0:
                wnz[d + 1, nw] = x
                nw += 1
                n_rows += popcount(np.uint64(wcols[c, x]))
        for u in range(c + 1, v.end):
            diff = 0   # the AND, written where u's candidate goes if kept
            sup = np.uint64(0)
            for t in range(nw):
                x = wnz[d + 1, t]
                a = wcols[c, x]
                e = wcols[u, x] & a
                wcols[top, x] = e
                diff |= e ^ a
                for b in range(n_planes):
                    sup += popcount(np.uint64(e & planes[b, x])) << np.uint64(b)
            if diff == 0:
                prefix[plen] = wlat[u].item
                plen += 1
                w = _with_item(w, wlat[u].item)
                continue
            if np.int64(sup) >= minc:
                wlat[top].item = wlat[u].item
                wlat[top].sup = np.int64(sup)
                top += 1
        if _maximal_covered(wlat, (v.end, top), w, found, lpool, span):
            continue
        count = wlat[c].sup
        if top > v.end:
            count = _wide_and_weight(wide, (d + 1, nw), c, (v.end, top))
        if top == v.end or count >= minc:   # S + {c} + P (+ all candidates) is maximal
            if _maximal_store(wlat, (v.end, top), prefix, plen, count, found, limit) != OK:
                wlvl[0].pos = d
                return TOO_MANY
            continue
        le = _cut_list(lpool, aux, span, tops[0], wlat[c].item)
        if n_rows <= WORD:
            _narrowed(wide, loc, c, (d + 1, nw), (v.end, top),
                      (plen, span[1], le, (w[0], w[1], tops[0], np.int64(0))))
            status = _maximal_bit_search(loc, lpool, prefix, found, fit, need)
            if status != OK:
                wlvl[0].pos = d
                return status
            continue
        _maximal_push(wlvl, d, (v.end, top), plen, w, (span[1], le, tops[0]))
        d += 1
        wlvl[d].nw = nw
    wlvl[0].pos = 0
    return OK


@njit(cache=True, _nrt=False)
def _search(work, first, owned, options, store, state, need, marks):
    """The depth-first search of :func:`mine_range` from where ``state`` stands (group j,
    depth of the path, hash stamp, a pending FREQUENT write) down to group ``lo``
    (``marks = (lo, rows, items)``: also the row store's tops above the conditional
    databases), over arrays it never replaces (a loop that reassigns arrays pays Numba's
    atomic reference counts for each at every join of its branches). Returns OK,
    TOO_MANY, or GROW with ``need`` set.

    Compiled without Numba's reference counts (``_nrt=False``; the kernels it calls inherit
    it, and none allocates: the caller owns every array): a large kernel counted each array
    passed to it in and out, atomically, at every call (Numba's pass that drops such pairs
    gives up on large functions: _bit_search, _wide_search, _wide_columns, _search itself),
    6 % of FP-Growth's samples on T10I4D100K (benchmarks/README.md, session 23)."""
    m, minc, max_len, limit, mode = options[:5]
    lo, n_base, i_base = marks
    rows, ri, pool, mem, rtable, lpool, frames = work[:7]
    scratch, prefix, absorbed, path, extra, comb, buf = work[7:14]
    loc = work[14:17]
    lat, lvl, wts, keys = loc[0], loc[1], loc[2], work.keys
    wide = work[18:24]
    pairs, ranks, rwords = work.pairs, work.ranks, work.rwords
    wlvl = wide[1]
    items, meta, links, head, tops, aux = store[:6]
    records, recode = store.records, store.recode   # FREQUENT's
    form = (store.form[0], store.form[1], store.form[2])
    longest = _longest_in(records, form)
    lens = _lengths(work, store, mode)
    out = (records, tops, recode, path, extra, comb)
    fit = (lens[N_SETS], longest, minc, max_len, limit)
    found = (items, meta, links, head, tops, aux)
    c_fit = (lens[N_SETS], lens[N_ITEMS], minc, limit)
    # FP-Close over bit columns below nodes of at most WORD rows (every length only: a
    # node at max_len is stored without its perfect extensions)
    closed_bits = mode == CLOSED and max_len <= 0
    # FP-Max likewise, over masks of its sets (m <= MASK_ITEMS)
    maximal_bits = mode == MAXIMAL and max_len <= 0 and m <= MASK_ITEMS
    # FREQUENT and FP-Close with every item below WORD: the rows' words of items are kept
    # (:func:`_row_word`: FREQUENT's in their keys, FP-Close's in rwords)
    words = (mode == FREQUENT or mode == CLOSED) and m <= WORD
    if state[PENDING]:  # the subsets of the last set, once the store had room
        _emit_subsets(records, tops, form, recode, path, extra, comb,
                      (state[P_NPATH], state[P_EXTRA], state[P_TOPR], state[P_COUNT]))
        state[PENDING] = 0
    if lvl[0].pos > 0:  # the bit search below the last node goes on
        if mode == CLOSED:
            status = _closed_bit_search(loc, keys, prefix, found, c_fit, need)
        elif mode == MAXIMAL:
            status = _maximal_bit_search(loc, lpool, prefix, found, c_fit, need)
        else:
            status = _bit_search(loc, prefix, absorbed, out, form, fit, state, need)
        if status != OK:
            return status
    if wlvl[0].pos > 0:   # (after the one-word search it handed a set to)
        if mode == MAXIMAL:
            status = _maximal_wide_search((wide, loc), lpool, prefix, found, c_fit, need)
        else:
            status = _wide_search((wide, loc), prefix, absorbed, out, form, fit, state, need)
        if status != OK:
            return status
    j, depth, stamp = state[J], state[DEPTH], state[STAMP]
    while j >= lo:
        if depth < 0:  # the root of group j
            r0, r1 = first[j - lo], first[j - lo + 1]
            count = 0
            for r in range(r0, r1):
                count += rows[r].wt
            if not owned[j] or count < minc:
                j -= 1
                continue
            if r1 - r0 > len(pool):
                need[N_POOL] = r1 - r0
                return _pause(state, j, depth, stamp)
            for t in range(r1 - r0):
                pool[t] = r0 + t
            _start_root(frames, mem, j, r1 - r0, count, (n_base, i_base))
            depth = 0
        f = frames[depth]
        if f.pos == f.mend:
            depth -= 1
            if depth < 0:
                j -= 1
            continue
        a = f.pos
        node = Node(mem[a].beg, mem[a].end, mem[a].item, mem[a].sup)
        bound = (node.t1 - node.t0) * node.item  # items below node.item in its rows
        if f.top + bound > lens[N_POOL] or f.itop + bound > lens[N_RI]:
            bound = _row_items(rows, pool, node)
        short = _shortfall(lens, (tops[0], tops[1]), f, node, bound, depth, mode)
        if max(short) > 0:
            for x in range(len(short)):
                need[x] = short[x]
            return _pause(state, j, depth, stamp)
        f.pos += 1
        if depth == 0:   # a new root: no pair counts (yet)
            state[P_N] = 0
        # what earlier siblings' subtrees allocated lies above the frame's marks
        mtop, top, rtop, itop = f.mend, f.top, f.rtop, f.itop
        plen = f.plen
        npath = f.npath + 1
        prefix[plen] = node.item
        absorbed[plen] = False
        plen += 1
        first_child = mtop
        # FP-Max: the stored sets that may hold X: a root lists those holding its
        # item; deeper, the parent's list and what was stored since (X's own list is
        # made only if X gets children)
        span = (f.lb, f.le, f.ent)
        if mode == MAXIMAL and depth == 0:
            span = (0, _root_supersets(store, lpool, node.item, m), tops[0])
        n_perfect = n_seen = n_rows = 0
        key = 0
        prune = False
        if mode == CLOSED:  # X's closure found before it (same rows, more items)?
            key = _closure_key(rows, pool, node)
            prune = _has_closure(items, meta, aux, key, node.count, prefix, plen)
        elif mode == MAXIMAL and depth > 0 and m <= MASK_ITEMS:
            # before the scan: X's absorbed items, X and its unvisited siblings (smaller
            # items: all that X's rows can hold) inside a listed set? then so is X + P +
            # all children (FPMax*'s check on a superset of X's tail)
            prune = _covered(aux, tops[0], lpool, span, f.k0 | f.r0, f.k1 | f.r1)
            if node.item < 64:
                f.r0 &= ~(np.int64(1) << node.item)
            else:
                f.r1 &= ~(np.int64(1) << (node.item - 64))
        # a child's rows hold only its siblings' items: the lowest sibling is a leaf
        if f.pair >= 0:   # FREQUENT, X's parent had two children: X's item a and f.low
            # b < a; X + b is X's only possible child, weighed by the parent (no scan)
            if npath != max_len and node.item != f.low:
                if f.pair == node.count:
                    scratch[0].perfect = f.low
                    n_perfect = 1
                elif f.pair >= minc:
                    mem[mtop].item, mem[mtop].sup = f.low, f.pair
                    mem[mtop].beg, mem[mtop].end = top, top
                    mtop += 1
        elif depth == 1 and state[P_N] > 0:
            if not prune and npath != max_len and node.item != f.low:
                mtop, top, n_perfect, n_seen = _pair_children(
                    pairs, ranks, (state[P_BASE], a), node, minc, scratch, mem, (mtop, top))
        elif words and not prune and npath != max_len and node.item != f.low \
                and _may_branch(rows, ri, pool, node, minc):
            mtop, top, n_perfect, n_seen, n_rows = _children_by_words(
                rows, rwords, pool, node, minc, scratch, mem, (mtop, top))
        elif not prune and npath != max_len and node.item != f.low \
                and _may_branch(rows, ri, pool, node, minc):
            mtop, top, n_perfect, n_seen, n_rows = _children(
                rows, ri, pool, node, minc, scratch, mem, (mtop, top))
        if mode != FREQUENT and mtop - first_child > 1:
            _sort_members(mem, first_child, mtop, scratch)
        for t in range(n_perfect):
            prefix[plen] = scratch[t].perfect
            absorbed[plen] = True
            plen += 1
        n_child = mtop - first_child
        if mode == MAXIMAL and not prune:  # X + P + all children inside a stored set?
            # the sets of span hold the parent's path items: check X's item and the rest
            n = _absorbed_and_children(prefix, absorbed, plen, mem, first_child, mtop, buf)
            if m <= MASK_ITEMS:
                w0, w1 = _mask(buf, n)
                prune = _covered(aux, tops[0], lpool, span, w0, w1)
            else:
                prune = _covered_ids(items, meta, aux, tops[0], lpool, span, buf, n)
        if prune:
            mtop = first_child
        # FREQUENT, one child c: X + c is a leaf (its children would be X's too), its
        # support counted: no bit columns, no fill scan (the frame visits c unscanned)
        lone = mode == FREQUENT and n_child == 1
        # FREQUENT, two children a > b: X + b is a leaf and X + a's only possible child is
        # b, of the weight of X's rows holding both: one pass weighs them (frame's pair),
        # no bit columns, no fill scan (the frame visits a and b unscanned)
        duo = mode == FREQUENT and n_child == 2
        pair = -1
        if duo:
            pair = 0
            if npath + 1 != max_len:
                a_item = max(mem[first_child].item, mem[first_child + 1].item)
                b_item = min(mem[first_child].item, mem[first_child + 1].item)
                pair = _pair_weight(rows, ri, rwords, pool, node, a_item, b_item, words)
            mem[first_child + 1].beg = mem[first_child + 1].end = mem[first_child].beg
        if lone or duo:   # the tid-list room, never filled, handed back (no rows read)
            top = mem[first_child].beg
            mem[first_child].end = top
        if mode == FREQUENT and mtop > first_child and n_child <= WORD and not (lone or duo):
            bits = (first_child, mtop, plen, npath, _prefix_mask(prefix, absorbed, plen, recode))
            if words and node.t1 - node.t0 <= WORD:
                _bit_columns_by_words(rows, rwords, pool, node, scratch, mem, loc, bits)
                mtop = first_child
            elif node.t1 - node.t0 <= WORD:
                _bit_columns(rows, ri, pool, node, scratch, mem, loc, bits)
                mtop = first_child
            elif node.t1 - node.t0 <= WIDE and _wide_columns(
                    rows, ri, pool, node, scratch, mem, wide, (bits, words)):
                mtop = first_child
        if closed_bits and mtop > first_child and node.t1 - node.t0 <= WORD and n_child <= WORD:
            cols = (first_child, mtop, plen, npath,
                    (np.int64(0), (np.int64(0), np.int64(0), np.int64(0), np.int64(0))))
            if words:
                _bit_columns_by_words(rows, rwords, pool, node, scratch, mem, loc, cols)
            else:
                _bit_columns(rows, ri, pool, node, scratch, mem, loc, cols)
            _row_keys(rows, pool, node, keys)
            mtop = first_child
        if maximal_bits and mtop > first_child and node.t1 - node.t0 <= WORD and n_child <= WORD:
            keep = _mask(extra, _split_prefix(prefix, absorbed, plen, path, extra))
            _bit_columns(rows, ri, pool, node, scratch, mem, loc, (
                first_child, mtop, plen, npath, (np.int64(0), (keep[0], keep[1], np.int64(0), np.int64(0)))))
            mtop = first_child
            # look-ahead: X + P + all children frequent (one child: always)? then stored
            every = np.int64(-1)
            for x in range(n_child):
                every &= lat[x].rows
            w = _words_weight(wts, every)
            if w >= minc:
                lvl[0].pos = 0
                for x in range(n_child):
                    prefix[plen + x] = lat[x].item
                if tops[0] + 1 > limit:
                    return TOO_MANY
                _store(items, meta, links, head, tops, aux, prefix, (plen + n_child, w, 0, mode))
                prune = True   # (not stored again as a leaf)
            else:   # X's list, as a frame of X would hold it, for the bit search
                lb, le, ent = span
                if depth > 0:
                    lb, le, ent = f.le, _supersets(store, lpool, f, node.item, keep, m), tops[0]
                lvl[1].npath, lvl[1].nextra, lvl[1].q2 = lb, le, ent
        if mtop > first_child and not (lone or duo):
            stamp += 1
            r_first = rtop
            if words:
                rtop, itop = _fill_by_words((rows, rwords), ri, pool, node, scratch, mem,
                                            (rtop, itop, stamp, first_child, mtop), rtable)
            elif n_child <= WORD:
                if mode == FREQUENT and n_child > 1:
                    _sort_members(mem, first_child, mtop, scratch)
                rtop, itop = _fill_by_masks(rows, ri, pool, node, scratch, mem,
                                            (rtop, itop, stamp, first_child), rtable)
            else:
                rtop, itop = _fill_children(rows, ri, pool, node, scratch, mem,
                                            (rtop, itop, stamp), rtable)
            # look-ahead: X + P + all children frequent? then it is stored instead
            if mode == MAXIMAL and n_child > 1:
                w = _full_rows_weight(rows, r_first, rtop, n_child)
                if w >= minc:
                    _copy(buf, prefix, plen)
                    for x in range(first_child, mtop):
                        buf[plen + x - first_child] = mem[x].item
                    if tops[0] + 1 > limit:
                        return TOO_MANY
                    _store(items, meta, links, head, tops, aux, buf, (plen + n_child, w, 0, mode))
                    mtop = first_child
            if maximal_bits and mtop > first_child and 1 < n_child <= WORD \
                    and _takes_reduced(rtop - r_first, node.count, minc):
                # X's subtree by bit columns of its reduced rows, not by frames
                keep = _mask(extra, _split_prefix(prefix, absorbed, plen, path, extra))
                mtop = _reduced_columns(rows, ri, pool, (top, r_first, rtop, node), scratch, mem,
                                        (loc, wide), (first_child, mtop, plen, npath, keep))
                if mtop == first_child:   # X's list, as a frame of X would hold it
                    lb, le, ent = span
                    if depth > 0:
                        lb, le, ent = f.le, _supersets(store, lpool, f, node.item, keep, m), tops[0]
                    lvl[1].npath, lvl[1].nextra, lvl[1].q2 = lb, le, ent   # (one of the two
                    wlvl[1].npath, wlvl[1].nextra, wlvl[1].q2 = lb, le, ent   # searches runs)
            if closed_bits and mtop > first_child and n_child <= WORD and rtop - r_first <= WORD:
                # X's subtree by bit columns of its reduced rows (keys summed), not by frames
                mtop = _reduced_columns(rows, ri, pool, (top, r_first, rtop, node), scratch, mem,
                                        (loc, wide), (first_child, mtop, plen, npath,
                                         (np.int64(0), np.int64(0))))
                if mtop == first_child:
                    _row_keys(rows, pool, Node(top, top + rtop - r_first, node.item, node.count),
                              keys)
            if depth == 0 and mtop > first_child and _takes_pairs(mode, m, n_child, node.count,
                                                                  max_len):
                _pair_counts(rows, ri, (r_first, rtop, first_child, n_child, node.item), scratch,
                             pairs, ranks)
                state[P_BASE], state[P_N] = first_child, n_child
        for x in range(n_seen):
            scratch[scratch[x].seen].cnt = 0
            scratch[scratch[x].seen].nrow = 0
        childless = mtop == first_child
        # FP-Max: a leaf (n_child > 1 here: stored by look-ahead); FP-Close: every node
        if not prune and (mode == CLOSED or (mode == MAXIMAL and childless and n_child <= 1)):
            if tops[0] + 1 > limit:
                return TOO_MANY
            _copy(buf, prefix, plen)
            _store(items, meta, links, head, tops, aux, buf, (plen, node.count, key, mode))
        if mode != FREQUENT and lvl[0].pos > 0:   # X's subtree by its bit columns
            if mode == CLOSED:
                status = _closed_bit_search(loc, keys, prefix, found, c_fit, need)
            else:
                status = _maximal_bit_search(loc, lpool, prefix, found, c_fit, need)
            if status == GROW:
                return _pause(state, j, depth, stamp)
            if status != OK:
                return status
        elif mode == MAXIMAL and wlvl[0].pos > 0:   # ... or by its wide columns
            status = _maximal_wide_search((wide, loc), lpool, prefix, found, c_fit, need)
            if status == GROW:
                return _pause(state, j, depth, stamp)
            if status != OK:
                return status
        if not childless:
            low = mem[first_child].item
            for x in range(first_child + 1, mtop):
                low = min(low, mem[x].item)
            lb, le, ent = span
            keep = (np.int64(0), np.int64(0))
            if mode == MAXIMAL and m <= MASK_ITEMS:
                keep = _mask(extra, _split_prefix(prefix, absorbed, plen, path, extra))
            if mode == MAXIMAL and depth > 0:  # X's list: the parent's, filtered
                lb = f.le
                le = _supersets(store, lpool, f, node.item, keep, m)
                ent = tops[0]
            depth += 1
            g = frames[depth]
            g.pos, g.mend, g.top, g.plen, g.npath = first_child, mtop, top, plen, npath
            g.rtop, g.itop, g.low, g.lb, g.le, g.ent = rtop, itop, low, lb, le, ent
            g.k0, g.k1 = keep
            g.pair = pair
            if mode == MAXIMAL and m <= MASK_ITEMS:
                g.r0, g.r1 = _mask_members(mem, first_child, mtop)
        if mode == FREQUENT:  # X's path items with every subset of its absorbed items
            n_extra = _split_prefix(prefix, absorbed, plen, path, extra)
            top_r = n_extra if max_len <= 0 else min(n_extra, max_len - npath)
            n_sets, n_items = _subset_sizes(n_extra, top_r, npath, limit)
            if tops[0] + n_sets > limit:
                return TOO_MANY
            if tops[0] + n_sets > lens[N_SETS] or npath + top_r > longest:
                state[PENDING], state[P_NPATH], state[P_EXTRA] = 1, npath, n_extra
                state[P_TOPR], state[P_COUNT] = top_r, node.count
                need[N_SETS], need[N_ITEMS], need[N_LONGEST] = n_sets, n_items, npath + top_r
                return _pause(state, j, depth, stamp)
            _emit_subsets(records, tops, form, recode, path, extra, comb,
                          (npath, n_extra, top_r, node.count))
            status = OK
            if lvl[0].pos > 0:
                status = _bit_search(loc, prefix, absorbed, out, form, fit, state, need)
            elif wlvl[0].pos > 0:
                status = _wide_search((wide, loc), prefix, absorbed, out, form, fit, state, need)
            if status == GROW:
                return _pause(state, j, depth, stamp)
            if status != OK:
                return status
    return OK


def _first_work(db, m, n_sets, scratch):
    """The working arrays for the databases ``db = (rows, items, first, n_items, rwords)``
    (:func:`conditional_rows`) over m items:
    sized for the largest database's root (its tid-list, its children's lists, the hash
    table of its reduced rows) and FP-Max's lists for the ``n_sets`` sets stored, so that
    most calls never stop to grow (each stop is a call from Python); ``scratch``: the
    store's."""
    rows, ri, first, n_items, rwords = db
    most = int(np.diff(first).max(initial=0))
    table = 1024
    while table < 2 * most:
        table *= 2
    sizes = (most + len(ri) - n_items, 2 * m + 64, table, 2 * n_sets + 1024, 64)
    if START_SMALL:
        sizes = (1, 1, 2, 1, 2)
    pool, mem, table, lists, frames = sizes
    return Work(rows, ri, np.empty(pool, np.int32), np.empty(mem, MEMBER),
                np.zeros(table, RSLOT),  # stamp 0 is never in use
                np.empty((lists, 2), np.int64), np.empty(frames, FRAME), scratch,
                np.empty(m + 1, np.int32), np.zeros(m + 1, np.bool_), np.empty(m + 1, np.int32),
                np.empty(m + 1, np.int32), np.empty(m + 1, np.int64), np.empty(m + 1, np.int32),
                np.empty(WORD * (WORD + 1) // 2, BITCOL), np.zeros(WORD + 2, LEVEL),
                np.empty(WORD, np.int64), np.empty(WORD, np.int64),
                np.empty(WORD * (WORD + 1) // 2, WIDECOL), np.zeros(WORD + 2, WLEVEL),
                np.empty((WORD * (WORD + 1) // 2, WIDE_WORDS), np.int64),
                np.empty((WORD + 2, WIDE_WORDS), np.int32), np.empty((PLANES, WIDE_WORDS), np.int64),
                np.empty(WIDE, np.int64), np.empty(PAIRS * (PAIRS - 1) // 2, np.int64),
                np.empty((3, PAIRS), np.int64), rwords)


def mine_range(rows_in: Csr, owned, lo, hi, options: MineOptions, store: Store):
    """Search the owned items j in [lo, hi) of the conditional transactions ``rows_in``,
    largest first, adding to the result ``store`` (:func:`empty_store`; pass the returned
    one on from call to call over descending ranges).

    j's conditional database is searched depth first: a node X gets the children X + {i},
    i below X's smallest item, from two scans of its rows (:func:`_children`,
    :func:`_fill_children`); equal reduced rows are merged into one weighted row. Perfect
    extensions P (items in every row of X) are absorbed, not branched on: node X stands for
    X plus any subset of P, all with X's support.

    * FREQUENT: every node writes X with every subset of P (up to ``max_len``, which
      bounds the itemsets; <= 0: no limit).
    * MAXIMAL (FPMax*-style): children are visited largest item first and groups j
      descending, so every frequent proper superset of a set lies in a branch searched
      before it. Each node keeps the list of stored sets that contain X (its parent's list
      filtered by X's item, plus what the parent's subtree stored since); if one of them
      holds X + P + all children items, the subtree is pruned; if X + P + all children is
      itself frequent (look-ahead), it is stored and the subtree pruned; a childless node
      stores X + P unless a listed set holds it.
    * CLOSED: on entering X, before its rows are scanned: if a stored set has the same
      transactions (tid-set key and count) and contains X, it is X's closure, and no set
      of X's subtree is closed: pruned. Otherwise X + P is closed and stored (the ordering
      argument of MAXIMAL: a set's closure is found before the set).

    The sets that another rank's groups can extend (a larger item owned elsewhere) are
    left for the caller to remove. Stops with status TOO_MANY beyond ``limit`` sets.
    Returns (status, the store); FREQUENT writes canonical records (:func:`empty_store`).
    """
    return next(mine_ranges(rows_in, owned, (lo, hi), options, store))


def mine_ranges(rows_in: Csr, owned, cuts, options: MineOptions, store: Store):
    """:func:`mine_range` over the groups [cuts[0], cuts[-1]) from ONE build of their
    conditional databases, yielding (status, the store) after each range [cuts[b],
    cuts[b + 1]), highest first: a caller stops between ranges by leaving the loop, and
    ranges cost no rebuild of their databases (no scan of the rows per range); stops
    after a status other than OK. (A Python loop over the compiled search: arrays grow
    here, in NumPy, see :func:`_grow`.)"""
    m, mode = options.m, options.mode
    # the row store starts as the conditional databases; reduced rows go above them
    lo, hi = int(cuts[0]), int(cuts[-1])
    db = conditional_rows(rows_in.indptr, rows_in.indices, owned, lo, hi,
                          mode == FREQUENT and m <= WORD, mode == CLOSED and m <= WORD)
    first, n_items = db[2], db[3]
    work = _first_work(db, m, int(store.tops[0]) if mode == MAXIMAL else 0, store.scratch)
    state = np.zeros(10, np.int64)
    state[J], state[DEPTH] = hi - 1, -1
    need = np.zeros(10, np.int64)
    for b in range(len(cuts) - 2, -1, -1):
        bottom = int(cuts[b])
        if b < len(cuts) - 2:   # the search keeps no stamp between calls: start the table anew
            state[J], state[DEPTH], state[STAMP] = int(cuts[b + 1]) - 1, -1, 0
            work.rtable["stamp"] = 0
        marks = (bottom, int(first[-1]), n_items)
        while True:
            need[:] = 0
            status = _search(work, first[bottom - lo:], owned, options, store, state, need, marks)
            if status != GROW:
                break
            work = _grown(work, need)
            if need[N_SETS] > 0:
                store = _reserve(store, need[N_SETS], need[N_ITEMS], mode, need[N_LONGEST],
                                 options.reserve)
        yield int(status), store
        if status != OK:
            return
