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
:func:`by_intersection` chooses per parent (:func:`frequent_extensions` on one rank, with
no candidate list). An intersection writes the candidate's
tid-list as it counts (kept if frequent); occurrence deliver builds the frequent
candidates' lists in a second scan after the reduce (which may need every rank's counts).

Tid-lists pay per row a set holds; bitsets per row a rank holds. Once the kept sets'
tid-lists are long against the rows that still matter (long-tail data at its low supports:
parents of >= 400 rows, pattern rows among 200,000), the counter switches for good to
item bitsets over only the rows that hold a frequent set of the last level (no later set
can lie elsewhere), counted as on dense data (:func:`hpcrec.kernels.support.count_bitsets`:
prefix intersections shared, AND + popcount per non-zero word of the parent); the
tid-lists are dropped. When the tid-lists would pass their memory budget instead, they
are dropped for the rows streamed in chunks (:class:`~hpcrec.kernels.support.StreamingCounter`).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .candidates import gallop, heads, row_runs, walk_runs
from .csr import Csr
from .protocols import MemoryCheck
from .support import (
    FILL,
    LIST,
    StreamingCounter,
    TidListCounter,
    bitsets,
    count_bitsets,
    count_extensions,
    extension_tidlists,
    scan_tails,
)


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
        q = gallop(tids, q, b1, t)
        if q == b1:
            break
        if tids[q] == t:
            if write:
                out[at + n] = t
            n += 1
            q += 1
    return n


@njit(cache=True)
def intersect_all(ptr, tids, left, sib):
    """Local counts and tid-lists of candidates ``left[c] + sib[c]``: candidate c's rows are
    ``buf[start[c]:start[c] + counts[c]]`` (room for the shorter of its two lists)."""
    nc = len(left)
    start = np.zeros(nc + 1, np.int64)
    for c in range(nc):
        a, b = left[c], sib[c]
        start[c + 1] = start[c] + min(ptr[a + 1] - ptr[a], ptr[b + 1] - ptr[b])
    buf = np.empty(start[nc], np.int32)
    counts = np.empty(nc, np.int64)
    for c in range(nc):
        a, b = left[c], sib[c]
        counts[c] = _intersect(tids, ptr[a], ptr[a + 1], ptr[b], ptr[b + 1], buf, start[c])
    return counts, start, buf


def room(ptr: np.ndarray, left: np.ndarray, sib: np.ndarray) -> int:
    """Entries :func:`intersect_all` allocates."""
    return int(np.minimum(np.diff(ptr)[left], np.diff(ptr)[sib]).sum())


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
def gather_tidlists(mask, use, counts, p1, t1, start, buf):
    """One CSR of the tid-lists of the candidates in ``mask``, in order: candidate c's from
    the intersections (``buf`` at ``start[c]``) if use[c], else the next of (p1, t1)."""
    nc = len(mask)
    ptr = np.zeros(mask.sum() + 1, np.int64)
    x = 0
    for c in range(nc):
        if mask[c]:
            ptr[x + 1] = ptr[x] + counts[c]
            x += 1
    out = np.empty(ptr[x], np.int32)
    x, x1 = 0, 0
    for c in range(nc):
        if not mask[c]:
            continue
        if use[c]:
            out[ptr[x]:ptr[x + 1]] = buf[start[c]:start[c] + counts[c]]
        else:
            out[ptr[x]:ptr[x + 1]] = t1[p1[x1]:p1[x1 + 1]]
            x1 += 1
        x += 1
    return ptr, out


@njit(cache=True)
def select_rows(indptr, indices, rows):
    """CSR of the given rows (ascending ids), in their order."""
    out_ptr = np.zeros(len(rows) + 1, np.int64)
    for x in range(len(rows)):
        out_ptr[x + 1] = out_ptr[x] + indptr[rows[x] + 1] - indptr[rows[x]]
    out = np.empty(out_ptr[-1], indices.dtype)
    for x in range(len(rows)):
        out[out_ptr[x]:out_ptr[x + 1]] = indices[indptr[rows[x]]:indptr[rows[x] + 1]]
    return out_ptr, out


@njit(cache=True)
def rows_held(tids, n, most):
    """The distinct rows of ``tids`` ascending, or any most + 1 of them once there are more
    (the caller then needs only to know that)."""
    held = np.zeros(n, np.bool_)
    out = np.empty(min(n, most + 1), np.int64)
    x = 0
    for p in range(len(tids)):
        r = tids[p]
        if not held[r]:
            held[r] = True
            if x == len(out):
                return out
            out[x] = r
            x += 1
    out = out[:x]
    out.sort()
    return out


@njit(cache=True)
def _room(arr, need, most):
    """``arr`` with room for ``need`` entries (doubling, at most ``most``; copied), or an
    empty array where ``need`` is over ``most``."""
    if need <= len(arr):
        return arr
    if need > most:
        return arr[:0]
    out = np.empty(min(max(need, 2 * len(arr)), most), arr.dtype)
    out[:len(arr)] = arr
    return out


@njit(cache=True)
def _reads(ptr, a, rows, first, n, bound):
    """Steps of intersecting parent a's tid-list with those of ``rows[:n]`` (rows first..
    first + n - 1 where ``rows`` is empty): the shorter lists' lengths summed, stopped at
    ``bound``."""
    na = ptr[a + 1] - ptr[a]
    cost = 0
    for c in range(n):
        r = rows[c] if len(rows) else first + c
        cost += min(na, ptr[r + 1] - ptr[r])
        if cost >= bound:
            break
    return cost


@njit(cache=True)
def union_runs(per_rank, last, me):
    """The union, per parent, of the ranks' sorted runs of last items: ``per_rank`` (p, n)
    how many each rank has per parent, ``last`` rank 0's runs (parents in order), then
    rank 1's... Returns (per parent the union's size, its last items ascending, for each
    the index in rank ``me``'s list or -1). A p-way merge: p steps per item of the union
    (the ranks' runs are mostly the same items)."""
    p, n = per_rank.shape
    at = np.zeros(p, np.int64)   # each rank's next entry
    for r in range(1, p):
        at[r] = at[r - 1] + per_rank[r - 1].sum()
    mine0 = at[me]
    end = np.empty(p, np.int64)
    out = np.empty(at[p - 1] + per_rank[p - 1].sum(), np.int32)
    own = np.empty(len(out), np.int64)
    per_row = np.zeros(n, np.int64)
    x = 0
    for i in range(n):
        for r in range(p):
            end[r] = at[r] + per_rank[r, i]
        x0 = x
        while True:
            y = np.int32(2**31 - 1)
            for r in range(p):
                if at[r] < end[r] and last[at[r]] < y:
                    y = last[at[r]]
            if y == 2**31 - 1:
                break
            out[x], own[x] = y, -1
            for r in range(p):
                if at[r] < end[r] and last[at[r]] == y:
                    if r == me:
                        own[x] = at[r] - mine0
                    at[r] += 1
            x += 1
        per_row[i] = x - x0
    return per_row, out[:x].copy(), own[:x].copy()


@njit(cache=True)
def _joins_first(items, n, lasts, lo, hi):
    """How many of ``items[:n]`` (ascending) are last items of rows lo..hi-1 (a parent's
    partners, last items ascending), moved to the front in order (the others behind)."""
    kept, q = 0, lo
    for t in range(n):
        i = items[t]
        q = gallop(lasts, q, hi, i)
        if q < hi and lasts[q] == i:
            items[t], items[kept] = items[kept], i
            kept += 1
    return kept


@njit(cache=True)
def frequent_extensions(csrs, m, F, partners, lo, hi, minc, limits):
    """The sets of the next level grown from parents lo..hi-1 of F (rows sorted; ``csrs``:
    the rows indptr/indices over m items and the parents' tid-lists ptr/tids) counted at
    least ``minc`` times on these rows, with no list of candidates: (per parent their
    number; their last items, ascending per parent; counts; tid-lists as CSR; extensions
    counted; whether it finished: False where the tid-lists would pass ``most`` entries).
    ``limits`` = (weight, try_prune, most). Only joins (a partner's last item) are
    reported; on one rank they are the frequent sets, on p ranks every frequent set is
    among those counted minc / p times on some rank.

    A parent is counted by intersection with its candidates' siblings where that reads
    fewer than ``weight`` times its tid-list (checked on its joins, or, where the prune's
    shortest run is under ``try_prune`` times its rows, on its candidates after the prune:
    :func:`~hpcrec.kernels.candidates.row_runs`), else by occurrence deliver, with
    no prune: a tail item met in at least ``minc`` of its rows (and a join) is reported;
    on one rank such a set is frequent, so all its subsets are too. Its rows are scanned
    once to count (the items met are listed, so only they are cleared) and once more,
    where one is reported, to write the tid-lists."""
    ptr, tids = csrs[2], csrs[3]   # the parents' tid-lists (csrs[:2]: the rows)
    weight, try_prune, most = limits
    L = F.shape[1]
    lasts = F[:, L - 1]
    head = heads(F)
    per_row = np.zeros(hi - lo, np.int64)
    widest = 1
    for a in range(lo, hi):
        widest = max(widest, partners[a])
    last = np.empty(16, np.int32)
    counts = np.empty(16, np.int64)
    out_ptr = np.zeros(17, np.int64)
    out = np.empty(16, np.int32)
    mark = np.zeros(m, np.int64)
    slot = np.full(m, -1, np.int64)
    touched = np.empty(m, np.int64)
    fill = np.empty(m, np.int64)
    ys = np.empty(widest, np.int32)
    sibs = np.empty(widest, np.int64)
    start = np.empty(L, np.int64)
    end = np.empty(L, np.int64)
    key = np.empty(L, np.int32)
    x, seen = 0, 0
    for a in range(lo, hi):
        nj = partners[a]
        if nj == 0:
            continue
        na = ptr[a + 1] - ptr[a]
        shortest = row_runs(F, lasts, head, a, nj, start, end, key)
        if shortest < 0:   # no candidate
            continue
        bound = weight * na
        nc = -1
        if (end[shortest] - start[shortest] < try_prune * na
                or _reads(ptr, a, sibs[:0], a + 1, nj, bound) < bound):
            nc = walk_runs(lasts, start, end, shortest, ys, sibs)
            if _reads(ptr, a, sibs, 0, nc, bound) >= bound:
                nc = -1
        if nc >= 0:   # by intersection
            seen += nc
            for c in range(nc):
                s = sibs[c]
                at = out_ptr[x]
                out = _room(out, at + min(na, ptr[s + 1] - ptr[s]), most)
                if len(out) == 0:
                    return per_row, last[:0], counts[:0], out_ptr[:1], out, seen, False
                n = _intersect(tids, ptr[a], ptr[a + 1], ptr[s], ptr[s + 1], out, at)
                if n >= minc:
                    last, counts = _room(last, x + 1, 1 << 62), _room(counts, x + 1, 1 << 62)
                    out_ptr = _room(out_ptr, x + 2, 1 << 62)
                    last[x], counts[x], out_ptr[x + 1] = ys[c], n, at + n
                    x += 1
                    per_row[a - lo] += 1
            continue
        first = lasts[a] + 1   # the items after the parent's last
        nt = scan_tails(csrs, a, first, mark, LIST, (slot, touched, fill, 0))
        seen += nt
        nh = 0
        for t in range(nt):   # the frequent ones to the front of touched, then sorted
            i = touched[t]
            if mark[i] >= minc:
                touched[t], touched[nh] = touched[nh], i
                nh += 1
        if nh:
            touched[:nh].sort()
            nh = _joins_first(touched, nh, lasts, a + 1, a + 1 + nj)
        if nh:
            x0 = x
            last, counts = _room(last, x + nh, 1 << 62), _room(counts, x + nh, 1 << 62)
            out_ptr = _room(out_ptr, x + nh + 1, 1 << 62)
            for t in range(nh):
                i = touched[t]
                slot[i] = x
                fill[x - x0] = out_ptr[x]
                last[x], counts[x], out_ptr[x + 1] = i, mark[i], out_ptr[x] + mark[i]
                x += 1
            out = _room(out, out_ptr[x], most)
            if len(out) == 0:
                return per_row, last[:0], counts[:0], out_ptr[:1], out, seen, False
            scan_tails(csrs, a, first, mark, FILL, (slot, out, fill, x0))
            per_row[a - lo] = nh
        for t in range(nt):
            mark[touched[t]] = 0
            slot[touched[t]] = -1
    return per_row, last[:x].copy(), counts[:x].copy(), out_ptr[:x + 1].copy(), \
        out[:out_ptr[x]].copy(), seen, True


TRY_PRUNE = 1.0  # one rank: pruned to choose by its candidates where the shortest run < this x its rows
WEIGHT = 16  # a row visit of occurrence deliver (a cache miss) against a galloping step
BITS_FROM = 8  # switch to bitsets when a mean tid-list fills 1/BITS_FROM of a bitset's words


class IntersectingCounter(TidListCounter):
    """Tid-lists as :class:`~hpcrec.kernels.support.TidListCounter`; each parent's
    candidates are counted and extended by occurrence deliver or by intersection with
    their siblings, whichever reads less (:func:`by_intersection`); item bitsets of the
    remaining rows once the tid-lists are long (:meth:`_switch`)."""

    bits = None     # item bitsets over the rows that still matter, after the switch
    stream = None   # the StreamingCounter, once the tid-lists would exceed ``budget``
    _often = None   # several ranks: (ptr, tids) of this rank's often extensions of a block

    def __init__(self, rows: Csr, m: int, check: MemoryCheck, final: int | None = None,
                 budget: int | None = None):
        """``final``: the local counts are the global ones (one rank) and a candidate is
        kept from this count on: :meth:`extend` then finds a block's frequent sets with
        no candidate list. ``budget``: bytes the tid-lists (the parents',
        the next level's and the intersections') may take; a count or keep that would
        need more drops them for good and streams the rows instead (:meth:`_stream`)."""
        super().__init__(rows, m, check)
        self.final, self.budget = final, budget

    def _held(self) -> int:
        """Bytes of the tid-lists held: the parents' and the next level's so far."""
        return sum(p.nbytes + t.nbytes for p, t in [(self.ptr, self.tids), *self._kept])

    def _over(self, more: int) -> bool:
        """Whether ``more`` bytes of tid-lists would exceed the budget: then stream."""
        if self.budget is None or self._held() + more <= self.budget:
            return False
        self._stream()
        return True

    def _stream(self) -> None:
        """Drop the tid-lists for good: rows are streamed in chunks from now on."""
        self.stream = StreamingCounter(self.rows, self.m, self.check)
        self.ptr = self.tids = self._pending = self._often = None
        self._kept = []

    def drop_often(self) -> None:
        """The last :meth:`often` lists are not used (another rank could not list its own)."""
        self._often = None

    def _extensions(self, parents: np.ndarray, partners: np.ndarray, lo: int, hi: int,
                    at_least: int):
        """:func:`frequent_extensions` within the tid-lists' budget (past it the rows are
        streamed from now on: None), or None where there are no tid-lists."""
        if self.bits is not None or self.stream is not None:
            return None
        most = (1 << 62) if self.budget is None else max(0, self.budget - self._held()) // 4
        csrs = (self.rows.indptr, self.rows.indices, self.ptr, self.tids)
        per_row, last, counts, ptr, tids, seen, done = frequent_extensions(
            csrs, self.m, parents, partners, lo, hi, at_least, (WEIGHT, TRY_PRUNE, most))
        if not done:
            self._stream()
            return None
        self.check(ptr.nbytes + tids.nbytes, f"tid-lists of {len(last)} itemsets")
        return per_row, last, counts, (ptr, tids), seen

    def extend(self, parents: np.ndarray, partners: np.ndarray, lo: int, hi: int):
        """One rank: the frequent sets grown from parents lo..hi-1 (``partners``: their
        joins) without a candidate list (:func:`frequent_extensions`), kept as the next
        parents: (per parent its number of them, their last items, counts, extensions
        counted). None where candidates must be listed and counted instead: several ranks
        (the counts are reduced), bitsets, streamed rows, or past the tid-lists' budget
        (then the rows are streamed from now on)."""
        found = None if self.final is None else self._extensions(parents, partners, lo, hi,
                                                                 self.final)
        if found is None:
            return None
        per_row, last, counts, lists, seen = found
        self._kept.append(lists)
        return per_row, last, counts, seen

    def keep_pairs(self, pairs: np.ndarray, counts: np.ndarray) -> None:
        # level 2 from the items' tid-lists: one pass of occurrence deliver over the rows
        left, last = pairs[:, 0].astype(np.int64), pairs[:, 1].copy()
        self._pending = (left, last, np.zeros(len(pairs), bool), counts, None, None)
        self.keep(np.ones(len(pairs), bool))
        self.next_level()

    def count(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray) -> np.ndarray:
        if self.bits is not None:
            return count_bitsets(self.bits, parents, left, last)
        if self.stream is not None:
            return self.stream.count(parents, left, last)
        sib = sibling_rows(parents, left, last)
        use = by_intersection(self.ptr, left, sib, WEIGHT)
        need = 4 * room(self.ptr, left[use], sib[use])
        if self._over(need):
            return self.stream.count(parents, left, last)
        self.check(need, f"tid-lists of {int(use.sum())} candidates counted by intersection")
        counts = np.empty(len(left), np.int64)
        counts[~use] = count_extensions(self.rows.indptr, self.rows.indices, self.ptr,
                                        self.tids, left[~use], last[~use], self.m)
        counts[use], start, buf = intersect_all(self.ptr, self.tids, left[use], sib[use])
        at = np.zeros(len(left), np.int64)   # intersection results by candidate
        at[use] = start[:-1]
        self._pending = (left, last, use, counts, at, buf)
        return counts

    def often(self, parents: np.ndarray, partners: np.ndarray, lo: int, hi: int,
              at_least: int):
        """Several ranks: the extensions of parents lo..hi-1 counted at least ``at_least``
        times on this rank's rows, with no candidate list (:func:`frequent_extensions`;
        with p ranks a frequent set is counted minc / p times on some rank): (per parent
        their number, last items, local counts, extensions counted), their tid-lists held
        for :meth:`keep_union`. None as for :meth:`extend`."""
        found = self._extensions(parents, partners, lo, hi, at_least)
        if found is None:
            return None
        per_row, last, counts, self._often, seen = found
        return per_row, last, counts, seen

    def count_union(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray,
                    own: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Local counts of the union of the ranks' :meth:`often` extensions (candidates
        ``parents[left[c]] + {last[c]}``): ``counts`` (of this rank's own, where ``own``
        >= 0: their index in its list) and the others counted now (:meth:`count`)."""
        out = np.empty(len(left), np.int64)
        mine = own >= 0
        out[mine] = counts[own[mine]]
        out[~mine] = self.count(parents, left[~mine], last[~mine])
        return out

    def keep_union(self, mask: np.ndarray, own: np.ndarray, counts: np.ndarray) -> None:
        """:meth:`keep` for the union of :meth:`count_union` (local ``counts``): the kept
        sets' tid-lists from this rank's own list or from the count, in order."""
        if self.bits is not None or self.stream is not None:
            return
        mine = own >= 0
        held = len(self._kept)
        self.keep(mask[~mine])
        if self.stream is not None:
            return
        p1, t1 = self._kept.pop() if len(self._kept) > held else (np.zeros(1, np.int64),
                                                                   np.empty(0, np.int32))
        ptr, tids = self._often
        start = np.zeros(len(own), np.int64)
        start[mine] = ptr[own[mine]]
        self._often = None
        self._kept.append(gather_tidlists(mask, mine, counts, p1, t1, start, tids))

    def keep(self, mask: np.ndarray) -> None:
        if self.bits is not None or self.stream is not None:
            return
        left, last, use, counts, at, buf = self._pending
        need = 4 * int(counts[mask].sum()) + 8 * int(mask.sum())
        if self._over(need + (0 if buf is None else buf.nbytes)):
            return
        self.check(need, f"tid-lists of {int(mask.sum())} frequent itemsets")
        od = mask & ~use
        p1, t1 = extension_tidlists(self.rows.indptr, self.rows.indices, self.ptr,
                                    self.tids, left[od], last[od], counts[od], self.m)
        if buf is None or not (mask & use).any():
            self._kept.append((p1, t1))
        else:
            self._kept.append(gather_tidlists(mask, use, counts, p1, t1, at, buf))
        self._pending = None

    def next_level(self) -> None:
        if self.bits is None and self.stream is None:
            super().next_level()
            self._switch()

    def _switch(self) -> None:
        """Bitsets instead of tid-lists from now on if the kept sets' mean tid-list fills
        at least 1/BITS_FROM of the words of a bitset over the rows holding one of them."""
        sets = len(self.ptr) - 1
        if sets == 0:
            return
        # the switch pays while the rows holding a set number <= this
        most = 64 * (BITS_FROM * len(self.tids) // sets + 1)
        rows = rows_held(self.tids, len(self.rows.indptr) - 1, most)
        words = (len(rows) + 63) // 64
        if len(rows) > most or BITS_FROM * len(self.tids) < sets * words:
            return
        sub = select_rows(self.rows.indptr, self.rows.indices, rows)
        self.check(8 * max(1, words) * self.m, f"bitsets of {self.m} items on {len(rows)} rows")
        self.bits = bitsets(sub[0], sub[1], self.m)
        self.ptr = self.tids = None
