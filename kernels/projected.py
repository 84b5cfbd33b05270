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
rows). :func:`has_superset` removes, after the ranks exchange their sets, those that
another rank's set extends. The exchange that brings a rank its conditional transactions
is :mod:`hpcrec.kernels.exchange`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .csr import Csr
from .protocols import MineOptions, Store
from .support import vertical

OK, TOO_MANY = 0, 1
FREQUENT, MAXIMAL, CLOSED = 0, 1, 2  # what the search reports


@njit(cache=True)
def _grow(arr, need):
    size = max(need, 2 * len(arr))
    out = np.empty(size, arr.dtype)
    out[:len(arr)] = arr
    return out


MIX = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64: the golden-ratio multiplier
# columns of the row store: item range in ri, weight, tid-set key (the sum of the keys of
# the conditional-database rows merged into it: equal sets of source rows, equal sums)
BEG, END, WT, KEY = 0, 1, 2, 3
ITEM, SUP = 2, 3  # columns of a member (a child node) after its tid-list range (BEG, END)
# columns of the per-item scratch array: support and rows seen by scan 1, member slot, and
# two lists (items seen by scan 1, perfect extensions) stored down the rows
CNT, NROW, SLOT, SEEN, PERFECT = 0, 1, 2, 3, 4
# columns of the result store's meta array: length, count, first item, tid-set key
LEN, COUNT, START, HASH = 0, 1, 2, 3
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
])

# A node is expanded by kernels that return scalars only; arrays grow in the caller.
# When the expansion returned its arrays every node, Numba's atomic reference counting
# of them took half the mining time. The fields of a row, a member and an item share one
# 2-D array each (fewer arrays to pass, one cache line per row).


@njit(cache=True)
def _children(rows, ri, pool, t0, t1, bound, minc, sup, scratch, mem, mtop, top):
    """Scan 1 of a node X (tid-list pool[t0:t1], ids of rows of the store, support ``sup``):
    sums the row weights (CNT) and counts the rows (NROW) of each item below ``bound``.
    The frequent items become children (members from ``mtop``, tid-list room in the pool
    from ``top``); those in every row (perfect extensions) are listed in PERFECT; others
    get CNT 0, so the fill scan drops them. X's prefix items are not in its rows: the fill
    scans of its ancestors dropped them (and a root's rows hold only items below it).
    ``mem`` must have room for ``bound`` more members. Returns (mtop, top, n_perfect,
    n_seen, n_rows): the items seen are listed in SEEN, n_rows their rows in all."""
    n_seen = 0
    n_rows = 0
    for p in range(t0, t1):
        r = pool[p]
        w = rows[r, WT]
        for q in range(rows[r, BEG], rows[r, END]):
            i = ri[q]
            if i >= bound:
                break
            if scratch[i, NROW] == 0:
                scratch[n_seen, SEEN] = i
                n_seen += 1
            scratch[i, CNT] += w
            scratch[i, NROW] += 1
            n_rows += 1
    n_perfect = 0
    for x in range(n_seen):
        i = scratch[x, SEEN]
        if scratch[i, CNT] < minc:
            scratch[i, CNT] = 0
        elif scratch[i, CNT] == sup:
            scratch[n_perfect, PERFECT] = i
            n_perfect += 1
            scratch[i, CNT] = 0
        else:
            mem[mtop, ITEM] = i
            mem[mtop, BEG] = top
            mem[mtop, END] = top
            mem[mtop, SUP] = scratch[i, CNT]
            scratch[i, SLOT] = mtop
            top += scratch[i, NROW]
            mtop += 1
    return mtop, top, n_perfect, n_seen, n_rows


@njit(cache=True)
def _sort_members(mem, lo, hi, scratch):
    """Members lo..hi-1 by item, largest first (FP-Max / FP-Close visit the larger item
    first, so that every superset of a set is found before it); slots follow."""
    for t in range(lo + 1, hi):
        a, b, c, d = mem[t, 0], mem[t, 1], mem[t, 2], mem[t, 3]
        u = t
        while u > lo and mem[u - 1, ITEM] < c:
            mem[u, 0], mem[u, 1], mem[u, 2], mem[u, 3] = \
                mem[u - 1, 0], mem[u - 1, 1], mem[u - 1, 2], mem[u - 1, 3]
            u -= 1
        mem[u, 0], mem[u, 1], mem[u, 2], mem[u, 3] = a, b, c, d
    for t in range(lo, hi):
        scratch[mem[t, ITEM], SLOT] = t


@njit(cache=True)
def _fill_children(rows, ri, pool, t0, t1, bound, scratch, mem, rtop, itop, table, stamp):
    """Scan 2 (database reduction): each row of X, reduced to the children's items, becomes
    a row of the store (from ``rtop`` / ``itop``) and joins its items' tid-lists. A reduced
    row equal to one already written here is merged into it (weights and keys added;
    found through the hash ``table``, whose slots of this call carry ``stamp``), so deeper
    nodes scan each distinct row once. Returns (rtop, itop)."""
    mask = len(table) - 1
    for p in range(t0, t1):
        r = pool[p]
        start = itop
        h = 0
        for q in range(rows[r, BEG], rows[r, END]):
            i = ri[q]
            if i >= bound:
                break
            if scratch[i, CNT] > 0:
                ri[itop] = i
                itop += 1
                h = (h ^ i) * MIX
        if itop == start:
            continue
        s = (h ^ (h >> 29)) & mask
        twin = -1
        while table[s, 0] == stamp:
            c = table[s, 2]
            if table[s, 1] == h and rows[c, END] - rows[c, BEG] == itop - start:
                u = 0
                while u < itop - start and ri[rows[c, BEG] + u] == ri[start + u]:
                    u += 1
                if u == itop - start:
                    twin = c
                    break
            s = (s + 1) & mask
        if twin >= 0:
            rows[twin, WT] += rows[r, WT]
            rows[twin, KEY] += rows[r, KEY]
            itop = start
            continue
        table[s, 0] = stamp
        table[s, 1] = h
        table[s, 2] = rtop
        rows[rtop, BEG] = start
        rows[rtop, END] = itop
        rows[rtop, WT] = rows[r, WT]
        rows[rtop, KEY] = rows[r, KEY]
        for q in range(start, itop):
            x = scratch[ri[q], SLOT]
            pool[mem[x, END]] = rtop
            mem[x, END] += 1
        rtop += 1
    return rtop, itop


@njit(cache=True)
def conditional_rows(indptr, indices, owned, lo, hi):
    """The conditional databases of the owned items j in [lo, hi), in one sequential pass.

    For every row and every owned item j in it, the row's items before j become one row
    of j's database. Rows are laid out bucket by bucket (j ascending), so mining one item
    touches one contiguous region. Returns (rows, items, first): the rows as a row store
    (item range, weight 1, a key of the source row r: the rows of different items' databases
    that come from one transaction share it), rows first[j - lo] .. first[j - lo + 1] - 1
    belonging to j.
    """
    k = hi - lo
    n_rows = np.zeros(k + 1, np.int64)
    n_items = np.zeros(k + 1, np.int64)
    for r in range(len(indptr) - 1):
        s = indptr[r]
        for p in range(s, indptr[r + 1]):
            j = indices[p]
            if j >= hi:
                break
            if j >= lo and owned[j]:
                n_rows[j - lo + 1] += 1
                n_items[j - lo + 1] += p - s
    for x in range(k):
        n_rows[x + 1] += n_rows[x]
        n_items[x + 1] += n_items[x]
    fill_row = n_rows[:k].copy()
    fill_item = n_items[:k].copy()
    rows = np.empty((n_rows[k], 4), np.int64)
    items = np.empty(n_items[k], np.int32)
    for r in range(len(indptr) - 1):
        s = indptr[r]
        key = (r + 1) * MIX
        key ^= key >> 31
        for p in range(s, indptr[r + 1]):
            j = indices[p]
            if j >= hi:
                break
            if j >= lo and owned[j]:
                x = j - lo
                row = fill_row[x]
                q = fill_item[x]
                for t in range(s, p):
                    items[q + t - s] = indices[t]
                rows[row, BEG] = q
                rows[row, END] = q + p - s
                rows[row, WT] = 1
                rows[row, KEY] = key
                fill_row[x] = row + 1
                fill_item[x] = q + p - s
    return rows, items, n_rows


@njit(cache=True)
def _grow_rows(arr, need):
    """A 2-D array with at least ``need`` rows (doubling), the old rows copied."""
    out = np.empty((max(need, 2 * arr.shape[0]), arr.shape[1]), arr.dtype)
    out[:arr.shape[0]] = arr
    return out


def empty_store(m: int) -> Store:
    """The result store that :func:`mine_range` fills across calls (a
    :class:`~hpcrec.kernels.protocols.Store`). Items of a set stored back to back (sorted for FP-Max and
    FP-Close); meta rows (length, count, first item, tid-set key); for FP-Max, per item
    the sets holding it as a linked list (``head[item]`` -> links[entry] = (next entry,
    set)); ``aux``: for FP-Close an open-addressing table (key, set + 1) on the tid-set
    key, for FP-Max over at most ``MASK_ITEMS`` items each set as a 128-bit mask (two
    int64 words: O(1) membership and subset tests); tops = (sets, items) stored."""
    return Store(np.empty(1024, np.int32), np.empty((256, 4), np.int64),
                 np.empty((1024, 2), np.int64), np.full(m, -1, np.int64), np.zeros(2, np.int64),
                 np.zeros((1024, 2), np.int64))


MASK_ITEMS = 128  # FP-Max keeps 2-word masks of its sets up to this many items


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
def _holds_all(items, s, e, want, n):
    """Whether sorted items[s:e] hold all of sorted want[:n] (merge walk)."""
    t = 0
    while t < n:
        if s == e or items[s] > want[t]:
            return False
        if items[s] == want[t]:
            t += 1
        s += 1
    return True


@njit(cache=True)
def _sort_small(a, n):
    for t in range(1, n):
        v = a[t]
        u = t
        while u > 0 and a[u - 1] > v:
            a[u] = a[u - 1]
            u -= 1
        a[u] = v


@njit(cache=True)
def _table_slot(key, mask):
    h = key * MIX
    return (h ^ (h >> 32)) & mask


@njit(cache=True)
def _full(out_items, out_meta, links, table, tops, n, mode):
    """Whether storing one more set of n items needs larger arrays."""
    return (tops[0] + 1 > out_meta.shape[0] or tops[1] + n > len(out_items)
            or (mode == MAXIMAL and (tops[1] + n > links.shape[0]
                                     or tops[0] + 1 > table.shape[0]))
            or (mode == CLOSED and 2 * (tops[0] + 1) > table.shape[0]))


@njit(cache=True)
def _reserve(out_items, out_meta, links, table, tops, n, mode):
    """The store's arrays grown (doubling) to take one more set of n items; the FP-Close
    table is rebuilt at twice its size."""
    n_out, n_items = tops[0], tops[1]
    if n_out + 1 > out_meta.shape[0]:
        out_meta = _grow_rows(out_meta, n_out + 1)
    if n_items + n > len(out_items):
        out_items = _grow(out_items, n_items + n)
    if mode == MAXIMAL and n_items + n > links.shape[0]:
        links = _grow_rows(links, n_items + n)
    if mode == MAXIMAL and n_out + 1 > table.shape[0]:
        table = _grow_rows(table, n_out + 1)
    if mode == CLOSED and 2 * (n_out + 1) > table.shape[0]:
        table = np.zeros((2 * table.shape[0], 2), np.int64)
        mask = table.shape[0] - 1
        for z in range(n_out):
            s = _table_slot(out_meta[z, HASH], mask)
            while table[s, 1] != 0:
                s = (s + 1) & mask
            table[s, 0] = out_meta[z, HASH]
            table[s, 1] = z + 1
    return out_items, out_meta, links, table


@njit(cache=True)
def _store(items, meta, links, head, table, tops, buf, n, count, key, mode):
    """Append the set buf[:n] (sorted here) with its count and tid-set key (room made by
    :func:`_reserve`); FP-Max links it from its items, FP-Close enters it in the table."""
    n_out, n_items = tops[0], tops[1]
    for t in range(n):
        items[n_items + t] = buf[t]
    _sort_small(items[n_items:n_items + n], n)
    meta[n_out, LEN] = n
    meta[n_out, COUNT] = count
    meta[n_out, START] = n_items
    meta[n_out, HASH] = key
    if mode == MAXIMAL:
        table[n_out, 0] = table[n_out, 1] = 0
        for e in range(n_items, n_items + n):
            links[e, 0] = head[items[e]]
            links[e, 1] = n_out
            head[items[e]] = e
            if items[e] < MASK_ITEMS:
                table[n_out, items[e] >> 6] |= np.int64(1) << (items[e] & 63)
    else:
        mask = table.shape[0] - 1
        s = _table_slot(key, mask)
        while table[s, 1] != 0:
            s = (s + 1) & mask
        table[s, 0] = key
        table[s, 1] = n_out + 1
    tops[0] = n_out + 1
    tops[1] = n_items + n


@njit(cache=True)
def _has_closure(items, meta, table, key, count, buf, n):
    """Whether a stored set with tid-set key ``key`` and this count holds all of buf[:n]
    (sorted): then buf[:n] is not closed (same transactions, more items)."""
    mask = table.shape[0] - 1
    s = _table_slot(key, mask)
    while table[s, 1] != 0:
        if table[s, 0] == key:
            z = table[s, 1] - 1
            if meta[z, COUNT] == count and _holds_all(items, meta[z, START],
                                                      meta[z, START] + meta[z, LEN], buf, n):
                return True
        s = (s + 1) & mask
    return False


@njit(cache=True)
def _subsumed(items, meta, masks, lpool, lb, le, want, n, m):
    """Whether a set listed in lpool[lb:le] holds all of sorted want[:n] (by their masks
    when m <= MASK_ITEMS)."""
    if m <= MASK_ITEMS:
        w0 = w1 = 0
        for t in range(n):
            if want[t] < 64:
                w0 |= np.int64(1) << want[t]
            else:
                w1 |= np.int64(1) << (want[t] - 64)
        for x in range(lb, le):
            z = lpool[x]
            if (w0 & ~masks[z, 0]) == 0 and (w1 & ~masks[z, 1]) == 0:
                return True
        return False
    for x in range(lb, le):
        z = lpool[x]
        if _holds_all(items, meta[z, START], meta[z, START] + meta[z, LEN], want, n):
            return True
    return False


@njit(cache=True)
def _holds(items, meta, masks, z, x, m):
    """Whether stored set z holds item x."""
    if m <= MASK_ITEMS:
        return (masks[z, x >> 6] >> (x & 63)) & 1 == 1
    return _has(items, meta[z, START], meta[z, START] + meta[z, LEN], x)


@njit(cache=True)
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
    Returns (status, the store); FREQUENT leaves the items of a set unsorted.
    """
    indptr, indices = rows_in.indptr, rows_in.indices
    m, minc, max_len, limit, mode = options
    out_items, out_meta, links, head, tops, table = store
    scratch = np.zeros((m, 5), np.int64)
    prefix = np.empty(m + 1, np.int32)
    absorbed = np.zeros(m + 1, np.bool_)  # prefix[t] is a perfect extension, not a path item
    path = np.empty(m + 1, np.int32)
    extra = np.empty(m + 1, np.int32)
    comb = np.empty(m + 1, np.int64)
    buf = np.empty(m + 1, np.int32)
    pool = np.empty(1024, np.int32)
    lpool = np.empty(1024, np.int64)
    mem = np.empty((64, 4), np.int64)
    rtable = np.zeros((1024, 3), np.int64)  # stamp, hash, row; stamp 0 is never in use
    stamp = 0
    frames = np.empty(64, FRAME)

    # the row store starts as the conditional databases; reduced rows go above them
    rows, ri, first = conditional_rows(indptr, indices, owned, lo, hi)
    n_base, i_base = rows.shape[0], len(ri)
    for j in range(hi - 1, lo - 1, -1):
        r0, r1 = first[j - lo], first[j - lo + 1]
        if not owned[j] or r1 - r0 < minc:
            continue
        # the root node {j}: a member whose tid-list is all rows of j's database
        if r1 - r0 > len(pool):
            pool = _grow(pool, r1 - r0)
        for t in range(r1 - r0):
            pool[t] = r0 + t
        mem[0, ITEM] = j
        mem[0, BEG] = 0
        mem[0, END] = r1 - r0
        mem[0, SUP] = r1 - r0
        depth = 0
        frames[0].pos = 0
        frames[0].mend = 1
        frames[0].top = r1 - r0
        frames[0].plen = 0
        frames[0].npath = 0
        frames[0].rtop = n_base
        frames[0].itop = i_base
        frames[0].low = -1
        frames[0].lb = 0
        frames[0].le = 0
        frames[0].ent = 0
        plen = 0
        while depth >= 0:
            if frames[depth].pos == frames[depth].mend:
                depth -= 1
                continue
            a = frames[depth].pos
            frames[depth].pos += 1
            # what earlier siblings' subtrees allocated lies above the frame's marks
            mtop = frames[depth].mend
            top = frames[depth].top
            rtop = frames[depth].rtop
            itop = frames[depth].itop
            plen = frames[depth].plen
            npath = frames[depth].npath + 1
            item = mem[a, ITEM]
            t0, t1, count = mem[a, BEG], mem[a, END], mem[a, SUP]
            prefix[plen] = item
            absorbed[plen] = False
            plen += 1
            first_child = mtop
            lb = le = ent = 0
            if mode == MAXIMAL:  # the stored sets that contain X
                lb = le = frames[depth].le
                if depth == 0:
                    e = head[item]
                    while e >= 0:
                        if le + 1 > len(lpool):
                            lpool = _grow(lpool, le + 1)
                        lpool[le] = links[e, 1]
                        le += 1
                        e = links[e, 0]
                else:
                    need = le + frames[depth].le - frames[depth].lb + tops[0] - frames[depth].ent
                    if need > len(lpool):
                        lpool = _grow(lpool, need)
                    for x in range(frames[depth].lb, frames[depth].le):
                        z = lpool[x]
                        if _holds(out_items, out_meta, table, z, item, m):
                            lpool[le] = z
                            le += 1
                    for z in range(frames[depth].ent, tops[0]):
                        if _holds(out_items, out_meta, table, z, item, m):
                            lpool[le] = z
                            le += 1
                ent = tops[0]
            n_perfect = n_seen = n_rows = 0
            key = 0
            prune = False
            if mode == CLOSED:  # X's closure found before it (same rows, more items)?
                for p in range(t0, t1):
                    key += rows[pool[p], KEY]
                for t in range(plen):
                    buf[t] = prefix[t]
                _sort_small(buf, plen)
                prune = _has_closure(out_items, out_meta, table, key, count, buf, plen)
            # a child's rows hold only its siblings' items: the lowest sibling is a leaf
            if not prune and npath != max_len and item != frames[depth].low:
                if mtop + item > mem.shape[0]:
                    mem = _grow_rows(mem, mtop + item)
                mtop, top, n_perfect, n_seen, n_rows = _children(
                    rows, ri, pool, t0, t1, item, minc, count, scratch, mem, mtop, top)
                if mode != FREQUENT and mtop - first_child > 1:
                    _sort_members(mem, first_child, mtop, scratch)
            for t in range(n_perfect):
                prefix[plen] = scratch[t, PERFECT]
                absorbed[plen] = True
                plen += 1
            n_child = mtop - first_child
            if mode == MAXIMAL:  # X + P + all children inside a stored set?
                n = 0  # the listed sets hold X's path items: check the absorbed ones
                for t in range(plen):
                    if absorbed[t]:
                        buf[n] = prefix[t]
                        n += 1
                for x in range(mtop - 1, first_child - 1, -1):  # ascending items
                    buf[n] = mem[x, ITEM]
                    n += 1
                _sort_small(buf, n)
                prune = _subsumed(out_items, out_meta, table, lpool, lb, le, buf, n, m)
            if prune:
                mtop = first_child
            if mtop > first_child:
                if top > len(pool):
                    pool = _grow(pool, top)
                if rtop + t1 - t0 > rows.shape[0]:
                    rows = _grow_rows(rows, rtop + t1 - t0)
                if itop + n_rows > len(ri):
                    ri = _grow(ri, itop + n_rows)
                stamp += 1
                if 2 * (t1 - t0) > rtable.shape[0]:
                    size = rtable.shape[0]
                    while size < 2 * (t1 - t0):
                        size *= 2
                    rtable = np.zeros((size, 3), np.int64)
                r_first = rtop
                rtop, itop = _fill_children(rows, ri, pool, t0, t1, item, scratch, mem,
                                            rtop, itop, rtable, stamp)
                if mode == MAXIMAL and n_child > 1:  # look-ahead: X + P + all children
                    w = 0
                    for r in range(r_first, rtop):
                        if rows[r, END] - rows[r, BEG] == n_child:
                            w += rows[r, WT]
                    if w >= minc:
                        for t in range(plen):
                            buf[t] = prefix[t]
                        for x in range(first_child, mtop):
                            buf[plen + x - first_child] = mem[x, ITEM]
                        if tops[0] + 1 > limit:
                            return TOO_MANY, Store(out_items, out_meta, links, head, tops, table)
                        if _full(out_items, out_meta, links, table, tops, plen + n_child, mode):
                            out_items, out_meta, links, table = _reserve(
                                out_items, out_meta, links, table, tops, plen + n_child, mode)
                        _store(out_items, out_meta, links, head, table, tops, buf,
                               plen + n_child, w, 0, mode)
                        mtop = first_child
            for x in range(n_seen):
                scratch[scratch[x, SEEN], CNT] = 0
                scratch[scratch[x, SEEN], NROW] = 0
            childless = mtop == first_child
            if prune:
                pass
            elif mode == MAXIMAL:
                if childless and n_child <= 1:  # (n_child > 1 here: stored by look-ahead)
                    if tops[0] + 1 > limit:
                        return TOO_MANY, Store(out_items, out_meta, links, head, tops, table)
                    for t in range(plen):
                        buf[t] = prefix[t]
                    if _full(out_items, out_meta, links, table, tops, plen, mode):
                        out_items, out_meta, links, table = _reserve(
                            out_items, out_meta, links, table, tops, plen, mode)
                    _store(out_items, out_meta, links, head, table, tops, buf, plen, count, 0,
                           mode)
            elif mode == CLOSED:
                for t in range(plen):
                    buf[t] = prefix[t]
                if tops[0] + 1 > limit:
                    return TOO_MANY, Store(out_items, out_meta, links, head, tops, table)
                if _full(out_items, out_meta, links, table, tops, plen, mode):
                    out_items, out_meta, links, table = _reserve(
                        out_items, out_meta, links, table, tops, plen, mode)
                _store(out_items, out_meta, links, head, table, tops, buf, plen, count, key, mode)
            else:
                # X's path items with every subset of its absorbed items (up to max_len)
                n_extra = 0
                for t in range(plen):
                    if absorbed[t]:
                        extra[n_extra] = prefix[t]
                        n_extra += 1
                    else:
                        path[t - n_extra] = prefix[t]
                top_r = n_extra if max_len <= 0 else min(n_extra, max_len - npath)
                for r in range(top_r + 1):
                    for t in range(r):
                        comb[t] = t
                    while True:
                        n_out, n_items = tops[0], tops[1]
                        if n_out + 1 > limit:
                            return TOO_MANY, Store(out_items, out_meta, links, head, tops, table)
                        if n_out + 1 > out_meta.shape[0]:
                            out_meta = _grow_rows(out_meta, n_out + 1)
                        if n_items + npath + r > len(out_items):
                            out_items = _grow(out_items, n_items + npath + r)
                        for t in range(npath):
                            out_items[n_items + t] = path[t]
                        for t in range(r):
                            out_items[n_items + npath + t] = extra[comb[t]]
                        out_meta[n_out, LEN] = npath + r
                        out_meta[n_out, COUNT] = count
                        tops[0] = n_out + 1
                        tops[1] = n_items + npath + r
                        t = r - 1
                        while t >= 0 and comb[t] == n_extra - r + t:
                            t -= 1
                        if t < 0:
                            break
                        comb[t] += 1
                        for u in range(t + 1, r):
                            comb[u] = comb[u - 1] + 1
            if not childless:
                depth += 1
                if depth + 1 >= frames.shape[0]:
                    frames = _grow(frames, depth + 2)
                frames[depth].pos = first_child
                frames[depth].mend = mtop
                frames[depth].top = top
                frames[depth].plen = plen
                frames[depth].npath = npath
                frames[depth].rtop = rtop
                frames[depth].itop = itop
                frames[depth].lb = lb
                frames[depth].le = le
                frames[depth].ent = ent
                low = mem[first_child, ITEM]
                for x in range(first_child + 1, mtop):
                    low = min(low, mem[x, ITEM])
                frames[depth].low = low
    return OK, Store(out_items, out_meta, links, head, tops, table)


@njit(cache=True)
def has_superset(items, ptr, counts, all_items, all_ptr, all_counts, m, equal):
    """For each itemset of (items, ptr), whether some itemset of (all_items, all_ptr) is a
    proper superset (with ``equal``: one with the same count, i.e. the same transactions).
    All itemsets sorted ascending within, over items 0..m-1. The sets tried are those
    holding the itemset's item with the fewest holders, or with ``equal`` those with the
    same count when they are fewer (on dense data every item is in most sets)."""
    n_all = len(all_ptr) - 1
    lengths = np.empty(n_all, np.int64)
    for z in range(n_all):
        lengths[z] = all_ptr[z + 1] - all_ptr[z]
    iptr, holders = vertical(all_ptr, all_items, m)  # which itemsets of ``all`` hold each item
    by_count = np.argsort(all_counts, kind="mergesort")
    sorted_counts = all_counts[by_count]
    n = len(ptr) - 1
    out = np.zeros(n, np.bool_)
    for x in range(n):
        s, e = ptr[x], ptr[x + 1]
        k = e - s
        rare = items[s]  # the item with the fewest holders
        for p in range(s + 1, e):
            if iptr[items[p] + 1] - iptr[items[p]] < iptr[rare + 1] - iptr[rare]:
                rare = items[p]
        if equal:
            lo = np.searchsorted(sorted_counts, counts[x])
            hi = np.searchsorted(sorted_counts, counts[x], side="right")
            if hi - lo < iptr[rare + 1] - iptr[rare]:
                for q in range(lo, hi):
                    z = by_count[q]
                    if lengths[z] > k and _holds_all(all_items, all_ptr[z], all_ptr[z + 1],
                                                     items[s:e], k):
                        out[x] = True
                        break
                continue
        for h in range(iptr[rare], iptr[rare + 1]):
            z = holders[h]
            if lengths[z] <= k or (equal and all_counts[z] != counts[x]):
                continue
            if _holds_all(all_items, all_ptr[z], all_ptr[z + 1], items[s:e], k):
                out[x] = True
                break
    return out
