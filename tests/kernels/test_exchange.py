"""The PFP exchange kernels against their definition: per round and rank, the prefixes of
the rows up to the rank's last item of the round."""
from __future__ import annotations

import numpy as np
import pytest

from hpcrec.fim.pfp import plan_rounds
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


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("lo, hi", [(0, 8), (3, 6), (7, 8), (0, 1)])
def test_shards_are_the_conditional_transactions_of_the_round(keyed, lo, hi):
    ptr, idx = random_rows(1, 60, 8, 0.5)
    owner = np.array([0, 1, 2, 0, 1, 2, 2, 1])
    first_id = (1 << 31) + 5 if keyed else 0   # ids past 31 bits use the second word
    send, counts = E.shard_prefixes(ptr, idx, owner, lo, hi, 3, first_id, keyed)
    assert counts.sum() == len(send)
    for g, block in enumerate(np.split(send, np.cumsum(counts)[:-1])):
        expected = expected_prefixes(ptr, idx, owner, lo, hi, g)
        if keyed:   # each row at its global index: the others empty
            rp, ri = E.parse_records(block, True, first_id + 60)
            assert len(rp) == first_id + 61
            got = [(k - first_id, ri[rp[k]:rp[k + 1]].tolist())
                   for k in range(first_id, first_id + 60) if rp[k + 1] > rp[k]]
            assert rp[first_id] == 0
        else:
            rp, ri = E.parse_records(block, False, 0)
            got = list(zip([r for r, _ in expected], [ri[rp[k]:rp[k + 1]].tolist()
                                                     for k in range(len(rp) - 1)]))
            assert len(rp) - 1 == len(expected)
        assert got == expected


def test_plan_rounds_cover_every_item_rarest_first():
    w = np.array([50, 1, 1, 1, 30, 2, 2, 2, 2], np.int64)
    rounds = plan_rounds(w, 2, 3)   # at most 6 a round, a heavier item alone
    assert rounds == [(5, 9), (4, 5), (1, 4), (0, 1)]
    assert plan_rounds(np.zeros(0, np.int64), 2, 3) == []
    assert plan_rounds(np.array([7], np.int64), 3, 100) == [(0, 1)]
