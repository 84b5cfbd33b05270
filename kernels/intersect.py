"""Apriori's sparse counter: occurrence deliver or tid-list intersection, per parent (Numba).

A candidate P + {b, c} of level k + 1 is the join of two frequent k-itemsets, its parent
P + {b} and its sibling P + {c}; the rows holding it are the intersection of their sorted
local tid-lists. Intersection walks the shorter list and gallops through the longer, with
sequential reads; occurrence deliver (:func:`hpcrec.kernels.support.count_extensions`)
reads every row of the parent, one cache miss a row, once for all the parent's
candidates, and again to build the tid-lists. A parent with many candidates (retail's
frequent items) is cheaper by occurrence deliver; one with a few long-tid-list candidates
by intersection: on the long-tail set (mean 2.8 frequent items a row, a few rows of 250,
about one candidate a parent) the row scans were 97 % of the mining time.
:func:`by_intersection` chooses per parent; tid-lists are built the same way, for the
frequent candidates only (after the reduce, which may need every rank's counts).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .support import TidListCounter, count_extensions, extension_tidlists


@njit(cache=True)
def _intersect(tids, a0, a1, b0, b1, out, at):
    """Size of tids[a0:a1] & tids[b0:b1] (both sorted), written to out[at:] unless out is
    empty: walks the shorter run, galloping through the longer."""
    if a1 - a0 > b1 - b0:
        a0, a1, b0, b1 = b0, b1, a0, a1
    n = 0
    q = b0
    write = len(out) > 0
    for p in range(a0, a1):
        t = tids[p]
        if q < b1 and tids[q] < t:
            lo, step = q, 1          # tids[lo] < t throughout
            while lo + step < b1 and tids[lo + step] < t:
                lo += step
                step *= 2
            hi = min(lo + step, b1)
            lo += 1
            while lo < hi:
                mid = (lo + hi) // 2
                if tids[mid] < t:
                    lo = mid + 1
                else:
                    hi = mid
            q = lo
        if q == b1:
            break
        if tids[q] == t:
            if write:
                out[at + n] = t
            n += 1
            q += 1
    return n


@njit(cache=True)
def count_intersections(ptr, tids, left, sib):
    """Local count of every candidate: |tid-list(left[c]) & tid-list(sib[c])|."""
    counts = np.empty(len(left), np.int64)
    none = np.empty(0, np.int32)
    for c in range(len(left)):
        a, b = left[c], sib[c]
        counts[c] = _intersect(tids, ptr[a], ptr[a + 1], ptr[b], ptr[b + 1], none, 0)
    return counts


@njit(cache=True)
def intersect_tidlists(ptr, tids, left, sib, counts):
    """Tid-lists (CSR) of the candidates whose local ``counts`` are known."""
    nc = len(left)
    out_ptr = np.zeros(nc + 1, np.int64)
    for c in range(nc):
        out_ptr[c + 1] = out_ptr[c] + counts[c]
    out = np.empty(max(out_ptr[nc], 1), np.int32)
    for c in range(nc):
        a, b = left[c], sib[c]
        _intersect(tids, ptr[a], ptr[a + 1], ptr[b], ptr[b + 1], out, out_ptr[c])
    return out_ptr, out[:out_ptr[nc]]


@njit(cache=True)
def sibling_rows(F, left, last):
    """Row of F joined with row left[c] into candidate c: in left[c]'s group (same first
    items; later rows) the one ending in last[c] (candidates grouped by left, last items
    ascending)."""
    nc = len(left)
    L = F.shape[1]
    out = np.empty(nc, np.int64)
    c = 0
    while c < nc:
        a = left[c]
        r = a + 1
        while c < nc and left[c] == a:
            while F[r, L - 1] != last[c]:
                r += 1
            out[c] = r
            c += 1
    return out


@njit(cache=True)
def by_intersection(ptr, left, sib, weight):
    """Per candidate, whether its group (same parent) is counted by intersection: when
    its candidates' shorter tid-lists sum to less than ``weight`` times the parent's
    tid-list, which occurrence deliver reads row by row (few candidates per parent)."""
    nc = len(left)
    out = np.zeros(nc, np.bool_)
    g = 0
    while g < nc:
        a = left[g]
        h = g
        cost = 0
        while h < nc and left[h] == a:
            b = sib[h]
            cost += min(ptr[a + 1] - ptr[a], ptr[b + 1] - ptr[b])
            h += 1
        if cost < weight * (ptr[a + 1] - ptr[a]):
            out[g:h] = True
        g = h
    return out


@njit(cache=True)
def merge_tidlists(use, p1, t1, p2, t2):
    """One CSR of tid-lists in candidate order: candidate c's from (p2, t2) if use[c],
    else from (p1, t1), each source in order."""
    nc = len(use)
    ptr = np.zeros(nc + 1, np.int64)
    x1, x2 = 0, 0
    for c in range(nc):
        if use[c]:
            ptr[c + 1] = ptr[c] + p2[x2 + 1] - p2[x2]
            x2 += 1
        else:
            ptr[c + 1] = ptr[c] + p1[x1 + 1] - p1[x1]
            x1 += 1
    out = np.empty(ptr[nc], np.int32)
    x1, x2 = 0, 0
    for c in range(nc):
        if use[c]:
            out[ptr[c]:ptr[c + 1]] = t2[p2[x2]:p2[x2 + 1]]
            x2 += 1
        else:
            out[ptr[c]:ptr[c + 1]] = t1[p1[x1]:p1[x1 + 1]]
            x1 += 1
    return ptr, out


WEIGHT = 16  # a row visit of occurrence deliver (a cache miss) against a galloping step


class IntersectingCounter(TidListCounter):
    """Tid-lists as :class:`~hpcrec.kernels.support.TidListCounter`; each parent's
    candidates are counted and extended by occurrence deliver or by intersection with
    their siblings, whichever reads less (:func:`by_intersection`)."""

    def keep_pairs(self, pairs: np.ndarray, counts: np.ndarray) -> None:
        # level 2 from the items' tid-lists: one pass of occurrence deliver over the rows
        left, last = pairs[:, 0].astype(np.int64), pairs[:, 1].copy()
        self._pending = (left, last, last, np.zeros(len(pairs), bool), counts)
        self.keep(np.ones(len(pairs), bool))

    def count(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray) -> np.ndarray:
        sib = sibling_rows(parents, left, last)
        use = by_intersection(self.ptr, left, sib, WEIGHT)
        counts = np.empty(len(left), np.int64)
        counts[~use] = count_extensions(self.rows.indptr, self.rows.indices, self.ptr,
                                        self.tids, left[~use], last[~use], self.m)
        counts[use] = count_intersections(self.ptr, self.tids, left[use], sib[use])
        self._pending = (left, last, sib, use, counts)
        return counts

    def keep(self, mask: np.ndarray) -> None:
        left, last, sib, use, counts = self._pending
        self.check(2 * (4 * int(counts[mask].sum()) + 8 * int(mask.sum())),
                   f"tid-lists of {int(mask.sum())} frequent itemsets")
        od, it = mask & ~use, mask & use
        p1, t1 = extension_tidlists(self.rows.indptr, self.rows.indices, self.ptr, self.tids,
                                    left[od], last[od], counts[od], self.m)
        p2, t2 = intersect_tidlists(self.ptr, self.tids, left[it], sib[it], counts[it])
        if not it.any():
            self.ptr, self.tids = p1, t1
        elif not od.any():
            self.ptr, self.tids = p2, t2
        else:
            self.ptr, self.tids = merge_tidlists(use[mask], p1, t1, p2, t2)
        self._pending = None
