"""The PFP exchange kernels against their definition: per round and rank, the prefixes of
the rows up to the rank's last item of the round."""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec.fim import pfp
from hpcrec.fim.pfp import CLAIM_UNITS, ROUND_BATCHES, claim_cuts, plan_batches, plan_builds, plan_rounds
from hpcrec.kernels import exchange as E


def random_rows(seed: int, rows: int, items: int, density: float):
    rng = np.random.default_rng(seed)
    X = rng.random((rows, items)) < density
    X[rng.integers(rows)] = False           # an empty row
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    return ptr, np.nonzero(X)[1].astype(np.int32)


def expected_prefixes(ptr, idx, owner, lo, hi, g):
    out = []
    for r in range(len(ptr) - 1):
        row = idx[ptr[r]:ptr[r + 1]].tolist()
        last = [p for p, i in enumerate(row) if lo <= i < hi and owner[i] == g]
        if last:
            out.append((r, row[:last[-1] + 1]))
    return out


def test_prefix_weights_are_the_conditional_database_sizes():
    ptr, idx = random_rows(0, 40, 9, 0.4)
    w = E.prefix_weights(ptr, idx, 9)
    for j in range(9):
        size = sum(p + 1 for r in range(40) for p, i in enumerate(idx[ptr[r]:ptr[r + 1]]) if i == j)
        assert w[j] == size


def decoded(block, keyed):
    """(global index or None, items) of each record of ``block``, by the record format."""
    head, q, out = 3 if keyed else 1, 0, []
    while q < len(block):
        n = int(block[q])
        gid = int(block[q + 1]) + (int(block[q + 2]) << 31) if keyed else None
        out.append((gid, block[q + head:q + head + n].tolist()))
        q += n + head
    return out


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("rounds", [[(0, 8)], [(6, 8), (3, 6), (0, 3)], [(7, 8), (1, 7), (0, 1)]])
def test_shards_are_the_conditional_transactions_of_each_round(keyed, rounds):
    ptr, idx = random_rows(1, 60, 8, 0.5)
    owner = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    ends = np.diff(ptr).astype(np.int32)
    first_id = 7 if keyed else 0
    for lo, hi in rounds:    # consecutive, descending: ``ends`` carries over
        send, counts = E.shard_prefixes(ptr, idx, ends, owner, lo, 3, first_id, keyed)
        assert counts.sum() == len(send)
        for g, block in enumerate(np.split(send, np.cumsum(counts)[:-1])):
            expected = [(first_id + r if keyed else None, row)
                        for r, row in expected_prefixes(ptr, idx, owner, lo, hi, g)]
            assert decoded(block, keyed) == expected
            if keyed:   # parsed: each row at its global index, the others empty
                rp, ri = E.parse_records(block, first_id + 60)
                assert len(rp) == first_id + 61 and rp[first_id] == 0
                got = [(k, ri[rp[k]:rp[k + 1]].tolist())
                       for k in range(first_id, first_id + 60) if rp[k + 1] > rp[k]]
                assert got == expected
        assert all(ends[r] == np.searchsorted(idx[ptr[r]:ptr[r + 1]], lo) for r in range(60))


def test_global_indices_past_31_bits_take_the_second_word():
    ptr, idx = np.array([0, 2], np.int64), np.array([0, 1], np.int32)
    gid = (5 << 31) + 3
    send, _ = E.shard_prefixes(ptr, idx, np.array([2], np.int32), np.zeros(2, np.int64), 0, 1,
                               gid, True)
    assert send.tolist() == [2, 3, 5, 0, 1]


def test_plan_rounds_cover_every_item_rarest_first():
    w = np.array([50, 1, 1, 1, 30, 2, 2, 2, 2], np.int64)
    rounds = plan_rounds(w, 2, 3)   # at most 6 a round, a heavier item alone
    assert rounds == [(6, 9), (5, 6), (4, 5), (1, 4), (0, 1)]
    assert plan_rounds(np.zeros(0, np.int64), 2, 3) == []
    assert plan_rounds(np.array([7], np.int64), 3, 100) == [(0, 1)]


def test_cut_rows_keeps_the_heads_still_to_send():
    ptr, idx = random_rows(2, 30, 8, 0.5)
    ends = np.array([np.searchsorted(idx[ptr[r]:ptr[r + 1]], 4) for r in range(30)], np.int32)
    cp, ci = E.cut_rows(ptr, idx, ends)
    assert [ci[cp[r]:cp[r + 1]].tolist() for r in range(30)] == \
        [[i for i in idx[ptr[r]:ptr[r + 1]] if i < 4] for r in range(30)]


def test_split_batches_are_each_batch_s_conditional_transactions():
    ptr, idx = random_rows(2, 50, 10, 0.5)
    cuts = np.array([2, 4, 5, 9])          # batches [2, 4), [4, 5), [5, 9); items 3 and 6 not owned
    batch = np.full(10, -1, np.int64)
    for b in range(3):
        batch[cuts[b]:cuts[b + 1]] = b
    batch[[3, 6]] = -1
    # the records of every row (one rank owning all), as shard_prefixes sends them
    recv, _ = E.shard_prefixes(ptr, idx, np.diff(ptr).astype(np.int32), np.zeros(10, np.int64),
                               0, 1, 0, False)
    bp, bi, first = E.split_batches(recv, batch, 2, 3)
    for b in range(3):
        got = [bi[bp[k]:bp[k + 1]].tolist() for k in range(first[b], first[b + 1])]
        assert got == [row for _, row in expected_prefixes(ptr, idx, batch, 2, 9, b)]


def test_plan_batches_cut_the_round_by_owned_weight():
    total = np.concatenate(([0], np.cumsum([5, 0, 1, 1, 30, 1, 1, 1, 1, 1, 1, 2])))
    cuts = plan_batches(total, 1, 12)
    assert cuts[0] == 1 and cuts[-1] == 12 and np.all(np.diff(cuts) > 0)
    assert len(cuts) - 1 <= ROUND_BATCHES
    share = (total[12] - total[1]) / ROUND_BATCHES
    for a, z in zip(cuts[:-1], cuts[1:]):   # a batch past its share only by its top item
        assert total[z - 1] - total[a] <= share


def test_plan_batches_keep_a_batch_near_the_batch_weight(monkeypatch):
    monkeypatch.setattr(pfp, "BATCH_WEIGHT", 4)
    total = np.arange(41)                  # 40 owned items of weight 1
    cuts = plan_batches(total, 0, 40)
    assert len(cuts) - 1 == 10   # each past its share of 4 only by its top item
    assert all(total[z - 1] - total[a] <= 4 for a, z in zip(cuts[:-1], cuts[1:]))
    keyed = plan_batches(total, 0, 40, keyed=True)   # FP-Close: every batch scans all rows
    assert len(keyed) - 1 == ROUND_BATCHES


def test_plan_builds_join_batches_up_to_the_batch_weight(monkeypatch):
    monkeypatch.setattr(pfp, "BATCH_WEIGHT", 10)
    total = np.arange(41)                  # 40 owned items of weight 1
    cuts = plan_batches(total, 0, 40)      # 8 batches of 5
    at = plan_builds(total, cuts)
    assert at[0] == 0 and at[-1] == len(cuts) - 1 and np.all(np.diff(at) > 0)
    for a, b in zip(at[:-1], at[1:]):   # within the weight, or one batch; none could take the next
        assert total[cuts[b]] - total[cuts[a]] <= 10 or b == a + 1
        assert b == len(cuts) - 1 or total[cuts[b + 1]] - total[cuts[a]] > 10
    assert 2 < len(at) - 1 < len(cuts) - 1
    assert plan_builds(total, plan_batches(total, 0, 8)).tolist() == [0, len(plan_batches(total, 0, 8)) - 1]
    keyed = plan_batches(total, 0, 40, keyed=True)
    monkeypatch.setattr(pfp, "BATCH_WEIGHT", 1)   # keyed: at most ROUND_BATCHES builds
    assert len(plan_builds(total, keyed, keyed=True)) - 1 == ROUND_BATCHES
    monkeypatch.setattr(pfp, "BATCH_WEIGHT", 1 << 21)   # a small round: one build
    assert plan_builds(total, keyed, keyed=True).tolist() == [0, len(keyed) - 1]


def test_skip_round_moves_the_ends_as_shard_prefixes_does():
    ptr, idx = random_rows(3, 50, 9, 0.5)
    sent, skipped = np.diff(ptr).astype(np.int32), np.diff(ptr).astype(np.int32)
    for lo in (7, 4, 0):
        E.shard_prefixes(ptr, idx, sent, np.zeros(9, np.int64), lo, 1, 0, False)
        E.skip_round(ptr, idx, skipped, lo)
        assert np.array_equal(sent, skipped)


def test_rounds_on_several_ranks_hold_several_groups_a_rank():
    """Items of equal weight near the floor (dense data): one rank keeps its rounds, several
    ranks get at least ROUND_GROUPS groups each a round (a round of one group idled the
    others), within the memory budget."""
    from types import SimpleNamespace

    from hpcrec.core.memory import Guard
    w = np.full(64, pfp.MIN_ROUND, np.int64)
    prep = SimpleNamespace(counts=np.full(64, 1000, np.int64), m=64)
    roomy = Guard(budget=1 << 40)
    assert {hi - lo for lo, hi in plan_rounds(w, 1, pfp.round_weight(prep, w, 1, roomy))} == {1}
    for size in (2, 3):
        rounds = plan_rounds(w, size, pfp.round_weight(prep, w, size, roomy))
        assert min(hi - lo for lo, hi in rounds[:-1]) == size * pfp.ROUND_GROUPS
    tight = Guard(budget=24 * pfp.MIN_ROUND)   # the budget still bounds a round
    assert pfp.round_weight(prep, w, 2, tight) == pfp.MIN_ROUND


def test_one_rank_over_sparse_data_takes_larger_rounds_of_one_build():
    """One rank over more than MASK_ITEMS items: rounds of SPARSE_ROUND times MIN_ROUND
    (within the budget), each one build however many batches; several ranks, or few
    items, keep MIN_ROUND and builds of BATCH_WEIGHT."""
    from types import SimpleNamespace

    from hpcrec.core.memory import Guard
    from hpcrec.kernels.projected import MASK_ITEMS
    w = np.full(MASK_ITEMS + 1, pfp.MIN_ROUND // 4, np.int64)
    roomy = Guard(budget=1 << 40)
    sparse = SimpleNamespace(counts=np.full(len(w), 1000, np.int64), m=len(w))
    dense = SimpleNamespace(counts=sparse.counts, m=MASK_ITEMS)
    big = pfp.SPARSE_ROUND * pfp.MIN_ROUND
    assert pfp.round_weight(sparse, w, 1, roomy) == big
    assert pfp.round_weight(sparse, w, 2, roomy) < big and pfp.round_weight(dense, w, 1, roomy) < big
    assert pfp.round_weight(sparse, w, 1, Guard(budget=24 * pfp.MIN_ROUND)) == pfp.MIN_ROUND
    rounds = plan_rounds(w, 1, big)
    assert len(rounds) > 1 and {hi - lo for lo, hi in rounds[:-1]} == {4 * pfp.SPARSE_ROUND}
    lo, hi = rounds[0]
    total = np.concatenate(([0], np.cumsum(w)))
    cuts = plan_batches(total, lo, hi)
    assert len(cuts) > 2 and len(plan_builds(total, cuts)) > 2
    assert plan_builds(total, cuts, cap=big).tolist() == [0, len(cuts) - 1]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_claim_cuts_put_light_groups_together_and_heavy_ones_apart(size):
    """FP-Close's shared rounds are claimed in units: about CLAIM_UNITS a rank however many
    groups (thousands of light ones on sparse data), every heavy group the bottom of its own
    unit (the next one down is claimed apart from it), the units covering the round."""
    rng = np.random.default_rng(size)
    w = rng.integers(1, 5, 20_000)
    heavy = rng.choice(len(w), 40, replace=False)
    w[heavy] = w.sum()         # each above 1/(CLAIM_UNITS * size) of the round
    lo = 7
    cuts = claim_cuts(w, lo, size)
    assert cuts[0] == lo and cuts[-1] == lo + len(w) and np.all(np.diff(cuts) > 0)
    assert len(cuts) - 1 <= CLAIM_UNITS * size + 2
    assert set((heavy + lo).tolist()) <= set(cuts.tolist())
    assert claim_cuts(np.full(5, 100), 0, size).tolist() == [0, 1, 2, 3, 4, 5]   # all heavy: one each
