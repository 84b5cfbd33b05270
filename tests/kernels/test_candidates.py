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
        left, last = C.join_prune(F)
        got = [tuple(F[a]) + (int(b),) for a, b in zip(left, last)]
        assert got == apriori_gen(chosen)
        partners = K.join_partners(F)  # rows split into shares (as ranks do) give the same
        cuts = sorted({0, len(F) // 3, len(F) // 3, 2 * len(F) // 3, len(F)})
        shares = [C.prune_joins(F, partners, lo, hi) for lo, hi in zip(cuts, cuts[1:])]
        per_row = np.concatenate([share[0] for share in shares])
        assert np.array_equal(per_row, np.bincount(left, minlength=len(F)))
        shares = [share[1] for share in shares]
        assert np.array_equal(np.concatenate(shares), last)


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
@pytest.mark.parametrize("weight", [0, 16, 10**9])   # occurrence deliver, mixed, intersection
def test_apriori_against_brute_force(monkeypatch, make, seed, n, max_len, weight):
    from hpcrec.kernels import intersect
    monkeypatch.setattr(intersect, "WEIGHT", weight)
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


@pytest.mark.parametrize("weight", [0, 16, 10**9])   # occurrence deliver, mixed, intersection
@pytest.mark.parametrize("seed", range(2))
def test_intersecting_counter_against_dense_counts(monkeypatch, weight, seed):
    """Counts and tid-lists of levels 2-4 against the dense 0/1 matrix, whichever way each
    parent is counted; rows with no item and an item in every row included."""
    from hpcrec.kernels import intersect
    from hpcrec.kernels.csr import Csr
    monkeypatch.setattr(intersect, "WEIGHT", weight)
    rng = np.random.default_rng(seed)
    X = rng.random((300, 12)) < np.linspace(0.7, 0.05, 12)
    X[:, 0] = True
    X[::17] = False
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    idx = np.nonzero(X)[1].astype(np.int32)
    counter = intersect.IntersectingCounter(Csr(ptr, idx, None, (300, 12)), 12, lambda *a: None)
    pairs = K.decode_pairs(np.arange(K.n_pairs(12)), 12)
    out = np.zeros(len(pairs), np.int64)
    counter.count_pairs(out)
    counter.keep_pairs(pairs, out)
    F = pairs
    for _ in range(2):
        left, last = C.join_prune(F)
        counts = counter.count(F, left, last)
        sets = [list(F[a]) + [b] for a, b in zip(left, last)]
        assert counts.tolist() == [int(X[:, s].all(1).sum()) for s in sets]
        keep = counts >= 5
        counter.keep(keep)
        F = np.column_stack((F[left[keep]], last[keep])).astype(np.int32)
        for x, s in enumerate(F):
            assert counter.tids[counter.ptr[x]:counter.ptr[x + 1]].tolist() == \
                np.flatnonzero(X[:, s].all(1)).tolist()
