"""Support counting for frequent-itemset mining on the CPU (Numba).

Transactions arrive as CSR rows of *recoded* items: ``0..m-1`` numbers the frequent items
by descending global support, rows sorted ascending. Every frequent itemset of the last
level keeps the sorted list of local row ids (its tid-list) holding it. A candidate is a
parent X (its first k-1 items, a frequent itemset) plus one larger item; all candidates of
one parent are counted by a single scan of X's rows (occurrence deliver), so a level costs
about the parents' total tid-list length times the row length, never transactions x
candidates. Tid-lists are then built for the frequent candidates only. Level 2 is counted
horizontally into the upper triangle of an m x m count array (one pass over the rows), or,
on sparse data where that triangle is mostly zero, per item over its rows with only the
pairs seen often enough written (:func:`often_pairs`).

On dense data (one-hot records: long rows, items in a large share of them) a parent's
tid-list is long and every row holds many items, so :func:`count_bitsets` counts instead
with vertical bitsets: the parent's bitset is built once per group of candidates sharing
it (from a stack of prefix intersections reused by the next parent with the same prefix),
compacted to its non-zero words, and each candidate costs one AND + popcount per word.

Candidate generation (join and prune) is :mod:`hpcrec.kernels.candidates`; the join
partners (:func:`join_partners`) are here. :func:`counter` is this family's CPU
implementation of :class:`~hpcrec.kernels.protocols.SupportCounter` and
:class:`StreamingCounter` the one of bounded memory (rows streamed in chunks of bitsets,
nothing kept per itemset); the GPU counterpart,
bitsets with AND + popcount, is :mod:`hpcrec.kernels.support_cuda`; :func:`bitsets` builds
the input of both.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

from .csr import Csr
from .protocols import MemoryCheck


@intrinsic
def popcount(typingctx, x):
    """Set bits of a uint64 (LLVM's ctpop: one POPCNT instruction where the CPU has it)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])
    return types.uint64(types.uint64), codegen


@njit(cache=True)
def _one_word_rows(indptr, indices, code):
    """:func:`recode_rows` for codes below 64: each row's codes as the bits of one word
    (a column's bit looked up, no branch), the words kept, then read back lowest first:
    one pass over the items instead of two, and no bit array in memory."""
    n = len(indptr) - 1
    bit = np.zeros(len(code), np.int64)
    for c in range(len(code)):
        if code[c] >= 0:
            bit[c] = np.int64(1) << code[c]
    words = np.empty(n, np.int64)
    out_ptr = np.zeros(n + 1, np.int64)
    for r in range(n):
        x = np.int64(0)
        for p in range(indptr[r], indptr[r + 1]):
            x |= bit[indices[p]]
        words[r] = x
        out_ptr[r + 1] = out_ptr[r] + popcount(np.uint64(x))
    out = np.empty(out_ptr[n], np.int32)
    for r in range(n):
        x = words[r]
        q = out_ptr[r]
        while x != 0:
            out[q] = trailing_zeros(x)
            q += 1
            x &= x - 1
    return out_ptr, out


RANK_MAX = 32  # rows up to this many kept items are sorted by rank (a sort call past it)


@njit(cache=True)
def recode_rows(indptr, indices, code):
    """Rows keeping only items with ``code[item] >= 0``, replaced by their codes, sorted.
    A row's items are distinct (:meth:`hpcrec.io.Transactions.validate`), so a row with at
    least one kept item per 64 codes (dense data) is sorted through a bit per code, read
    back word by word (codes below 64 only: :func:`_one_word_rows`); a shorter one by
    rank: each code goes to its row's start plus the number of its codes below it (no
    data-dependent branch, where an insertion sort mispredicts about once a code: 11 of
    14 ms on T10I4D100K); a sort call past RANK_MAX items."""
    most = -1
    for c in code:
        most = max(most, c)
    if most < 64:
        return _one_word_rows(indptr, indices, code)
    n = len(indptr) - 1
    out_ptr = np.zeros(n + 1, np.int64)
    top = -1
    for r in range(n):
        c = 0
        for p in range(indptr[r], indptr[r + 1]):
            k = code[indices[p]]
            if k >= 0:
                c += 1
                top = max(top, k)
        out_ptr[r + 1] = out_ptr[r] + c
    out = np.empty(out_ptr[n], np.int32)
    words = (top >> 6) + 1
    bits = np.zeros(words, np.int64)
    row = np.empty(RANK_MAX, np.int32)
    for r in range(n):
        s = out_ptr[r]
        q = s
        size = out_ptr[r + 1] - s
        if size >= words:
            for p in range(indptr[r], indptr[r + 1]):
                k = code[indices[p]]
                if k >= 0:
                    bits[k >> 6] |= np.int64(1) << (k & 63)
            for w in range(words):
                x = bits[w]
                bits[w] = 0
                while x != 0:
                    out[q] = (w << 6) + trailing_zeros(x)
                    q += 1
                    x &= x - 1
            continue
        if size > RANK_MAX:
            for p in range(indptr[r], indptr[r + 1]):
                k = code[indices[p]]
                if k >= 0:
                    out[q] = k
                    q += 1
            out[s:q].sort()
            continue
        for p in range(indptr[r], indptr[r + 1]):
            k = code[indices[p]]
            if k >= 0:
                row[q - s] = k
                q += 1
        for t in range(size):
            k = row[t]
            below = 0
            for u in range(size):
                below += row[u] < k
            out[s + below] = k
    return out_ptr, out


@njit(cache=True)
def vertical(indptr, indices, m):
    """Transpose CSR rows over items ``0..m-1`` into per-item sorted row-id lists (CSC)."""
    ptr = np.zeros(m + 1, np.int64)
    for p in range(len(indices)):
        ptr[indices[p] + 1] += 1
    for i in range(m):
        ptr[i + 1] += ptr[i]
    fill = ptr[:m].copy()
    tids = np.empty(ptr[m], np.int32)
    for r in range(len(indptr) - 1):
        for p in range(indptr[r], indptr[r + 1]):
            i = indices[p]
            tids[fill[i]] = r
            fill[i] += 1
    return ptr, tids


def n_pairs(m: int) -> int:
    return m * (m - 1) // 2


@njit(cache=True)
def pair_index(a, b, m):
    """Position of the pair (a < b) in the row-major upper triangle of an m x m array."""
    return a * m - a * (a + 1) // 2 + b - a - 1


@njit(cache=True)
def add_pair_counts(indptr, indices, m, out):
    """Add, for every row, 1 to ``out[pair_index(a, b)]`` for each item pair a < b in it."""
    for r in range(len(indptr) - 1):
        s, e = indptr[r], indptr[r + 1]
        for p in range(s, e):
            base = pair_index(indices[p], 0, m)
            for q in range(p + 1, e):
                out[base + indices[q]] += 1


@njit(cache=True)
def often_pairs(indptr, indices, ptr, tids, m, at_least):
    """(positions, counts) of the item pairs a < b in at least ``at_least`` rows, positions
    ascending (``pair_index``), without the m x m triangle: per item a, one scan of its
    rows (tid-list ptr/tids) counts the items after it; only pairs counted often enough
    are written. Costs the rows' pairs, like :func:`add_pair_counts`, and memory m."""
    mark = np.zeros(m, np.int64)
    touched = np.empty(m, np.int64)
    pos = np.empty(16, np.int64)
    cnt = np.empty(16, np.int64)
    x = 0
    for a in range(m):
        nt = 0
        for p in range(ptr[a], ptr[a + 1]):
            r = tids[p]
            for q in range(indptr[r + 1] - 1, indptr[r] - 1, -1):
                i = indices[q]
                if i <= a:
                    break
                if mark[i] == 0:
                    touched[nt] = i
                    nt += 1
                mark[i] += 1
        x0 = x
        for t in range(nt):
            i = touched[t]
            if mark[i] >= at_least:
                if x == len(pos):
                    pos = np.concatenate((pos, np.empty(x, np.int64)))
                    cnt = np.concatenate((cnt, np.empty(x, np.int64)))
                pos[x] = pair_index(a, i, m)
                cnt[x] = mark[i]
                x += 1
            mark[i] = 0
        order = np.argsort(pos[x0:x])      # few pairs of one item are written: sort those
        pos[x0:x] = pos[x0:x][order]
        cnt[x0:x] = cnt[x0:x][order]
    return pos[:x].copy(), cnt[:x].copy()


@njit(cache=True)
def decode_pairs(positions, m):
    """(n, 2) int32 item pairs of upper-triangle positions (ascending positions stay sorted)."""
    out = np.empty((len(positions), 2), np.int32)
    a = 0
    for x in range(len(positions)):
        pos = positions[x]
        while pair_index(a, m - 1, m) < pos:
            a += 1
        out[x, 0] = a
        out[x, 1] = pos - pair_index(a, a + 1, m) + a + 1
    return out


COUNT, CLEAR, FILL, LIST = 0, 1, 2, 3   # what :func:`scan_tails` does with a parent's tail items


@njit(cache=True, inline="always")
def _group_end(left, g):
    """End of the run of candidates from g that share the parent left[g]."""
    h = g
    while h < len(left) and left[h] == left[g]:
        h += 1
    return h


@njit(cache=True, inline="always")
def scan_tails(csrs, x, lo, mark, mode, keep):
    """One scan of the rows of parent x (``csrs``: the rows indptr/indices and the parents'
    tid-lists ptr/tids), each row's items >= lo read from its end: COUNT adds 1 to their
    marks; LIST also writes each item met first (mark 0) to ``out`` from 0 and returns how
    many; CLEAR zeroes the marks; FILL appends the row to the tid-list (in ``out`` at
    ``fill[slot[i] - first]``, ``keep`` = (slot, out, fill, first)) of each item i with a
    slot (no marks). ``mode`` is a constant at each call: the inlined loop keeps one
    branch."""
    indptr, indices, ptr, tids = csrs
    slot, out, fill, first = keep
    n = 0
    for p in range(ptr[x], ptr[x + 1]):
        r = tids[p]
        for q in range(indptr[r + 1] - 1, indptr[r] - 1, -1):
            i = indices[q]
            if i < lo:
                break
            if mode == COUNT or mode == LIST:
                if mode == LIST and mark[i] == 0:
                    out[n] = i
                    n += 1
                mark[i] += 1
            elif mode == CLEAR:
                mark[i] = 0
            elif slot[i] >= 0:   # FILL
                out[fill[slot[i] - first]] = r
                fill[slot[i] - first] += 1
    return n


@njit(cache=True)
def count_extensions(indptr, indices, ptr, tids, left, last, m):
    """Local counts of candidates ``left[c] + {last[c]}`` (candidates grouped by ``left``).

    For each parent X = left[c] (a frequent itemset of the previous level with tid-list
    ptr/tids), one scan of X's rows counts every item after X's largest item; each
    candidate of the group reads its count. A level costs about the parents' total
    tid-list length times the row length, whatever the number of candidates.
    """
    nc = len(left)
    counts = np.zeros(nc, np.int64)
    mark = np.zeros(m, np.int64)  # m items globally: a rank's rows may lack some of them
    csrs = (indptr, indices, ptr, tids)
    none = np.empty(0, np.int64)
    unused = (none, none, none, 0)
    g = 0
    while g < nc:
        h = _group_end(left, g)
        lo = last[g]  # groups list their extensions ascending: all are >= last[g]
        scan_tails(csrs, left[g], lo, mark, COUNT, unused)
        for c in range(g, h):
            counts[c] = mark[last[c]]
        scan_tails(csrs, left[g], lo, mark, CLEAR, unused)
        g = h
    return counts


@njit(cache=True)
def extension_tidlists(indptr, indices, ptr, tids, left, last, counts, m):
    """Tid-lists (CSR) of candidates ``left[c] + {last[c]}`` whose local ``counts`` are known.

    Same scan as :func:`count_extensions` (:func:`scan_tails`), appending the row ids
    instead of counting.
    """
    nc = len(left)
    out_ptr = np.zeros(nc + 1, np.int64)
    for c in range(nc):
        out_ptr[c + 1] = out_ptr[c] + counts[c]
    out = np.empty(out_ptr[nc], np.int32)
    slot = np.full(m, -1, np.int64)
    fill = out_ptr[:nc].copy()
    csrs = (indptr, indices, ptr, tids)
    none = np.empty(0, np.int64)   # FILL keeps no marks
    g = 0
    while g < nc:
        h = _group_end(left, g)
        for c in range(g, h):
            slot[last[c]] = c
        scan_tails(csrs, left[g], last[g], none, FILL, (slot, out, fill, 0))
        for c in range(g, h):
            slot[last[c]] = -1
        g = h
    return out_ptr, out


@njit(cache=True)
def join_partners(sizes):
    """Per row a of the frequent L-itemsets (rows sorted), how many later rows share its
    first L-1 items: a's join partners, rows a+1 .. a+partners[a]. ``sizes`` holds the
    rows' runs of equal prefixes (siblings: one parent's frequent extensions), each run's
    length in order, so no prefix is compared. The sum bounds the candidates of the next
    level (before pruning)."""
    out = np.empty(sizes.sum(), np.int64)
    a = 0
    for g in sizes:
        for t in range(g):
            out[a + t] = g - 1 - t
        a += g
    return out


@njit(cache=True)
def bitsets(indptr, indices, m):
    """Vertical bitsets: ``out[i, w]`` bit ``r % 64`` of word ``r // 64`` set if row r holds item i."""
    n = len(indptr) - 1
    out = np.empty((m, max((n + 63) // 64, 1)), np.uint64)
    fill_bitsets(indptr, indices, 0, n, out)
    return out


@njit(cache=True)
def fill_bitsets(indptr, indices, lo, hi, out):
    """:func:`bitsets` of rows lo..hi-1 into ``out`` (row lo at bit 0 of word 0; words past
    the rows are zero), so a chunk's buffer is reused by the next chunk."""
    out[:] = 0
    for r in range(lo, hi):
        w = (r - lo) // 64
        bit = np.uint64(1) << np.uint64((r - lo) % 64)
        for p in range(indptr[r], indptr[r + 1]):
            out[indices[p], w] |= bit


@njit(cache=True)
def count_bitsets(bits, F, left, last):
    """Local counts of candidates ``F[left[c]] + {last[c]}`` (grouped by ``left``, rows of F
    sorted) from the item bitsets of :func:`bitsets`.

    ``stack[t]`` holds the AND of the bitsets of a parent's first t + 1 items; the next
    parent recomputes only from the first item where it differs. The parent's bitset is
    compacted to its non-zero words, so a candidate costs one AND + popcount per word in
    which the parent occurs at all.
    """
    nc = len(left)
    L = F.shape[1]
    W = bits.shape[1]
    stack = np.empty((L, W), np.uint64)
    where = np.empty(W, np.int64)
    value = np.empty(W, np.uint64)
    counts = np.zeros(nc, np.int64)
    prev = -1
    g = 0
    while g < nc:
        x = left[g]
        t = 0
        if prev >= 0:
            while t < L and F[x, t] == F[prev, t]:
                t += 1
        for u in range(t, L):
            i = F[x, u]
            if u == 0:
                stack[0, :] = bits[i]
            else:
                for w in range(W):
                    stack[u, w] = stack[u - 1, w] & bits[i, w]
        prev = x
        nz = 0
        for w in range(W):
            if stack[L - 1, w] != 0:
                where[nz] = w
                value[nz] = stack[L - 1, w]
                nz += 1
        h = g
        while h < nc and left[h] == x:
            y = last[h]
            c = np.uint64(0)
            for z in range(nz):
                c += popcount(value[z] & bits[y, where[z]])
            counts[h] = c
            h += 1
        g = h
    return counts


# -- the CPU counters (protocol SupportCounter) ------------------------------------------------

CHUNK_BYTES = 32 << 20   # the item bitsets of one row chunk of :class:`StreamingCounter`

def counter(rows: Csr, m: int, dense: bool, check: MemoryCheck):
    """The CPU :class:`~hpcrec.kernels.protocols.SupportCounter`: item bitsets on ``dense``
    rows, tid-lists otherwise."""
    return BitsetCpuCounter(rows, m, check) if dense else TidListCounter(rows, m, check)


class TidListCounter:
    """Each frequent itemset of the last level keeps its local tid-list (occurrence deliver)."""

    def __init__(self, rows: Csr, m: int, check: MemoryCheck):
        self.check, self.rows, self.m = check, rows, m
        self.ptr, self.tids = vertical(rows.indptr, rows.indices, m)
        self._pending = None
        self._kept = []   # tid-lists (CSR) of the next level's sets, block by block

    def count_pairs(self, out: np.ndarray) -> None:
        add_pair_counts(self.rows.indptr, self.rows.indices, self.m, out)

    def keep_pairs(self, pairs: np.ndarray, counts: np.ndarray) -> None:
        self._pending = (pairs[:, 0].astype(np.int64), pairs[:, 1].copy(), counts)
        self.keep(np.ones(len(pairs), bool))
        self.next_level()

    def often_pairs(self, at_least: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, local counts) of the pairs in >= ``at_least`` local rows: level 2
        without the triangle (:func:`often_pairs`)."""
        return often_pairs(self.rows.indptr, self.rows.indices, self.ptr, self.tids, self.m,
                           at_least)

    def count_pairs_at(self, positions: np.ndarray) -> np.ndarray:
        """Local counts of the pairs at the given ascending triangle positions."""
        pairs = decode_pairs(positions, self.m)
        return count_extensions(self.rows.indptr, self.rows.indices, self.ptr, self.tids,
                                pairs[:, 0].astype(np.int64), pairs[:, 1].copy(), self.m)

    def count(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray) -> np.ndarray:
        counts = count_extensions(self.rows.indptr, self.rows.indices, self.ptr, self.tids,
                                  left, last, self.m)
        self._pending = (left, last, counts)
        return counts

    def keep(self, mask: np.ndarray) -> None:
        left, last, counts = self._pending
        self.check(4 * int(counts[mask].sum()) + 8 * int(mask.sum()),
                   f"tid-lists of {int(mask.sum())} frequent itemsets")
        self._kept.append(extension_tidlists(self.rows.indptr, self.rows.indices, self.ptr,
                                             self.tids, left[mask], last[mask], counts[mask],
                                             self.m))
        self._pending = None

    def next_level(self) -> None:
        """The sets kept since the last call (blocks in order) become the parents."""
        self.ptr, self.tids = concat_csr(self._kept)
        self._kept = []


def concat_csr(parts: list) -> tuple[np.ndarray, np.ndarray]:
    """One CSR (ptr, values) of CSR parts, rows in order."""
    if len(parts) == 1:
        return parts[0]
    ptrs = [np.zeros(1, np.int64)]
    base = 0
    for ptr, _ in parts:
        ptrs.append(ptr[1:] + base)
        base += int(ptr[-1])
    return np.concatenate(ptrs), np.concatenate([v for _, v in parts] or [np.empty(0, np.int32)])


def bitset_bytes(rows: Csr, m: int) -> int:
    """Bytes of the item bitsets of ``rows`` (as :func:`bitsets` allocates them)."""
    return 8 * max(1, (len(rows.indptr) + 62) // 64) * m


class BitsetCpuCounter:
    """Dense data: item bitsets of this rank's rows, AND + popcount per candidate."""

    def __init__(self, rows: Csr, m: int, check: MemoryCheck):
        check(bitset_bytes(rows, m), f"bitsets of {m} items")
        self.rows, self.m = rows, m
        self.bits = bitsets(rows.indptr, rows.indices, m)

    def count_pairs(self, out: np.ndarray) -> None:
        add_pair_counts(self.rows.indptr, self.rows.indices, self.m, out)

    def keep_pairs(self, pairs: np.ndarray, counts: np.ndarray) -> None:
        pass

    def count(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray) -> np.ndarray:
        return count_bitsets(self.bits, parents, left, last)

    def keep(self, mask: np.ndarray) -> None:
        pass

    def next_level(self) -> None:
        pass

    def count_all_rows(self, bits: np.ndarray) -> None:
        """Count over ``bits`` from now on: the item bitsets of every rank's rows, their
        words side by side, so that counts are global (Candidate Distribution)."""
        self.bits = bits


def chunk_rows(m: int) -> int:
    """Rows of one chunk whose bitsets of ``m`` items take about ``CHUNK_BYTES`` (>= 64)."""
    return 64 * max(1, CHUNK_BYTES // (8 * max(1, m)))


class StreamingCounter:
    """Bounded memory, whatever the number of rows and levels: nothing per itemset is kept.
    Level 2 in one pass over the rows (the pair triangle); every later :meth:`count`
    streams the rows in chunks of :func:`chunk_rows`, each as item bitsets in one reused
    buffer of ``CHUNK_BYTES``, and adds the candidates' AND + popcount counts
    (:func:`count_bitsets`). Costs a pass over the rows per block of candidates, where
    tid-lists cost memory per row a frequent set holds."""

    def __init__(self, rows: Csr, m: int, check: MemoryCheck):
        self.rows, self.m = rows, m
        self.step = min(chunk_rows(m), 64 * max(1, (rows.n_rows + 63) // 64))
        check(self.step // 8 * m, f"bitsets of {m} items on a chunk of {self.step} rows")
        self.buf = np.empty((m, self.step // 64), np.uint64)

    def count_pairs(self, out: np.ndarray) -> None:
        add_pair_counts(self.rows.indptr, self.rows.indices, self.m, out)

    def keep_pairs(self, pairs: np.ndarray, counts: np.ndarray) -> None:
        pass

    def count(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray) -> np.ndarray:
        counts = np.zeros(len(left), np.int64)
        for lo in range(0, self.rows.n_rows, self.step):
            fill_bitsets(self.rows.indptr, self.rows.indices, lo,
                         min(lo + self.step, self.rows.n_rows), self.buf)
            counts += count_bitsets(self.buf, parents, left, last)
        return counts

    def keep(self, mask: np.ndarray) -> None:
        pass

    def next_level(self) -> None:
        pass
