"""hpcrec.fim under MPI: the same itemsets, supports, rules and bytes for every rank count."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import needs_ranks

from hpcrec.core.comm import serial, world
from hpcrec.fim import association_rules, mine_itemsets
from hpcrec.fim.result import min_count
from hpcrec.io import load_transactions
from hpcrec.io.results import read_itemsets


def random_rows(seed: int, n: int = 997, items: int = 60):
    rng = np.random.default_rng(seed)
    return [sorted(set((rng.zipf(1.5, size=rng.integers(1, 12)) % items).tolist()))
            for _ in range(n)]


def same(a, b) -> bool:
    """The same itemsets and the same metadata (what an output file holds)."""
    return (np.array_equal(a.items, b.items) and np.array_equal(a.ptr, b.ptr)
            and np.array_equal(a.counts, b.counts) and a.n_transactions == b.n_transactions
            and (a.partial, a.levels) == (b.partial, b.levels))


@pytest.mark.mpi
@pytest.mark.parametrize("algorithm", ["apriori", "fpgrowth", "fpmax", "fpclose"])
@pytest.mark.parametrize("max_len", [None, 2])
def test_distributed_equals_serial(algorithm, max_len):
    rows = random_rows(3)
    distributed = mine_itemsets(rows, 0.01, algorithm, max_len, comm=world())
    reference = mine_itemsets(rows, 0.01, algorithm, max_len, comm=serial())
    assert len(reference) > 20 and same(distributed, reference)


@pytest.mark.mpi
@pytest.mark.parametrize("algorithm", ["apriori", "fpgrowth", "fpmax", "fpclose"])
def test_dense_distributed_equals_serial(algorithm):
    """One-hot records (apriori counts with bitsets here; FP-Max / FP-Close drop sets that
    another rank's groups extend)."""
    from hpcrec.io import synthetic
    rows = synthetic.dense_transactions(1201, 20, 4, 4, seed=8).to_lists()
    distributed = mine_itemsets(rows, 0.3, algorithm, comm=world())
    reference = mine_itemsets(rows, 0.3, algorithm, comm=serial())
    assert len(reference) > 100 and same(distributed, reference)


@pytest.mark.mpi
@pytest.mark.parametrize("algorithm", ["apriori", "fpgrowth", "fpmax", "fpclose"])
@pytest.mark.parametrize("width", [64, 80])
def test_beyond_63_items_distributed_equals_serial(algorithm, width):
    """64 and 80 frequent items: one rank's two-word mask layout (over 64 items sorted as
    one-word keys, over 80 as two-word keys) against the ranks'."""
    rng = np.random.default_rng(80)
    X = rng.random((500, width)) < 0.3
    X[:150, :8] = True
    rows = [np.flatnonzero(r).tolist() for r in X]
    distributed = mine_itemsets(rows, 0.12, algorithm, comm=world())
    reference = mine_itemsets(rows, 0.12, algorithm, comm=serial())
    assert len(reference) > 100 and same(distributed, reference)


@pytest.mark.mpi
@pytest.mark.parametrize("shared", [64 << 20, 0])
def test_dense_apriori_by_candidate_or_count_distribution(shared, monkeypatch):
    """Dense rows on several ranks: each rank counts its share of the candidates over
    every rank's bitsets (Candidate Distribution), or, where those outgrow SHARED, every
    candidate over its own rows (Count Distribution); in blocks of a few candidates, so a
    rank's share is several blocks. The same itemsets as one rank at exact fractions of
    the rows and with max_len."""
    from hpcrec.fim import count_distribution as cd
    from hpcrec.io import synthetic
    monkeypatch.setattr(cd, "SHARED", shared)
    monkeypatch.setattr(cd, "BLOCK", 64)
    used, level = [], cd._shared_level
    monkeypatch.setattr(cd, "_shared_level", lambda *a: used.append(1) or level(*a))
    rows = synthetic.dense_transactions(601, 12, 4, 3, seed=5).to_lists()
    for count, max_len in ((150, None), (61, None), (61, 3)):
        got = mine_itemsets(rows, count / len(rows), "apriori", max_len, comm=world())
        reference = mine_itemsets(rows, count / len(rows), "apriori", max_len, comm=serial())
        assert len(reference) > 100 and same(got, reference)
    assert bool(used) == (world().size > 1 and shared > 0)


@pytest.mark.mpi
def test_a_stop_on_one_rank_ends_candidate_distribution_after_the_level(monkeypatch):
    """Dense rows, Candidate Distribution: rank 0 asks to stop while it counts level 3;
    every rank ends after that level with the same partial result of whole levels, its
    counts exact."""
    from hpcrec.fim import count_distribution as cd
    from hpcrec.fim.control import Control
    from hpcrec.io import synthetic
    comm = world()
    rows = synthetic.dense_transactions(601, 12, 4, 3, seed=5).to_lists()
    full = mine_itemsets(rows, 0.1, "apriori", comm=serial())
    asked, level = [], cd._shared_level

    def shared_level(*a):
        asked.append(comm.rank == 0)
        return level(*a)
    monkeypatch.setattr(cd, "_shared_level", shared_level)
    monkeypatch.setattr(Control, "stop_requested", lambda self: bool(asked) and asked[0])
    part = mine_itemsets(rows, 0.1, "apriori", comm=comm)
    got, exact = as_dict(part, list(part.labels)), as_dict(full, list(full.labels))
    if comm.size == 1:
        assert not part.partial and got == exact
        return
    assert part.partial and part.levels == 3 and max(map(len, got)) == 3 < max(map(len, exact))
    assert {s: c for s, c in exact.items() if len(s) <= 3} == got
    assert comm.allgather_obj(got) == [got] * comm.size


@pytest.mark.mpi
@pytest.mark.parametrize("lists, switch", [(0.0, False), (0.9, True), (1.5, True)])
def test_apriori_within_a_tidlist_budget(lists, switch, monkeypatch):
    """Tid-lists over budget: rows streamed in chunks from the start (every rank: the
    level-2 path is collective), or from the count / keep (several ranks) or the block of
    frequent extensions (one rank) that would pass it (each rank on its own); the same
    itemsets as without a budget, on any number of ranks."""
    from hpcrec.fim import count_distribution as cd
    from hpcrec.kernels import intersect
    from hpcrec.kernels import support as K
    rng = np.random.default_rng(4)   # sparse (density 0.03): the tid-list counter's data
    rows = [sorted(set((rng.zipf(1.5, size=rng.integers(1, 14)) % 300).tolist()))
            for _ in range(2000)]
    reference = mine_itemsets(rows, 0.003, "apriori", comm=serial())
    streams, switched = [], []
    made, switch_to = K.StreamingCounter.__init__, intersect.IntersectingCounter._stream
    monkeypatch.setattr(K.StreamingCounter, "__init__",
                        lambda self, *a: streams.append(1) or made(self, *a))
    monkeypatch.setattr(intersect.IntersectingCounter, "_stream",
                        lambda self: switched.append(1) or switch_to(self))
    monkeypatch.setattr(cd, "FLOOR", 0)
    monkeypatch.setattr(cd, "LISTS", lists)
    monkeypatch.setattr(K, "CHUNK_BYTES", 8 * 153 * 2)   # chunks of 128 rows (153 items)
    got = mine_itemsets(rows, 0.003, "apriori", comm=world())
    assert len(reference) > 100 and same(got, reference)
    assert streams and bool(switched) == switch


@pytest.mark.mpi
@pytest.mark.parametrize("weight,try_prune", [(0, 0), (16, 1.0), (10**9, 0)])
def test_sparse_apriori_from_the_union_of_often_extensions(weight, try_prune, monkeypatch):
    """Tid-lists on several ranks: each rank's extensions counted >= ceil(minc / p) times,
    their union counted everywhere (occurrence deliver, mixed, intersection); equal to one
    rank at exact fractions of the rows (sets of exactly minc rows count) and with
    max_len."""
    from hpcrec.fim import count_distribution as cd
    from hpcrec.kernels import intersect
    monkeypatch.setattr(intersect, "WEIGHT", weight)
    monkeypatch.setattr(intersect, "TRY_PRUNE", try_prune)
    monkeypatch.setattr(intersect, "BITS_FROM", 0)   # tid-lists throughout
    used, union = [], cd._union_block
    monkeypatch.setattr(cd, "_union_block", lambda *a: used.append(union(*a)) or used[-1])
    rng = np.random.default_rng(11)
    rows = [sorted(set((rng.zipf(1.4, size=rng.integers(1, 16)) % 400).tolist()))
            for _ in range(1500)]
    for count in (2, 3, 7):
        for max_len in (None, 3):
            got = mine_itemsets(rows, count / 1500, "apriori", max_len, comm=world())
            reference = mine_itemsets(rows, count / 1500, "apriori", max_len, comm=serial())
            assert len(reference) > 500 and same(got, reference)
    assert world().size == 1 or any(u is not None for u in used)


@pytest.mark.mpi
@pytest.mark.parametrize("share", [0.0, None])
def test_sparse_apriori_lists_candidates_where_the_union_outgrows_the_joins(share, monkeypatch):
    """The ranks' often lists together past UNION_JOINS of a block's joins (here 0: any
    list) send every rank back to the block's candidates, on every rank alike; at the
    default these blocks take the union. The same result as one rank either way."""
    from hpcrec.fim import count_distribution as cd
    from hpcrec.kernels import intersect
    monkeypatch.setattr(intersect, "BITS_FROM", 0)
    if share is not None:
        monkeypatch.setattr(cd, "UNION_JOINS", share)
    used, union = [], cd._union_block
    monkeypatch.setattr(cd, "_union_block", lambda *a: used.append(union(*a)) or used[-1])
    rng = np.random.default_rng(13)
    rows = [sorted(set((rng.zipf(1.4, size=rng.integers(1, 16)) % 400).tolist()))
            for _ in range(1500)]
    got = mine_itemsets(rows, 3 / len(rows), "apriori", comm=world())
    assert same(got, mine_itemsets(rows, 3 / len(rows), "apriori", comm=serial()))
    if world().size > 1 and share == 0.0:   # (a block whose lists are all empty: a union)
        assert None in used and all(u is None or u[4] == 0 for u in used)
    elif world().size > 1:
        assert any(u is not None and u[4] > 0 for u in used)


@pytest.mark.mpi
def test_sparse_apriori_when_one_rank_drops_its_tidlists(monkeypatch):
    """Rank 0 streams its rows from its first union block on (its tid-lists over budget):
    every rank lists and counts the candidates instead, with the same result."""
    from hpcrec.kernels import intersect
    often, calls = intersect.IntersectingCounter.often, []

    def dropped(self, *a):
        calls.append(1)
        if world().rank == 0:
            self._stream()
            return None
        return often(self, *a)
    monkeypatch.setattr(intersect.IntersectingCounter, "often", dropped)
    monkeypatch.setattr(intersect, "BITS_FROM", 0)
    rng = np.random.default_rng(12)
    rows = [sorted(set((rng.zipf(1.4, size=rng.integers(1, 16)) % 400).tolist()))
            for _ in range(1500)]
    got = mine_itemsets(rows, 3 / len(rows), "apriori", comm=world())
    assert same(got, mine_itemsets(rows, 3 / len(rows), "apriori", comm=serial()))
    assert world().size == 1 or calls


@pytest.mark.mpi
def test_algorithms_agree_under_mpi():
    rows = random_rows(5)
    a = mine_itemsets(rows, 0.005, "apriori", comm=world())
    assert same(a, mine_itemsets(rows, 0.005, "fpgrowth", comm=world()))


@pytest.mark.mpi
def test_rank_slices_of_a_file(shared_data):
    path = shared_data / "fim" / "retail.dat"
    comm = world()
    part = load_transactions(path, comm)
    whole = load_transactions(path, serial())
    for algorithm in ("apriori", "fpgrowth", "fpmax"):
        assert same(mine_itemsets(part, 0.004, algorithm, comm=comm),
                    mine_itemsets(whole, 0.004, algorithm, comm=serial()))
    assert same(mine_itemsets(path, 0.004, "fpgrowth", comm=comm),
                mine_itemsets(whole, 0.004, "fpgrowth", comm=serial()))


@pytest.mark.mpi
def test_rules_under_mpi():
    rows = random_rows(9)
    from hpcrec.fim import apriori
    frequent = apriori(rows, 0.01, use_colnames=True, comm=serial())
    ours = association_rules(frequent, len(rows), metric="lift", min_threshold=1.0, comm=world())
    ref = association_rules(frequent, len(rows), metric="lift", min_threshold=1.0, comm=serial())
    pd.testing.assert_frame_equal(ours, ref)


def test_cli_output_identical_for_1_2_3_ranks(tmp_path, run_cli, mpirun, shared_data):
    src = shared_data / "fim" / "retail.dat"
    dense = tmp_path / "dense.h5"
    rc, _, err = run_cli("generate", "transactions", "--dense", "--rows", "2000", "--attributes",
                         "20", "--max-values", "4", "--clusters", "4", "--seed", "2", "-o", dense)
    assert rc == 0, err
    for data, support, algorithm, suffix in (
            (src, "0.003", "apriori", "csv"), (src, "0.003", "fpgrowth", "csv"),
            (src, "0.003", "fpmax", "csv"), (dense, "0.4", "fpmax", "h5"),
            (dense, "0.4", "fpclose", "h5")):   # HDF5: every rank writes its block
        files = []
        for n in (1, 2, 3):
            out = tmp_path / f"{algorithm}-{data.stem}-{n}.{suffix}"
            args = ("mine", data, "--min-support", support, "--algorithm", algorithm, "--quiet",
                    "-o", out)
            rc, _, err = run_cli(*args) if n == 1 else mpirun(n, *args)
            assert rc == 0, err
            files.append(out.read_bytes())
        assert files[0] == files[1] == files[2]
        assert len(read_itemsets(out)[0]) > 100
    rules = []
    for n in (1, 2, 3):
        out = tmp_path / f"rules-{n}.csv"
        args = ("rules", tmp_path / "apriori-retail-1.csv", "--metric", "confidence",
                "--min-threshold", "0.3", "-o", out)
        rc, _, err = run_cli(*args) if n == 1 else mpirun(n, *args)
        assert rc == 0, err
        rules.append(out.read_bytes())
    assert rules[0] == rules[1] == rules[2] and rules[0].count(b"\n") > 10
    assert (tmp_path / "apriori-retail-1.csv").read_bytes() == \
        (tmp_path / "fpgrowth-retail-1.csv").read_bytes()


@pytest.mark.mpi
@pytest.mark.parametrize("spread", [3, 60])
def test_reduce_frequent_equals_the_full_reduction(spread):
    """Reducing only the union of locally frequent positions (small counts: spread 3) or
    the whole vector (spread 60) finds exactly the positions of the full sum >= minc."""
    from hpcrec.core.timing import Timer
    from hpcrec.fim.count_distribution import _reduce_frequent
    comm = world()
    rng = np.random.default_rng(comm.rank)
    local = rng.integers(0, spread, 5000).astype(np.int32)
    local[:100] = rng.integers(0, 40, 100)  # around minc once summed over ranks
    full = local.copy()
    comm.allreduce(full)
    pos, counts, stop = _reduce_frequent(local, 30, comm.rank == comm.size - 1, comm, Timer(comm))
    assert np.array_equal(pos, np.flatnonzero(full >= 30)) and np.array_equal(counts, full[pos])
    assert len(pos) > 0 and stop


@pytest.mark.mpi
@pytest.mark.parametrize("algorithm", ["fpgrowth", "fpmax", "fpclose"])
def test_repeated_rows_distributed_equals_serial(algorithm):
    """Rows from a few baskets (merged into weighted rows on each rank), item 0 in all."""
    rng = np.random.default_rng(5)
    baskets = [sorted({0} | set(np.flatnonzero(rng.random(30) < 0.4).tolist())) for _ in range(10)]
    rows = [baskets[b] for b in rng.integers(0, 10, 600)]
    distributed = mine_itemsets(rows, 0.15, algorithm, comm=world())
    reference = mine_itemsets(rows, 0.15, algorithm, comm=serial())
    assert len(reference) > 20 and same(distributed, reference)


def brute_force(rows, minc, algorithm):
    """Every frequent (maximal, closed) itemset of ``rows`` by enumeration: {set: count}."""
    from itertools import combinations
    items = sorted({i for r in rows for i in r})
    found = {}
    for k in range(1, len(items) + 1):
        level = {c: sum(set(c) <= set(r) for r in rows) for c in combinations(items, k)}
        level = {c: n for c, n in level.items() if n >= minc}
        if not level:
            break
        found.update(level)
    def extended(s, same):
        return any(set(s) < set(t) and (not same or found[t] == found[s]) for t in found)
    if algorithm == "fpmax":
        return {s: n for s, n in found.items() if not extended(s, False)}
    if algorithm == "fpclose":
        return {s: n for s, n in found.items() if not extended(s, True)}
    return found


def as_dict(result, labels):
    return {tuple(sorted(labels[i] for i in result.items[result.ptr[x]:result.ptr[x + 1]])):
            int(result.counts[x]) for x in range(len(result.counts))}


EDGES = {   # partitioning edge cases: one item; more ranks than frequent items (a rank owns
    # nothing); an item in every row; fewer rows than ranks (a rank reads nothing)
    "one item": [[7]] * 5 + [[3]],
    "rank owns nothing": [[1, 2], [1, 2], [1], [2, 9], [1, 2, 5]],
    "item in every row": [[0, 1, 2], [0, 2], [0, 1], [0, 3], [0, 1, 3], [0, 2, 3]],
    "fewer rows than ranks": [[4, 5]],
}


@pytest.mark.mpi
@pytest.mark.parametrize("case", sorted(EDGES))
@pytest.mark.parametrize("algorithm", ["fpgrowth", "fpmax", "fpclose"])
@pytest.mark.parametrize("tiny_rounds", [False, True])
def test_partitioning_edge_cases(case, algorithm, tiny_rounds, monkeypatch):
    """Exact on inputs where the item deal degenerates, with the default rounds and with
    one item a round (every round boundary crossed)."""
    from hpcrec.fim import pfp
    if tiny_rounds:
        monkeypatch.setattr(pfp, "MIN_ROUND", 1)
        monkeypatch.setattr(pfp, "ROUND_SHARE", 1 << 40)
        monkeypatch.setattr(pfp, "ROUND_GROUPS", 0)
        monkeypatch.setattr(pfp, "SHARED_ROUNDS", 0)
    rows = EDGES[case]
    result = mine_itemsets(rows, 0.3, algorithm, comm=world())
    labels = [int(x) for x in result.labels]
    from hpcrec.fim.result import min_count
    assert as_dict(result, labels) == brute_force(rows, min_count(0.3, len(rows)), algorithm)


@pytest.mark.mpi
@pytest.mark.parametrize("algorithm", ["fpgrowth", "fpmax", "fpclose"])
def test_many_rounds_equal_one(algorithm, monkeypatch):
    """A round per item (the memory bound at its tightest) gives the serial result, with
    groups dealt on demand (these rows are dense) and, for FP-Growth, also by weight
    (sparse rows)."""
    from hpcrec.fim import pfp
    for rows, support in ((random_rows(11), 0.01),) + \
            (((random_rows(11, items=3000), 0.002),) if algorithm == "fpgrowth" else ()):
        reference = mine_itemsets(rows, support, algorithm, comm=serial())
        monkeypatch.setattr(pfp, "MIN_ROUND", 1)
        monkeypatch.setattr(pfp, "ROUND_SHARE", 1 << 40)
        monkeypatch.setattr(pfp, "ROUND_GROUPS", 0)
        monkeypatch.setattr(pfp, "SHARED_ROUNDS", 0)
        assert len(reference) > 20 and same(
            mine_itemsets(rows, support, algorithm, comm=world()), reference)


@pytest.mark.mpi
@pytest.mark.parametrize("algorithm, items, support", [
    ("fpgrowth", 60, 0.01), ("fpgrowth", 3000, 0.002), ("fpmax", 60, 0.01), ("fpclose", 60, 0.01)])
def test_a_stop_on_one_rank_ends_every_rank_after_the_round(algorithm, items, support,
                                                            monkeypatch):
    """Rank 0 asks to stop before mining (time limit 0); with one item a round every rank
    ends after the first round: a partial result, the same on every rank, with exact counts
    (groups dealt on demand: dense rows; FP-Growth by weight too: sparse rows)."""
    from hpcrec.core.context import RunContext
    from hpcrec.fim import pfp
    comm = world()
    rows = random_rows(13, items=items)
    full = mine_itemsets(rows, support, algorithm, comm=serial())
    truth = mine_itemsets(rows, support, "fpgrowth", comm=serial())
    monkeypatch.setattr(pfp, "MIN_ROUND", 1)
    monkeypatch.setattr(pfp, "ROUND_SHARE", 1 << 40)
    monkeypatch.setattr(pfp, "ROUND_GROUPS", 0)
    monkeypatch.setattr(pfp, "SHARED_ROUNDS", 0)
    context = RunContext.build(comm, time_limit=0.0 if comm.rank == 0 else None)
    part = mine_itemsets(rows, support, algorithm, context=context)
    labels = list(part.labels)
    got = as_dict(part, labels)
    assert part.partial and 0 < len(got) < len(full)
    exact = as_dict(truth, list(truth.labels))
    assert all(exact[s] == c for s, c in got.items())
    assert comm.allgather_obj(got) == [got] * comm.size


@pytest.mark.mpi
@pytest.mark.parametrize("block,bits_from", [(1 << 20, 0), (3, 0), (3, 10**9)])
def test_apriori_blocks_and_bitsets_distributed_equals_serial(block, bits_from, monkeypatch):
    """Levels in blocks of a few candidates (a reduce per block), tid-lists or bitsets; with
    the blocks the sparse level 2 (the union of the pairs often on some rank recounted
    everywhere), else the triangle."""
    from hpcrec.fim import count_distribution
    from hpcrec.kernels import intersect
    rows = random_rows(3)
    reference = mine_itemsets(rows, 0.01, "apriori", comm=serial())
    monkeypatch.setattr(count_distribution, "BLOCK", block)
    monkeypatch.setattr(count_distribution, "TRIANGLE", 0 if block < 10 else 1 << 20)
    monkeypatch.setattr(intersect, "BITS_FROM", bits_from)
    assert len(reference) > 20 and same(mine_itemsets(rows, 0.01, "apriori", comm=world()),
                                        reference)
    for case, edge in sorted(EDGES.items()):
        result = mine_itemsets(edge, 0.3, "apriori", comm=world())
        assert as_dict(result, [int(x) for x in result.labels]) == \
            brute_force(edge, min_count(0.3, len(edge)), "apriori"), case


@pytest.mark.mpi
def test_a_stop_on_one_rank_ends_apriori_on_every_rank_after_the_level(monkeypatch):
    """Rank 0 asks to stop (time limit 0): with blocks of one candidate (a reduce each)
    every rank ends after the same level: a partial result of whole levels, the same on
    every rank, with exact counts."""
    from hpcrec.core.context import RunContext
    from hpcrec.fim import count_distribution
    comm = world()
    rows = random_rows(13)
    full = mine_itemsets(rows, 0.01, "apriori", comm=serial())
    monkeypatch.setattr(count_distribution, "BLOCK", 1)
    context = RunContext.build(comm, time_limit=0.0 if comm.rank == 0 else None)
    part = mine_itemsets(rows, 0.01, "apriori", context=context)
    got = as_dict(part, list(part.labels))
    assert part.partial and 0 < len(got) < len(full)
    exact = as_dict(full, list(full.labels))
    assert all(exact[s] == c for s, c in got.items())
    assert comm.allgather_obj(got) == [got] * comm.size
    longest = max(map(len, got))
    assert {s: c for s, c in exact.items() if len(s) <= longest} == got


@pytest.mark.mpi
@pytest.mark.parametrize("split", ["even", "all-on-last", "one-empty", "all-empty"])
@pytest.mark.parametrize("result_on", ["all", "root", "blocks"])
@pytest.mark.parametrize("masked", [0, 40, 64, 80])
def test_sorted_shares_merged_equal_the_whole_sorted(split, result_on, masked):
    """ordered_records: the unsorted shares are dealt to one block of the order per rank
    and each block sorted, then gathered (on every rank or on rank 0 alone) or left in
    blocks; equal to one rank's sort of the whole (the blocks in rank order), for uneven
    shares, empty shares, one rank holding everything and nothing at all. Items of 21 bits
    (three a key word past the first two): a share of shorter sets has fewer key words,
    widened; or (``masked``) the records of the mask layout over 40 items, sorted as keys in
    buckets, over 64 items (counts of 10 bits) two mask words sorted as such keys, over 80
    items (counts of 31 bits) as two-word keys by length."""
    from helpers import shuffled_itemsets

    from hpcrec.fim.engine import ordered_records
    from hpcrec.fim.result import mask_form, records, sorted_records
    c = world()
    if split == "one-empty":
        needs_ranks(c)
    rng = np.random.default_rng(5)
    items = masked or 40
    flat, lengths, counts = shuffled_itemsets(rng, 0 if split == "all-empty" else 700, items)
    recode = (1 << 20) + rng.permutation(items).astype(np.int64)
    ptr = np.concatenate(([0], np.cumsum(lengths)))
    n, p = len(lengths), c.size
    cut = {"even": [n * r // p for r in range(p + 1)],
           "all-on-last": [0] * p + [n],
           "one-empty": [0, 0] + [n * r // p for r in range(2, p + 1)] if p > 2 else [0, 0, n],
           "all-empty": [0] * (p + 1)}[split]
    a, b = cut[c.rank], cut[c.rank + 1]
    # 40: 8 top bits a bucket; 64: two words, 11 top bits a bucket; 80: two-word keys
    form = mask_form(recode, 999 if masked == 64 else 1 << 30) if masked else None
    got = ordered_records(records(flat[ptr[a]:ptr[b]], lengths[a:b], counts[a:b], recode, items,
                                 form), c, result_on)
    if result_on == "root" and not c.is_root:
        assert got is None
        return
    want = sorted_records(records(flat, lengths, counts, recode, items, form))
    if masked:   # sorted keys in buckets: the blocks' keys follow one another
        if result_on == "blocks":
            parts = c.allgather_obj(got)
            if split != "all-empty":
                assert max(len(b.keys) for b in parts) <= 2 * n // p
            got = got._replace(keys=np.concatenate([b.keys for b in parts]),
                               start=sum(b.start for b in parts),
                               n_items=sum(b.n_items for b in parts))
        assert got.n_items == want.n_items and np.array_equal(got.start, want.start)
        assert np.array_equal(got.keys, want.keys)
        return
    if result_on == "blocks":
        blocks = c.allgather_obj((got.rec, got.n_items))
        assert sum(n for _, n in blocks) == want.n_items
        if split != "all-empty":   # the splitters balance the blocks whatever the shares
            assert max(len(b) for b, _ in blocks) <= 2 * n // p
        got = got._replace(rec=np.concatenate([b for b, _ in blocks]), n_items=want.n_items)
    assert got.layout == want.layout and got.n_items == want.n_items
    assert np.array_equal(got.rec, want.rec)


def _block(res, a: int, b: int):
    """Itemsets a..b-1 of ``res`` as a result of their own (one rank's block)."""
    from hpcrec.fim.result import Itemsets
    lo, hi = res.ptr[a], res.ptr[b]
    return Itemsets(res.items[lo:hi], res.ptr[a:b + 1] - lo, res.counts[a:b], res.n_transactions,
                    res.labels, res.partial, res.levels, res.info)


@pytest.mark.mpi
@pytest.mark.parametrize("split", ["even", "all-on-first", "all-on-last", "empty-middle", "none"])
def test_hdf5_blocks_written_by_every_rank_equal_the_serial_file(tmp_path, split):
    """write_itemsets(..., comm): each rank writes its block of the canonical order; the
    file is byte for byte the one a single rank writes, for empty blocks, one rank holding
    everything, and no itemsets at all (then no labels are used)."""
    from helpers import shared_tmp

    from hpcrec.io.results import read_itemsets, write_itemsets
    c = world()
    folder = shared_tmp(c, tmp_path)
    res = mine_itemsets(random_rows(21), 0.9 if split == "none" else 0.01, "fpgrowth", comm=serial())
    n, p = len(res), c.size
    cut = {"even": [n * r // p for r in range(p + 1)], "all-on-first": [0] + [n] * p,
           "all-on-last": [0] * p + [n], "none": [0] * (p + 1),
           "empty-middle": [0] + [n // 2] * (p - 1) + [n]}[split]
    assert (n == 0) == (split == "none")
    write_itemsets(folder / "blocks.h5", _block(res, cut[c.rank], cut[c.rank + 1]), c)
    if c.is_root:
        write_itemsets(folder / "one.h5", res)
        assert (folder / "blocks.h5").read_bytes() == (folder / "one.h5").read_bytes()
        sets, support, meta = read_itemsets(folder / "blocks.h5")
        labels = list(res.labels)
        assert sets == [tuple(str(labels[i]) for i in res.itemset(x)) for x in range(n)]
        assert np.array_equal(support, res.support) and meta["n_transactions"] == len(random_rows(21))
    c.barrier()


@pytest.mark.mpi
def test_failed_block_write_on_one_rank_leaves_no_file_and_no_hang(tmp_path, monkeypatch):
    """A full disk on the last rank, in the middle of the collective write (after rank 0
    wrote the metadata into the temporary file): every rank raises the one error, no file
    (neither the output nor a temporary one) is left, an older file stays as it was."""
    from helpers import shared_tmp

    from hpcrec.core.errors import HpcrecError
    from hpcrec.io import h5slices
    from hpcrec.io.results import write_itemsets
    c = world()
    folder = shared_tmp(c, tmp_path) / "out"
    if c.is_root:
        folder.mkdir()
        (folder / "i.h5").write_bytes(b"previous")
    c.barrier()
    res = mine_itemsets(random_rows(22), 0.01, "fpgrowth", comm=serial())
    if c.rank == c.size - 1:
        def full(fd, data, offset):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(h5slices, "_pwrite_all", full)
    n, p = len(res), c.size
    with pytest.raises(HpcrecError, match="No space left on device"):
        write_itemsets(folder / "i.h5", _block(res, n * c.rank // p, n * (c.rank + 1) // p), c)
    c.barrier()
    assert sorted(x.name for x in folder.iterdir()) == ["i.h5"]
    assert (folder / "i.h5").read_bytes() == b"previous"



OVERLAPS = {   # which groups a rank takes (every group by one rank at least)
    "every rank every group": lambda j, rank, size: True,
    "shares and evens": lambda j, rank, size: j % size == rank or j % 2 == 0,
}


@pytest.mark.mpi
@pytest.mark.parametrize("algorithm, dense", [("fpmax", False), ("fpmax", True), ("fpclose", False),
                                              ("fpclose", True), ("fpgrowth", False),
                                              ("fpgrowth", True)])
@pytest.mark.parametrize("overlap", sorted(OVERLAPS))
def test_groups_mined_twice_keep_one_copy(overlap, dense, algorithm, monkeypatch):
    """Groups dealt on demand (FP-Max, FP-Close; FP-Growth on dense data only: on sparse
    data its rounds are dealt by weight, so a rank holds only its groups' data) may be
    taken by two ranks at once: each such group's sets are kept from the lowest of them,
    and the result is the serial one (for any pattern of overlaps, so also for any timing
    of the ranks)."""
    from hpcrec.fim import deal, pfp
    from hpcrec.io import synthetic
    needs_ranks(world())
    rows = synthetic.dense_transactions(1201, 20, 4, 4, seed=8).to_lists() if dense \
        else random_rows(17, items=60 if algorithm != "fpgrowth" else 3000)
    support = 0.3 if dense else 0.01 if algorithm != "fpgrowth" else 0.002
    rule = OVERLAPS[overlap]
    calls = []

    def take(self, j):
        calls.append(j)
        mine = rule(j, self.comm.rank, self.comm.size)
        if mine:
            self.mine.append(self.hi - 1 - j)
        return mine

    monkeypatch.setattr(deal.Claims, "take", take)
    monkeypatch.setattr(pfp, "SHARED_ROUNDS", 1)   # several rounds
    reference = mine_itemsets(rows, support, algorithm, comm=serial())
    got = mine_itemsets(rows, support, algorithm, comm=world())
    assert bool(calls) == (algorithm != "fpgrowth" or dense), "dealt on demand or not"
    assert len(reference) > 20 and same(got, reference)


@pytest.mark.mpi
@pytest.mark.parametrize("filtered", [False, True])
def test_fpclose_pairs_met_with_or_without_the_bitmaps(filtered, monkeypatch):
    """FP-Close's sets meet on (key, count) with or without the bitmaps that first keep the
    pairs no other rank holds out of the meeting (pfp.PAIR_FILTER_RANKS): the serial result
    either way, on rows where sets are dropped for another rank's closure (item 63 + a + b
    joins every row holding items a and b; units dealt by turns, so the groups of the
    closures lie on other ranks), and the bitmaps keep sets out."""
    from hpcrec.fim import deal, pfp
    from hpcrec.kernels import superset as S
    rows = [r + [60 + a + b for a, b in ((1, 2), (1, 3), (2, 3)) if a in r and b in r]
            for r in random_rows(17)]
    met, roles = [], []

    def spy(real, out):
        def call(*args):
            got = real(*args)
            out.append((len(args[0]), got))
            return got
        return call

    def take(self, j):
        mine = j % self.comm.size == self.comm.rank
        if mine:
            self.mine.append(self.hi - 1 - j)
        return mine

    monkeypatch.setattr(S, "met_elsewhere", spy(S.met_elsewhere, met))
    monkeypatch.setattr(S, "closure_roles", spy(S.closure_roles, roles))
    monkeypatch.setattr(deal.Claims, "take", take)
    monkeypatch.setattr(pfp, "PAIR_FILTER_RANKS", world().size if filtered else 0)
    monkeypatch.setattr(pfp, "SHARED_ROUNDS", 1)   # several rounds
    reference = mine_itemsets(rows, 0.01, "fpclose", comm=serial())
    got = mine_itemsets(rows, 0.01, "fpclose", comm=world())
    n_sets = world().allreduce_scalar(sum(n for n, _ in met))   # on every rank
    n_met = world().allreduce_scalar(sum(len(x) for _, x in met))
    n_roles = world().allreduce_scalar(sum(int(np.count_nonzero(x)) for _, x in roles))
    assert len(reference) > 20 and same(got, reference)
    assert bool(met) == (filtered and world().size > 1)
    if world().size > 1:
        assert n_roles > 0
        assert n_met < n_sets if filtered else n_sets == 0


@pytest.mark.mpi
def test_the_callers_own_messages_are_not_taken_for_notices(monkeypatch):
    """FP-Close's claims travel on a duplicate of the communicator: messages of the caller's
    in flight on the job's communicator, with any tag, are neither read as claims (a unit
    believed taken would be mined by no rank) nor consumed."""
    from hpcrec.core.comm import Notices
    from hpcrec.fim import pfp
    comm = world()
    needs_ranks(comm)
    rows = random_rows(17)
    reference = mine_itemsets(rows, 0.01, "fpclose", comm=serial())
    monkeypatch.setattr(pfp, "SHARED_ROUNDS", 1)   # several rounds
    peer = (comm.rank + 1) % comm.size
    sends = [comm.mpi.isend(("mine", t), dest=peer, tag=t) for t in (Notices.TAG, 715)]
    got = mine_itemsets(rows, 0.01, "fpclose", comm=world())
    left = [comm.mpi.recv(source=(comm.rank - 1) % comm.size, tag=t) for t in (Notices.TAG, 715)]
    for s in sends:
        s.wait()
    assert left == [("mine", Notices.TAG), ("mine", 715)] and same(got, reference)
