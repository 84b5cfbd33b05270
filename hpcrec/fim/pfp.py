"""FP-Growth, FP-Max and FP-Close, PFP-style: the conditional transactions travel in rounds,
and every rank mines its items alone.

1. Global item counts by Allreduce give the frequency order (:mod:`hpcrec.fim.prepare`).
2. The size of every item's conditional database (its weight) is summed with a second
   Allreduce. The items are cut into rounds: consecutive ranges, rarest first, each of
   about ``ranks x per_rank`` weight, ``per_rank`` a fixed share of a rank's items, on
   several ranks at least a few groups' weight each (:func:`round_weight`); inside a
   round, items are dealt to ranks by a greedy balance of their weights (FP-Growth on
   sparse data; FP-Max and FP-Close on several ranks, and FP-Growth on dense data, deal
   them on demand instead, :data:`ON_DEMAND`, :mod:`hpcrec.fim.deal`: every rank then
   receives the round whole).
3. Per round, ONE Alltoallv sends each rank, from every transaction holding one of the
   round's items it owns, the prefix up to the last such item (:mod:`hpcrec.kernels.exchange`):
   exactly the conditional transactions of its items of the round. The send and receive
   buffers and the conditional databases built from them are bounded by the round, so a
   rank holds its own rows plus one round's data: memory per rank shrinks with the ranks
   (docs/fim.md, "Memory model"). A rank's rows lose the items already sent for good
   (``prep.rows`` is cut whenever that halves it before a further round): the rounds
   consume them.
4. Each rank mines the itemsets whose least frequent item it owns, groups (items) largest
   first (:func:`hpcrec.kernels.projected.mine_ranges`), with no further communication in
   a round; a stop request is honoured between batches of groups (:func:`plan_batches`)
   and agreed on between rounds (the result is then flagged partial: it holds the
   itemsets of the groups completed). Adjacent batches share one build of their
   conditional databases up to a weight (:func:`plan_builds`), from rows cut per build
   straight from the records received; one rank mines a round of one build from its
   rows where they lie (no copy: small data are one build a round).
5. FP-Growth's groups of the 16 most frequent items (mined last) take no conditional
   databases, whose rows would be nearly every transaction: their itemsets are subsets of
   those items, counted from one Allreduce'd histogram of the rows' masks
   (:mod:`hpcrec.kernels.lattice`); rank 0 reports them.
6. FP-Max / FP-Close: each rank's search stores only sets that no set of its own groups
   contains (for closed sets: with the same count); after one Allgatherv, those contained
   in a set of another rank are dropped, so the result is the same for every rank count.
   FP-Close names each transaction by its row in the conditional database (its tid-set
   keys): its records carry the transaction's global index and the rows keep it as their
   position in every round (with one rank too).
"""
from __future__ import annotations

import numpy as np

from .. import kernels
from ..core.comm import Comm
from ..core.errors import MemoryBudgetError
from ..core.memory import Guard, untouched_is_free
from ..kernels import exchange as E
from ..kernels import lattice
from ..kernels import projected as P
from ..kernels import superset as S
from ..kernels.csr import csr
from ..kernels.protocols import MineOptions
from .deal import Claims
from .prepare import Prepared
from .result import MaskForm, Records, records, without_ranges

CHUNK_ITEMS = 1 << 26  # at most this much conditional-database weight per rank and round
ROUND_SHARE = 4        # a round brings a rank about 1/ROUND_SHARE of its share of the items
MIN_ROUND = 1 << 20    # ... but at least this much weight (small data: few rounds)
ROUND_GROUPS = 8       # and on several ranks about this many groups a rank (their balance)
SHARED_ROUNDS = 4      # groups dealt on demand (ON_DEMAND): a shared round holds this many
                       # ranks' rounds (within CHUNK_ITEMS and the budget: every rank holds it)
CLAIM_UNITS = 64       # ... whose groups ranks claim in about this many units a rank
SPARSE_ROUND = 16      # one rank, sparse data (:func:`sparse_alone`): rounds of this many
                       # times MIN_ROUND, each one build
ON_DEMAND = {P.MAXIMAL, P.CLOSED}  # modes whose groups are dealt on demand (.deal); FP-Growth
                                   # too on dense data (Prepared.dense)
PAIR_FILTER_RANKS = 3  # FP-Close on up to this many ranks: every rank's bitmap of its sets'
PAIR_BITS = 8          # (key, count) pairs, this many bits a set, goes to every rank first
# what a set found takes of a rank's memory, through the result's conversion: FP-Growth's
# records; FP-Close's and FP-Max's stores hold its items, metadata and table slot (and
# FP-Max a link an item). Measured on longtail 0.001 (sets of 11-12 items), peak over the
# call's start: FP-Close 143 B a set, FP-Max 376 (benchmarks/README.md, session 22)
SET_BYTES = {P.FREQUENT: 64, P.CLOSED: 160, P.MAXIMAL: 400}


def assign_groups(weights: np.ndarray, size: int) -> np.ndarray:
    """Owner rank of each item: heaviest first to the least loaded rank (ties: lowest rank)."""
    owner = np.zeros(len(weights), np.int64)
    if size == 1:
        return owner
    load = np.zeros(size, np.int64)
    for j in np.lexsort((np.arange(len(weights)), -weights)):
        r = int(np.argmin(load))
        owner[j] = r
        load[r] += weights[j] + 1
    return owner


def sparse_alone(prep: Prepared, size: int) -> bool:
    """One rank over sparse data (more frequent items than FP-Max's masks hold,
    :data:`~hpcrec.kernels.projected.MASK_ITEMS`): its rounds are SPARSE_ROUND times
    larger, each one build. Every round's build passes over all the rank's rows (hashing
    each row's items below the round's top to merge equal rows), and sparse rows rarely
    repeat, so more rounds merge few more rows: on T10I4D100K, retail.dat and a long-tail
    set at their lowest supports, 6-10 rounds' builds took 36-45 ms of 200-400 (one: 10-16
    ms; benchmarks/README.md, "Fewer rounds on one rank over sparse data"). On dense data
    (few items) more rounds merge more rows, and they stay as they are."""
    return size == 1 and prep.m > P.MASK_ITEMS


def round_weight(prep: Prepared, weights: np.ndarray, size: int, guard: Guard) -> int:
    """Conditional-database weight a rank receives per round: a share of its items, on
    several ranks at least ROUND_GROUPS groups' mean weight (``weights``: those of the
    rounds' items), within [MIN_ROUND, CHUNK_ITEMS] (one rank over sparse data: from
    SPARSE_ROUND times MIN_ROUND, :func:`sparse_alone`) and the memory budget (4 bytes an
    item, 32 a row; the weight counts both). The ranks meet after every round, so a
    round's time is that of its slowest rank: a round of one group (dense data: every
    item's weight near the MIN_ROUND) kept all other ranks waiting, and the cost of a
    group, which its weight predicts badly on dense data (0.005 to 2.7 s at equal
    weights), only evens out over several groups a rank."""
    share = int(prep.counts.sum()) // size // ROUND_SHARE
    if size > 1 and len(weights):
        share = max(share, ROUND_GROUPS * int(weights.sum()) // len(weights))
    floor = MIN_ROUND * (SPARSE_ROUND if sparse_alone(prep, size) else 1)
    return max(1, min(CHUNK_ITEMS, guard.max_items(24), max(floor, share)))


def shared_weight(per_rank: int, size: int, guard: Guard) -> int:
    """Weight of a round that every rank receives whole (:mod:`hpcrec.fim.deal`): what
    SHARED_ROUNDS rounds of ``per_rank`` bring all ranks, within what one rank may hold."""
    return max(1, min(CHUNK_ITEMS, guard.max_items(24), SHARED_ROUNDS * size * per_rank))


def plan_rounds(weights: np.ndarray, size: int, per_rank: int) -> list[tuple[int, int]]:
    """Item ranges [lo, hi), rarest first, each of at most ``size * per_rank`` weight (an
    item heavier than that is a round of its own)."""
    rounds, hi, acc = [], len(weights), 0
    for j in range(len(weights) - 1, -1, -1):
        if acc and acc + weights[j] > size * per_rank:
            rounds.append((j + 1, hi))
            hi, acc = j + 1, 0
        acc += int(weights[j])
    if hi > 0:
        rounds.append((0, hi))
    return rounds


def _exchange(prep: Prepared, comm: Comm, ends, owner, lo: int, first_id: int, keyed: bool,
              timer) -> np.ndarray:
    """This rank's conditional transactions for the items [lo, hi), as the records received
    (``owner``: their ranks; ``ends``: where each row's items at or above hi begin, moved
    on to lo). One rank too takes the round's prefixes (no exchange): a batch of groups
    then scans the round's rows, not all rows."""
    with comm.collective_errors(), timer.phase("count"):
        send, counts = E.shard_prefixes(prep.rows.indptr, prep.rows.indices, ends, owner, lo,
                                        comm.size, first_id, keyed)
    if comm.size == 1:
        return send
    with timer.phase("communicate"):
        recv, _ = comm.alltoallv(send, counts)
    return recv


def claim_cuts(weights: np.ndarray, lo: int, size: int) -> np.ndarray:
    """Cuts lo = c_0 < ... < c_U = lo + len(weights) of a shared round's groups (``weights``
    in item order) into the units ranks claim (:mod:`hpcrec.fim.deal`): from the largest
    item down, a unit ends where the weight above it passes a multiple of 1/(CLAIM_UNITS *
    size) of the round's, so a heavy group stands about alone and light ones are claimed
    together. A claim costs a notice and a call of the miner: once per group, sparse data's
    thousands of light groups cost more than their mining (retail.dat, session 13)."""
    rev = weights[::-1].astype(np.int64)
    step = max(1, int(rev.sum()) // (CLAIM_UNITS * size))
    starts = np.flatnonzero(np.diff((np.cumsum(rev) - rev) // step)) + 1   # from the top
    hi = lo + len(weights)
    return np.concatenate(([lo], (hi - starts)[::-1], [hi]))


def _shared_round(prep: Prepared, comm: Comm, ends, lo: int, hi: int, weights: np.ndarray,
                  first_id: int, keyed: bool, timer, guard: Guard, control, mine):
    """One round of groups dealt on demand (:mod:`hpcrec.fim.deal`): every rank gets the
    round's conditional transactions of all ranks (one Allgatherv), builds the databases of
    all its groups once, and mines the units of groups (:func:`claim_cuts`) it takes,
    largest first; ``mine(part, owned, cuts)`` is the miner's generator over one build.
    Returns (the groups this rank mined whose copy is dropped, how many groups it mined,
    the store's records each of those wrote (FP-Growth), bytes received, stopped)."""
    with comm.collective_errors(), timer.phase("count"):
        send, _ = E.shard_prefixes(prep.rows.indptr, prep.rows.indices, ends,
                                   np.zeros(prep.m, np.int64), lo, 1, first_id, keyed)
    with timer.phase("communicate"):
        recv = comm.allgatherv(send)
    del send
    owned = np.zeros(prep.m, np.bool_)
    owned[lo:hi] = True   # every group's database is built; the search skips those not taken
    cuts = claim_cuts(weights[lo:hi], lo, comm.size)
    n_units = len(cuts) - 1
    claims, took, stopped = Claims(comm, 0, n_units), 0, False
    with comm.collective_errors(), timer.phase("mine"):
        (span, part), = _builds(recv, owned, cuts, np.array([0, n_units]), keyed, prep, guard)
        mined = mine(part, owned, np.append(span, hi))   # an empty batch first: the build
        top, wrote = next(mined), {}
        for u in range(n_units - 1, -1, -1):
            a, z = cuts[u], cuts[u + 1]
            owned[a:z] = claims.take(u)
            after = next(mined)
            wrote[u], top = (top, after), after   # the unit's records in the store
            took += int(z - a) if owned[a] else 0
            if u > 0 and control.stop_requested():
                stopped = True
                break
    received = recv.nbytes
    del recv, part, mined
    units = claims.close()
    drop = [np.arange(cuts[u], cuts[u + 1]) for u in units]
    return (np.concatenate(drop or [np.zeros(0, np.int64)]), [wrote[u] for u in units], took,
            received, stopped)


MODES = {"fpgrowth": P.FREQUENT, "fpmax": P.MAXIMAL, "fpclose": P.CLOSED}
ROUND_BATCHES = 8        # batches per round at least, between which a stop request is honoured
BATCH_WEIGHT = 1 << 21   # and more where a batch would exceed this owned weight (a build: at most)


def plan_batches(total: np.ndarray, lo: int, hi: int, keyed: bool = False) -> np.ndarray:
    """Cuts c_0 = lo < ... < c_B = hi of the round's items into batches of about equal
    owned weight (``total``: the owned weights' running sum), between which a stop
    request is honoured: ROUND_BATCHES, or as many more as keep a batch near
    BATCH_WEIGHT, so that :func:`plan_builds` can keep a build's rows and conditional
    databases in a core's share of the cache (larger builds mined slower per item;
    benchmarks/README.md, "Distributed FP-Growth at 100M"). Keyed rows (FP-Close) are not
    cut per build, every build scans them all: ROUND_BATCHES only."""
    nb = ROUND_BATCHES if keyed else \
        max(ROUND_BATCHES, -(-int(total[hi] - total[lo]) // BATCH_WEIGHT))
    aims = total[lo] + (total[hi] - total[lo]) * np.arange(1, nb) // nb
    cuts = np.searchsorted(total, aims, side="right")
    return np.unique(np.clip(np.concatenate(([lo], cuts, [hi])), lo, hi))


def plan_builds(total: np.ndarray, cuts: np.ndarray, keyed: bool = False,
                cap: int = 0) -> np.ndarray:
    """Which batches of :func:`plan_batches` (``cuts``) share one build of their conditional
    databases: positions in ``cuts`` of each build's bottom, and the top. Consecutive
    batches join while their owned weight stays within BATCH_WEIGHT, or ``cap`` where
    larger (one rank over sparse data: its round, :func:`sparse_alone`; keyed rows, which
    every build scans in full: or an eighth of the round, at most ROUND_BATCHES builds),
    so a small round is one build, one scan of its rows, however many batches stop
    requests wait on; a large one keeps builds near BATCH_WEIGHT (the cache, and the
    databases a build holds at once)."""
    cap = max(cap, BATCH_WEIGHT)
    if keyed:
        cap = max(cap, int(total[cuts[-1]] - total[cuts[0]]) // ROUND_BATCHES)
    at = [0]
    for b in range(1, len(cuts) - 1):
        if total[cuts[b + 1]] - total[cuts[at[-1]]] > cap:
            at.append(b)
    at.append(len(cuts) - 1)
    return np.array(at, np.int64)


def _builds(recv: np.ndarray, owned: np.ndarray, cuts: np.ndarray, at: np.ndarray, keyed: bool,
            prep: Prepared, guard: Guard):
    """(batch cuts, rows) of each build of the round (:func:`plan_builds`: ``at``), highest
    first, from the records received ``recv``. The rows are cut per build straight from
    the records (:func:`hpcrec.kernels.exchange.split_batches`), so a build scans its own
    conditional transactions only, not the whole round's; keyed rows (FP-Close) are
    parsed to their positions, and every build scans them all."""
    guard.check(3 * recv.nbytes, "the conditional transactions received by this rank")
    spans = [cuts[at[k]:at[k + 1] + 1] for k in range(len(at) - 2, -1, -1)]
    if keyed:
        rows = csr(*E.parse_records(recv, prep.n), None, prep.m)
        for span in spans:
            yield span, rows
        return
    bounds = cuts[at]
    batch = np.full(prep.m, -1, np.int64)
    for k in range(len(bounds) - 1):
        batch[bounds[k]:bounds[k + 1]] = np.where(owned[bounds[k]:bounds[k + 1]], k, -1)
    ptr, idx, first = E.split_batches(recv, batch, bounds[0], len(bounds) - 1)
    for k, span in zip(range(len(bounds) - 2, -1, -1), spans):
        a, z = first[k], first[k + 1]
        yield span, csr(ptr[a:z + 1] - ptr[a], idx[ptr[a]:ptr[z]], None, prep.m)


def _mine_local(prep: Prepared, comm: Comm, max_len, mode: int, guard: Guard, timer, control,
                form: MaskForm | None):
    """This rank's groups, round by round, largest item first, in batches between which a
    stop request (signal, time limit) is honoured. Returns (the sets, tid-set keys (FP-Max
    and FP-Close on several ranks, else None), stopped): FP-Growth's sets as
    :class:`~hpcrec.fim.result.Records` (its search writes them), the others' as (flat,
    lengths, counts, kept: None, or False for the sets of groups whose copy another rank
    keeps)."""
    with comm.collective_errors(), timer.phase("count"):
        weights = E.prefix_weights(prep.rows.indptr, prep.rows.indices, prep.m)
    if comm.size > 1:
        with timer.phase("communicate"):
            comm.allreduce(weights)
    k = min(lattice.BITS, prep.m) if mode == P.FREQUENT else 0   # groups 0..k-1: lattice
    per_rank = round_weight(prep, weights[k:], comm.size, guard)
    shared = comm.size > 1 and (mode in ON_DEMAND or prep.dense)
    rounds = plan_rounds(weights[k:], 1, shared_weight(per_rank, comm.size, guard)) if shared \
        else plan_rounds(weights[k:], comm.size, per_rank)
    rounds = [(lo + k, hi + k) for lo, hi in rounds]
    keyed = mode == P.CLOSED   # tid-set keys: a transaction keeps its row in every round
    first_id = int(comm.allgather_counts(prep.rows.n_rows)[:comm.rank].sum())
    limit = guard.max_items(SET_BYTES[mode])
    miner = kernels.get("projected", "cpu")   # no GPU miner: the engine mines on the CPU
    # FP-Growth's records: lengths up to m (every rank alike: their records are merged),
    # or in the mask layout of ``form``
    store = miner.empty_store(prep.m, prep.order) if form is None else \
        miner.empty_store(prep.m, form.bit, form.width)
    options = MineOptions(prep.m, prep.minc, max_len or 0, limit, mode, untouched_is_free())

    def searched(part, owned, cuts):
        """The miner over one build's batches (``cuts``), highest first: one step a batch,
        yielding the sets stored so far."""
        nonlocal store
        for status, grown in miner.mine_ranges(part, owned, cuts, options, store):
            store = grown
            if status != P.OK:
                raise MemoryBudgetError(f"more than {limit} itemsets on one rank at "
                                        f"min_support {prep.minc}/{prep.n}: {guard.hint}")
            yield int(store.tops[0])

    owner = np.zeros(prep.m, np.int64)
    dropped = np.zeros(prep.m, np.bool_)   # groups mined here whose copy another rank keeps
    copies = []   # ... FP-Growth: the ranges of the store's records they wrote
    ends = np.diff(prep.rows.indptr).astype(np.int32)  # rounds move them down the rows
    stopped, halted, received, n_owned, n_rounds = False, False, 0, 0, 0
    work = sum(int(weights[lo:hi].sum()) for lo, hi in rounds)
    with control.work("mining (conditional items)", work, "items") as bar:
        for lo, hi in rounds:
            n_rounds += 1
            if shared:
                drop, wrote, took, got, stopped = _shared_round(prep, comm, ends, lo, hi, weights,
                                                                first_id, keyed, timer, guard,
                                                                control, searched)
                dropped[drop] = True
                copies += wrote
                received += got
                n_owned += took - len(drop)
                bar.update(int(weights[lo:hi].sum()))
            else:
                owner[lo:hi] = assign_groups(weights[lo:hi], comm.size)
                owned = np.zeros(prep.m, np.bool_)
                owned[lo:hi] = owner[lo:hi] == comm.rank
                n_owned += int(np.count_nonzero(owned))
                total = np.concatenate(([0], np.cumsum(weights * owned)))
                cuts = plan_batches(total, lo, hi, keyed)
                at = plan_builds(total, cuts, keyed,
                                 per_rank if sparse_alone(prep, comm.size) else 0)
                if comm.size == 1 and len(at) == 2:
                    # one rank, one build: the rows hold the round's conditional transactions
                    # (keyed: at their positions) where they lie; none copied, split or parsed
                    with timer.phase("count"):
                        E.skip_round(prep.rows.indptr, prep.rows.indices, ends, lo)
                    builds = iter([(cuts, prep.rows)])
                else:
                    recv = _exchange(prep, comm, ends, owner, lo, first_id, keyed, timer)
                    received += recv.nbytes
                    builds = _builds(recv, owned, cuts, at, keyed, prep, guard)
                    del recv
                with comm.collective_errors(), timer.phase("mine"):
                    for span, part in builds:
                        steps = searched(part, owned, span)
                        for bottom, top in zip(span[-2::-1], span[:0:-1]):   # highest first
                            next(steps)
                            bar.update(int(total[top] - total[bottom]))
                            if bottom > lo and control.stop_requested():
                                stopped = True
                                break
                        if stopped:
                            break
                if not stopped:   # the rest of the round: the other ranks' share of it
                    bar.update(int(weights[lo:hi].sum() - (total[hi] - total[lo])))
                del builds, part, steps
            if n_rounds < len(rounds) and int(ends.sum()) <= len(prep.rows.indices) // 2:
                # later rounds need only the rows' heads
                prep.rows = csr(*E.cut_rows(prep.rows.indptr, prep.rows.indices, ends), None, prep.m)
            if n_rounds < len(rounds):   # every rank goes on to the next round, or none
                stopped = stopped or control.stop_requested()
                halted = bool(comm.allreduce_scalar(int(stopped), "max")) if comm.size > 1 else stopped
                if halted:
                    break
    control.note("mined %d of %d rounds here: %d items owned, %.0f MB of conditional "
                 "transactions received", n_rounds, len(rounds), n_owned, received / 1e6)
    if k and not halted:
        store, stopped = _lattice_groups(prep, comm, k, max_len, miner, store, stopped, timer,
                                         control)
    n, n_items = int(store.tops[0]), int(store.tops[1])
    if mode == P.FREQUENT:
        recs = Records(store.records[:n], miner.record_layout(store), n_items, form)
        return without_ranges(recs, copies), None, stopped
    meta = store.meta[:n]
    # the tid-set keys only for the cross-rank filter of FP-Max / FP-Close (not a copy of
    # every set's key for one rank)
    keys = meta["key"].copy() if comm.size > 1 else None
    flat, lengths, counts = store.items[:n_items], meta["len"].copy(), meta["count"].copy()
    # a set's group is its largest item, its last; its items stay in flat (filtered once,
    # as records, by mine())
    kept = ~dropped[flat[np.cumsum(lengths) - 1]] if dropped.any() else None
    return (flat, lengths, counts, kept), keys, stopped


def _lattice_groups(prep: Prepared, comm: Comm, k: int, max_len, miner, store, stopped: bool,
                    timer, control):
    """FP-Growth's groups 0..k-1 (the most frequent items, mined last): one Allreduce of the
    row-mask histogram (:mod:`hpcrec.kernels.lattice`), whose last slot carries the stop
    requests; rank 0 adds the sets to the miner's store. Returns (the store, stopped)."""
    stopped = stopped or control.stop_requested()
    with comm.collective_errors(), timer.phase("count"):
        vec = np.append(lattice.mask_histogram(prep.rows.indptr, prep.rows.indices, k),
                        int(stopped))
    with timer.phase("communicate"):
        comm.allreduce(vec)
    if vec[-1] or comm.rank:
        return store, stopped
    with timer.phase("mine"):
        store = miner.add_sets(store, *lattice.frequent_subsets(vec[:-1], k, prep.minc,
                                                                max_len or 0))
    return store, stopped


def _others(every, sizes, rank: int):
    """The gathered sets (flat, lengths, counts, keys; ``sizes``: sets per rank) without
    this rank's own."""
    flat, lengths, counts, keys = every
    a, b = int(sizes[:rank].sum()), int(sizes[:rank + 1].sum())
    ia, ib = int(lengths[:a].sum()), int(lengths[:b].sum())
    return (np.concatenate((flat[:ia], flat[ib:])), np.concatenate((lengths[:a], lengths[b:])),
            np.concatenate((counts[:a], counts[b:])), np.concatenate((keys[:a], keys[b:])))


def _closure_roles(keys, counts, lengths, m: int, comm: Comm, timer) -> np.ndarray:
    """FP-Close's sets meet on (key, count) first: each pair at one rank (8 bytes a set,
    the pair's hash and the set's length, grouped in one linear pass,
    :func:`~hpcrec.kernels.superset.by_owner`), which finds the sets that another rank
    has a longer (bit 0) or shorter (bit 1) set with that pair for
    (:func:`~hpcrec.kernels.superset.closure_roles`) and sends back only those (their
    position and bits: few). Only those sets need the gather and the containment test,
    instead of every set to every rank. On up to PAIR_FILTER_RANKS ranks only the sets
    whose pair may be another rank's (:func:`_met_elsewhere`) take part."""
    role = np.zeros(len(keys), np.int8)
    cand = _met_elsewhere(keys, counts, comm, timer) if comm.size <= PAIR_FILTER_RANKS \
        else slice(None)
    keys, counts, lengths = keys[cand], counts[cand], lengths[cand]
    len_bits = int(m).bit_length()   # a set's length is at most m
    send, per, which = S.by_owner(keys, counts, lengths, comm.size, len_bits)
    with timer.phase("communicate"):
        got, n_got = comm.alltoallv(send, per)
    del send
    with comm.collective_errors(), timer.phase("mine"):
        bounds = np.concatenate(([0], np.cumsum(n_got)))
        flags = S.closure_roles(got, bounds, len_bits)
        at = np.flatnonzero(flags)
        src = np.searchsorted(bounds, at, side="right") - 1
        reply = ((at - bounds[src]) << 2) | flags[at]
    with timer.phase("communicate"):
        back, n_back = comm.alltoallv(reply, np.bincount(src, minlength=comm.size))
    met = np.zeros(len(keys), np.int8)
    met[which[(back >> 2) + np.repeat(np.cumsum(per) - per, n_back)]] = back & 3
    role[cand] = met
    return role


def _met_elsewhere(keys, counts, comm: Comm, timer) -> np.ndarray:
    """Positions of this rank's sets whose (key, count) pair another rank may hold: one
    Allgatherv of every rank's bitmap of its pairs (PAIR_BITS to 2 x PAIR_BITS bits a set
    of the rank with the most; :func:`~hpcrec.kernels.superset.met_elsewhere`). On dense
    data nearly every pair is one rank's alone (dm 0.05 on 2 ranks: no set of 7 M a rank
    had a role, benchmarks/README.md, session 15), and the bitmaps cost two passes and
    1-2 bytes a set from each other rank, against the pair exchange's 8 bytes a set, its
    grouping and its hash table, which then take only the sets found here."""
    n_bits = 64
    while n_bits < PAIR_BITS * int(comm.allreduce_scalar(len(keys), "max")):
        n_bits *= 2
    with comm.collective_errors(), timer.phase("mine"):
        own = S.pair_bits(keys, counts, n_bits)
    with timer.phase("communicate"):
        every = comm.allgatherv(own).reshape(comm.size, -1)
    del own
    with comm.collective_errors(), timer.phase("mine"):
        return S.met_elsewhere(keys, counts, every, comm.rank)


def _extended(flat, lengths, counts, keys, others, m: int, closed: bool) -> np.ndarray:
    """Which of this rank's sets a set of another rank extends (:mod:`hpcrec.kernels.superset`):
    FP-Max any proper superset, FP-Close one with the same count."""
    ptr = np.concatenate(([0], np.cumsum(lengths)))
    o_flat, o_lengths, o_counts, o_keys = others
    o_ptr = np.concatenate(([0], np.cumsum(o_lengths)))
    if closed:
        return S.same_closure(flat, ptr, counts, keys, o_flat, o_ptr, o_counts, o_keys)
    return S.extended(flat, ptr, o_flat, o_ptr, m)


def mine(prep: Prepared, max_len: int | None, comm: Comm, algorithm: str, control, timer,
         guard: Guard, form: MaskForm | None = None):
    """This rank's share of the result: (:class:`~hpcrec.fim.result.Records`, partial),
    the records of one layout on every rank but their number of key words (the length
    field holds up to m items), or of the mask layout of ``form`` on every rank.

    FP-Max and FP-Close mine every length (maximal / closed among all frequent itemsets,
    then those up to max_len, as mlxtend's fpmax); a set found on one rank that a set of
    another rank's groups extends (contains, for FP-Close with the same count) is dropped
    after one Allgatherv (FP-Close: of the sets whose (key, count) another rank shares,
    :func:`_closure_roles`), so the result does not depend on the number of ranks.
    """
    mode = MODES[algorithm]
    sets, keys, stopped = _mine_local(
        prep, comm, max_len if mode == P.FREQUENT else None, mode, guard, timer, control, form)
    partial = bool(comm.allreduce_scalar(int(stopped), "max")) if comm.size > 1 else stopped
    if mode == P.FREQUENT:
        control.note("mined %d itemsets here", len(sets.rec))
        return sets, partial
    flat, lengths, counts, keep = sets
    keep = np.ones(len(counts), np.bool_) if keep is None else keep
    control.note("mined %d itemsets here", int(np.count_nonzero(keep)))
    if comm.size > 1:
        keep &= _cross_rank_kept(flat, lengths, counts, keys, keep, mode == P.CLOSED, comm,
                                 prep.m, guard, timer)
    if max_len is not None:
        keep &= lengths <= max_len
    with comm.collective_errors(), timer.phase("mine"):
        recs = records(flat, lengths, counts, prep.order, prep.m, form)
        if not keep.all():   # whole records dropped: no pass over the items
            recs = recs._replace(rec=recs.rec[keep], n_items=int(lengths[keep].sum()))
        return recs, partial


def _items_of(flat, ptr, sel):
    """The items of the sets ``sel`` (positions, ascending) of (flat, ptr), back to back."""
    lengths = ptr[sel + 1] - ptr[sel]
    ends = np.cumsum(lengths)
    return flat[np.repeat(ptr[sel] - ends + lengths, lengths) + np.arange(ends[-1] if len(ends) else 0)]


def _cross_rank_kept(flat, lengths, counts, keys, live, closed: bool, comm: Comm, m: int,
                     guard: Guard, timer) -> np.ndarray:
    """Per set, False where a set of another rank extends it (a proper superset; FP-Close:
    with the same count). Only the ``live`` sets take part (not the copies of groups
    another rank keeps); FP-Close's are first met on (key, count) (:func:`_closure_roles`)
    and only those whose pair another rank shares are gathered and tested."""
    live_at = np.flatnonzero(live)
    if len(live_at) == len(counts):   # no group dealt twice: views of the arrays, no copies
        live_at = slice(None)
    if closed:
        role = np.zeros(len(counts), np.int8)
        role[live_at] = _closure_roles(keys[live_at], counts[live_at], lengths[live_at], m,
                                       comm, timer)
        test = np.flatnonzero(role)
    else:   # FP-Max: every set is tested and offered
        test = live_at
    sub = (flat if isinstance(test, slice) or len(test) == len(counts) else
           _items_of(flat, np.concatenate(([0], np.cumsum(lengths))), test),
           lengths[test], counts[test], keys[test])
    with timer.phase("communicate"):
        sizes = comm.allgather_counts(len(sub[1]))
        every = tuple(comm.allgatherv(np.ascontiguousarray(a)) for a in sub)
    with comm.collective_errors(), timer.phase("mine"):
        # the others' sets again; FP-Max's holder lists (16 bytes an item) and one tree
        # at a time (37 bytes a node, at most one an item)
        guard.check(3 * sum(a.nbytes for a in every) + 53 * len(every[0]),
                    "the cross-rank superset filter")
        keep = np.ones(len(counts), np.bool_)
        keep[test] = ~_extended(*sub, _others(every, sizes, comm.rank), m, closed)
    return keep
