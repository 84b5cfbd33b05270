"""The PFP exchange of conditional transactions, one round (a range of items) at a time (Numba).

A round covers the items ``[lo, hi)`` (recoded: 0 the most frequent); each of them is owned
by one rank. From every row, each rank owning one of the round's items in it gets the row's
prefix up to and including the last such item: that prefix holds the row's conditional
transaction for every item of the round that the rank owns. Records ``[length, items...]``
(keyed: ``[length, id % 2**31, id // 2**31, items...]``, the row's global index) travel
back to back, grouped by destination rank.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_HALF = 1 << 31   # global row ids travel as two int32 words of 31 bits


@njit(cache=True)
def prefix_weights(indptr, indices, m):
    """Per item j, the size of its conditional database: its rows' prefixes before j, plus
    one per row (the record's length word)."""
    w = np.zeros(m, np.int64)
    for r in range(len(indptr) - 1):
        s = indptr[r]
        for p in range(s, indptr[r + 1]):
            w[indices[p]] += p - s + 1
    return w


@njit(cache=True)
def _last_owned(indptr, indices, owner, lo, r, end, g_seen, r_mark):
    """The position of the last item of each rank among the row's items at or above ``lo``
    before ``end`` (descending, in ``r_mark``; ranks marked in ``g_seen``). Returns (how
    many, the position where items below ``lo`` begin)."""
    k = 0
    s = indptr[r]
    p = s + end - 1
    while p >= s and indices[p] >= lo:
        g = owner[indices[p]]
        if g_seen[g] != r:
            g_seen[g] = r
            r_mark[k] = p
            k += 1
        p -= 1
    return k, p + 1 - s


@njit(cache=True)
def shard_prefixes(indptr, indices, ends, owner, lo, size, first_id, keyed):
    """Send buffer and counts per rank of the round of items ``[lo, hi)`` (``owner[j]`` the
    rank of item j): for each row and each rank owning a round item in it, the row's prefix
    up to that rank's last such item. ``ends[r]``: where row r's items at or above ``hi``
    begin (rows are sorted ascending); set to where those at or above ``lo`` begin, for the
    next round, so all rounds together scan each item once. ``keyed`` adds the row's global
    index ``first_id + r``."""
    head = 3 if keyed else 1
    counts = np.zeros(size, np.int64)
    seen = np.full(size, -1, np.int64)
    mark = np.empty(size, np.int64)
    n = len(indptr) - 1
    for r in range(n):
        k, _ = _last_owned(indptr, indices, owner, lo, r, ends[r], seen, mark)
        for t in range(k):
            counts[owner[indices[mark[t]]]] += mark[t] - indptr[r] + 1 + head
    fill = np.zeros(size, np.int64)
    for g in range(1, size):
        fill[g] = fill[g - 1] + counts[g - 1]
    out = np.empty(fill[size - 1] + counts[size - 1], np.int32)
    seen[:] = -1
    for r in range(n):
        s = indptr[r]
        gid = first_id + r
        k, ends[r] = _last_owned(indptr, indices, owner, lo, r, ends[r], seen, mark)
        for t in range(k):
            p = mark[t]
            g = owner[indices[p]]
            q = fill[g]
            out[q] = p - s + 1
            if keyed:
                out[q + 1] = gid % _HALF
                out[q + 2] = gid // _HALF
            for x in range(s, p + 1):
                out[q + head + x - s] = indices[x]
            fill[g] = q + p - s + 1 + head
    return out, counts


@njit(cache=True)
def skip_round(indptr, indices, ends, lo):
    """``ends`` moved on to ``lo`` as :func:`shard_prefixes` moves them, for a round whose
    rows are mined where they lie (one rank) instead of sent."""
    for r in range(len(indptr) - 1):
        s = indptr[r]
        e = ends[r]
        while e > 0 and indices[s + e - 1] >= lo:
            e -= 1
        ends[r] = e


@njit(cache=True)
def parse_records(buf, n_ids):
    """CSR rows from the keyed records of :func:`shard_prefixes` (FP-Close), each at its
    global index (indices ascend, as ranks send their rows in order and receive by rank):
    ``n_ids`` rows, those not received empty, so a row's position names its transaction in
    every round. Unkeyed records need no parsing: :func:`split_batches` reads them."""
    n = 0
    q = 0
    while q < len(buf):
        q += buf[q] + 3
        n += 1
    ptr = np.zeros(n_ids + 1, np.int64)
    idx = np.empty(len(buf) - 3 * n, np.int32)
    q = 0
    r = 0
    top = 0
    while q < len(buf):
        length = buf[q]
        gid = np.int64(buf[q + 1]) + np.int64(buf[q + 2]) * _HALF
        while r < gid:   # rows not received: empty
            r += 1
            ptr[r] = top
        idx[top:top + length] = buf[q + 3:q + 3 + length]
        top += length
        r += 1
        ptr[r] = top
        q += length + 3
    for x in range(r + 1, len(ptr)):
        ptr[x] = top
    return ptr, idx


@njit(cache=True)
def cut_rows(indptr, indices, ends):
    """The rows cut to their first ``ends[r]`` items (those later rounds still send): the
    items already sent for good are dropped, so a rank's rows shrink as the rounds go."""
    n = len(indptr) - 1
    ptr = np.zeros(n + 1, np.int64)
    for r in range(n):
        ptr[r + 1] = ptr[r] + ends[r]
    idx = np.empty(ptr[n], indices.dtype)
    for r in range(n):
        idx[ptr[r]:ptr[r + 1]] = indices[indptr[r]:indptr[r] + ends[r]]
    return ptr, idx


@njit(cache=True)
def split_batches(buf, batch, lo, nb):
    """The round's rows, records of :func:`shard_prefixes` (unkeyed) as received, cut per
    batch of groups (``batch[j]``: the batch of owned item j, -1 if not owned; ``nb``
    batches, item ranges from ``lo`` up, 0 the lowest): for each row and each batch with an
    owned item in it, the row's prefix up to that batch's last owned item, so a batch's
    conditional databases are built from its own rows only. Read from the records
    themselves: no parsed copy of the round. Rows come batch by batch; returns (indptr,
    indices, first), batch b's rows first[b]..first[b+1]-1."""
    at = np.zeros((2, nb + 1), np.int64)   # rows, items: counts of batch b at b + 1
    _batch_prefixes(buf, batch, lo, False, at, np.empty(0, np.int64), np.empty(0, buf.dtype))
    for b in range(nb):
        at[:, b + 1] += at[:, b]
    ptr = np.empty(at[0, nb] + 1, np.int64)
    idx = np.empty(at[1, nb], buf.dtype)
    first = at[0].copy()
    ptr[at[0, nb]] = at[1, nb]
    _batch_prefixes(buf, batch, lo, True, at, ptr, idx)
    return ptr, idx, first


@njit(cache=True)
def _batch_prefixes(buf, batch, lo, fill, at, ptr, idx):
    """Each record's prefix per batch of :func:`split_batches`, counted (``at[:, b + 1]``:
    rows, items of batch b) or, with ``fill``, written at batch b's next row ``at[0, b]``
    and item ``at[1, b]``, which advance: one walk for both passes."""
    seen = np.full(len(at[0]) - 1, -1, np.int64)
    q = 0
    row = 0
    while q < len(buf):
        s = q + 1
        p = s + buf[q] - 1
        q = p + 1
        while p >= s and buf[p] >= lo:
            b = batch[buf[p]]
            if b >= 0 and seen[b] != row:
                seen[b] = row
                n = p - s + 1
                if fill:
                    z = at[1, b]
                    idx[z:z + n] = buf[s:p + 1]
                    ptr[at[0, b]] = z
                    at[0, b] += 1
                    at[1, b] = z + n
                else:
                    at[0, b + 1] += 1
                    at[1, b + 1] += n
            p -= 1
        row += 1
