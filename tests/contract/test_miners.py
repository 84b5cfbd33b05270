"""The miners' contract (hpcrec.fim's mlxtend-compatible functions), for every miner on the
CPU and on a (simulated) GPU, at 1 rank and at every rank count scripts/test.sh runs.

The promise: exactly the frequent (apriori, fpgrowth), maximal (fpmax) or closed (fpclose)
itemsets with their exact supports — the brute-force oracle's — on every rank, for any rank
count, whether each rank passes the whole data set or the part it read.
"""
from __future__ import annotations

import pandas as pd
import pytest
from helpers import COMMS, brute_force_itemsets, make_comm, shared_tmp, tiny_baskets

from hpcrec import fim
from hpcrec.core.errors import InputError
from hpcrec.io import load_transactions
from hpcrec.io.transactions import from_lists, write_h5

TARGETS = {"apriori": "frequent", "fpgrowth": "frequent", "fpmax": "maximal", "fpclose": "closed"}
MIN_SUPPORT = 0.15


def _onehot(rows) -> pd.DataFrame:
    items = sorted({x for r in rows for x in r})
    return pd.DataFrame([[x in r for x in items] for r in rows], columns=items)


def _found(frame: pd.DataFrame) -> dict:
    return dict(zip(frame["itemsets"], frame["support"]))


def test_every_miner_is_tested():
    assert sorted(TARGETS) == sorted(fim.engine.ALGORITHMS)


@pytest.mark.parametrize("comm_name", COMMS)
@pytest.mark.parametrize("algorithm", sorted(TARGETS))
def test_exact_itemsets_on_every_rank(algorithm, device, comm_name):
    """The oracle's itemsets and supports (exactly), from a one-hot DataFrame and from a
    list of transactions, the same on every rank."""
    comm = make_comm(comm_name)
    rows = tiny_baskets(3)
    expected = brute_force_itemsets(rows, MIN_SUPPORT, TARGETS[algorithm])
    assert len(expected) >= 5
    mine = getattr(fim, algorithm)
    found = _found(mine(_onehot(rows), MIN_SUPPORT, use_colnames=True, comm=comm, device=device))
    assert found == expected
    assert _found(mine(rows, MIN_SUPPORT, use_colnames=True, comm=comm, device=device)) == expected
    gathered = comm.allgather_obj(sorted((sorted(s), v) for s, v in found.items()))
    assert all(g == gathered[0] for g in gathered)


@pytest.mark.parametrize("comm_name", COMMS)
@pytest.mark.parametrize("algorithm", sorted(TARGETS))
def test_a_part_is_mined_as_it_is(algorithm, device, comm_name, tmp_path):
    """The part each rank read of a file (its Shard) is mined as it is — never cut again —
    and gives the same itemsets as the whole data set passed by every rank."""
    comm = make_comm(comm_name)
    rows = tiny_baskets(5)
    path = shared_tmp(comm, tmp_path) / "tx.h5"
    if comm.is_root:
        write_h5(from_lists(rows), path)
    comm.barrier()
    part = load_transactions(path, comm)
    assert (part.shard.part, part.shard.parts, part.n_total) == (comm.rank, comm.size, len(rows))
    mine = getattr(fim, algorithm)
    from_part = _found(mine(part, MIN_SUPPORT, use_colnames=True, comm=comm, device=device))
    from_whole = _found(mine(from_lists(rows), MIN_SUPPORT, use_colnames=True, comm=comm,
                             device=device))
    assert from_part == from_whole == brute_force_itemsets(rows, MIN_SUPPORT, TARGETS[algorithm])
    if comm.size > 1:
        with pytest.raises(InputError, match="never cut again"):
            part.part(0, 1)
