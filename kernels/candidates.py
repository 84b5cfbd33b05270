"""Apriori-gen (join and prune) by intersecting sorted runs of the frequent itemsets (Numba).

F holds the frequent L-itemsets, rows sorted. Row a = prefix P + {b} joins with its
partners, the later rows P + {c} (``join_partners``); the candidate P + {b, c} survives the
prune if every subset without one item s of P is frequent, i.e. if c is the last item of
some row of the block "rows starting with (P - s) + {b}". All these runs (the partners and
the L - 1 blocks) are row ranges of F whose last items ascend, so a row's candidates are
the intersection of L sorted runs: walked from the shortest, each other run entered by
galloping. A row costs about its shortest run times log, never its number of joins: on
sparse data a frequent item joins with thousands of partners of which few survive (retail
at 0.0001: 81 M joins, 0.9 M candidates at level 3).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def heads(F):
    """Per item i up to F's largest first item + 1, the first row of F (rows sorted) whose
    first item is >= i: the rows starting with i are heads[i]..heads[i + 1] - 1 (none
    for a larger i). Binary searches: O(items log rows), so cheap for every block."""
    n = F.shape[0]
    out = np.empty((F[n - 1, 0] + 2) if n else 1, np.int64)
    for i in range(len(out)):
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if F[mid, 0] < i:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo
    return out


@njit(cache=True)
def _lower_bound(F, key, width, upper, lo, hi):
    """First row of F in lo..hi whose first ``width`` items are >= key (> key with
    ``upper``); rows lo..hi-1 share the first item, which is not compared."""
    while lo < hi:
        mid = (lo + hi) // 2
        c = 0
        for i in range(1, width):
            if F[mid, i] != key[i]:
                c = -1 if F[mid, i] < key[i] else 1
                break
        if c < 0 or (upper and c == 0):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def gallop(values, pos, end, y):
    """First p in [pos, end) with values[p] >= y (end if none), ``values`` ascending there:
    steps doubling from pos, then a binary search, so a near target costs a few reads."""
    if pos >= end or values[pos] >= y:
        return pos
    lo, step = pos, 1          # values[lo] < y throughout
    while lo + step < end and values[lo + step] < y:
        lo += step
        step *= 2
    hi = min(lo + step, end)
    lo += 1
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < y:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def row_runs(F, lasts, first, a, n_partners, start, end, key):
    """The L sorted runs whose intersection is row a's candidates (rows of F whose last
    items are the candidates' last items): run 0 its partners, run s + 1 the block
    "(P - s) + {b, ...}" past b, as [start, end) row ranges (``first``: :func:`heads`).
    Returns the shortest run's index, or -1 where a run is empty (no candidate).
    ``start``, ``end`` (L) and ``key`` (L - 1) are the caller's."""
    L = F.shape[1]
    col = L - 1
    start[0], end[0] = a + 1, a + 1 + n_partners
    shortest = 0
    for skip in range(L - 1):
        t = 0
        for i in range(L):
            if i != skip:
                key[t] = F[a, i]
                t += 1
        if key[0] + 1 >= len(first):   # no row starts with key[0]
            return -1
        s, e = first[key[0]], first[key[0] + 1]   # the rows starting with key[0]
        if L > 2:
            s, e = _lower_bound(F, key, L - 1, False, s, e), _lower_bound(F, key, L - 1, True, s, e)
        # the block's rows are (P - s) + {b, ...}: only last items above b can match
        s = gallop(lasts, s, e, F[a, col] + 1)
        start[skip + 1], end[skip + 1] = s, e
        if s == e:
            return -1
        if e - s < end[shortest] - start[shortest]:
            shortest = skip + 1
    return shortest


@njit(cache=True)
def _in_runs(lasts, start, end, shortest, y):
    """Whether last item y (of the shortest run) is in every other run, galloping each
    run's start forward past the items below y; -1 where a run is exhausted (no later
    item can match either)."""
    for r in range(len(start)):
        if r == shortest:
            continue
        q = gallop(lasts, start[r], end[r], y)
        start[r] = q
        if q == end[r]:
            return -1
        if lasts[q] != y:
            return 0
    return 1


@njit(cache=True)
def walk_runs(lasts, start, end, shortest, ys, sibs):
    """Row a's candidates from its runs (:func:`row_runs`; ``shortest`` >= 0): their last
    items, ascending, into ``ys`` and their siblings (the partner rows with those last
    items) into ``sibs``; returns how many."""
    found = 0
    for p in range(start[shortest], end[shortest]):
        hit = _in_runs(lasts, start, end, shortest, lasts[p])
        if hit < 0:
            break
        if hit:
            ys[found] = lasts[p]
            sibs[found] = p if shortest == 0 else start[0]   # run 0: the partners
            found += 1
    return found


@njit(cache=True)
def prune_joins(F, partners, lo, hi, unpruned=0):
    """Apriori-gen for rows lo..hi-1 of F (rows are independent, so ranks can split them):
    (per row, its number of candidates; their last items, rows in order, each ascending).
    A row of fewer than ``unpruned`` joins takes them all as candidates, unpruned: where
    a candidate is counted by bitsets (dense data) that costs less than the row's L - 1
    block searches (dense-mushroom 0.07: 7.1 of apriori's 9.8 s were the prune, most rows
    having 1-3 joins); its count drops what the prune would have."""
    L = F.shape[1]
    per_row = np.zeros(hi - lo, np.int64)
    lasts = F[:, L - 1]   # ascending within each run the gallops enter
    first = heads(F)
    most = 0
    total = 0
    for a in range(lo, hi):
        most = max(most, partners[a])
        total += partners[a]
    last = np.empty(max(16, min(total, 2 * (hi - lo))), np.int32)   # grows by doubling
    ys = np.empty(most, np.int32)
    sibs = np.empty(most, np.int64)
    start = np.empty(L, np.int64)   # the partners, then one block per item of the prefix
    end = np.empty(L, np.int64)
    key = np.empty(max(L, 1), np.int32)
    x = 0
    for a in range(lo, hi):
        if partners[a] == 0:
            continue
        if partners[a] < unpruned:
            found = partners[a]
            ys[:found] = lasts[a + 1:a + 1 + found]
        else:
            shortest = row_runs(F, lasts, first, a, partners[a], start, end, key)
            found = 0 if shortest < 0 else walk_runs(lasts, start, end, shortest, ys, sibs)
        if x + found > len(last):
            grown = np.empty(max(2 * len(last), x + found), np.int32)
            grown[:x] = last[:x]
            last = grown
        last[x:x + found] = ys[:found]
        x += found
        per_row[a - lo] = found
    return per_row, last[:x].copy()


@njit(cache=True)
def grown_rows(F, left, last, pick, out, sizes):
    """The next level's rows, written once into ``out`` (len(pick), L + 1): row j is
    F[left[c]] + {last[c]} for candidate c = pick[j]; each row's parent ``left[c]`` counted
    in ``sizes`` (the lengths of the next level's runs of siblings). Replaces a gather of the parents'
    rows, a column stack and a copy to int32, each a fresh array of the level (0.4 of
    apriori's 3.4 s on dense-mushroom 0.07, and again on every rank of several)."""
    L = F.shape[1]
    for j in range(len(pick)):
        c = pick[j]
        a = left[c]
        for t in range(L):
            out[j, t] = F[a, t]
        out[j, L] = last[c]
        sizes[a] += 1
