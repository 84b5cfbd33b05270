"""The cross-rank filter of FP-Max and FP-Close (Numba): which of a rank's sets another set extends.

A rank's FP-Max / FP-Close search stores only sets that no set of its own groups extends;
a set of another rank's group (a rarer item) can still contain one (docs/fim.md,
"Distributed schemes"). After the ranks exchange their sets, each rank tests its own
against the others' with one of two tests that stay linear on dense data, where nearly
every set holds every frequent item and trying all holders of an item is quadratic:

- :func:`extended` (maximal sets): per largest item g of the sets tested, a prefix tree
  of the other sets holding g, cut to their items up to g (a superset holds g, and its
  items above g match nothing), items in descending order (FPMax's MFI-tree), every node
  with a 128-bit mask (item ``i`` -> bit ``i % 128``) of the items of the sets through
  it. A query walks only the branches whose item is larger than its next unmatched item
  (a smaller one rules the branch out, as the items below it are smaller still) and
  whose mask holds all its unmatched items. Where the holders of the queries' rarest
  items are fewer than the tree's items (sparse data), those holders are tested directly.
- :func:`same_closure` (closed sets): a proper superset with the same count has the same
  transactions, so the same tid-set key (the miner's sum of per-transaction hashes): one
  hash join on (key, count), every match verified by containment (a key collision cannot
  give a wrong answer). The ranks first meet on (key, count) alone (:func:`owners`, each
  pair at one rank, :func:`closure_roles` there), so only the sets that share a pair with
  a longer or shorter set of another rank are gathered and tested. On few ranks a
  bitmap of the pairs' hashes from every rank (:func:`pair_bits`, :func:`met_elsewhere`)
  first keeps out of that meeting the sets whose pair no other rank can hold (on dense
  data nearly all of them).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .projected import holds_all

MIX = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64: the golden-ratio multiplier


@njit(cache=True)
def _bit(item):
    """(word, bit) of an item in a 128-bit mask."""
    b = item & 127
    return b >> 6, np.int64(1) << (b & 63)


@njit(cache=True)
def _holders(items, ptr, m):
    """Per item i, the sets of (items, ptr) holding it, ascending: their ids
    ``ids[hptr[i]:hptr[i + 1]]`` and where i lies in each (``at``, positions in items)."""
    hptr = np.zeros(m + 1, np.int64)
    for p in range(len(items)):
        hptr[items[p] + 1] += 1
    for i in range(m):
        hptr[i + 1] += hptr[i]
    fill = hptr[:m].copy()
    ids = np.empty(hptr[m], np.int64)
    at = np.empty(hptr[m], np.int64)
    for z in range(len(ptr) - 1):
        for p in range(ptr[z], ptr[z + 1]):
            i = items[p]
            ids[fill[i]], at[fill[i]] = z, p
            fill[i] += 1
    return hptr, ids, at


@njit(cache=True)
def _tree(items, ptr, ids, at, size, m):
    """The prefix tree of the sets ``ids`` of (items, ptr), each cut to its items up to
    position ``at`` (``size``: their items in all), items descending along a path: per
    node its item, first child, next sibling (siblings descending), mask, and whether a
    set cut short (a longer set) ends there. Node 0 is the root."""
    cap = size + 1
    item = np.full(cap, -1, np.int32)
    child = np.full(cap, -1, np.int64)
    sibling = np.full(cap, -1, np.int64)
    mask = np.zeros((cap, 2), np.int64)
    cut = np.zeros(cap, np.bool_)
    top = np.full(m, -1, np.int64)   # the root's child of each item
    n = 1
    for k in range(len(ids)):
        s, e = ptr[ids[k]], at[k] + 1
        w0, w1 = np.int64(0), np.int64(0)
        for p in range(s, e):
            w, b = _bit(items[p])
            if w == 0:
                w0 |= b
            else:
                w1 |= b
        it = items[e - 1]
        if top[it] < 0:
            top[it] = n
            item[n] = it
            n += 1
        node = top[it]
        mask[node, 0] |= w0
        mask[node, 1] |= w1
        for p in range(e - 2, s - 1, -1):
            it = items[p]
            prev, c = -1, child[node]
            while c >= 0 and item[c] > it:
                prev, c = c, sibling[c]
            if c < 0 or item[c] != it:
                item[n], sibling[n] = it, c
                if prev < 0:
                    child[node] = n
                else:
                    sibling[prev] = n
                c = n
                n += 1
            node = c
            mask[node, 0] |= w0
            mask[node, 1] |= w1
        if e < ptr[ids[k] + 1]:
            cut[node] = True
    prev = -1
    for it in range(m):   # the root's children, descending: linked from the lowest up
        if top[it] >= 0:
            sibling[top[it]] = prev
            prev = top[it]
    child[0] = prev
    return item, child, sibling, mask, cut


@njit(cache=True)
def _in_tree(tree, want, s, e, rest, frames):
    """Whether a set of the tree is a proper superset of the sorted want[s:e] (``rest[j]``:
    the mask of want[s:s + j + 1], the items still to match when want[s + j] is next;
    ``frames``: scratch of at least e - s + 1 rows)."""
    item, child, sibling, mask, cut = tree
    frames[0, 0], frames[0, 1], frames[0, 2] = child[0], e - s - 1, 0   # cursor, next, extra
    depth = 0
    while depth >= 0:
        c = frames[depth, 0]
        if c < 0:
            depth -= 1
            continue
        frames[depth, 0] = sibling[c]
        j, extra = frames[depth, 1], frames[depth, 2]
        x = want[s + j]
        if item[c] < x:   # siblings descend: none of the rest holds x either
            frames[depth, 0] = -1
            continue
        if (rest[j, 0] & ~mask[c, 0]) != 0 or (rest[j, 1] & ~mask[c, 1]) != 0:
            continue
        if item[c] == x:
            if j == 0:
                if extra or child[c] >= 0 or cut[c]:   # a longer set goes through c
                    return True
                continue
            j -= 1
        else:
            extra = 1
        if child[c] >= 0:
            depth += 1
            frames[depth, 0], frames[depth, 1], frames[depth, 2] = child[c], j, extra
    return False


@njit(cache=True)
def extended(items, ptr, other_items, other_ptr, m):
    """For each set of (items, ptr), whether a set of (other_items, other_ptr) is a proper
    superset of it. Items 0..m-1, sorted ascending within each set.

    The sets are taken by their largest item g: a superset holds g, and only its items up
    to g can match, so the others holding g, cut there, make one tree for them all (the
    items above g, which a tree of the whole sets branches on first, are left out). Where
    the holders of each set's rarest item are fewer than that tree's items, they are
    tested directly instead (sparse data)."""
    hptr, ids, at = _holders(other_items, other_ptr, m)
    n = len(ptr) - 1
    gptr = np.zeros(m + 1, np.int64)   # the sets by their largest item
    for x in range(n):
        if ptr[x + 1] > ptr[x]:
            gptr[items[ptr[x + 1] - 1] + 1] += 1
    for i in range(m):
        gptr[i + 1] += gptr[i]
    fill = gptr[:m].copy()
    by_top = np.empty(gptr[m], np.int64)
    for x in range(n):
        if ptr[x + 1] > ptr[x]:
            g = items[ptr[x + 1] - 1]
            by_top[fill[g]] = x
            fill[g] += 1
    longest = 1
    for x in range(n):
        longest = max(longest, ptr[x + 1] - ptr[x])
    rest = np.zeros((longest, 2), np.int64)
    frames = np.empty((longest + 1, 3), np.int64)
    rare = np.empty(n, np.int64)
    out = np.zeros(n, np.bool_)
    for g in range(m):
        if gptr[g + 1] == gptr[g] or hptr[g + 1] == hptr[g]:
            continue
        size = 0
        for h in range(hptr[g], hptr[g + 1]):
            size += at[h] - other_ptr[ids[h]] + 1
        direct = 0
        for q in range(gptr[g], gptr[g + 1]):
            x = by_top[q]
            r = g
            for p in range(ptr[x], ptr[x + 1]):
                if hptr[items[p] + 1] - hptr[items[p]] < hptr[r + 1] - hptr[r]:
                    r = items[p]
            rare[x] = r
            direct += hptr[r + 1] - hptr[r]
        if direct <= size:   # few holders: test them
            for q in range(gptr[g], gptr[g + 1]):
                x = by_top[q]
                s, e = ptr[x], ptr[x + 1]
                for h in range(hptr[rare[x]], hptr[rare[x] + 1]):
                    z = ids[h]
                    if other_ptr[z + 1] - other_ptr[z] > e - s and \
                            holds_all(other_items, other_ptr[z], other_ptr[z + 1], items, s, e):
                        out[x] = True
                        break
            continue
        tree = _tree(other_items, other_ptr, ids[hptr[g]:hptr[g + 1]], at[hptr[g]:hptr[g + 1]],
                     size, m)
        for q in range(gptr[g], gptr[g + 1]):
            x = by_top[q]
            s, e = ptr[x], ptr[x + 1]
            for p in range(s, e):
                w, b = _bit(items[p])
                rest[p - s, 0] = rest[p - s - 1, 0] if p > s else 0
                rest[p - s, 1] = rest[p - s - 1, 1] if p > s else 0
                rest[p - s, w] |= b
            out[x] = _in_tree(tree, items, s, e, rest, frames)
    return out


@njit(cache=True)
def _mixed(key, count):
    h = (key ^ (count * MIX)) * MIX
    return h ^ (h >> 29)


@njit(cache=True)
def _slot(key, count, size):
    return _mixed(key, count) & (size - 1)


@njit(cache=True)
def same_closure(items, ptr, counts, keys, other_items, other_ptr, other_counts, other_keys):
    """For each set of (items, ptr) with its count and tid-set key, whether a set of the
    others with the same count is a proper superset of it (then it has the same
    transactions, so the same key: only sets with equal (key, count) are tested)."""
    n = len(other_ptr) - 1
    size = 1024
    while size < 2 * n:
        size *= 2
    head = np.full(size, -1, np.int64)
    nxt = np.empty(n, np.int64)
    for z in range(n):
        s = _slot(other_keys[z], other_counts[z], size)
        nxt[z], head[s] = head[s], z
    out = np.zeros(len(ptr) - 1, np.bool_)
    for x in range(len(ptr) - 1):
        s, e = ptr[x], ptr[x + 1]
        z = head[_slot(keys[x], counts[x], size)]
        while z >= 0:
            if other_keys[z] == keys[x] and other_counts[z] == counts[x] and \
                    other_ptr[z + 1] - other_ptr[z] > e - s and \
                    holds_all(other_items, other_ptr[z], other_ptr[z + 1], items, s, e):
                out[x] = True
                break
            z = nxt[z]
    return out


@njit(cache=True)
def pair_bits(keys, counts, n_bits):
    """A bitmap of ``n_bits`` (a power of two, at least 64; int64 words) with the bit of
    each set's (key, count) pair's hash set."""
    out = np.zeros(n_bits >> 6, np.int64)
    for x in range(len(keys)):
        b = _mixed(keys[x], counts[x]) & (n_bits - 1)
        out[b >> 6] |= np.int64(1) << (b & 63)
    return out


@njit(cache=True)
def met_elsewhere(keys, counts, bitmaps, own):
    """Positions (ascending) of the sets whose pair's bit is set in a bitmap of
    :func:`pair_bits` other than row ``own`` of ``bitmaps`` (one row per rank, equal
    widths): every set whose pair another rank holds is among them, since equal pairs
    hash alike; a bit two pairs share only adds a candidate, decided exactly later
    (:func:`closure_roles`)."""
    n_bits = bitmaps.shape[1] << 6
    out = np.empty(len(keys), np.int64)
    k = 0
    for x in range(len(keys)):
        b = _mixed(keys[x], counts[x]) & (n_bits - 1)
        w, bit = b >> 6, np.int64(1) << (b & 63)
        for r in range(bitmaps.shape[0]):
            if r != own and bitmaps[r, w] & bit:
                out[k] = x
                k += 1
                break
    return out[:k]


@njit(cache=True)
def owners(keys, counts, size):
    """The rank that meets each set's (key, count) pair: from high bits of its hash (the
    owner's table of :func:`closure_roles` takes the low bits)."""
    out = np.empty(len(keys), np.int64)
    for x in range(len(keys)):
        out[x] = ((_mixed(keys[x], counts[x]) >> 32) & 0x7FFFFFFF) % size
    return out


@njit(cache=True)
def by_owner(keys, counts, lengths, size, len_bits):
    """Each set's word (its (key, count) pair's hash above its length, which takes the low
    ``len_bits`` bits; the hash mixed twice: one round leaves its low bits to the pair's
    low bits) grouped by the rank that meets the pair (:func:`owners`; a counting
    sort, stable): the words, how many go to each rank, and the set of each word. Equal
    pairs give equal hashes; a hash two pairs share only makes a set a candidate, tested
    exactly later (:func:`same_closure`). 8 bytes a set cross the network."""
    owner = owners(keys, counts, size)
    per = np.zeros(size, np.int64)
    for x in range(len(owner)):
        per[owner[x]] += 1
    start = np.zeros(size, np.int64)
    for r in range(1, size):
        start[r] = start[r - 1] + per[r - 1]
    words = np.empty(len(owner), np.int64)
    which = np.empty(len(owner), np.int64)
    for x in range(len(owner)):
        z = start[owner[x]]
        start[owner[x]] = z + 1
        words[z] = (_mixed(_mixed(keys[x], counts[x]), 0) >> len_bits << len_bits) | lengths[x]
        which[z] = x
    return words, per, which


@njit(cache=True)
def _shared(pairs):
    """Positions of the sets whose pair hash another set shares in a bitmap of 8 bits a
    set (a superset of those whose pair another set has: the rest, most of them, are
    decided without the hash table, which cost 0.9 s on 7 M sets)."""
    n = len(pairs)
    bits = 64
    while bits < 8 * n:
        bits *= 2
    seen = np.zeros(bits >> 6, np.int64)
    twice = np.zeros(bits >> 6, np.int64)
    for x in range(n):
        b = _mixed(pairs[x], 0) & (bits - 1)
        w, bit = b >> 6, np.int64(1) << (b & 63)
        if seen[w] & bit:
            twice[w] |= bit
        seen[w] |= bit
    out = np.empty(n, np.int64)
    k = 0
    for x in range(n):
        b = _mixed(pairs[x], 0) & (bits - 1)
        if twice[b >> 6] & (np.int64(1) << (b & 63)):
            out[k] = x
            k += 1
    return out[:k]


@njit(cache=True)
def closure_roles(words, bounds, len_bits):
    """For sets met at one rank (``words`` of :func:`by_owner`, those of source rank r at
    ``bounds[r]:bounds[r + 1]``): bit 0 set where a longer set of another source has the
    same pair (it may be a proper superset with the same count: a candidate to drop),
    bit 1 where a shorter one has (it may be such a superset of that one). A set with
    neither bit is decided: no set of another rank is a proper superset of it with the
    same count. Only the sets a bitmap finds sharing a hash (:func:`_shared`) enter the
    hash table of the pairs."""
    low = (np.int64(1) << len_bits) - 1
    pairs = words >> len_bits
    pick = _shared(pairs)
    n = len(pick)
    size = 1024
    while size < 2 * n:
        size *= 2
    slot = np.full(size, -1, np.int64)   # group of a slot
    first = np.empty(n, np.int64)        # a group's first set: its pair
    member = np.empty(n, np.int64)       # the group of each picked set
    source = np.empty(n, np.int64)
    # per group: the longest length and its source, the longest of the other sources;
    # the shortest likewise
    ext = np.empty((n, 6), np.int32)
    g, r = 0, 0
    for j in range(n):
        x = pick[j]
        while x >= bounds[r + 1]:
            r += 1
        source[j] = r
        s = _mixed(pairs[x], 0) & (size - 1)
        while slot[s] >= 0 and pairs[first[slot[s]]] != pairs[x]:
            s = (s + 1) & (size - 1)
        ln, src = words[x] & low, r
        if slot[s] < 0:
            slot[s], first[g] = g, x
            ext[g, 0], ext[g, 1], ext[g, 2] = ln, src, -1
            ext[g, 3], ext[g, 4], ext[g, 5] = ln, src, np.iinfo(np.int32).max
            g += 1
        t = slot[s]
        member[j] = t
        if src == ext[t, 1]:
            ext[t, 0] = max(ext[t, 0], ln)
        elif ln > ext[t, 0]:   # the longest so far is now the longest of another source
            ext[t, 2], ext[t, 0], ext[t, 1] = ext[t, 0], ln, src
        else:
            ext[t, 2] = max(ext[t, 2], ln)
        if src == ext[t, 4]:
            ext[t, 3] = min(ext[t, 3], ln)
        elif ln < ext[t, 3]:
            ext[t, 5], ext[t, 3], ext[t, 4] = ext[t, 3], ln, src
        else:
            ext[t, 5] = min(ext[t, 5], ln)
    out = np.zeros(len(words), np.int8)
    for j in range(n):
        x = pick[j]
        t, ln, src = member[j], words[x] & low, source[j]
        longer = ext[t, 2] if src == ext[t, 1] else ext[t, 0]
        shorter = ext[t, 5] if src == ext[t, 4] else ext[t, 3]
        out[x] = (1 if longer > ln else 0) | (2 if shorter < ln else 0)
    return out
