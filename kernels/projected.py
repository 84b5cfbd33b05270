"""Depth-first mining of conditional (projected) databases on the CPU (Numba).

This is the local miner of the PFP scheme: a rank holds the conditional transactions of
the items it owns (rows of recoded items, sorted ascending, item 0 the most frequent) and
finds every frequent itemset whose largest item is one of those items, without talking
to other ranks. Each owned item's conditional database is laid out contiguously in one
sequential pass (:func:`conditional_rows`), then searched depth first: a node's children
and their tid-lists come from one scan of the node's rows (occurrence deliver), which
also writes the rows reduced to the children's items for the next level (database
reduction). Perfect extensions (items in every row of a node) are absorbed instead of
branched on. Memory is a stack: the rows and lists of the nodes on the current path.

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


@njit(cache=True, inline="always")
def _expand(rb, re, ri, ro, rtop, itop, pool, t0, t1, bound, minc, cnt, slot, touched, skip,
            perfect, mem_item, mem_beg, mem_end, mtop, top):
    """Occurrence deliver with database reduction: the children X + {i} of a node X.

    X's tid-list is pool[t0:t1], ids of rows in the row store (rb/re: item range in ri;
    ro: the conditional-database row each came from). One scan counts the items below
    ``bound`` not flagged in ``skip``; the frequent ones become children (member arrays
    from ``mtop``, tid-lists in the pool from ``top``). A second scan writes each row,
    reduced to the children's items, as a new row of the store (from ``rtop`` / ``itop``),
    so deeper nodes scan only items that can still be frequent. Items in every row (perfect
    extensions: adding them keeps the support) are listed in ``perfect``, not made children.
    Returns the (possibly regrown) arrays, the new tops and the number of perfect items.
    """
    n_touched = 0
    for p in range(t0, t1):
        r = pool[p]
        for q in range(rb[r], re[r]):
            i = ri[q]
            if i >= bound:
                break
            if skip[i]:
                continue
            if cnt[i] == 0:
                touched[n_touched] = i
                n_touched += 1
            cnt[i] += 1
    first = mtop
    n_perfect = 0
    kept = 0
    for x in range(n_touched):
        i = touched[x]
        if cnt[i] < minc:
            cnt[i] = 0  # zero: the fill scan drops the item
            continue
        if cnt[i] == t1 - t0:
            perfect[n_perfect] = i
            n_perfect += 1
            cnt[i] = 0
            continue
        if mtop + 1 > len(mem_item):
            mem_item = _grow(mem_item, mtop + 1)
            mem_beg = _grow(mem_beg, mtop + 1)
            mem_end = _grow(mem_end, mtop + 1)
        mem_item[mtop] = i
        mem_beg[mtop] = top
        mem_end[mtop] = top
        slot[i] = mtop
        top += cnt[i]
        kept += cnt[i]
        mtop += 1
    if mtop > first:
        if top > len(pool):
            pool = _grow(pool, top)
        if rtop + t1 - t0 > len(rb):
            rb = _grow(rb, rtop + t1 - t0)
            re = _grow(re, rtop + t1 - t0)
            ro = _grow(ro, rtop + t1 - t0)
        if itop + kept > len(ri):
            ri = _grow(ri, itop + kept)
        for p in range(t0, t1):
            r = pool[p]
            start = itop
            for q in range(rb[r], re[r]):
                i = ri[q]
                if i >= bound:
                    break
                if cnt[i] > 0:
                    ri[itop] = i
                    itop += 1
                    x = slot[i]
                    pool[mem_end[x]] = rtop
                    mem_end[x] += 1
            if itop > start:
                rb[rtop] = start
                re[rtop] = itop
                ro[rtop] = ro[r]
                rtop += 1
    for x in range(n_touched):
        cnt[touched[x]] = 0
    return rb, re, ri, ro, rtop, itop, pool, mem_item, mem_beg, mem_end, mtop, top, n_perfect


@njit(cache=True)
def _push(out_items, out_len, out_cnt, n_out, n_items, buf, size, count):
    """Append itemset buf[:size] with its count to the (growable) output arrays."""
    if n_out + 1 > len(out_len):
        out_len = _grow(out_len, n_out + 1)
        out_cnt = _grow(out_cnt, n_out + 1)
    if n_items + size > len(out_items):
        out_items = _grow(out_items, n_items + size)
    out_items[n_items:n_items + size] = buf[:size]
    out_len[n_out] = size
    out_cnt[n_out] = count
    return out_items, out_len, out_cnt, n_out + 1, n_items + size


@njit(cache=True, inline="always")
def _extendable(beg, end, items, ro, pool, t0, t1, lo, hi, minc, cnt, touched, skip):
    """Whether some item i in [lo, hi), not flagged in ``skip``, is in >= minc of the
    conditional-database rows ro[pool[t0:t1]]."""
    n_touched = 0
    found = False
    for p in range(t0, t1):
        r = ro[pool[p]]
        for q in range(beg[r], end[r]):
            i = items[q]
            if i >= hi:
                break
            if i < lo or skip[i]:
                continue
            if cnt[i] == 0:
                touched[n_touched] = i
                n_touched += 1
            cnt[i] += 1
            if cnt[i] >= minc:
                found = True
                break
        if found:
            break
    for x in range(n_touched):
        cnt[touched[x]] = 0
    return found


@njit(cache=True)
def conditional_rows(indptr, indices, owned, lo, hi):
    """The conditional databases of the owned items j in [lo, hi), in one sequential pass.

    For every row and every owned item j in it, the row's items before j become one row
    of j's database. Rows are laid out bucket by bucket (j ascending), so mining one item
    touches one contiguous region. Returns (beg, end, items, first) with rows
    first[j - lo] .. first[j - lo + 1] - 1 belonging to j.
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
    beg = np.empty(n_rows[k], np.int64)
    end = np.empty(n_rows[k], np.int64)
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
                beg[row] = q
                for t in range(s, p):
                    items[q + t - s] = indices[t]
                end[row] = q + p - s
                fill_row[x] = row + 1
                fill_item[x] = q + p - s
    return beg, end, items, n_rows


@njit(cache=True)
def mine_groups(indptr, indices, m, owned_items, minc, max_len, limit, maximal, chunk):
    """Frequent itemsets (support >= minc) whose largest item is in ``owned_items``.

    For each owned item j, its conditional database (built for ``chunk`` items' worth of
    rows at a time) is searched depth first: a node X gets the children X + {i}, i below
    X's smallest item, from one scan of its rows (:func:`_expand`). Perfect extensions
    are absorbed, not branched on: node X then stands for X plus any subset of them (all
    with X's support), which are written out combinatorially. ``max_len <= 0`` means no
    limit (it bounds the itemsets, absorbed items included). With ``maximal``, only the
    node with all its absorbed items is reported, and only nodes without children and
    without a frequent extension by any other item below j: the maximal itemsets of these groups, and some that a superset with a
    larger item (another group) covers; the caller removes those. Stops with status
    TOO_MANY beyond ``limit`` itemsets. Returns (status, flat items, lengths, counts);
    items within an itemset are unsorted.
    """
    out_items = np.empty(1024, np.int32)
    out_len = np.empty(256, np.int32)
    out_cnt = np.empty(256, np.int64)
    n_out = 0
    n_items_out = 0

    owned = np.zeros(m, np.bool_)
    for j in owned_items:
        owned[j] = True
    cnt = np.zeros(m, np.int64)
    slot = np.zeros(m, np.int64)
    touched = np.empty(m, np.int32)
    perfect = np.empty(m, np.int32)
    in_prefix = np.zeros(m, np.bool_)
    prefix = np.empty(m + 1, np.int32)
    absorbed = np.zeros(m + 1, np.bool_)  # prefix[t] is a perfect extension, not a path item
    buf = np.empty(m + 1, np.int32)
    path = np.empty(m + 1, np.int32)
    extra = np.empty(m + 1, np.int32)
    comb = np.empty(m + 1, np.int64)
    pool = np.empty(1024, np.int32)
    mem_item = np.empty(64, np.int32)
    mem_beg = np.empty(64, np.int64)
    mem_end = np.empty(64, np.int64)
    depth_cap = 64
    f_mend = np.empty(depth_cap, np.int64)
    f_pos = np.empty(depth_cap, np.int64)
    f_top = np.empty(depth_cap, np.int64)
    f_plen = np.empty(depth_cap, np.int64)
    f_npath = np.empty(depth_cap, np.int64)
    f_rtop = np.empty(depth_cap, np.int64)
    f_itop = np.empty(depth_cap, np.int64)

    # chunks of owned items whose conditional databases hold about ``chunk`` items
    weights = np.zeros(m, np.int64)
    for r in range(len(indptr) - 1):
        s = indptr[r]
        for p in range(s, indptr[r + 1]):
            weights[indices[p]] += p - s + 1
    lo = 0
    while lo < m:
        hi = lo
        size = 0
        while hi < m and (hi == lo or size + weights[hi] * owned[hi] <= chunk):
            size += weights[hi] * owned[hi]
            hi += 1
        beg, end, citems, first = conditional_rows(indptr, indices, owned, lo, hi)
        # the row store starts as the conditional databases; reduced rows go above them
        n_base, i_base = len(beg), len(citems)
        rb = beg.copy()
        re = end.copy()
        ri = citems.copy()
        ro = np.arange(n_base)
        for j in range(lo, hi):
            r0, r1 = first[j - lo], first[j - lo + 1]
            if not owned[j] or r1 - r0 < minc:
                continue
            # the root node {j}: a member whose tid-list is all rows of j's database
            if r1 - r0 > len(pool):
                pool = _grow(pool, r1 - r0)
            for t in range(r1 - r0):
                pool[t] = r0 + t
            mem_item[0] = j
            mem_beg[0] = 0
            mem_end[0] = r1 - r0
            depth = 0
            f_pos[0] = 0
            f_mend[0] = 1
            f_top[0] = r1 - r0
            f_plen[0] = 0
            f_npath[0] = 0
            f_rtop[0] = n_base
            f_itop[0] = i_base
            plen = 0
            while depth >= 0:
                if f_pos[depth] == f_mend[depth]:
                    depth -= 1
                    continue
                a = f_pos[depth]
                f_pos[depth] += 1
                # what earlier siblings' subtrees allocated lies above the frame's marks
                mtop = f_mend[depth]
                top = f_top[depth]
                rtop = f_rtop[depth]
                itop = f_itop[depth]
                for t in range(f_plen[depth], plen):
                    in_prefix[prefix[t]] = False
                plen = f_plen[depth]
                npath = f_npath[depth] + 1
                prefix[plen] = mem_item[a]
                absorbed[plen] = False
                in_prefix[mem_item[a]] = True
                plen += 1
                count = mem_end[a] - mem_beg[a]
                first_child = mtop
                n_perfect = 0
                if npath != max_len:
                    (rb, re, ri, ro, rtop, itop, pool, mem_item, mem_beg, mem_end, mtop, top,
                     n_perfect) = _expand(rb, re, ri, ro, rtop, itop, pool, mem_beg[a], mem_end[a],
                                          mem_item[a], minc, cnt, slot, touched, in_prefix,
                                          perfect, mem_item, mem_beg, mem_end, mtop, top)
                    for t in range(n_perfect):
                        prefix[plen] = perfect[t]
                        absorbed[plen] = True
                        in_prefix[perfect[t]] = True
                        plen += 1
                childless = mtop == first_child
                if maximal and childless and _extendable(
                        beg, end, citems, ro, pool, mem_beg[a], mem_end[a], mem_item[a] + 1, j,
                        minc, cnt, touched, in_prefix):
                    pass  # a frequent superset with another item below j: not maximal
                elif maximal:
                    if childless:
                        if n_out + 1 > limit:
                            return TOO_MANY, out_items[:n_items_out], out_len[:n_out], out_cnt[:n_out]
                        out_items, out_len, out_cnt, n_out, n_items_out = _push(
                            out_items, out_len, out_cnt, n_out, n_items_out, prefix, plen, count)
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
                                return TOO_MANY, out_items[:n_items_out], out_len[:n_out], out_cnt[:n_out]
                            buf[:npath] = path[:npath]
                            for t in range(r):
                                buf[npath + t] = extra[comb[t]]
                            out_items, out_len, out_cnt, n_out, n_items_out = _push(
                                out_items, out_len, out_cnt, n_out, n_items_out, buf, npath + r, count)
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
                    if depth + 1 >= depth_cap:
                        depth_cap *= 2
                        f_mend = _grow(f_mend, depth_cap)
                        f_pos = _grow(f_pos, depth_cap)
                        f_top = _grow(f_top, depth_cap)
                        f_plen = _grow(f_plen, depth_cap)
                        f_npath = _grow(f_npath, depth_cap)
                        f_rtop = _grow(f_rtop, depth_cap)
                        f_itop = _grow(f_itop, depth_cap)
                    f_pos[depth] = first_child
                    f_mend[depth] = mtop
                    f_top[depth] = top
                    f_plen[depth] = plen
                    f_npath[depth] = npath
                    f_rtop[depth] = rtop
                    f_itop[depth] = itop
            for t in range(plen):
                in_prefix[prefix[t]] = False
        lo = hi
    return OK, out_items[:n_items_out], out_len[:n_out], out_cnt[:n_out]


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
