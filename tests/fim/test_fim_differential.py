"""hpcrec.fim against independent oracles: mlxtend, pyfim (Borgelt's C code), brute force."""
from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.fim import apriori, association_rules, engine, fpclose, fpgrowth, fpmax, mine_itemsets
from hpcrec.fim.result import min_count
from hpcrec.io import load_transactions, synthetic
from hpcrec.kernels import projected as P

mlx = pytest.importorskip("mlxtend.frequent_patterns")
fim = pytest.importorskip("fim")

OURS = {"apriori": apriori, "fpgrowth": fpgrowth, "fpmax": fpmax, "fpclose": fpclose}
THEIRS = {"apriori": mlx.apriori, "fpgrowth": mlx.fpgrowth, "fpmax": mlx.fpmax}


def random_onehot(seed: int, rows: int, cols: int, density: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.clip(rng.gamma(2.0, density / 2.0, size=cols), 0.0, 0.95)
    return pd.DataFrame(rng.random((rows, cols)) < p, columns=[f"c{j}" for j in range(cols)])


def as_dict(frame):
    return dict(zip((frozenset(s) for s in frame["itemsets"]), frame["support"]))


@pytest.mark.parametrize("seed,rows,cols,density,min_support", [
    (0, 120, 10, 0.3, 0.05), (1, 300, 16, 0.15, 0.02), (2, 60, 8, 0.6, 0.2), (3, 500, 25, 0.1, 0.01),
])
@pytest.mark.parametrize("algo", ["apriori", "fpgrowth", "fpmax"])
def test_against_mlxtend(algo, seed, rows, cols, density, min_support):
    df = random_onehot(seed, rows, cols, density)
    for use_colnames in (False, True):
        ours = OURS[algo](df, min_support=min_support, use_colnames=use_colnames, comm=serial())
        theirs = THEIRS[algo](df, min_support=min_support, use_colnames=use_colnames)
        assert as_dict(ours) == as_dict(theirs)  # supports equal bit for bit
        assert list(ours.columns) == ["support", "itemsets"]


@pytest.mark.parametrize("algo", ["apriori", "fpgrowth", "fpmax"])
def test_max_len_against_mlxtend(algo):
    df = random_onehot(7, 200, 12, 0.4)
    for max_len in (1, 2, 3):
        ours = as_dict(OURS[algo](df, min_support=0.05, max_len=max_len, comm=serial()))
        theirs = as_dict(THEIRS[algo](df, min_support=0.05, max_len=max_len))
        assert ours == theirs


def test_sparse_and_list_inputs_agree():
    df = random_onehot(4, 200, 15, 0.2)
    sparse = df.astype(pd.SparseDtype(bool, False))
    lists = [[c for c in df.columns if row[c]] for _, row in df.iterrows()]
    dense = as_dict(fpgrowth(df, 0.03, use_colnames=True, comm=serial()))
    assert as_dict(fpgrowth(sparse, 0.03, use_colnames=True, comm=serial())) == dense
    assert as_dict(apriori(lists, 0.03, use_colnames=True, comm=serial())) == dense
    assert as_dict(mlx.fpgrowth(sparse, 0.03, use_colnames=True)) == dense


def test_output_order_is_mlxtend_apriori_order():
    df = random_onehot(5, 150, 10, 0.4)
    ours = apriori(df, 0.1, comm=serial())
    theirs = mlx.apriori(df, 0.1)
    assert list(ours["itemsets"]) == list(theirs["itemsets"])
    assert np.array_equal(ours["support"].to_numpy(), theirs["support"].to_numpy())


@pytest.mark.parametrize("metric,threshold", [("confidence", 0.3), ("lift", 1.1), ("leverage", 0.0),
                                              ("conviction", 1.0), ("zhangs_metric", 0.0),
                                              ("jaccard", 0.1), ("certainty", 0.0),
                                              ("kulczynski", 0.3), ("support", 0.05)])
def test_rules_against_mlxtend(metric, threshold):
    df = random_onehot(6, 250, 12, 0.35)
    frequent = mlx.apriori(df, 0.04, use_colnames=True)
    ours = association_rules(frequent, len(df), metric=metric, min_threshold=threshold, comm=serial())
    theirs = mlx.association_rules(frequent, len(df), metric=metric, min_threshold=threshold)
    assert list(ours.columns) == list(theirs.columns)
    def key(f):
        return {(r[0], r[1]): np.array(r[2:], float) for r in f.itertuples(index=False)}
    a, b = key(ours), key(theirs)
    assert a.keys() == b.keys() and len(a) > 0
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-12)


def test_rules_support_only_and_missing_parents():
    df = random_onehot(8, 100, 8, 0.5)
    maximal = mlx.fpmax(df, 0.1)
    with pytest.raises(KeyError, match="support_only=True"):
        association_rules(maximal, len(df), comm=serial())
    ours = association_rules(maximal, len(df), support_only=True, min_threshold=0.1, comm=serial())
    theirs = mlx.association_rules(maximal, len(df), support_only=True, min_threshold=0.1)
    assert set(zip(ours.antecedents, ours.consequents)) == set(zip(theirs.antecedents, theirs.consequents))
    assert ours["confidence"].isna().all()


def pyfim_sets(rows, count: int, target: str) -> dict:
    return {frozenset(s): c for s, c in fim.fpgrowth(rows, target=target, supp=-count, zmin=1)}


@pytest.mark.parametrize("algo", ["apriori", "fpgrowth", "fpmax", "fpclose"])
@pytest.mark.parametrize("seed", [11, 12])
def test_against_pyfim_random(algo, seed):
    rng = np.random.default_rng(seed)
    n = 2000
    rows = [sorted(set(rng.zipf(1.6, size=rng.integers(1, 15)) % 300)) for _ in range(n)]
    count = 6
    res = mine_itemsets(rows, (count - 0.5) / n, algo, comm=serial())
    labels = np.asarray(res.labels)
    ours = {frozenset(labels[res.itemset(x)].tolist()): int(res.counts[x]) for x in range(len(res))}
    assert ours == pyfim_sets(rows, count, {"fpmax": "m", "fpclose": "c"}.get(algo, "s"))


@pytest.mark.parametrize("name,min_support", [("retail.dat", 0.002), ("T10I4D100K.dat", 0.004)])
def test_against_pyfim_shared_data(shared_data, name, min_support):
    tx = load_transactions(shared_data / "fim" / name, serial())
    rows = tx.to_lists()
    count = math.ceil(min_support * tx.n_rows)
    assert count / tx.n_rows >= min_support > (count - 1) / tx.n_rows  # no float boundary here
    expected = pyfim_sets(rows, count, "s")
    results = {}
    for algo in ("apriori", "fpgrowth"):
        res = mine_itemsets(tx, min_support, algo, comm=serial())
        labels = np.asarray(res.labels)
        results[algo] = {frozenset(labels[res.itemset(x)].tolist()): int(res.counts[x])
                         for x in range(len(res))}
        assert results[algo] == expected
    for algo, target in (("fpmax", "m"), ("fpclose", "c")):
        assert as_counts(mine_itemsets(tx, min_support, algo, comm=serial())) == \
            pyfim_sets(rows, count, target)


def brute_force(rows: list[set], n_items: int, count: int, max_len):
    out = {}
    for k in range(1, (max_len or n_items) + 1):
        for combo in itertools.combinations(range(n_items), k):
            c = sum(1 for r in rows if r.issuperset(combo))
            if c >= count:
                out[frozenset(combo)] = c
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(st.integers(0, 6), max_size=7), min_size=1, max_size=25),
       st.integers(1, 6), st.sampled_from([None, 1, 2, 3]))
def test_brute_force(rows, count, max_len):
    n = len(rows)
    min_support = min(1.0, (count - 0.5) / n)
    need = min_count(min_support, n)
    truth = brute_force(rows, 7, need, max_len)
    lists = [sorted(r) for r in rows]
    for algo in ("apriori", "fpgrowth"):
        res = mine_itemsets(lists, min_support, algo, max_len, comm=serial())
        labels = np.asarray(res.labels)
        got = {frozenset(labels[res.itemset(x)].tolist()): int(res.counts[x]) for x in range(len(res))}
        assert got == truth and len(got) == len(res)
    every = brute_force(rows, 7, need, None)
    maximal = {s for s in every if not any(s < t for t in every)}
    closed = {s for s in every if not any(s < t and every[s] == every[t] for t in every)}
    for algo, want in (("fpmax", maximal), ("fpclose", closed)):
        res = mine_itemsets(lists, min_support, algo, max_len, comm=serial())
        got = as_counts(res)
        assert got == {s: every[s] for s in want if max_len is None or len(s) <= max_len}
        assert len(got) == len(res)  # no duplicates


def as_counts(res) -> dict:
    labels = np.asarray(res.labels)
    return {frozenset(labels[res.itemset(x)].tolist()): int(res.counts[x]) for x in range(len(res))}


def dense_rows(seed: int, n: int, attributes: int, max_values: int) -> list[list[int]]:
    """One-hot correlated categorical records (the dense generator), as item lists."""
    return synthetic.dense_transactions(n, attributes, max_values, 4, seed=seed).to_lists()


def pyfim_all(rows, count: int, target: str) -> dict:
    """pyfim's sets, plus those in every transaction, which pyfim leaves out (they are
    frequent; their union is closed, and maximal when nothing else is frequent)."""
    got = pyfim_sets(rows, count, target)
    full = sorted(set.intersection(*map(set, rows)))
    if target == "s":
        got.update({frozenset(c): len(rows) for k in range(1, len(full) + 1)
                    for c in itertools.combinations(full, k)})
    elif full and (target == "c" or not got):
        got[frozenset(full)] = len(rows)
    return got


@pytest.mark.parametrize("seed,n,attributes,max_values,min_support", [
    (1, 5, 6, 3, 3 / 5), (2, 10, 8, 3, 3 / 5), (3, 10, 8, 4, 0.3), (4, 400, 20, 3, 0.4),
    (5, 1500, 25, 3, 0.7), (6, 800, 12, 6, 0.1),
    (1, 300, 12, 6, 0.05),  # perfect extensions above a node's item (FP-Max's cut lists)
])
@pytest.mark.parametrize("algo,target", [("apriori", "s"), ("fpgrowth", "s"), ("fpmax", "m"),
                                         ("fpclose", "c")])
def test_dense_against_pyfim(algo, target, seed, n, attributes, max_values, min_support):
    """Dense one-hot records (every row as long as the attribute count), supports at exact
    fractions (3/5 of 5 or 10 rows) and down to 10,000-15,000 itemsets."""
    rows = dense_rows(seed, n, attributes, max_values)
    res = mine_itemsets(rows, min_support, algo, comm=serial())
    assert as_counts(res) == pyfim_all(rows, min_count(min_support, n), target)


@pytest.mark.parametrize("seed", [21, 22])
def test_dense_against_mlxtend(seed):
    rows = dense_rows(seed, 300, 10, 3)  # about 600 frequent itemsets
    df = pd.DataFrame([[i in set(r) for i in range(max(map(max, rows)) + 1)] for r in rows])
    for algo in ("apriori", "fpgrowth", "fpmax"):
        assert as_dict(OURS[algo](df, 0.3, comm=serial())) == as_dict(THEIRS[algo](df, 0.3))
    closed = fpclose(df, 0.3, comm=serial())
    every = as_dict(mlx.fpgrowth(df, 0.3))
    assert as_dict(closed) == {s: v for s, v in every.items()
                               if not any(s < t and v == w for t, w in every.items())}
    assert list(closed.columns) == ["support", "itemsets"]


@pytest.mark.parametrize("algo", ["fpgrowth", "fpmax", "fpclose"])
def test_stop_request_gives_the_groups_done(algo):
    """A stop requested before mining (time limit 0) ends after the first batch of groups:
    flagged partial, fewer sets, each with its exact count (and, for fpgrowth, every set of
    the groups done: those whose rarest item is among the rarest items)."""
    rows = dense_rows(7, 3000, 30, 3)
    full = mine_itemsets(rows, 0.8, algo, comm=serial())
    part = mine_itemsets(rows, 0.8, algo, comm=serial(), context=RunContext.build(serial(), time_limit=0.0))
    assert part.partial and not full.partial and part.levels == 0
    got, every = as_counts(part), as_counts(full)
    assert 0 < len(got) < len(every)
    truth = as_counts(mine_itemsets(rows, 0.8, "fpgrowth", comm=serial()))
    assert all(truth[s] == c for s, c in got.items())
    if algo == "fpgrowth":
        support = Counter(i for r in rows for i in r)  # recoded order: support, then label
        rank = {i: r for r, i in enumerate(sorted(support, key=lambda i: (-support[i], i)))}
        rarest = min(max(rank[i] for i in s) for s in got)
        assert got == {s: c for s, c in every.items() if max(rank[i] for i in s) >= rarest}


@pytest.mark.parametrize("algo,target", [("fpgrowth", "s"), ("fpmax", "m"), ("fpclose", "c")])
@pytest.mark.parametrize("batch_weight,min_round", [(1, None), (1, 1), (2600, 5000)])
def test_one_rank_builds_sent_or_in_place(algo, target, batch_weight, min_round, monkeypatch):
    """One rank mines a round of one build from its rows where they lie, a round of
    several builds from its prefixes cut per build (as several ranks do): builds of one
    batch each (every round sent), one item a round (every round in place), and rounds of
    either kind in one run; exact each time (pyfim's sets)."""
    from hpcrec.fim import pfp
    sent, in_place = [], []
    exchange, skip = pfp._exchange, pfp.E.skip_round
    monkeypatch.setattr(pfp, "_exchange", lambda *a: sent.append(a[4]) or exchange(*a))
    monkeypatch.setattr(pfp.E, "skip_round", lambda *a: in_place.append(a[3]) or skip(*a))
    monkeypatch.setattr(pfp, "BATCH_WEIGHT", batch_weight)
    if min_round:
        monkeypatch.setattr(pfp, "MIN_ROUND", min_round)
        monkeypatch.setattr(pfp, "ROUND_SHARE", 1 << 40)
    # 27 frequent items, 11,186 sets; an item's weight 400-2750: rounds of 5000 hold one
    # item (in place) or two (each a build of its own: sent)
    rows = dense_rows(9, 400, 18, 3)
    res = mine_itemsets(rows, 0.3, algo, comm=serial())
    assert as_counts(res) == pyfim_all(rows, min_count(0.3, len(rows)), target)
    assert len(set(sent)) == len(sent) and len(set(in_place)) == len(in_place)
    assert (len(sent) > 0) == (batch_weight == 1 and not min_round or min_round == 5000)
    assert (len(in_place) > 0) == bool(min_round)


@pytest.mark.parametrize("algo,target", [("fpgrowth", "s"), ("fpmax", "m"), ("fpclose", "c")])
def test_one_rank_over_sparse_data_mines_larger_rounds_in_place(algo, target, monkeypatch):
    """One rank over more than MASK_ITEMS frequent items (sparse data) takes rounds of
    SPARSE_ROUND times MIN_ROUND, each one build mined from the rows where they lie
    however small BATCH_WEIGHT is (several ranks, or few items, would cut it into builds
    and send them); exact (pyfim), and fewer rounds than at SPARSE_ROUND 1."""
    from hpcrec.fim import pfp
    rng = np.random.default_rng(11)
    rows = [sorted(set(rng.zipf(1.3, size=rng.integers(1, 25)) % 400)) for _ in range(3000)]
    count = 8
    frequent = sum(c >= count for c in Counter(x for r in rows for x in r).values())
    assert frequent > P.MASK_ITEMS
    rounds = {}
    for scale in (1, pfp.SPARSE_ROUND):
        sent, in_place = [], []
        exchange, skip = pfp._exchange, pfp.E.skip_round
        monkeypatch.setattr(pfp, "_exchange", lambda *a: sent.append(a[4]) or exchange(*a))
        monkeypatch.setattr(pfp.E, "skip_round", lambda *a: in_place.append(a[3]) or skip(*a))
        monkeypatch.setattr(pfp, "BATCH_WEIGHT", 1)
        monkeypatch.setattr(pfp, "MIN_ROUND", 2000)
        monkeypatch.setattr(pfp, "ROUND_SHARE", 1 << 40)
        monkeypatch.setattr(pfp, "SPARSE_ROUND", scale)
        res = mine_itemsets(rows, (count - 0.5) / len(rows), algo, comm=serial())
        assert not sent and as_counts(res) == pyfim_sets(rows, count, target)
        monkeypatch.undo()
        rounds[scale] = len(in_place)
    assert 1 < rounds[pfp.SPARSE_ROUND] < rounds[1] // 4


def test_min_count_matches_float_division():
    for n in range(1, 400):
        for c in range(1, n + 1):
            for ms in (c / n, c * (1.0 / n), (c - 0.5) / n, 0.1 * c * 10 / n):
                if not 0 < ms <= 1:
                    continue
                expected = next(k for k in range(0, n + 1) if k / n >= ms)
                assert min_count(ms, n) == max(expected, 1)


def test_float_boundary_like_mlxtend():
    # 0.1 * 3 rounds above 0.3, so an item in 3 of 10 rows is not frequent at 0.1 * 3
    df = pd.DataFrame({"a": [True] * 3 + [False] * 7, "b": [True] * 10})
    for algo in ("apriori", "fpgrowth"):
        above = as_dict(OURS[algo](df, min_support=0.1 * 3, comm=serial()))
        assert above == as_dict(mlx.apriori(df, min_support=0.1 * 3)) == {frozenset([1]): 1.0}
        at = as_dict(OURS[algo](df, min_support=0.3, comm=serial()))
        assert at == as_dict(mlx.apriori(df, min_support=0.3)) and frozenset([0, 1]) in at


def repeated_baskets(seed: int, n: int, n_items: int, n_baskets: int, density: float):
    """Rows drawn from a few baskets (many equal rows, many equal counts, so rows merge
    into weighted ones before mining), item 0 in every row."""
    rng = np.random.default_rng(seed)
    baskets = [sorted({0} | set(np.flatnonzero(rng.random(n_items) < density).tolist()))
               for _ in range(n_baskets)]
    return [baskets[b] for b in rng.integers(0, n_baskets, n)]


def maximal_and_closed(every: dict) -> tuple[dict, dict]:
    """The maximal and closed sets among all frequent sets ``every`` (downward closed: a
    set with a frequent superset has one with one item more)."""
    extended, equal = set(), set()
    for t, c in every.items():
        for s in (t - {x} for x in t if len(t) > 1):
            extended.add(s)
            if every[s] == c:
                equal.add(s)
    return ({s: c for s, c in every.items() if s not in extended},
            {s: c for s, c in every.items() if s not in equal})


@pytest.mark.parametrize("seed,min_support", [(31, 0.1), (32, 3 / 8), (33, 0.5)])
@pytest.mark.parametrize("max_len", [None, 2])
def test_repeated_rows_against_brute_force(seed, min_support, max_len):
    """FP-Max / FP-Close prune with stored sets and merge equal rows: duplicates, equal
    counts, an item in every row and max_len, against brute force."""
    rows = repeated_baskets(seed, 160, 10, 8, 0.5)
    need = min_count(min_support, len(rows))
    every = brute_force([set(r) for r in rows], 10, need, None)
    maximal, closed = maximal_and_closed(every)
    for algo, want in (("fpgrowth", every), ("fpmax", maximal), ("fpclose", closed)):
        got = as_counts(mine_itemsets(rows, min_support, algo, max_len, comm=serial()))
        assert got == {s: c for s, c in want.items() if max_len is None or len(s) <= max_len}


def test_repeated_rows_over_many_items_against_apriori():
    """Over more than 128 items FP-Max checks stored sets by their items, not by masks:
    maximal and closed sets equal those derived from apriori's frequent sets."""
    rows = repeated_baskets(34, 300, 150, 12, 0.06)
    every = as_counts(mine_itemsets(rows, 0.05, "apriori", comm=serial()))
    assert len(every) > 1000 and max(map(len, every)) > 5
    maximal, closed = maximal_and_closed(every)
    assert as_counts(mine_itemsets(rows, 0.05, "fpmax", comm=serial())) == maximal
    assert as_counts(mine_itemsets(rows, 0.05, "fpclose", comm=serial())) == closed


@pytest.mark.parametrize("algo,target", [("fpmax", "m"), ("fpclose", "c")])
def test_repeated_rows_with_noise_over_many_items_against_pyfim(algo, target):
    """Over more than 128 items, long baskets plus noise: perfect extensions of a node's
    ancestors lie above its item, so FP-Max's wanted set must be sorted in full."""
    rng = np.random.default_rng(34)
    rows = [sorted(set(r) | set(rng.integers(0, 150, 3).tolist()))
            for r in repeated_baskets(34, 300, 150, 30, 0.06)]
    count = min_count(0.03, len(rows))
    assert as_counts(mine_itemsets(rows, 0.03, algo, comm=serial())) == pyfim_all(rows, count, target)


# (frequent items, rows, support, blocks of rows x columns set, expected (width, words, split))
MASK_CASES = {   # the form's (width, words, split), then the key words of the sort
    "63 items, 11 split bits": (63, 2000, 0.05, [(0, 400, 0, 8), (1000, 1200, 50, 60)], (63, 1, 11, 1)),
    "64 items, two words as one-word keys": (64, 600, 0.1, [(0, 200, 0, 8), (300, 400, 56, 64)],
                                             (64, 2, 11, 1)),
    "80 items, two words": (80, 600, 0.1, [(0, 200, 0, 8), (300, 400, 70, 78)], (80, 2, 27, 2)),
}


@pytest.mark.parametrize("case", sorted(MASK_CASES))
@pytest.mark.parametrize("algo,target", [("apriori", "s"), ("fpgrowth", "s"), ("fpmax", "m"),
                                         ("fpclose", "c")])
def test_mask_layouts_equal_the_record_order(case, algo, target, monkeypatch):
    """One rank's result in the mask layout equals, in order and count, the records' path
    and pyfim: 63 frequent items over 2,000 rows (the buckets take 11 top mask bits: 63
    items + 11 count bits), 64 and 80 over 600 rows (two mask words; long sets of the
    second word's items; over 64 sorted as one-word keys, the buckets taking 11 top bits
    of 64 items + 10 count bits; over 80 as two-word keys). The first block makes 255
    sets of its 8 items in every row it covers."""
    width, n, support, blocks, (*expected, key_words) = MASK_CASES[case]
    rng = np.random.default_rng(width)
    X = rng.random((n, width)) < 0.3
    for r0, r1, c0, c1 in blocks:
        X[r0:r1, c0:c1] = True
    rows = [np.flatnonzero(r).tolist() for r in X]
    forms, sorts = [], []
    real, sort = engine.mask_form, engine.sorted_records
    monkeypatch.setattr(engine, "mask_form", lambda o, m: forms.append(real(o, m)) or forms[-1])
    monkeypatch.setattr(engine, "sorted_records", lambda r, *a: sorts.append(sort(r, *a)) or sorts[-1])
    got = mine_itemsets(rows, support, algo, comm=serial())
    assert [forms[0].width, forms[0].words, forms[0].split] == expected
    assert sorts[0].keys.ndim == key_words
    monkeypatch.setattr(engine, "mask_form", lambda o, m: None)
    want = mine_itemsets(rows, support, algo, comm=serial())
    assert len(want) > 1000
    for a in ("items", "ptr", "counts"):
        assert np.array_equal(getattr(got, a), getattr(want, a))
    assert as_counts(got) == pyfim_all(rows, min_count(support, n), target)
