"""The CPU kernels of a base commit against this tree's, in one process, call by call.

A/B at the kernel boundary (issue 13's seam: packs and the Csr type replaced long argument
lists): the base commit's ``kernels/`` (``git archive``) is loaded as the package
``base_kernels`` beside ``hpcrec.kernels``; each measurement alternates the two versions on
the same inputs, so load changes on a shared machine hit both alike. Reported per kernel:
the median and the best of ``--repeat`` (or more) calls each, and after/before ratios
(< 1: faster): of the medians, of the bests, and the median ratio of neighboring calls.

    NUMBA_NUM_THREADS=1 python benchmarks/kernels_ab.py BASE_COMMIT [--repeat 7] [--only FAMILY ...]

Families: ``sgd`` (the SGD epoch on MovieLens 100K u1.base, one block and an 8 x 8 grid),
``mf`` (ALS half-steps), ``knn`` (similarity rows, predictions and score rows, u1,
item-based pearson-baseline), ``mining`` (FP-growth / FP-Max / FP-Close, retail.dat and
T10I4D100K). ``sgd`` and ``knn`` call both trees through the family's protocol, so their
base must have the kernel seam (5231e69 or later); ``mf`` and ``mining`` call the base
with the flat signatures of 2d527d7. Data from ``$HPCREC_DATA`` (default ../shared/data).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HPCREC_DATA", REPO.parent / "shared" / "data"))


def load_base(commit: str, where: Path):
    """The base commit's kernels/ as the package ``base_kernels``."""
    blob = subprocess.run(["git", "-C", str(REPO), "archive", commit, "kernels"],
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(where, filter="data")
    spec = importlib.util.spec_from_file_location(
        "base_kernels", where / "kernels" / "__init__.py",
        submodule_search_locations=[str(where / "kernels")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["base_kernels"] = module
    spec.loader.exec_module(module)
    return lambda name: importlib.import_module(f"base_kernels.{name}")


def ab(name: str, before, after, repeat: int) -> dict:
    """Alternate the two calls ``repeat`` times (after one warm-up each; more for kernels
    under 0.2 s, about 2 s of calls, at most 200); seconds and ratios."""
    before()
    t0 = time.perf_counter()
    after()
    repeat = max(repeat, min(200, int(2.0 / max(time.perf_counter() - t0, 1e-3))))
    times = {"before": [], "after": []}
    for r in range(repeat):
        for variant, fn in (("before", before), ("after", after)) if r % 2 == 0 else \
                (("after", after), ("before", before)):
            t0 = time.perf_counter()
            fn()
            times[variant].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    best = {k: float(np.min(v)) for k, v in times.items()}
    paired = np.median(np.array(times["after"]) / np.array(times["before"]))
    return {"kernel": name, "repeat": repeat, "median_s": med, "best_s": best,
            "ratio_median": med["after"] / med["before"], "ratio_best": best["after"] / best["before"],
            "ratio_paired": float(paired)}   # median of the ratios of neighboring calls


def _u1_train():
    """MovieLens 100K u1.base sorted by (user, item): user, item (int32), rating (float32)."""
    from hpcrec.io import splits
    train, _ = splits.movielens_fold(DATA / "ml-100k", "u1")
    u, i = train.user.astype(np.int32), train.item.astype(np.int32)
    r = train.rating.astype(np.float32)
    order = np.lexsort((i, u))
    return train, u[order], i[order], r[order]


def sgd_cases(base, repeat: int):
    """The SGD epoch through its protocol (the same call on both trees: the base must have
    the kernel seam, 5231e69 or later)."""
    from hpcrec.kernels import mf_sgd
    from hpcrec.kernels.protocols import BlockedRatings, Factors, SgdRates
    from hpcrec.mf.sgd import _line_aligned
    train, u, i, r = _u1_train()
    n_u, n_i, d = train.n_users, train.n_items, 128
    rng = np.random.default_rng(0)
    init = Factors(rng.normal(0, .02, (n_u, d)).astype(np.float32),
                   rng.normal(0, .02, (n_i, d)).astype(np.float32),
                   np.zeros(n_u, np.float32), np.zeros(n_i, np.float32))
    rates = SgdRates(float(r.mean()), 0.005, 0.005, 0.02, 0.02)
    # rows on cache lines as BiasedSGD passes them (unaligned rows cost up to 25 %)
    old, new = (Factors(*(_line_aligned(a.copy()) for a in init)) for _ in range(2))
    old_sgd = base("mf_sgd").sgd_epoch
    for g in (1, 8):   # one block; the 8 x 8 grid of BiasedSGD's default schedule
        block = (u.astype(np.int64) * g // n_u) * g + i.astype(np.int64) * g // n_i
        order = np.argsort(block, kind="stable")
        ratings = BlockedRatings(u[order], i[order], r[order],
                                 np.searchsorted(block[order], np.arange(g * g + 1)))
        rounds = np.array([np.arange(g) * g + (np.arange(g) + t) % g for t in range(g)], np.int64)
        yield ab(f"sgd_epoch (d=128, 80k ratings, {g}x{g} blocks)",
                 lambda: old_sgd(ratings, rounds, old, rates),
                 lambda: mf_sgd.sgd_epoch(ratings, rounds, new, rates), repeat)
    for a, b in zip(old, new):   # the same calls in the same order: the same state
        assert np.array_equal(a, b), "before and after disagree"


def mf_cases(base, repeat: int):
    from hpcrec.kernels import mf_als
    from hpcrec.kernels.csr import csr
    from hpcrec.kernels.protocols import RowProblem
    train, u, i, r = _u1_train()
    n_u, n_i = train.n_users, train.n_items
    rng = np.random.default_rng(0)
    mu = float(r.mean())
    indptr = np.searchsorted(u, np.arange(n_u + 1)).astype(np.int64)
    vals = r.astype(np.float64)
    X, xb = rng.normal(0, .1, (n_i, 64)), np.zeros(n_i)
    coef = np.array([0.0, 1.0, 0.0, -mu, 1.0])
    old_als = base("mf_als").als_half_step
    for steps, label in ((3, "cg 3"), (0, "cholesky")):
        Y0, Y1 = np.zeros((n_u, 64)), np.zeros((n_u, 64))
        b0, b1 = np.zeros(n_u), np.zeros(n_u)
        problem = RowProblem(coef, np.zeros((64, 64)), True, 0.1, 0.1, True, steps)
        yield ab(f"als_half_step ({label}, d=64, users)",
                 lambda: old_als(indptr, i, vals, X, xb, coef, np.zeros((64, 64)), True, 0.1, 0.1,
                                 True, steps, Y0, b0),
                 lambda: mf_als.als_half_step(csr(indptr, i, vals, n_i), X, xb, problem, Y1, b1),
                 repeat)


def knn_cases(base, repeat: int):
    import numba

    from hpcrec.io import splits
    from hpcrec.kernels import knn
    from hpcrec.knn import similarity as sims
    train, test = splits.movielens_fold(DATA / "ml-100k", "u1")
    xs, ys = train.item.astype(np.int64), train.user.astype(np.int64)
    vals = train.rating.astype(np.float64) - float(train.rating.mean())
    x = sims.from_coo(xs, ys, vals, train.n_items, train.n_users)
    y = sims.from_coo(ys, xs, vals, train.n_users, train.n_items)
    old = base("knn")
    threads = numba.get_num_threads()
    yield ab("knn similarity rows (items, pearson-baseline, K=200)",
             lambda: old.SimilarityRows(x, y, knn.PEARSON_BASELINE).top(0, x.n_rows, 1, 100.0, 200),
             lambda: knn.SimilarityRows(x, y, knn.PEARSON_BASELINE).top(0, x.n_rows, 1, 100.0, 200),
             repeat)
    nb = sims.neighbor_lists(x, y, "pearson-baseline", keep=200)
    ti, tu = test.item.astype(np.int64), test.user.astype(np.int64)
    keep = (ti >= 0) & (ti < train.n_items) & (tu >= 0) & (tu < train.n_users)
    ti, tu = ti[keep], tu[keep]
    order = np.argsort(tu, kind="stable")
    group_ptr = np.flatnonzero(np.diff(tu[order], prepend=-1, append=-1))
    bx, by = np.zeros(train.n_items), np.zeros(train.n_users)
    xmean = np.zeros(train.n_items)
    est = knn.Estimator(40, 1, 0.0, knn.BASELINE, 3.5, bx, by, xmean)
    yield ab("knn predict_pairs (u1.test)",
             lambda: old.predict_pairs(ti, tu, order, group_ptr, threads, nb, y, est),
             lambda: knn.predict_pairs(ti, tu, order, group_ptr, threads, nb, y, est), repeat)
    users = np.arange(0, train.n_users, 10, dtype=np.int64)
    yield ab("knn score_rows (every 10th user x all items)",
             lambda: old.score_rows(users, False, train.n_items, threads, nb, y, est),
             lambda: knn.score_rows(users, False, train.n_items, threads, nb, y, est), repeat)


def mining_cases(base, repeat: int):
    from hpcrec.core.comm import serial
    from hpcrec.core.context import RunContext
    from hpcrec.fim.control import Control
    from hpcrec.fim.prepare import prepare
    from hpcrec.io import load_transactions
    from hpcrec.kernels import projected as P
    from hpcrec.kernels.protocols import MineOptions
    old = base("projected")
    packed = hasattr(old, "Store")
    for data, support in (("retail.dat", 0.0002), ("T10I4D100K.dat", 0.0005)):
        comm = serial()
        prep = prepare(load_transactions(str(DATA / "fim" / data), comm), support, comm,
                       Control(RunContext.build(comm)))
        rows, m, minc = prep.rows, prep.m, prep.minc
        owned = np.ones(m, np.bool_)
        for mode, label in ((P.FREQUENT, "fpgrowth"), (P.MAXIMAL, "fpmax"), (P.CLOSED, "fpclose")):
            options = MineOptions(m, minc, 0, 10**9, mode)

            def before():
                if packed:  # a base with issue 13's signature (Csr, options, store)
                    old.mine_range(rows, owned, 0, m, options, old.empty_store(m))
                    return
                items, meta, links, head, tops, table = old.empty_store(m)
                old.mine_range(rows.indptr, rows.indices, m, owned, 0, m, minc, 0, 10**9, mode,
                               items, meta, links, head, tops, table)

            def after():
                P.mine_range(rows, owned, 0, m, options, P.empty_store(m))
            yield ab(f"mine_range {label} ({data}, support {support})", before, after, repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base", help="base commit")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--only", choices=["sgd", "mf", "knn", "mining"], nargs="*")
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} load {os.getloadavg()}, "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = load_base(args.base, Path(tmp))
        for name, cases in (("sgd", sgd_cases), ("mf", mf_cases), ("knn", knn_cases),
                            ("mining", mining_cases)):
            if args.only and name not in args.only:
                continue
            for rec in cases(base, args.repeat):
                print(json.dumps(rec), flush=True)
    print(f"# done {time.strftime('%H:%M:%S')} load {os.getloadavg()}")


if __name__ == "__main__":
    main()
