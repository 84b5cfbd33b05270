"""The counting kernels against their definitions (itertools and dense NumPy)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from hpcrec.kernels import order
from hpcrec.kernels import projected as P
from hpcrec.kernels import support as K
from hpcrec.kernels.csr import csr
from hpcrec.kernels.protocols import MineOptions


def random_csr(seed: int, rows: int, items: int, density: float):
    rng = np.random.default_rng(seed)
    X = rng.random((rows, items)) < density
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    return X, ptr, np.nonzero(X)[1].astype(np.int32)


def by_frequency(X: np.ndarray):
    """X with its columns recoded (item 0 the most frequent, as the miner's input), and its
    CSR row pointers and items."""
    X = X[:, np.argsort(-X.sum(0), kind="stable")]
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    return X, ptr, np.nonzero(X)[1].astype(np.int32)


@pytest.mark.parametrize("seed", range(3))
def test_pairs_and_extensions_match_dense_counts(seed):
    X, ptr, idx = random_csr(seed, 300, 9, 0.4)
    m = X.shape[1]
    out = np.zeros(K.n_pairs(m), np.int64)
    K.add_pair_counts(ptr, idx, m, out)
    pairs = K.decode_pairs(np.arange(K.n_pairs(m)), m)
    assert [tuple(p) for p in pairs] == list(itertools.combinations(range(m), 2))
    assert out.tolist() == [int((X[:, a] & X[:, b]).sum()) for a, b in pairs]
    tptr, tids = K.vertical(ptr, idx, m)
    left, last = pairs[:, 0].astype(np.int64), pairs[:, 1].copy()
    counts = K.count_extensions(ptr, idx, tptr, tids, left, last, m)
    assert counts.tolist() == out.tolist()
    lptr, lists = K.extension_tidlists(ptr, idx, tptr, tids, left, last, counts, m)
    for c, (a, b) in enumerate(pairs):
        assert lists[lptr[c]:lptr[c + 1]].tolist() == np.flatnonzero(X[:, a] & X[:, b]).tolist()


def test_bitsets_hold_the_rows():
    X, ptr, idx = random_csr(5, 130, 7, 0.3)
    bits = K.bitsets(ptr, idx, 7)
    unpacked = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")[:, :130]
    assert np.array_equal(unpacked.T.astype(bool), X)


@pytest.mark.parametrize("seed", range(3))
def test_count_bitsets_matches_dense_counts(seed):
    X, ptr, idx = random_csr(seed, 700, 10, 0.5)
    bits = K.bitsets(ptr, idx, 10)
    F = np.array(list(itertools.combinations(range(8), 3)), np.int32)  # parents, sorted rows
    left = np.repeat(np.arange(len(F)), 2)
    last = np.tile(np.array([8, 9], np.int32), len(F))
    counts = K.count_bitsets(bits, F, left, last)
    expected = [int(X[:, list(F[a]) + [b]].all(1).sum()) for a, b in zip(left, last)]
    assert counts.tolist() == expected


@pytest.mark.parametrize("rows", [64, 700, 1000])
def test_streaming_counter_sums_its_chunks(rows, monkeypatch):
    """Chunks of 128 rows (a partial last one; one chunk at 64 rows): the same counts as
    item bitsets over all rows, level 2 from the triangle."""
    monkeypatch.setattr(K, "CHUNK_BYTES", 16 * 10)   # 128 rows of 10 items
    X, ptr, idx = random_csr(7, rows, 10, 0.5)
    counter = K.StreamingCounter(csr(ptr, idx), 10, lambda nbytes, what: None)
    assert counter.step == (64 if rows == 64 else 128)
    out = np.zeros(K.n_pairs(10), np.int64)
    counter.count_pairs(out)
    pairs = K.decode_pairs(np.arange(K.n_pairs(10)), 10)
    assert out.tolist() == [int((X[:, a] & X[:, b]).sum()) for a, b in pairs]
    F = np.array(list(itertools.combinations(range(8), 3)), np.int32)
    left = np.repeat(np.arange(len(F)), 2)
    last = np.tile(np.array([8, 9], np.int32), len(F))
    assert np.array_equal(counter.count(F, left, last),
                          K.count_bitsets(K.bitsets(ptr, idx, 10), F, left, last))


def stored_sets(store, mode):
    """{itemset: count} of a store (FREQUENT: its records decoded, items mapped back
    through the store's recode)."""
    n = int(store.tops[0])
    if mode == P.FREQUENT and store.form[0] == 0:   # the mask layout: item x is bit recode[x]
        item_of = {int(b): x for x, b in enumerate(store.recode)}
        sets = [[item_of[b] for b in range(64) if q >> b & 1] for q in store.records[:n, 0].tolist()]
        counts = store.records[:n, 1]
    elif mode == P.FREQUENT:
        items = np.empty(int(store.tops[1]), np.int64)
        ptr, counts = np.empty(n + 1, np.int64), np.empty(n, np.int64)
        order.decode(store.records[:n], P.record_layout(store), items, ptr, counts)
        back = {int(v): i for i, v in enumerate(store.recode)}
        sets = [[back[v] for v in items[ptr[x]:ptr[x + 1]].tolist()] for x in range(n)]
    else:
        lengths, counts = store.meta["len"][:n], store.meta["count"][:n]
        sets = np.split(store.items[:int(store.tops[1])], np.cumsum(lengths)[:-1]) if n else []
        sets = [s.tolist() for s in sets]
    out = {frozenset(s): int(c) for s, c in zip(sets, counts)}
    assert len(out) == n  # no set stored twice
    return out


def mine_store(ptr, idx, m, owned, minc, mode, batches, max_len=0, recode=None, reserve=False,
               width=0):
    """Run the resumable kernel over descending item ranges; {itemset: count}."""
    mask = np.zeros(m, np.bool_)
    mask[owned] = True
    store = P.empty_store(m, recode, width)
    options = MineOptions(m, minc, max_len, 10**6, mode, reserve)
    for lo, hi in batches:
        status, store = P.mine_range(csr(ptr, idx), mask, lo, hi, options, store)
        assert status == P.OK
    return stored_sets(store, mode)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("mode", [P.FREQUENT, P.MAXIMAL, P.CLOSED])
def test_mine_range_on_duplicate_rows_against_brute_force(seed, mode):
    """Rows repeat (12 baskets, noise added), so reduced rows merge into weighted ones at
    every depth; every split of the items into groups and batches gives the exact result."""
    rng = np.random.default_rng(seed)
    m = 9
    baskets = rng.random((12, m)) < 0.5
    X = baskets[rng.integers(0, 12, 400)] | (rng.random((400, m)) < 0.03)
    X, ptr, idx = by_frequency(X)
    minc = 25
    truth = {}
    for k in range(1, m + 1):
        for combo in itertools.combinations(range(m), k):
            c = int(X[:, list(combo)].all(1).sum())
            if c >= minc:
                truth[frozenset(combo)] = c
    if mode == P.MAXIMAL:
        truth = {s: c for s, c in truth.items() if not any(s < t for t in truth)}
    elif mode == P.CLOSED:
        truth = {s: c for s, c in truth.items() if not any(s < t and c == truth[t] for t in truth)}
    for batches in ([(0, m)], [(6, 9), (5, 6), (0, 5)]):
        assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches) == truth
    got = {}  # two groups, as two ranks own them: each stores what its own groups cannot extend
    for owned in (np.arange(0, m, 2), np.arange(1, m, 2)):
        got.update(mine_store(ptr, idx, m, owned, minc, mode, [(0, m)]))
    if mode == P.MAXIMAL:
        got = {s: c for s, c in got.items() if not any(s < t for t in got)}
    elif mode == P.CLOSED:
        got = {s: c for s, c in got.items() if not any(s < t and c == got[t] for t in got)}
    assert got == truth


@pytest.mark.parametrize("mode", [P.FREQUENT, P.MAXIMAL, P.CLOSED])
@pytest.mark.parametrize("small", [False, True])
def test_mine_ranges_from_one_build_equal_a_build_per_range(mode, small, monkeypatch):
    """mine_ranges searches its ranges from one build of their conditional databases (the
    reduced-row table started anew per range; with START_SMALL its arrays grow inside
    ranges too): after each range the store holds the sets of mine_range over the ranges
    one by one, and the whole is exact."""
    monkeypatch.setattr(P, "START_SMALL", small)
    rng = np.random.default_rng(8)
    baskets = rng.random((10, 11)) < 0.6
    X = baskets[rng.integers(0, 10, 500)] ^ (rng.random((500, 11)) < 0.05)
    X, ptr, idx = by_frequency(X)
    rows = csr(ptr, idx)
    m, minc = X.shape[1], 50
    owned = np.ones(m, np.bool_)
    options = MineOptions(m, minc, 0, 10**6, mode)
    cuts = np.array([0, 3, 4, 8, 11])
    one, apart = P.empty_store(m), P.empty_store(m)
    ranges = P.mine_ranges(rows, owned, cuts, options, one)
    for b in range(len(cuts) - 2, -1, -1):
        status, one = next(ranges)
        again, apart = P.mine_range(rows, owned, cuts[b], cuts[b + 1], options, apart)
        assert status == again == P.OK
        assert stored_sets(one, mode) == stored_sets(apart, mode)
    assert next(ranges, None) is None
    assert stored_sets(one, mode) == brute_force(X, minc, mode)


@pytest.mark.parametrize("n", [8, 16, 64])
def test_rehash_in_place_keeps_every_entry_where_a_probe_finds_it(n):
    """FP-Close's table doubled in place (``_rehash_in_place``): at most half full, often
    with a run wrapping from its last slot round to its first; after the rehash every
    entry is found by probing from its slot in the doubled table, and the entries are
    those of a rehash into a new table."""
    rng = np.random.default_rng(n)
    wrapped = 0
    for _ in range(200):
        room = np.zeros((2 * n, 2), np.int64)
        keys = rng.integers(-2**62, 2**62, rng.integers(1, n // 2 + 1))
        for v, key in enumerate(keys, 1):
            P._put(room[:n], key, v, n - 1)
        wrapped += bool(room[0, 1] and room[n - 1, 1])
        fresh = np.zeros((2 * n, 2), np.int64)
        P._rehash(fresh, room[:n].copy())
        P._rehash_in_place(room, n)
        for v, key in enumerate(keys, 1):
            s = P._table_slot(key, 2 * n - 1)
            while room[s, 1] not in (0, v):
                s = (s + 1) % (2 * n)
            assert room[s, 1] == v and room[s, 0] == key
        assert sorted(map(tuple, room[room[:, 1] != 0])) == \
            sorted(map(tuple, fresh[fresh[:, 1] != 0]))
    assert wrapped >= 10


@pytest.mark.parametrize("mode", [P.FREQUENT, P.MAXIMAL, P.CLOSED])
@pytest.mark.parametrize("reserve, room, factors", [(True, 8, {8}), (True, 1 << 44, {1 << 44, 4}),
                                                   (False, 8, {4})])
def test_store_grows_into_room_or_by_store_growth(mode, reserve, room, factors, monkeypatch):
    """The store, from one set (``START_SMALL``), grows many times: with
    ``MineOptions.reserve`` into room of RESERVE times its rows (here 8), FP-Close's
    table doubling in place within it; where so much room is refused (2**44 rows:
    petabytes, MemoryError), and always without ``reserve``, by STORE_GROWTH (4).
    FP-Growth's records also widen as longer sets come (items of 31 bits: two a key word
    past the first), each time copying the rows stored, not the room. The sets are exact."""
    monkeypatch.setattr(P, "START_SMALL", True)
    monkeypatch.setattr(P, "RESERVE", room)
    in_place, seen = [], set()
    rehash = P._rehash_in_place
    monkeypatch.setattr(P, "_rehash_in_place", lambda room, n: (in_place.append(n),
                                                                rehash(room, n)))
    def spy(real):   # the factors the store's arrays grow by
        return lambda arr, need, factor=2, **kw: (seen.add(factor), real(arr, need, factor, **kw))[1]
    for name in ("_grow", "_zeros", "_reshaped"):
        monkeypatch.setattr(P, name, spy(getattr(P, name)))
    widths = []
    widened = order.widened
    monkeypatch.setattr(order, "widened", lambda rec, words, *rows: (
        widths.append(words), widened(rec, words, *rows))[1])
    rng = np.random.default_rng(8)
    X = (rng.random((10, 11)) < 0.6)[rng.integers(0, 10, 500)] ^ (rng.random((500, 11)) < 0.05)
    X, ptr, idx = by_frequency(X)
    m = X.shape[1]
    recode = (np.int64(1) << 30) + rng.permutation(m) if mode == P.FREQUENT else None
    assert mine_store(ptr, idx, m, np.arange(m), 20, mode, [(0, m)], recode=recode,
                      reserve=reserve) == \
        brute_force(X, 20, mode)
    assert seen - {2, 1} == factors   # 2: the search's working arrays; 1: records widened
    assert (len(set(widths)) >= 3) == (mode == P.FREQUENT)
    assert (len(in_place) >= 3) == (mode == P.CLOSED)


@pytest.mark.parametrize("lo, hi", [(0, 64), (63, 64), (60, 64), (10, 40), (30, 70), (0, 70),
                                    (1, 65)])
def test_distinct_rows_merge_the_rows_equal_below_hi(lo, hi):
    """_distinct_rows against Python: the rows with an owned item in [lo, hi), merged when
    their items below hi agree (first row's place; weights and keys summed). hi <= 64
    takes the rows as words of bits (item 63 the sign bit), above it their hashed items."""
    rng = np.random.default_rng(lo * 100 + hi)
    patterns = [np.flatnonzero(rng.random(70) < 0.3) for _ in range(6)]
    rows = [np.union1d(patterns[k], rng.choice(70, 1)) if rng.random() < 0.3 else patterns[k]
            for k in rng.integers(0, 6, 300)] + [np.array([63]), np.array([62, 63, 69])]
    for edge in (0, 63, 64):   # rows apart in one item only, at the words' edges
        rows += [np.union1d(patterns[0], [edge]), np.setdiff1d(patterns[0], [edge])] * 2
    ptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    idx = np.concatenate(rows).astype(np.int32)
    owned = rng.random(70) < 0.5
    owned[63] = True
    key = np.arange(1, len(rows) + 1, dtype=np.int64) * P.MIX   # wraps, as the kernel's
    key ^= key >> 31
    want = {}   # items below hi -> [first row, end, weight, key]
    for r, row in enumerate(rows):
        if not any(lo <= i < hi and owned[i] for i in row):
            continue
        head = tuple(i for i in row if i < hi)
        if head in want:
            want[head][2] += 1
            want[head][3] = (want[head][3] + int(key[r]) + 2**63) % 2**64 - 2**63   # wraps
        else:
            want[head] = [r, int(ptr[r]) + len(head), 1, int(key[r])]
    got = P._distinct_rows(ptr, idx, owned, lo, hi)
    assert got.tolist() == list(want.values())


@pytest.mark.parametrize("hi", [40, 64])
def test_conditional_rows_keep_fpclose_words_apart_from_the_keys(hi):
    """Every item below WORD: FP-Close's conditional rows (``apart``) keep their tid-set keys
    (those of the rows without words) and each row's word of items in ``rwords`` (bit i:
    item i; item 63 the sign bit), one per row of the row store with room above; FREQUENT's
    (``words``) hold the word in the key and no ``rwords``."""
    rng = np.random.default_rng(hi)
    rows = [np.flatnonzero(rng.random(hi) < 0.4) for _ in range(200)] + [np.array([0, 63])]
    rows = [r[r < hi] for r in rows]
    ptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    idx = np.concatenate(rows).astype(np.int32)
    owned = rng.random(hi) < 0.6
    plain = P.conditional_rows(ptr, idx, owned, 0, hi)
    keyed = P.conditional_rows(ptr, idx, owned, 0, hi, apart=True)
    worded = P.conditional_rows(ptr, idx, owned, 0, hi, words=True)
    n = int(plain[2][-1])
    assert n > 100 and len(plain[4]) == len(worded[4]) == 0
    assert len(keyed[4]) == len(keyed[0]) > n
    assert np.array_equal(keyed[0][:n], plain[0][:n])   # beg, end, weight and key alike
    rec, items = plain[0][:n], plain[1]
    want = [sum(1 << int(i) for i in items[b:e]) for b, e in zip(rec["beg"], rec["end"])]
    want = np.array([w - (1 << 64) if w >> 63 else w for w in want], np.int64)
    assert np.array_equal(keyed[4][:n], want)
    assert np.array_equal(worded[0]["key"][:n], want)


def brute_force(X, minc, mode, max_len=0):
    """{itemset: count} of every frequent (maximal, closed) itemset of the rows of X, by
    testing every item combination against the rows as bit masks."""
    m = X.shape[1]
    rows = (X.astype(np.int64) << np.arange(m)).sum(1)
    combos = np.arange(1, 1 << m)
    if max_len:
        combos = combos[np.array([bin(c).count("1") <= max_len for c in combos])]
    counts = np.array([np.count_nonzero(rows & c == c) for c in combos])
    frequent = {int(c): int(n) for c, n in zip(combos, counts) if n >= minc}
    def keep(c, n):  # no frequent proper superset (MAXIMAL), none with the same count (CLOSED)
        ups = [frequent.get(c | (1 << i)) for i in range(m) if not c >> i & 1]
        return mode == P.FREQUENT or all(u is None or (mode == P.CLOSED and u != n) for u in ups)
    return {frozenset(i for i in range(m) if c >> i & 1): n for c, n in frequent.items()
            if keep(c, n)}


@pytest.mark.parametrize("mode", [P.FREQUENT, P.MAXIMAL, P.CLOSED])
@pytest.mark.parametrize("case", ["dense", "max_len", "one item", "uniform"])
def test_mine_range_grows_its_arrays_and_resumes(mode, case, monkeypatch):
    """Dense correlated rows (700 x 13, about 70 % filled; item 0 in every row, so it is a
    perfect extension of every node) at a support of exactly 1/5: the search's working
    arrays and the store start at a few entries (``START_SMALL``) and run short mid-search
    many times; each time the search stops, they grow, and it resumes where it stood
    (FREQUENT: with the subsets of a node not yet written). Also max_len (FREQUENT bounds
    the itemsets in the search), a single item, and uniform rows (3000 x 15, half filled,
    support 1/25: roots with up to about 1400 distinct rows, past ``WIDE``, so that
    FP-Growth's largest roots take the fill scan, and more maximal sets than FP-Max's
    lists take at first). The same rows are mined with the arrays sized as usual, too.
    FREQUENT's items are recoded to ids of 31 bits (two items a key word past the first), so
    its records widen as longer sets come, and to ids spread over 0..255 (8 bits: its sets
    are packed from bit masks, all four words of them in use). FP-Max searches the dense
    roots by the bit columns of their reduced rows (no frames below them): there it must
    stop and resume inside the multi-word search and the one-word one it hands sets to;
    its frames grow on the uniform rows (roots past WIDE)."""
    grown = set()
    paused = set()   # (one-word search, multi-word search) in progress at a growth
    grow, grown_work = P._grow, P._grown

    def counted(arr, need, *factor):
        grown.add((arr.dtype, arr.ndim))
        return grow(arr, need, *factor)

    def pauses(work, need):
        paused.add((bool(work.lvl[0]["pos"]), bool(work.wlvl[0]["pos"])))
        return grown_work(work, need)
    monkeypatch.setattr(P, "_grow", counted)
    monkeypatch.setattr(P, "_grown", pauses)
    rng = np.random.default_rng(5)
    if case == "one item":
        X = rng.random((50, 1)) < 0.7
    elif case == "uniform":
        X = rng.random((3000, 15)) < 0.5
    else:
        baskets = rng.random((20, 13)) < 0.7
        X = baskets[rng.integers(0, 20, 700)] ^ (rng.random((700, 13)) < 0.05)
        X[:, 0] = True
    X, ptr, idx = by_frequency(X)
    m = X.shape[1]
    minc = len(X) // (25 if case == "uniform" else 5)
    max_len = 3 if case == "max_len" and mode == P.FREQUENT else 0
    truth = brute_force(X, minc, mode, max_len)
    recode = (np.int64(1) << 30) + rng.permutation(m) if mode == P.FREQUENT else None
    for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
        assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches, max_len) == truth
    assert not grown or case == "uniform"   # sized as usual: room from the start
    widened = []
    def widen(rec, words, *rows):   # FP-Growth's records widen, and grow, here
        widened.append(words)
        out = order_widened(rec, words, *rows)
        if len(out) > len(rec):
            grown.add((out.dtype, out.ndim))
        return out
    monkeypatch.setattr(order, "widened", widen)
    for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
        assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches, max_len,
                          recode) == truth
    assert (mode == P.FREQUENT and case != "one item") == bool(widened)
    if mode == P.FREQUENT:
        spread = np.linspace(0, 255, m).astype(np.int64)[rng.permutation(m)]
        assert P.empty_store(m, spread).form[0] == (1 if m == 1 else 8)
        for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
            assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches, max_len,
                              spread) == truth
        bits = rng.permutation(63)[:m]   # the mask layout: every item a bit, in no order
        for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
            assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches, max_len, bits,
                              width=63) == truth
    monkeypatch.setattr(P, "START_SMALL", True)
    for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
        assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches, max_len) == truth
        if mode == P.FREQUENT:   # the mask layout's writes pending while the store grows
            assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches, max_len, bits,
                              width=63) == truth
    if case != "one item":   # the store, rows, row items, tid-lists, members, frames
        kinds = {P.ROW, np.dtype(np.int32), P.MEMBER}
        if mode != P.MAXIMAL or case == "uniform":
            kinds.add(P.FRAME)
        assert kinds <= {dtype for dtype, _ in grown}
        if mode == P.MAXIMAL and case != "uniform":
            assert {(True, False), (False, True), (True, True)} <= paused
        assert (mode != P.FREQUENT) == (P.META in {dtype for dtype, _ in grown})
        # FP-Max's lists, FP-Growth's records
        assert (mode != P.CLOSED) == ((np.dtype(np.int64), 2) in grown)



@pytest.mark.parametrize("mode", [P.FREQUENT, P.MAXIMAL, P.CLOSED])
@pytest.mark.parametrize("held", [64, 65, "weighted"])
def test_small_nodes_search_their_subtrees_by_bits(held, mode, monkeypatch):
    """All three modes below a node of at most ``WORD`` rows search by bit columns
    (a row a bit): the least frequent item is in ``held`` distinct rows (64: its root uses
    every bit of the word; 65: its root takes the fill scan, its children the bits), or
    in 40 patterns repeated over 128 rows (merged rows of weights 1-8); a low support
    makes the bit search run 8-10 levels deep. With ``START_SMALL`` the store runs short
    inside it, and it resumes there."""
    rng = np.random.default_rng(3)
    m = 13
    if held == "weighted":
        X = (rng.random((40, m)) < 0.7)[rng.integers(0, 40, 128)]
    else:
        X = np.unique(rng.random((4 * held, m - 1)) < 0.7, axis=0)[:held]
        assert len(X) == held
        X = np.hstack([X, np.ones((held, 1), np.bool_)])
    X[:, -1] = True
    X = np.vstack([X, rng.random((300, m)) < 0.75])
    X[len(X) - 300:, -1] = False
    X, ptr, idx = by_frequency(X)
    assert X[:, -1].sum() == (128 if held == "weighted" else held)
    truth = brute_force(X, 4, mode)
    assert max(map(len, truth)) >= 9
    for small in (False, True):
        monkeypatch.setattr(P, "START_SMALL", small)
        for batches in ([(0, m)], [(m - 1, m), (0, m - 1)]):
            assert mine_store(ptr, idx, m, np.arange(m), 4, mode, batches) == truth


@pytest.mark.parametrize("mode,noise", [(P.MAXIMAL, 0.07), (P.CLOSED, 0.04)])
@pytest.mark.parametrize("seed", range(3))
def test_searches_reduced_rows_by_bits(mode, noise, seed, monkeypatch):
    """FP-Max and FP-Close below a node search the bit columns of its reduced rows (equal
    rows merged by the fill scan; FP-Close: a reduced row's tid-set key the sum of its
    rows' keys). Dense rows (14 items, 30 patterns with noise, 1500 rows) at supports 1/8
    and 1/12 of the rows (above WORD) give FP-Max roots of hundreds of reduced rows (the
    multi-word search, counts of at most ``SHALLOW`` times the support) and nodes of at
    most 64 (the one-word search, handed sets from the other too), and FP-Close large
    nodes whose rows merge into one word. The maximal / closed sets and counts equal brute
    force's (a wrong check, column or key keeps a covered set or drops one). With
    ``START_SMALL`` the store and lists run short inside each search (FP-Max: seen at
    each growth), and they resume there."""
    rng = np.random.default_rng(seed)
    m = 14
    patterns = rng.random((30, m)) < 0.6
    X = patterns[rng.integers(0, 30, 1500)] ^ (rng.random((1500, m)) < noise)
    X, ptr, idx = by_frequency(X)
    paused = set()   # (one-word search, multi-word search) in progress at a growth
    grown_work = P._grown

    def pauses(work, need):
        paused.add((bool(work.lvl[0]["pos"]), bool(work.wlvl[0]["pos"])))
        return grown_work(work, need)
    monkeypatch.setattr(P, "_grown", pauses)
    for minc in (len(X) // 8, len(X) // 12):
        assert minc > P.WORD
        truth = brute_force(X, minc, mode)
        assert max(map(len, truth)) >= 5
        for small in (False, True):
            monkeypatch.setattr(P, "START_SMALL", small)
            for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
                assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches) == truth
    if mode == P.MAXIMAL:
        assert {(True, False), (False, True)} <= paused


@pytest.mark.parametrize("mode", [P.MAXIMAL, P.CLOSED])
@pytest.mark.parametrize("seed", range(3))
def test_bit_searches_stop_at_their_limit(seed, mode):
    """FP-Close's and FP-Max's bit searches (nodes of at most ``WORD`` rows: here every
    node) store no set past ``limit``: at each limit below the number of closed (maximal)
    sets they stop with TOO_MANY, holding exactly ``limit`` of them; at that number they
    end OK with all."""
    rng = np.random.default_rng(seed)
    X = (rng.random((12, 10)) < 0.6)[rng.integers(0, 12, 60)] | (rng.random((60, 10)) < 0.1)
    X, ptr, idx = by_frequency(X)
    m = X.shape[1]
    truth = brute_force(X, 3, mode)
    owned = np.ones(m, np.bool_)
    for limit in range(1, len(truth) + 1):
        store = P.empty_store(m)
        status, store = P.mine_range(csr(ptr, idx), owned, 0, m,
                                     MineOptions(m, 3, 0, limit, mode), store)
        assert status == (P.OK if limit == len(truth) else P.TOO_MANY)
        got = stored_sets(store, mode)
        assert len(got) == limit and got.items() <= truth.items()


@pytest.mark.parametrize("heavy", [0, 2100, 4100])
@pytest.mark.parametrize("held", [64, 65, 128, 1024, 1025])
def test_nodes_of_many_rows_search_by_bit_columns_of_several_words(held, heavy, monkeypatch):
    """FP-Growth below a node of WORD + 1 to ``WIDE`` rows searches by bit columns of
    several words (supports from bit planes of the row weights): the last item is in
    ``held`` distinct rows (64: one word; 65: a second word of one row; 1024: every bit of
    the 16 words; 1025: its root takes the fill scan, its children the words), about half
    filled, of weights 1-3 and one row of weight ``heavy`` (2100: 12 planes, the most
    the wide search takes; 4100: 13, the fill scan until a node lacks that row). Items
    0..2 are in every held row but one, far from the first word (no perfect extension,
    unless a word is missed); sets of at most 64 rows go on in the one-word search. With
    ``START_SMALL`` the store runs short inside the search, and it resumes there."""
    rng = np.random.default_rng(11)
    m = 13
    X = np.unique(rng.random((3 * held, m - 1)) < 0.5, axis=0)
    X = X[rng.permutation(len(X))[:held]]
    assert len(X) == held
    X[:, :3] = True
    for i in range(3):
        X[held - 1 - 37 * i, i] = False
    X = np.hstack([X, np.ones((held, 1), np.bool_)])
    weights = rng.integers(1, 4, held)
    weights[held // 2] = max(heavy, weights[held // 2])
    X = np.vstack([np.repeat(X, weights, axis=0), rng.random((300, m)) < 0.75])
    X[len(X) - 300:, -1] = False
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    idx = np.nonzero(X)[1].astype(np.int32)
    minc = held // 3
    truth = brute_force(X, minc, P.FREQUENT)
    assert max(map(len, truth)) >= 6
    for small in (False, True):
        monkeypatch.setattr(P, "START_SMALL", small)
        for batches in ([(0, m)], [(m - 1, m), (0, m - 1)]):
            assert mine_store(ptr, idx, m, np.arange(m), minc, P.FREQUENT, batches) == truth


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", [P.FREQUENT, P.MAXIMAL, P.CLOSED])
def test_sparse_rows_with_leaves_at_the_support(seed, mode):
    """Sparse rows (14 items, about 2 a row, 30 patterns repeated: merged rows of
    weights above 1) at a support of 3 to 5: most nodes are leaves, whose scan is skipped
    when their rows holding a smaller item weigh less than the support, and many nodes
    have such rows of exactly the support (a child or perfect extension of exactly that
    count, which the check must not skip); rows whose only item is the root's are empty
    in its conditional database. Every split of the groups gives the exact result."""
    rng = np.random.default_rng(seed)
    m = 14
    patterns = rng.random((30, m)) < 0.15
    X = patterns[rng.integers(0, 30, 120)] | (rng.random((120, m)) < 0.02)
    X, ptr, idx = by_frequency(X)
    for minc in (3, 4, 5):
        truth = brute_force(X, minc, mode)
        assert max(map(len, truth)) >= 3
        for batches in ([(0, m)], [(7, m), (0, 7)]):
            assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches) == truth


def rows_by_frequency(rows, m: int):
    """:func:`by_frequency` for rows given as item lists: the rows recoded (item 0 the most
    frequent) and sorted, and their CSR row pointers and items."""
    count = np.bincount(np.concatenate(rows), minlength=m)
    code = np.empty(m, np.int64)
    code[np.argsort(-count, kind="stable")] = np.arange(m)
    rows = [np.sort(code[r]) for r in rows]
    ptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    return rows, ptr, np.concatenate(rows).astype(np.int32)


def frequent_by_tidsets(rows, minc):
    """{itemset: count} of every frequent itemset of ``rows`` (lists of items), depth
    first over tid-sets in plain Python (for more items than :func:`brute_force` takes)."""
    tids = {}
    for r, row in enumerate(rows):
        for i in row:
            tids.setdefault(i, set()).add(r)
    items = sorted(i for i in tids if len(tids[i]) >= minc)
    out = {}

    def grow(prefix, ts, rest):
        for k, i in enumerate(rest):
            t = ts & tids[i] if prefix else tids[i]
            if len(t) >= minc:
                out[prefix | {i}] = len(t)
                grow(prefix | {i}, t, rest[k + 1:])
    grow(frozenset(), set(), items)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_fpmax_over_many_items_by_signatures(seed):
    """FP-Max over more than MASK_ITEMS items keeps each stored set's 128-bit signature
    (items from MASK_ITEMS on folded: item i and i + 64 share a bit) and walks a listed
    set's items only where the signature covers the wanted ones: 220 items, sparse rows
    from patterns that share items 64 apart, at supports 2 and 3, give exactly the
    maximal sets (from every frequent set, found by tid-sets in plain Python)."""
    rng = np.random.default_rng(seed)
    m = 220
    patterns = [rng.choice(m - 64, 4, replace=False) for _ in range(60)]
    patterns = [np.unique(np.concatenate([p, p[:2] + 64])) for p in patterns]
    rows = [np.unique(np.concatenate([patterns[k][rng.random(len(patterns[k])) < 0.8],
                                      rng.integers(0, m, 2)]))
            for k in rng.integers(0, 60, 400)]
    rows, ptr, idx = rows_by_frequency(rows, m)
    for minc in (2, 3):
        frequent = frequent_by_tidsets([r.tolist() for r in rows], minc)
        assert max(frequent_items := {i for s in frequent for i in s}) >= 192
        maximal = {s: c for s, c in frequent.items()
                   if not any(s | {i} in frequent for i in frequent_items - s)}
        for batches in ([(0, m)], [(100, m), (0, 100)]):
            assert mine_store(ptr, idx, m, np.arange(m), minc, P.MAXIMAL, batches) == maximal


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("mode", [P.FREQUENT, P.MAXIMAL, P.CLOSED])
def test_roots_of_many_children_count_their_pairs(seed, mode):
    """Sparse rows over 150 items (patterns with noise; a fifth of them bare: merged rows
    of weights above 1; children with perfect extensions, and leaves) where roots have more
    than WORD children: FP-Growth counts those roots' children's pairs in one pass over their
    reduced rows instead of scanning each child's rows (:func:`_pair_counts`); FP-Max and
    FP-Close (over more than MASK_ITEMS items) do so at every root of two children or
    more, and sort the children read from the counts largest item first. Three items
    in 300 rows, mostly together, are searched last: their roots' children hold nearly all
    their rows, so FP-Growth's take the fill scan with no pair counts (those of an earlier
    root must not be read). Every mode and split of the groups gives exactly the sets found by
    tid-sets in plain Python (maximal and closed ones picked from them)."""
    rng = np.random.default_rng(seed)
    m = 153
    patterns = [rng.choice(m - 3, 6, replace=False) for _ in range(40)]
    rows = [np.unique(np.concatenate([patterns[k], rng.integers(0, m - 3, 8 * (rng.random() < 0.8))]))
            for k in rng.integers(0, 40, 1200)]
    for r in rng.choice(len(rows), 300, replace=False):   # the 3 most frequent items, together
        rows[r] = np.concatenate([rows[r], m - 3 + np.nonzero(rng.random(3) < 0.9)[0]])
    rows, ptr, idx = rows_by_frequency(rows, m)
    X = np.zeros((len(rows), m), np.int64)
    X[np.repeat(np.arange(len(rows)), np.diff(ptr)), idx] = 1
    pair = X.T @ X
    for minc in (4, 5):
        children = [int(((pair[:j, j] >= minc) & (pair[:j, j] < pair[j, j])).sum())
                    for j in range(m) if pair[j, j] >= minc]
        assert P.WORD < max(children) <= P.PAIRS and m > P.MASK_ITEMS
        truth = frequent_by_tidsets([r.tolist() for r in rows], minc)
        items = {i for s in truth for i in s}
        if mode == P.MAXIMAL:
            truth = {s: c for s, c in truth.items() if not any(s | {i} in truth for i in items - s)}
        elif mode == P.CLOSED:
            truth = {s: c for s, c in truth.items()
                     if not any(truth.get(s | {i}) == c for i in items - s)}
        for batches in ([(0, m)], [(90, m), (0, 90)]):
            assert mine_store(ptr, idx, m, np.arange(m), minc, mode, batches) == truth


order_widened = order.widened


@pytest.mark.parametrize("small", [False, True])
def test_add_sets_appends_after_the_search_and_grows_the_store(small, monkeypatch):
    """FP-Growth's lattice sets go into the miner's store after its search: both the
    searched sets and the added ones come out, once each, with their counts; with
    ``START_SMALL`` the store is full and must grow (its records) to take them."""
    monkeypatch.setattr(P, "START_SMALL", small)
    rng = np.random.default_rng(11)
    X = rng.random((300, 9)) < 0.5
    X, ptr, idx = by_frequency(X)
    m, minc = X.shape[1], 30
    store = P.empty_store(m)
    options = MineOptions(m, minc, 0, 10**6, P.FREQUENT)
    owned = np.zeros(m, np.bool_)
    owned[4:] = True   # items 0..3 are left to the "lattice": added as found elsewhere
    status, store = P.mine_range(csr(ptr, idx), owned, 4, m, options, store)
    assert status == P.OK
    searched = int(store.tops[0])
    truth = brute_force(X, minc, P.FREQUENT, 0)
    rest = sorted((sorted(s), c) for s, c in truth.items() if max(s) < 4)
    flat = np.array([i for s, _ in rest for i in s], np.int32)
    lengths = np.array([len(s) for s, _ in rest], np.int64)
    counts = np.array([c for _, c in rest], np.int64)
    if small:   # no room left (the store grows by STORE_GROWTH: it may have some)
        store = store._replace(records=store.records[:searched])
    before = store.records.shape
    store = P.add_sets(store, flat, lengths, counts)
    assert int(store.tops[0]) == searched + len(rest)
    assert store.records.shape != before or not small
    assert stored_sets(store, P.FREQUENT) == truth


@pytest.mark.parametrize("m", [70, 140])
def test_mine_range_deep_paths(m):
    """Row i holds every item but i: the maximal sets are the rows (support 1), each found
    at the end of a path of m - 1 items (the frames grow past their first 64 levels);
    m = 140 tests FP-Max's lists by set ids (beyond MASK_ITEMS items), m = 70 by masks."""
    X = ~np.eye(m, dtype=bool)
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    idx = np.nonzero(X)[1].astype(np.int32)
    got = mine_store(ptr, idx, m, np.arange(m), 1, P.MAXIMAL, [(0, m)])
    assert got == {frozenset(set(range(m)) - {i}): 1 for i in range(m)}


def test_extensions_by_items_absent_from_these_rows():
    """A rank's slice may lack a globally frequent item: its local counts are 0."""
    ptr = np.array([0, 2, 3], np.int64)
    idx = np.array([0, 1, 1], np.int32)  # items 0 and 1 here; item 4 is only on other ranks
    tptr, tids = K.vertical(ptr, idx, 5)
    left, last = np.array([0, 0, 1], np.int64), np.array([1, 4, 4], np.int32)
    counts = K.count_extensions(ptr, idx, tptr, tids, left, last, 5)
    assert counts.tolist() == [1, 0, 0]
    lptr, lists = K.extension_tidlists(ptr, idx, tptr, tids, left, last, counts, 5)
    assert lptr.tolist() == [0, 1, 1, 1] and lists.tolist() == [0]


@pytest.mark.parametrize("n_cols", [200, 5000])
def test_recode_rows_sorts_short_and_long_rows(n_cols):
    """Over 5000 codes (79 words) rows of up to RANK_MAX kept items are sorted by rank,
    longer ones by a sort call, rows of 79 or more through bits (over 200 codes: 4 words,
    most rows through bits); with every third column dropped, and with none."""
    assert K.RANK_MAX == 32
    rng = np.random.default_rng(7)
    rows = [rng.permutation(n_cols)[:n] for n in (0, 1, 2, 5, 31, 32, 33, 78, 79, 150)]
    rows += [rng.permutation(n_cols)[:int(rng.integers(0, 40))] for _ in range(200)]
    ptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    idx = np.concatenate(rows).astype(np.int32)
    for drop in (False, True):
        code = rng.permutation(n_cols).astype(np.int32)
        if drop:
            code[::3] = -1
        out_ptr, out = K.recode_rows(ptr, idx, code)
        for x, row in enumerate(rows):
            kept = code[row][code[row] >= 0]
            assert out[out_ptr[x]:out_ptr[x + 1]].tolist() == sorted(kept.tolist())
    # dense rows (a kept item per 64 codes or more: sorted through bits), codes at the
    # words' edges (63: the sign bit) included
    code = np.arange(130, dtype=np.int32)[::-1].copy()
    rows = [np.array(r) for r in ([0, 1, 2], [2, 66, 67, 129], list(range(130)), [0, 1, 65, 66])]
    ptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    out_ptr, out = K.recode_rows(ptr, np.concatenate(rows).astype(np.int32), code)
    for x, row in enumerate(rows):
        assert out[out_ptr[x]:out_ptr[x + 1]].tolist() == sorted(code[row].tolist())


@pytest.mark.parametrize("kept", [64, 1, 0])
def test_recode_rows_of_codes_below_64(kept):
    """Codes below 64 (dense data's frequent items: each row one word of bits): 63, the
    sign bit, and 0 among them; columns dropped (-1) between the kept ones; empty rows,
    rows of dropped columns only, all columns, and rows in random order."""
    rng = np.random.default_rng(kept)
    n_cols = 100
    code = np.full(n_cols, -1, np.int32)
    code[rng.choice(n_cols, size=kept, replace=False)] = rng.permutation(kept)
    dropped = np.flatnonzero(code < 0)
    rows = [np.zeros(0, np.int64), dropped[:5], rng.permutation(n_cols)] + \
        [rng.permutation(n_cols)[:int(rng.integers(1, n_cols))] for _ in range(50)]
    ptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    out_ptr, out = K.recode_rows(ptr, np.concatenate(rows).astype(np.int32), code)
    assert out.dtype == np.int32 and out_ptr[-1] == len(out)
    for x, row in enumerate(rows):
        kept_codes = code[row][code[row] >= 0]
        assert out[out_ptr[x]:out_ptr[x + 1]].tolist() == sorted(kept_codes.tolist())


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("m", [12, 90])
def test_nodes_of_one_child_are_not_filled(m, seed):
    """FP-Growth's node X of one child c (items below X's lowest, not in all of X's rows)
    neither builds columns nor fills c's rows: X + c is a leaf, its count known. Rows of
    15 patterns of 4 items (kept at 85 %) and a noise item, over 12 items (the rows' words)
    or 90 (the fill by masks): many nodes, of more and fewer than WORD rows, have one child,
    many two (which still take the fill). Every split of the groups gives exactly the sets
    found by tid-sets in plain Python."""
    rng = np.random.default_rng(seed)
    patterns = [rng.choice(m, 4, replace=False) for _ in range(15)]
    rows = [np.unique(np.concatenate([p[rng.random(4) < 0.85], rng.integers(0, m, 1)]))
            for p in (patterns[k] for k in rng.integers(0, 15, 1500))]
    rows, ptr, idx = rows_by_frequency(rows, m)
    minc = 20
    truth = frequent_by_tidsets([r.tolist() for r in rows], minc)
    def n_child(s):  # children of s: items below its lowest, not in all its rows
        return sum(truth.get(s | {i}, truth[s]) < truth[s] for i in range(min(s)))
    children = [n_child(s) for s in truth]
    assert children.count(1) >= 20 and children.count(2) >= 10
    assert any(n_child(s) == 1 and truth[s] > 2 * P.WORD for s in truth)
    for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
        assert mine_store(ptr, idx, m, np.arange(m), minc, P.FREQUENT, batches) == truth


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("n_noise", [30, 70])
def test_nodes_of_two_children_by_pair_weight(n_noise, seed, monkeypatch):
    """FP-Growth's node X of two children a > b neither builds columns nor fills their
    rows: X + b is a leaf, and X + a's only possible child b is decided by the weight of
    X's rows holding both (one pass): a perfect extension of X + a (weight = X + a's
    support), a child (at least minc; exactly minc in one block) or nothing. Blocks of
    rows of their own item x with the shared items a and b, most with a noise item: the
    noise items (n_noise, each in about 180 noise rows, more frequent than any x) give a
    root {x} of more than WORD distinct rows at the larger scale; item c (rows of its own
    and every 10th block row, never frequent with an x) lies between b and a in rows; in
    one block {x} has three children (w, a, b) and {x, w} two, in another {x} has a
    perfect extension v and two children. 44 items in all (the rows' words) or 84 (bit
    / wide columns, fill by masks). Every split of the groups, max_len 2 and 3 and a
    growing store give exactly the sets found by tid-sets in plain Python."""
    rng = np.random.default_rng(seed)
    a, b, c, w, v = n_noise, n_noise + 1, n_noise + 2, n_noise + 3, n_noise + 4
    blocks = [
        ([("xab", 25), ("xb", 20), ("x", 10)], (1, 2)),   # X + a's b perfect
        ([("xab", 25), ("xa", 20), ("xb", 15), ("x", 5)], (1, 2)),   # ... a child
        ([("xab", 8), ("xa", 25), ("xb", 25)], (1, 2)),   # ... infrequent
        ([("xab", 20), ("xa", 15), ("xb", 15)], (1,)),   # ... a child at minc exactly
        ([("xwab", 25), ("xwa", 20), ("xwb", 15), ("xw", 5), ("xa", 10), ("xb", 10),
          ("x", 5)], (1,)),   # {x}: children w, a, b; {x, w}: a, b
        ([("xvab", 25), ("xva", 20), ("xvb", 15), ("xv", 5)], (1,))]   # {x}: v perfect
    code = {"a": a, "b": b, "w": w, "v": v}
    x = n_noise + 5
    raw = [rng.choice(n_noise, 3, replace=False) for _ in range(60 * n_noise)]
    raw += [np.array([c])] * 380 + [np.array([w])] * 40 + [np.array([v])] * 40
    for kinds, scales in blocks:
        for s in scales:
            for kind, n in kinds:
                for t in range(n * s):
                    row = [x] + [code[i] for i in kind[1:]] + [c] * (t % 10 == 3)
                    noise = [int(rng.integers(n_noise))] if rng.random() < 0.7 else []
                    raw.append(np.unique(row + noise))
            x += 1
    m = x
    rows, ptr, idx = rows_by_frequency(raw, m)
    minc = 20
    truth = frequent_by_tidsets([r.tolist() for r in rows], minc)
    kinds, wide, deep = set(), 0, 0
    for s in truth:
        kids = [i for i in range(min(s)) if minc <= truth.get(s | {i}, 0) < truth[s]]
        if len(kids) == 2:
            lo, hi = kids
            pair = truth.get(s | {lo, hi}, 0)
            kinds.add("perfect" if pair == truth[s | {hi}] else "minc" if pair == minc else
                      "child" if pair > minc else "none")
            deep += len(s) > 1
            if len(s) == 1:   # a root: its distinct rows (items below its own)
                (i,) = s
                wide = max(wide, len({tuple(r[r < i]) for r in rows if i in r}))
    assert kinds == {"perfect", "child", "minc", "none"} and deep > 0
    assert wide > P.WORD if n_noise == 70 else wide > 40
    for batches in ([(0, m)], [(m // 2, m), (0, m // 2)]):
        assert mine_store(ptr, idx, m, np.arange(m), minc, P.FREQUENT, batches) == truth
    for max_len in (2, 3):
        want = {s: n for s, n in truth.items() if len(s) <= max_len}
        assert mine_store(ptr, idx, m, np.arange(m), minc, P.FREQUENT, [(0, m)], max_len) == want
    monkeypatch.setattr(P, "START_SMALL", True)
    assert mine_store(ptr, idx, m, np.arange(m), minc, P.FREQUENT, [(0, m)]) == truth


def test_search_runs_without_reference_counts():
    """The search is compiled with Numba's reference counts off (``_nrt=False``, which the
    kernels it calls inherit): at every call a large kernel counted each array passed to it
    in and out, atomically (6 % of FP-Growth's samples on T10I4D100K). Random rows over 90
    items (the bit and wide columns, the fill scans) give exactly the sets found by
    tid-sets in plain Python, and every compiled search has the counts off."""
    rng = np.random.default_rng(5)
    rows = [np.unique(rng.integers(0, 90, rng.integers(2, 9))) for _ in range(1200)]
    rows, ptr, idx = rows_by_frequency(rows, 90)
    truth = frequent_by_tidsets([r.tolist() for r in rows], 12)
    assert mine_store(ptr, idx, 90, np.arange(90), 12, P.FREQUENT, [(0, 90)]) == truth
    assert P._search.overloads
    assert not any(c.target_context.enable_nrt for c in P._search.overloads.values())


@pytest.mark.parametrize("seed", range(3))
def test_row_members_of_the_bit_and_wide_columns(seed):
    """_row_members (the bit and wide columns' read of a row, with no branch per item): the
    word of the node's children (bit x - lo of member x) among the row's items below the
    bound; an item that is no child (cnt 0) adds nothing, whatever stale slot an earlier
    node left it (below lo, far above, or a child's own)."""
    rng = np.random.default_rng(seed)
    m, lo = 200, 1000
    scratch = np.zeros(m, P.SCRATCH)
    child = np.zeros(m, bool)
    child[rng.choice(m, P.WORD, replace=False)] = True
    scratch["cnt"][child] = rng.integers(1, 50, P.WORD)
    scratch["slot"][child] = lo + rng.permutation(P.WORD)
    scratch["slot"][~child] = rng.choice([lo - 3, lo + 70, lo + 5000, lo + 1, lo], m - P.WORD)
    ri = np.sort(rng.choice(m, 120, replace=False)).astype(np.int32)
    rows = np.zeros(2, P.ROW)
    rows[1]["beg"], rows[1]["end"] = 0, len(ri)
    for bound in (0, ri[0], ri[60], m):
        want = 0
        for i in ri[ri < bound]:
            if child[i]:
                want |= 1 << int(scratch["slot"][i] - lo)
        got = int(P._row_members(rows, ri, 1, bound, scratch, lo))
        assert got & (2**64 - 1) == want
