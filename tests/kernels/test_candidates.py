"""Apriori-gen by sorted-run intersection (kernels/candidates.py) against its definition,
and apriori built on it against brute-force counting on sparse and dense data."""
from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.fim.result import min_count
from hpcrec.kernels import candidates as C
from hpcrec.kernels import support as K


def apriori_gen(chosen: list[tuple]) -> list[tuple]:
    """The (L+1)-itemsets all of whose L-subsets are in ``chosen`` and that extend a row."""
    frequent = set(chosen)
    items = sorted({i for c in chosen for i in c})
    L = len(chosen[0])
    return sorted(c for c in itertools.combinations(items, L + 1)
                  if all(s in frequent for s in itertools.combinations(c, L)))


def partners_of(F: np.ndarray) -> np.ndarray:
    """The join partners of F's rows, from the lengths of its runs of equal prefixes
    (first L - 1 items; F is sorted)."""
    return K.join_partners(np.unique(F[:, :-1], axis=0, return_counts=True)[1].astype(np.int64))


def join_prune(F: np.ndarray):
    """Apriori-gen for all of F as (left, last): candidate c is row left[c] plus last[c]."""
    per_row, last = C.prune_joins(F, partners_of(F), 0, len(F))
    return np.repeat(np.arange(len(F)), per_row), last


def families(seed: int):
    """Sorted itemset families: half of all L-sets (dense), and sparse ones where a few
    frequent items join thousands of partners while the other runs are short."""
    rng = np.random.default_rng(seed)
    for L in (1, 2, 3, 4):
        universe = list(itertools.combinations(range(9), L))
        yield sorted(universe[i] for i in rng.choice(len(universe), len(universe) // 2, replace=False))
    hub = [(0, b) for b in range(1, 400)] + [(1, b) for b in range(2, 400, 3)]
    tail = {tuple(sorted(rng.choice(np.arange(2, 400), 2, replace=False))) for _ in range(300)}
    yield sorted(set(hub) | tail)
    triples = {tuple(sorted(rng.choice(40, 3, replace=False))) for _ in range(2000)}
    yield sorted(triples | {(0, 1, c) for c in range(2, 40)})
    yield [(5, 7)]                       # one row: no partner
    yield [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]   # (0,1,3) pruned, (1,2,3) kept


@pytest.mark.parametrize("seed", range(3))
def test_join_prune_is_apriori_gen(seed):
    for chosen in families(seed):
        F = np.array(chosen, dtype=np.int32)
        left, last = join_prune(F)
        got = [tuple(F[a]) + (int(b),) for a, b in zip(left, last)]
        assert got == apriori_gen(chosen)
        partners = partners_of(F)  # rows split into shares (as ranks do) give the same
        cuts = sorted({0, len(F) // 3, len(F) // 3, 2 * len(F) // 3, len(F)})
        shares = [C.prune_joins(F, partners, lo, hi) for lo, hi in zip(cuts, cuts[1:])]
        per_row = np.concatenate([share[0] for share in shares])
        assert np.array_equal(per_row, np.bincount(left, minlength=len(F)))
        shares = [share[1] for share in shares]
        assert np.array_equal(np.concatenate(shares), last)


def test_join_partners_and_grown_rows_against_their_definitions():
    """A row's partners are the later rows of its prefix; the next level's rows are the
    picked candidates' parents with their last items appended."""
    rng = np.random.default_rng(3)
    for chosen in families(5):
        F = np.array(chosen, dtype=np.int32)
        assert partners_of(F).tolist() == [sum(c[:-1] == r[:-1] for c in chosen[a + 1:])
                                           for a, r in enumerate(chosen)]
        left, last = join_prune(F)
        pick = np.sort(rng.choice(len(left), len(left) // 2, replace=False))
        out = np.empty((len(pick), F.shape[1] + 1), np.int32)
        sizes = np.zeros(len(F), np.int64)
        C.grown_rows(F, left, last, pick, out, sizes)
        assert out.tolist() == [[*chosen[left[c]], int(last[c])] for c in pick]
        assert np.array_equal(sizes, np.bincount(left[pick], minlength=len(F)))
        siblings = partners_of(out) if len(out) else np.zeros(0, np.int64)
        assert np.array_equal(K.join_partners(sizes), siblings)


@pytest.mark.parametrize("unpruned", [1, 2, 5, 1 << 30])
def test_parents_of_few_joins_take_them_unpruned(unpruned):
    """A row of fewer than ``unpruned`` joins yields every join (its partners' last items),
    the others apriori-gen's candidates; on the whole rows and on shares of them."""
    for chosen in families(7):
        F = np.array(chosen, dtype=np.int32)
        partners = partners_of(F)
        pruned = set(apriori_gen(chosen))
        want = [tuple(F[a]) + (int(F[p, -1]),) for a in range(len(F))
                for p in range(a + 1, a + 1 + partners[a])
                if partners[a] < unpruned or tuple(F[a]) + (int(F[p, -1]),) in pruned]
        for cuts in ([0, len(F)], [0, len(F) // 2, len(F)]):
            shares = [C.prune_joins(F, partners, lo, hi, unpruned) for lo, hi in zip(cuts, cuts[1:])]
            per_row = np.concatenate([share[0] for share in shares])
            last = np.concatenate([share[1] for share in shares])
            left = np.repeat(np.arange(len(F)), per_row)
            assert [tuple(F[a]) + (int(b),) for a, b in zip(left, last)] == want


@pytest.mark.parametrize("prune_cost,items", [(0.0, None), (2.0, None), (1e12, None),
                                              (2.0, np.int32)])
def test_dense_apriori_pruned_or_not_against_brute_force(monkeypatch, prune_cost, items):
    """Counted by bitsets: every parent pruned (0), as the cost model says, or none; the
    levels' items as uint8 (the default here) or int32."""
    from hpcrec.fim import count_distribution
    monkeypatch.setattr(count_distribution, "PRUNE_COST", prune_cost)
    if items is not None:
        monkeypatch.setattr(count_distribution, "_items", lambda m, narrow: items)
    rows = dense_rows(5, 80)
    every = counted(rows, None)
    for count in (3, 9, 15):
        truth = {frozenset(s): c for s, c in every.items() if c >= count}
        res = mine_itemsets(rows, count / 80, "apriori", comm=serial())
        labels = np.asarray(res.labels)
        got = {frozenset(labels[res.itemset(x)].tolist()): int(res.counts[x]) for x in range(len(res))}
        assert got == truth and len(got) == len(res)
        # the levels searched are those of the sets, not of the candidates counted
        assert not res.partial and res.levels == max(map(len, truth))


def test_levels_take_bytes_for_items_where_counted_by_bitsets_on_the_cpu():
    from hpcrec.fim.count_distribution import _items
    assert [_items(m, True) for m in (2, 256, 257)] == [np.uint8, np.uint8, np.int32]
    assert _items(100, False) == np.int32


def test_unpruned_follows_the_cost_of_pruning_against_counting():
    """More rows (longer bitsets) or more joins found infrequent: fewer parents unpruned;
    no join infrequent: none pruned."""
    from hpcrec.fim.count_distribution import _unpruned
    F = np.array(list(itertools.combinations(range(30), 3)), np.int32)
    assert _unpruned(F, 2 * len(F), 64) > _unpruned(F, 2 * len(F), 64 * 100) >= 0
    assert _unpruned(F, 2 * len(F), 640) > _unpruned(F, 10 * len(F), 640)
    assert _unpruned(F, len(F), 640) >= 2**31


def counted(rows: list[list[int]], max_len) -> Counter:
    """Every itemset of every row with its number of rows (rows are short)."""
    out = Counter()
    for r in rows:
        for k in range(1, min(len(r), max_len or len(r)) + 1):
            out.update(itertools.combinations(sorted(r), k))
    return out


def sparse_rows(seed: int, n: int) -> list[list[int]]:
    """Long-tail rows: item 0 in every row, a few hub items, a tail of rare ones."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        k = int(rng.integers(0, 7))
        tail = rng.zipf(1.6, k) % 300 + 1
        rows.append(sorted({0, *tail.tolist()}))
    return rows


def dense_rows(seed: int, n: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, 10)) < 0.6
    return [np.flatnonzero(x).tolist() for x in X]


@pytest.mark.parametrize("make,seed,n", [(sparse_rows, 0, 400), (sparse_rows, 1, 150),
                                         (dense_rows, 2, 60)])
@pytest.mark.parametrize("max_len", [None, 3])
# occurrence deliver, mixed, intersection (tid-lists throughout); bitsets when the lists are
# long, at once
# (block 4: a level generated and counted a few candidates at a time, its sets written
# into arrays grown by doubling: no room reserved)
# (try_prune 0 / 10**9: on one rank, parents pruned only where intersection is sure / always)
@pytest.mark.parametrize("weight,bits_from,block,try_prune", [
    (0, 0, 1 << 20, 1.0), (16, 0, 4, 0), (16, 0, 4, 10**9), (10**9, 0, 1 << 20, 1.0),
    (16, 8, 4, 1.0), (16, 10**9, 1 << 20, 1.0), (16, 10**9, 4, 1.0)])
def test_apriori_against_brute_force(monkeypatch, make, seed, n, max_len, weight, bits_from,
                                     block, try_prune):
    from hpcrec.fim import count_distribution
    from hpcrec.kernels import intersect
    monkeypatch.setattr(intersect, "WEIGHT", weight)
    monkeypatch.setattr(intersect, "TRY_PRUNE", try_prune)
    monkeypatch.setattr(intersect, "BITS_FROM", bits_from)
    monkeypatch.setattr(count_distribution, "BLOCK", block)
    monkeypatch.setattr(count_distribution, "TRIANGLE", 0 if block < 10 else 1 << 20)
    monkeypatch.setattr(count_distribution, "untouched_is_free", lambda: block >= 10)
    rows = make(seed, n)
    every = counted(rows, max_len)
    for count in (2, 3, 7):
        min_support = count / n     # an exact fraction: sets with exactly `count` rows count
        need = min_count(min_support, n)
        assert need == count
        truth = {frozenset(s): c for s, c in every.items() if c >= need}
        res = mine_itemsets(rows, min_support, "apriori", max_len, comm=serial())
        labels = np.asarray(res.labels)
        got = {frozenset(labels[res.itemset(x)].tolist()): int(res.counts[x]) for x in range(len(res))}
        assert got == truth and len(got) == len(res)


def test_one_item():
    res = mine_itemsets([[3], [3], [4]], 0.5, "apriori", comm=serial())
    assert len(res) == 1 and int(res.counts[0]) == 2


def dense_matrix(seed: int, n: int = 300, m: int = 12):
    """0/1 rows with falling item frequencies, item 0 in every row, every 17th row empty."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, m)) < np.linspace(0.7, 0.05, m)
    X[:, 0] = True
    X[::17] = False
    return X


def rows_of(X):
    from hpcrec.kernels.csr import Csr
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    return Csr(ptr, np.nonzero(X)[1].astype(np.int32), None, X.shape)


@pytest.mark.parametrize("weight,bits_from", [(0, 0), (16, 0), (10**9, 0), (16, 10**9)])
@pytest.mark.parametrize("seed", range(2))
def test_intersecting_counter_against_dense_counts(monkeypatch, weight, bits_from, seed):
    """Counts of levels 2-5 against the dense 0/1 matrix, whichever way each parent is
    counted (and the tid-lists while they are kept), on the whole rows and on row shares
    as ranks split them (share counts add up); rows with no item and an item in every row
    included. bits_from 10**9: bitsets from level 3 on."""
    from hpcrec.kernels import intersect
    monkeypatch.setattr(intersect, "WEIGHT", weight)
    monkeypatch.setattr(intersect, "BITS_FROM", bits_from)
    X = dense_matrix(seed)
    m = X.shape[1]
    pairs = K.decode_pairs(np.arange(K.n_pairs(m)), m)
    for cuts in ((0, 300), (0, 140, 300), (0, 0, 97, 300)):
        counters = []
        total = np.zeros(len(pairs), np.int64)
        for lo, hi in zip(cuts, cuts[1:]):
            final = 5 if len(cuts) == 2 else None   # one rank: tid-lists built while counting
            counter = intersect.IntersectingCounter(rows_of(X[lo:hi]), m, lambda *a: None, final)
            out = np.zeros(len(pairs), np.int64)
            counter.count_pairs(out)
            counter.keep_pairs(pairs, out)
            assert (counter.bits is not None) == (bits_from > 0 or hi == lo)  # no rows: no words
            total += out
            counters.append((lo, hi, counter))
        assert total.tolist() == [int(X[:, list(p)].all(1).sum()) for p in pairs]
        F = pairs
        for _ in range(3):
            left, last = join_prune(F)
            sets = [list(F[a]) + [b] for a, b in zip(left, last)]
            cut = int(np.searchsorted(left, len(F) // 2))   # two blocks of parents, as mine
            counts = np.zeros(len(left), np.int64)
            for block in (slice(0, cut), slice(cut, len(left))):
                counts[block] = sum(counter.count(F, left[block], last[block])
                                    for _, _, counter in counters)
                for _, _, counter in counters:
                    counter.keep(counts[block] >= 5)
            for _, _, counter in counters:
                counter.next_level()
            assert counts.tolist() == [int(X[:, s].all(1).sum()) for s in sets]
            keep = counts >= 5
            F = np.column_stack((F[left[keep]], last[keep])).astype(np.int32)
            for lo, hi, counter in counters:
                if counter.bits is None:
                    for x, s in enumerate(F):
                        assert counter.tids[counter.ptr[x]:counter.ptr[x + 1]].tolist() == \
                            np.flatnonzero(X[lo:hi, s].all(1)).tolist()


@pytest.mark.parametrize("seed", range(3))
def test_sparse_pair_count_against_dense_counts(seed):
    """Level 2 without the triangle: the pairs seen >= t times (t = 1, exact fractions of
    the rows, more than any pair) and the counts of given pairs, on rows and row shares."""
    from hpcrec.kernels.support import TidListCounter
    X = dense_matrix(seed, 200, 9 + seed)
    m = X.shape[1]
    truth = np.array([int(X[:, list(p)].all(1).sum())
                      for p in K.decode_pairs(np.arange(K.n_pairs(m)), m)])
    for lo, hi in ((0, 200), (0, 70), (70, 200), (5, 5)):
        part = np.array([int(X[lo:hi, list(p)].all(1).sum())
                         for p in K.decode_pairs(np.arange(K.n_pairs(m)), m)])
        counter = TidListCounter(rows_of(X[lo:hi]), m, lambda *a: None)
        for t in (1, 2, 40, 70, 201):
            pos, cnt = counter.often_pairs(t)
            assert pos.tolist() == np.flatnonzero(part >= t).tolist()
            assert cnt.tolist() == part[pos].tolist()
        every = np.flatnonzero(truth >= 30)
        assert counter.count_pairs_at(every).tolist() == part[every].tolist()


def tidlists(X, F):
    """(ptr, tids): the rows of X holding each set of F, as CSR."""
    lists = [np.flatnonzero(X[:, list(s)].all(1)) for s in F]
    ptr = np.concatenate(([0], np.cumsum([len(t) for t in lists]))).astype(np.int64)
    return ptr, np.concatenate(lists + [np.empty(0, np.int64)]).astype(np.int32)


@pytest.mark.parametrize("weight,try_prune", [(0, 0), (16, 1.0), (10**9, 0), (0, 10**9)])
@pytest.mark.parametrize("seed", range(3))
def test_frequent_extensions_against_dense_counts(weight, try_prune, seed):
    """One rank's next level without candidates (occurrence deliver throughout, mixed,
    intersection throughout; pruned and then counted by occurrence deliver): levels 3-5
    against the 0/1 matrix, with the tid-lists, on the whole parents and in blocks; a
    budget the tid-lists would pass stops it."""
    from hpcrec.kernels import intersect
    X = dense_matrix(seed)
    rows = rows_of(X)
    m, minc = X.shape[1], 9
    F = np.array([p for p in itertools.combinations(range(m), 2) if X[:, list(p)].all(1).sum() >= minc],
                 np.int32)
    for _ in range(3):
        ptr, tids = tidlists(X, F)
        csrs = (rows.indptr, rows.indices, ptr, tids)
        partners = partners_of(F)
        want = [(tuple(s) + (c,), int(X[:, list(s) + [c]].all(1).sum()))
                for s in F for c in range(s[-1] + 1, m)]
        want = [(s, n) for s, n in want if n >= minc]
        for cuts in ([0, len(F)], [0, len(F) // 3, len(F)]):
            got, lists = [], []
            for lo, hi in zip(cuts, cuts[1:]):
                per_row, last, counts, p, t, seen, done = intersect.frequent_extensions(
                    csrs, m, F, partners, lo, hi, minc, (weight, try_prune, 1 << 40))
                assert done and seen >= len(last)
                left = np.repeat(np.arange(lo, hi), per_row)
                got += [(tuple(F[a]) + (int(c),), int(n)) for a, c, n in zip(left, last, counts)]
                lists += [t[p[x]:p[x + 1]].tolist() for x in range(len(last))]
            assert got == want
            assert lists == [np.flatnonzero(X[:, list(s)].all(1)).tolist() for s, _ in want]
        if want:
            room = sum(n for _, n in want) - 1
            assert not intersect.frequent_extensions(csrs, m, F, partners, 0, len(F), minc,
                                                     (weight, try_prune, room))[-1]
        F = np.array([s for s, _ in want], np.int32).reshape(-1, F.shape[1] + 1)
        if len(F) < 2:
            break


def test_one_rank_apriori_streams_from_a_block_over_the_tidlist_budget(monkeypatch):
    """Where a block's frequent extensions would pass the tid-lists' budget, the rows are
    streamed from then on, and the result is that of no budget."""
    from hpcrec.fim import count_distribution as cd
    from hpcrec.kernels import intersect
    rng = np.random.default_rng(4)
    rows = [sorted(set((rng.zipf(1.5, size=rng.integers(1, 14)) % 300).tolist()))
            for _ in range(2000)]
    reference = mine_itemsets(rows, 0.003, "apriori", comm=serial())
    done, extend = [], intersect.frequent_extensions
    monkeypatch.setattr(intersect, "frequent_extensions", lambda *a: done.append(extend(*a)[-1]) or extend(*a))
    monkeypatch.setattr(intersect, "BITS_FROM", 0)   # tid-lists throughout
    monkeypatch.setattr(cd, "FLOOR", 0)
    monkeypatch.setattr(cd, "LISTS", 2.0)   # past the pairs' lists, not the triples'
    got = mine_itemsets(rows, 0.003, "apriori", comm=serial())
    assert done == [False] and len(reference) > 1000
    assert np.array_equal(got.items, reference.items) and np.array_equal(got.counts, reference.counts)
    assert np.array_equal(got.ptr, reference.ptr) and got.levels == reference.levels


@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_union_runs_merges_every_ranks_sorted_runs(p):
    """Per parent, the union of p ranks' ascending runs (some empty, overlapping, equal),
    ascending, each item with its index in one rank's own list (or -1)."""
    from hpcrec.kernels.intersect import union_runs
    rng = np.random.default_rng(p)
    n = 40
    runs = [[sorted(rng.choice(12, rng.integers(0, 6), replace=False).tolist()) for _ in range(n)]
            for _ in range(p)]
    per_rank = np.array([[len(runs[r][i]) for i in range(n)] for r in range(p)])
    last = np.array([x for r in range(p) for i in range(n) for x in runs[r][i]], np.int32)
    for me in range(p):
        mine = [(i, x) for i in range(n) for x in runs[me][i]]
        per_row, items, own = union_runs(per_rank, last, me)
        want = [(i, x) for i in range(n) for x in sorted({x for r in range(p) for x in runs[r][i]})]
        left = np.repeat(np.arange(n), per_row)
        assert list(zip(left.tolist(), items.tolist())) == want
        assert own.tolist() == [mine.index(w) if w in mine else -1 for w in want]
