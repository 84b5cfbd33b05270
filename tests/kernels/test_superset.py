"""The cross-rank superset filter (hpcrec.kernels.superset) against brute force."""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec.kernels import superset as S


def flat(sets):
    items = np.concatenate([np.asarray(t, np.int32) for t in sets]).astype(np.int32)
    ptr = np.concatenate(([0], np.cumsum([len(t) for t in sets]))).astype(np.int64)
    return items, ptr


def random_sets(rng, m, n, density):
    """n non-empty random sets over m items, about ``density`` of them each, plus subsets of
    some (shared prefixes and chains in the tree)."""
    sets = [np.flatnonzero(rng.random(m) < density) for _ in range(n)]
    sets = [t if len(t) else np.array([rng.integers(m)]) for t in sets]
    sets += [np.sort(rng.choice(t, max(1, len(t) - rng.integers(1, 4)), replace=False))
             for t in sets[: n // 2]]
    return sets


def brute(sets, others, counts=None, other_counts=None):
    return [any(set(t) < set(u) and (counts is None or c == d)
                for u, d in zip(others, other_counts if counts is not None else others))
            for t, c in zip(sets, counts if counts is not None else sets)]


def test_extended_small():
    mine = [(0, 1), (0, 1, 2), (3,), (2, 4), (1, 2)]
    others = [(0, 1, 2), (3,), (1, 2, 4)]
    got = S.extended(*flat(mine), *flat(others), 5).tolist()
    # (0, 1, 2) and (3,) equal a set of the others: not a proper superset
    assert got == [True, False, False, True, True]


# m = 200: items share mask bits (i % 128); density 0.5: the tree, 0.02: the holders
@pytest.mark.parametrize("m", [20, 100, 200])
@pytest.mark.parametrize("density", [0.5, 0.15, 0.02])
def test_extended_on_random_sets(m, density):
    rng = np.random.default_rng(m + int(100 * density))
    mine = random_sets(rng, m, 300, density)
    others = random_sets(rng, m, 300, density)
    others += [t for t in mine[:40]]              # equal sets: not proper supersets
    mine += [np.sort(rng.choice(t, max(1, len(t) - 1), replace=False)) for t in others[:60]]
    want = brute(mine, others)
    assert any(want) and not all(want)
    assert S.extended(*flat(mine), *flat(others), m).tolist() == want


def tidset_sets(rng, rows, m, density, n):
    """Random sets over a random dense database, with their counts and tid-set keys (sum of
    a random 64-bit word per transaction, as the miner's keys)."""
    X = rng.random((rows, m)) < density
    word = rng.integers(-2**63, 2**63 - 1, rows, dtype=np.int64)
    sets = random_sets(rng, m, n, 0.3)
    tids = [np.flatnonzero(X[:, t].all(1)) for t in sets]
    counts = np.array([len(t) for t in tids], np.int64)
    keys = np.array([int(word[t].sum()) for t in tids], np.int64)   # wraps as int64
    return sets, counts, keys


@pytest.mark.parametrize("m", [12, 150])
@pytest.mark.parametrize("colliding", [False, True])
def test_same_closure_on_random_sets(m, colliding):
    """Against brute force (a proper superset with the same count); with ``colliding`` every
    key is the same, so only the containment test decides."""
    rng = np.random.default_rng(m)
    sets, counts, keys = tidset_sets(rng, 60, m, 0.7, 400)
    if colliding:
        keys[:] = 7
    mine, others = sets[::2], sets[1::2] + sets[:40:2]
    c_mine, c_others = counts[::2], np.concatenate((counts[1::2], counts[:40:2]))
    k_mine, k_others = keys[::2], np.concatenate((keys[1::2], keys[:40:2]))
    want = brute(mine, others, c_mine, c_others)
    assert any(want) and not all(want)
    got = S.same_closure(*flat(mine), c_mine, k_mine, *flat(others), c_others, k_others)
    assert got.tolist() == want


@pytest.mark.parametrize("seed", range(4))
def test_closure_roles_against_brute_force(seed):
    """Bit 0: a longer set of another source shares (key, count); bit 1: a shorter one.
    Few keys, counts and sources, so pairs meet often and sources repeat in a pair; half
    the sets (odd seeds) with a key of their own, which the bitmap decides alone. The
    sets reach the owner as by_owner's words, grouped by source."""
    rng = np.random.default_rng(seed)
    n = 400
    keys = rng.integers(-40, 40, n) * (2**58 + 1)   # wraps: large and negative keys
    if seed % 2:
        keys = np.where(rng.random(n) < 0.5, keys, rng.integers(-2**62, 2**62, n))
        words, _, _ = S.by_owner(keys, np.ones(n, np.int64), np.ones(n, np.int64), 1, 3)
        assert 0 < len(S._shared(words >> 3)) < n
    counts, lengths, sources = rng.integers(1, 3, n), rng.integers(1, 6, n), rng.integers(0, 3, n)
    by_source = np.argsort(sources, kind="stable")
    keys, counts, lengths, sources = (a[by_source] for a in (keys, counts, lengths, sources))
    words, _, which = S.by_owner(keys, counts, lengths, 1, 3)
    assert np.array_equal(which, np.arange(n))
    bounds = np.searchsorted(sources, np.arange(4))
    got = S.closure_roles(words, bounds, 3)
    for x in range(n):
        other = (keys == keys[x]) & (counts == counts[x]) & (sources != sources[x])
        want = int((lengths[other] > lengths[x]).any()) | 2 * int((lengths[other] < lengths[x]).any())
        assert got[x] == want
    assert set(got.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("ranks", [2, 3])
def test_met_elsewhere_finds_every_pair_of_another_rank(ranks):
    """Every set whose (key, count) pair a set of another rank has is a candidate (brute
    force), none twice, in order; a pair repeated within one rank only is not a reason, and
    with about 20 bits a set few of the sets without a partner pass."""
    rng = np.random.default_rng(ranks)
    pool = rng.integers(-2**63, 2**63 - 1, 800, dtype=np.int64)
    keys = [pool[rng.integers(0, 800, 2000)] for _ in range(ranks)]   # shared and repeated
    keys = [np.where(rng.random(2000) < 0.5, k, rng.integers(-2**62, 2**62, 2000)) for k in keys]
    counts = [rng.integers(1, 3, 2000) for _ in range(ranks)]
    n_bits = 1 << 16
    maps = np.stack([S.pair_bits(k, c, n_bits) for k, c in zip(keys, counts)])
    assert maps.shape == (ranks, n_bits >> 6)
    for r in range(ranks):
        got = S.met_elsewhere(keys[r], counts[r], maps, r)
        others = {(k, c) for q in range(ranks) if q != r
                  for k, c in zip(keys[q].tolist(), counts[q].tolist())}
        pairs = list(zip(keys[r].tolist(), counts[r].tolist()))
        want = [x for x, p in enumerate(pairs) if p in others]
        alone = len(pairs) - len(want)
        assert np.all(np.diff(got) > 0)
        assert set(want) <= set(got.tolist()) and 100 < len(want) < len(pairs)
        assert len(pairs) - len(set(pairs)) > 100   # pairs repeated within the rank
        assert len(got) - len(want) < 0.1 * ranks * alone


def test_owners_spread_pairs_over_ranks():
    rng = np.random.default_rng(0)
    keys = rng.integers(-2**63, 2**63 - 1, 30000, dtype=np.int64)
    counts = rng.integers(1, 50, 30000)
    for size in (1, 2, 3):
        got = S.owners(keys, counts, size)
        assert got.min() >= 0 and got.max() < size
        assert np.bincount(got, minlength=size).min() > 30000 / size * 0.9
        assert np.array_equal(got, S.owners(keys.copy(), counts.copy(), size))   # a pure function


def test_by_owner_groups_rows_stably():
    """The words grouped by owner as a stable sort by owner would, with each word's set:
    the length in the low bits, equal pairs' words equal above them."""
    rng = np.random.default_rng(1)
    keys = rng.integers(-2**63, 2**63 - 1, 5000, dtype=np.int64)
    keys[::2] = keys[1::2]   # pairs of equal keys, half of them with equal counts
    counts = rng.integers(1, 3, 5000)
    lengths = rng.integers(1, 9, 5000)
    for size in (1, 2, 3):
        words, per, which = S.by_owner(keys, counts, lengths, size, 4)
        owner = S.owners(keys, counts, size)
        order = np.argsort(owner, kind="stable")
        assert np.array_equal(per, np.bincount(owner, minlength=size))
        assert np.array_equal(which, order)
        assert np.array_equal(words & 15, lengths[order])
        pair = np.empty(5000, np.int64)
        pair[which] = words >> 4
        same = counts[::2] == counts[1::2]
        assert np.array_equal(pair[::2] == pair[1::2], same) and 0 < same.sum() < 2500
