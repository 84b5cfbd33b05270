"""The parts of benchmarks/spark_bench.py and als_bench.py that judge Spark's results
without Spark (pyspark is not in the test extra): reading both tools' itemset files, and
scoring a peer's factors given by raw id with hpcrec's ranking code."""
from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
als_bench = pytest.importorskip("als_bench")
spark_bench = pytest.importorskip("spark_bench")


def test_itemset_counts_reads_both_formats_alike(tmp_path):
    (tmp_path / "h.csv").write_text("support,itemsets,count\n0.5,3|10,4\n0.75,7,6\n")
    (tmp_path / "s.csv").write_text("10 3,4\n7,6\n")
    h = spark_bench.itemset_counts(tmp_path / "h.csv", hpcrec=True)
    assert h == {(3, 10): 4, (7,): 6}
    assert spark_bench.itemset_counts(tmp_path / "s.csv", hpcrec=False) == h


def test_peer_factors_by_raw_id_score_as_the_model(tmp_path):
    """A fitted WALS's vectors, handed over shuffled and keyed by raw id (plus an id the
    training file lacks), give the model's own ranking metrics; a missing vector is 0."""
    from hpcrec.metrics import evaluate
    from hpcrec.mf import WALS
    rng = np.random.default_rng(1)
    users, items = rng.integers(0, 40, 1500) * 7 + 100, rng.integers(0, 60, 1500) * 3 + 5
    rows = np.unique(np.column_stack([users, items]), axis=0)
    rating = rng.integers(1, 6, len(rows))
    test = rng.random(len(rows)) < 0.2
    for name, m in (("train", ~test), ("test", test)):
        with open(tmp_path / f"{name}.csv", "w") as f:
            f.write("user,item,rating\n")
            np.savetxt(f, np.column_stack([rows[m], rating[m]]), fmt="%d", delimiter=",")
    model = WALS(factors=8, epochs=3, threshold=4).fit(str(tmp_path / "train.csv"))
    want = evaluate(model, str(tmp_path / "test.csv"), k=5, threshold=4)
    pu, pi = rng.permutation(len(model.user_ids)), rng.permutation(len(model.item_ids))
    np.savez(tmp_path / "peer.npz", user=np.append(np.asarray(model.user_ids)[pu], 10**6),
             item=np.asarray(model.item_ids)[pi],
             P=np.vstack([model.P[pu], np.ones(8)]), Q=model.Q[pi])
    got = als_bench.spark_factors_scored(tmp_path / "train.csv", tmp_path / "test.csv",
                                         tmp_path / "peer.npz", 4, 5)
    assert got["n_users_ranked"] == want["n_users_ranked"] > 0
    for key in ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k"):
        assert got[key] == pytest.approx(want[key]), key
    np.savez(tmp_path / "none.npz", user=np.array([10**6]), item=np.asarray(model.item_ids),
             P=np.ones((1, 8)), Q=model.Q)
    zero = als_bench.spark_factors_scored(tmp_path / "train.csv", tmp_path / "test.csv",
                                          tmp_path / "none.npz", 4, 5)
    assert zero["n_users_ranked"] == want["n_users_ranked"]
