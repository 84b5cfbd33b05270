"""Depth-first mining of conditional (projected) databases on the CPU (Numba).

This is the local miner of the PFP scheme: a rank holds the conditional transactions of
the items it owns (rows of recoded items, sorted ascending, item 0 the most frequent) and
finds every frequent itemset whose largest item is one of those items, without talking
to other ranks. Each owned item's conditional database is laid out contiguously in one
sequential pass (:func:`conditional_rows`), then searched depth first: a node's children
and their tid-lists come from one scan of the node's rows (occurrence deliver), which
also writes the rows reduced to the children's items for the next level (database
reduction); equal reduced rows are merged into one weighted row (not for FP-Max, whose
superset test reads each row's origin). Perfect extensions (items in every row of a
node) are absorbed instead of branched on. Memory is a stack: the rows and lists of the
nodes on the current path.

For FP-Max the miner reports only nodes without frequent extensions below their item;
:func:`has_superset` then removes the candidates that another one contains. Also here:
the PFP sharding of transactions into conditional transactions per rank.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .support import vertical


OK, TOO_MANY = 0, 1


@njit(cache=True)
def _grow(arr, need):
    size = max(need, 2 * len(arr))
    out = np.empty(size, arr.dtype)
    out[:len(arr)] = arr
    return out


MIX = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64: the golden-ratio multiplier
BEG, END, WT, ORG = 0, 1, 2, 3  # columns of the row store: item range in ri, weight, origin
ITEM, SUP = 2, 3  # columns of a member (a child node) after its tid-list range (BEG, END)
# columns of the per-item scratch array: support and rows seen by scan 1, member slot, and
# two lists (items seen by scan 1, perfect extensions) stored down the rows
CNT, NROW, SLOT, SEEN, PERFECT = 0, 1, 2, 3, 4

# A node is expanded by two kernels that return scalars only; arrays grow in the caller.
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
def _fill_children(rows, ri, pool, t0, t1, bound, scratch, mem, rtop, itop, table, stamp):
    """Scan 2 (database reduction): each row of X, reduced to the children's items, becomes
    a row of the store (from ``rtop`` / ``itop``) and joins its items' tid-lists. With
    ``stamp`` > 0, a reduced row equal to one already written here is merged into it (its
    weight added; found through the hash ``table``, whose slots of this call carry
    ``stamp``), so deeper nodes scan each distinct row once. Returns (rtop, itop)."""
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
        if stamp > 0:
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
                itop = start
                continue
            table[s, 0] = stamp
            table[s, 1] = h
            table[s, 2] = rtop
        rows[rtop, BEG] = start
        rows[rtop, END] = itop
        rows[rtop, WT] = rows[r, WT]
        rows[rtop, ORG] = rows[r, ORG]
        for q in range(start, itop):
            x = scratch[ri[q], SLOT]
            pool[mem[x, END]] = rtop
            mem[x, END] += 1
        rtop += 1
    return rtop, itop


@njit(cache=True)
def _extendable(rows, ri, pool, t0, t1, lo, hi, minc, scratch, skip):
    """Whether some item i in [lo, hi), not flagged in ``skip``, is in >= minc of the
    conditional-database rows (the base of the store) that the store rows pool[t0:t1]
    came from (unmerged rows)."""
    n_touched = 0
    found = False
    for p in range(t0, t1):
        r = rows[pool[p], ORG]
        for q in range(rows[r, BEG], rows[r, END]):
            i = ri[q]
            if i >= hi:
                break
            if i < lo or skip[i]:
                continue
            if scratch[i, CNT] == 0:
                scratch[n_touched, SEEN] = i
                n_touched += 1
            scratch[i, CNT] += 1
            if scratch[i, CNT] >= minc:
                found = True
                break
        if found:
            break
    for x in range(n_touched):
        scratch[scratch[x, SEEN], CNT] = 0
    return found


@njit(cache=True)
def conditional_rows(indptr, indices, owned, lo, hi):
    """The conditional databases of the owned items j in [lo, hi), in one sequential pass.

    For every row and every owned item j in it, the row's items before j become one row
    of j's database. Rows are laid out bucket by bucket (j ascending), so mining one item
    touches one contiguous region. Returns (rows, items, first): the rows as a row store
    (item range, weight 1, their own id as origin), rows first[j - lo] .. first[j - lo + 1]
    - 1 belonging to j.
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
                rows[row, ORG] = row
                fill_row[x] = row + 1
                fill_item[x] = q + p - s
    return rows, items, n_rows


@njit(cache=True)
def _grow_rows(arr, need):
    """A 2-D array with at least ``need`` rows (doubling), the old rows copied."""
    out = np.empty((max(need, 2 * arr.shape[0]), arr.shape[1]), arr.dtype)
    out[:arr.shape[0]] = arr
    return out


@njit(cache=True)
def _result(status, out_items, out_meta, n_out, n_items):
    """(status, flat items, lengths, counts) of the first ``n_out`` itemsets written."""
    return (status, out_items[:n_items], out_meta[:n_out, 0].astype(np.int32),
            out_meta[:n_out, 1].copy())


@njit(cache=True)
def mine_groups(indptr, indices, m, owned_items, minc, max_len, limit, maximal, chunk):
    """Frequent itemsets (support >= minc) whose largest item is in ``owned_items``.

    For each owned item j, its conditional database (built for ``chunk`` items' worth of
    rows at a time) is searched depth first: a node X gets the children X + {i}, i below
    X's smallest item, from two scans of its rows (:func:`_children`,
    :func:`_fill_children`). Rows are weighted: for fpgrowth, equal reduced rows are
    merged. Perfect extensions are absorbed, not branched on: node X then stands for X
    plus any subset of them (all with X's support), which are written out
    combinatorially. ``max_len <= 0`` means no limit (it bounds the itemsets, absorbed
    items included). With ``maximal``, only the node with all its absorbed items is
    reported, and only nodes without children and without a frequent extension by any
    other item below j: the maximal itemsets of these groups, and some that a superset
    with a larger item (another group) covers; the caller removes those. Stops with status
    TOO_MANY beyond ``limit`` itemsets. Returns (status, flat items, lengths, counts);
    items within an itemset are unsorted.
    """
    out_items = np.empty(1024, np.int32)
    out_meta = np.empty((256, 2), np.int64)  # length, count
    n_out = 0
    n_items_out = 0

    owned = np.zeros(m, np.bool_)
    for j in owned_items:
        owned[j] = True
    scratch = np.zeros((m, 5), np.int64)
    in_prefix = np.zeros(m, np.bool_)
    prefix = np.empty(m + 1, np.int32)
    absorbed = np.zeros(m + 1, np.bool_)  # prefix[t] is a perfect extension, not a path item
    path = np.empty(m + 1, np.int32)
    extra = np.empty(m + 1, np.int32)
    comb = np.empty(m + 1, np.int64)
    pool = np.empty(1024, np.int32)
    mem = np.empty((64, 4), np.int64)
    table = np.zeros((1024, 3), np.int64)  # stamp, hash, row; stamp 0 is never in use
    stamp = 0
    POS, MEND, TOP, PLEN, NPATH, RTOP, ITOP, LOW = 0, 1, 2, 3, 4, 5, 6, 7
    frames = np.empty((64, 8), np.int64)

    # chunks of owned items whose conditional databases hold about ``chunk`` items
    weights = prefix_weights(indptr, indices, m)
    lo = 0
    while lo < m:
        hi = lo
        size = 0
        while hi < m and (hi == lo or size + weights[hi] * owned[hi] <= chunk):
            size += weights[hi] * owned[hi]
            hi += 1
        # the row store starts as the conditional databases; reduced rows go above them,
        # so the base rows stay intact (FP-Max's superset test reads them)
        rows, ri, first = conditional_rows(indptr, indices, owned, lo, hi)
        n_base, i_base = rows.shape[0], len(ri)
        for j in range(lo, hi):
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
            frames[0, POS] = 0
            frames[0, MEND] = 1
            frames[0, TOP] = r1 - r0
            frames[0, PLEN] = 0
            frames[0, NPATH] = 0
            frames[0, RTOP] = n_base
            frames[0, ITOP] = i_base
            frames[0, LOW] = -1
            plen = 0
            while depth >= 0:
                if frames[depth, POS] == frames[depth, MEND]:
                    depth -= 1
                    continue
                a = frames[depth, POS]
                frames[depth, POS] += 1
                # what earlier siblings' subtrees allocated lies above the frame's marks
                mtop = frames[depth, MEND]
                top = frames[depth, TOP]
                rtop = frames[depth, RTOP]
                itop = frames[depth, ITOP]
                for t in range(frames[depth, PLEN], plen):
                    in_prefix[prefix[t]] = False
                plen = frames[depth, PLEN]
                npath = frames[depth, NPATH] + 1
                item = mem[a, ITEM]
                t0, t1, count = mem[a, BEG], mem[a, END], mem[a, SUP]
                prefix[plen] = item
                absorbed[plen] = False
                in_prefix[item] = True
                plen += 1
                first_child = mtop
                # a child's rows hold only its siblings' items: the lowest sibling is a leaf
                if npath != max_len and item != frames[depth, LOW]:
                    if mtop + item > mem.shape[0]:
                        mem = _grow_rows(mem, mtop + item)
                    mtop, top, n_perfect, n_seen, n_rows = _children(
                        rows, ri, pool, t0, t1, item, minc, count, scratch, mem, mtop, top)
                    if mtop > first_child:
                        if top > len(pool):
                            pool = _grow(pool, top)
                        if rtop + t1 - t0 > rows.shape[0]:
                            rows = _grow_rows(rows, rtop + t1 - t0)
                        if itop + n_rows > len(ri):
                            ri = _grow(ri, itop + n_rows)
                        if not maximal:  # FP-Max keeps rows unmerged: _extendable reads origins
                            stamp += 1
                            if 2 * (t1 - t0) > table.shape[0]:
                                size = table.shape[0]
                                while size < 2 * (t1 - t0):
                                    size *= 2
                                table = np.zeros((size, 3), np.int64)
                        rtop, itop = _fill_children(rows, ri, pool, t0, t1, item, scratch, mem,
                                                    rtop, itop, table, stamp)
                    for x in range(n_seen):
                        scratch[scratch[x, SEEN], CNT] = 0
                        scratch[scratch[x, SEEN], NROW] = 0
                    for t in range(n_perfect):
                        prefix[plen] = scratch[t, PERFECT]
                        absorbed[plen] = True
                        in_prefix[scratch[t, PERFECT]] = True
                        plen += 1
                childless = mtop == first_child
                if maximal and childless and _extendable(
                        rows, ri, pool, t0, t1, item + 1, j, minc, scratch, in_prefix):
                    pass  # a frequent superset with another item below j: not maximal
                elif maximal:
                    if childless:
                        if n_out + 1 > limit:
                            return _result(TOO_MANY, out_items, out_meta, n_out, n_items_out)
                        if n_out + 1 > out_meta.shape[0]:
                            out_meta = _grow_rows(out_meta, n_out + 1)
                        if n_items_out + plen > len(out_items):
                            out_items = _grow(out_items, n_items_out + plen)
                        for t in range(plen):
                            out_items[n_items_out + t] = prefix[t]
                        out_meta[n_out, 0] = plen
                        out_meta[n_out, 1] = count
                        n_out += 1
                        n_items_out += plen
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
                            if n_out + 1 > limit:
                                return _result(TOO_MANY, out_items, out_meta, n_out, n_items_out)
                            if n_out + 1 > out_meta.shape[0]:
                                out_meta = _grow_rows(out_meta, n_out + 1)
                            if n_items_out + npath + r > len(out_items):
                                out_items = _grow(out_items, n_items_out + npath + r)
                            for t in range(npath):
                                out_items[n_items_out + t] = path[t]
                            for t in range(r):
                                out_items[n_items_out + npath + t] = extra[comb[t]]
                            out_meta[n_out, 0] = npath + r
                            out_meta[n_out, 1] = count
                            n_out += 1
                            n_items_out += npath + r
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
                        frames = _grow_rows(frames, depth + 2)
                    frames[depth, POS] = first_child
                    frames[depth, MEND] = mtop
                    frames[depth, TOP] = top
                    frames[depth, PLEN] = plen
                    frames[depth, NPATH] = npath
                    frames[depth, RTOP] = rtop
                    frames[depth, ITOP] = itop
                    low = mem[first_child, ITEM]
                    for x in range(first_child + 1, mtop):
                        low = min(low, mem[x, ITEM])
                    frames[depth, LOW] = low
            for t in range(plen):
                in_prefix[prefix[t]] = False
        lo = hi
    return _result(OK, out_items, out_meta, n_out, n_items_out)


@njit(cache=True)
def has_superset(items, ptr, all_items, all_ptr, m):
    """For each itemset of (items, ptr), whether some itemset of (all_items, all_ptr) is a
    proper superset. All itemsets sorted ascending within, over items 0..m-1."""
    n_all = len(all_ptr) - 1
    lengths = np.empty(n_all, np.int64)
    for z in range(n_all):
        lengths[z] = all_ptr[z + 1] - all_ptr[z]
    iptr, holders = vertical(all_ptr, all_items, m)  # which itemsets of ``all`` hold each item
    n = len(ptr) - 1
    out = np.zeros(n, np.bool_)
    for x in range(n):
        s, e = ptr[x], ptr[x + 1]
        k = e - s
        rare = items[s]  # the item with the fewest holders
        for p in range(s + 1, e):
            if iptr[items[p] + 1] - iptr[items[p]] < iptr[rare + 1] - iptr[rare]:
                rare = items[p]
        for h in range(iptr[rare], iptr[rare + 1]):
            z = holders[h]
            if lengths[z] <= k:
                continue
            # is items[s:e] a subset of all_items[all_ptr[z]:all_ptr[z+1]]? (both sorted)
            p = all_ptr[z]
            pe = all_ptr[z + 1]
            t = s
            while t < e and p < pe:
                if all_items[p] == items[t]:
                    t += 1
                elif all_items[p] > items[t]:
                    break
                p += 1
            if t == e:
                out[x] = True
                break
    return out


@njit(cache=True)
def prefix_weights(indptr, indices, m):
    """Per item j, the total length of the conditional transactions j would receive."""
    w = np.zeros(m, np.int64)
    for r in range(len(indptr) - 1):
        s = indptr[r]
        for p in range(s, indptr[r + 1]):
            w[indices[p]] += p - s + 1
    return w


@njit(cache=True)
def shard_prefixes(indptr, indices, owner, size):
    """PFP sharding: for each row and each rank owning one of its items, the row's prefix up
    to (and including) the last item that rank owns.

    Returns (send buffer, counts per rank): records ``[length, items...]`` grouped by rank.
    """
    n = len(indptr) - 1
    counts = np.zeros(size, np.int64)
    seen = np.full(size, -1, np.int64)
    for r in range(n):
        s = indptr[r]
        for p in range(indptr[r + 1] - 1, s - 1, -1):
            g = owner[indices[p]]
            if seen[g] != r:
                seen[g] = r
                counts[g] += p - s + 2
    offsets = np.zeros(size + 1, np.int64)
    for g in range(size):
        offsets[g + 1] = offsets[g] + counts[g]
    fill = offsets[:size].copy()
    out = np.empty(offsets[size], np.int32)
    seen[:] = -1
    for r in range(n):
        s = indptr[r]
        for p in range(indptr[r + 1] - 1, s - 1, -1):
            g = owner[indices[p]]
            if seen[g] != r:
                seen[g] = r
                q = fill[g]
                out[q] = p - s + 1
                for t in range(s, p + 1):
                    out[q + 1 + t - s] = indices[t]
                fill[g] = q + p - s + 2
    return out, counts


@njit(cache=True)
def parse_records(buf):
    """CSR rows from ``[length, items...]`` records back to back."""
    n = 0
    q = 0
    while q < len(buf):
        q += buf[q] + 1
        n += 1
    ptr = np.zeros(n + 1, np.int64)
    idx = np.empty(len(buf) - n, np.int32)
    q = 0
    r = 0
    while q < len(buf):
        length = buf[q]
        idx[ptr[r]:ptr[r] + length] = buf[q + 1:q + 1 + length]
        ptr[r + 1] = ptr[r] + length
        q += length + 1
        r += 1
    return ptr, idx
