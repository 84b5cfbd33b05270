"""Matrix factorization on MovieLens 100K's predefined folds: accuracy and throughput of
hpcrec's models beside Surprise's SVD and SVD++ in the same run.

    export NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
    python benchmarks/mf_bench.py DATA/ml-100k
    mpiexec -n 2 python -m mpi4py benchmarks/mf_bench.py DATA/ml-100k --no-peers
    mpiexec -n P python -m mpi4py benchmarks/mf_bench.py x --throughput 2000000

Per fold and model: test RMSE/MAE, fit seconds, and rating updates per second:
ratings x epochs / time inside the epochs (Surprise: / fit time, its fit being just the
epochs), by the wall clock and per CPU-second (process CPU time summed over ranks and
threads: the per-core rate, robust on a shared machine). hpcrec models use every rank;
the peers run on rank 0 only (with --no-peers
they are skipped, e.g. for the 2-rank run). Prints a JSON line per measurement and a
Markdown summary on rank 0; ``--json FILE`` also writes all records.
With ``--throughput`` the record also holds ``setup_s``: fit seconds outside the epochs
(distributing, sorting and initialising, before the first epoch).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from hpcrec.core.comm import world
from hpcrec.io import splits
from hpcrec.metrics import evaluate
from hpcrec.mf import ALS, BiasedSGD

FOLDS = ("u1", "u2", "u3", "u4", "u5")

HPCREC_MODELS = {
    "hpcrec biased-sgd": lambda: BiasedSGD(),
    "hpcrec biased-sgd (shuffled order)": lambda: BiasedSGD(order="shuffled", blocks=1),
    "hpcrec biased-sgd (Surprise SVD's settings)": lambda: BiasedSGD(
        factors=100, epochs=20, lr=0.005, reg=0.02, reg_bias=0.02, decay=1.0, init_std=0.1),
    "hpcrec als": lambda: ALS(),
    "hpcrec als (Cholesky)": lambda: ALS(solver="cholesky"),
}


def run_hpcrec(name, make, train, test, comm) -> dict:
    model = make()
    t0 = time.perf_counter()
    model.fit(train, comm)
    fit_s = time.perf_counter() - t0
    res = evaluate(model, test, comm=comm)
    wall = sum(h["seconds"] for h in model.history)
    cpu = comm.allreduce_scalar(sum(h["cpu_seconds"] for h in model.history))  # all ranks
    updates = train.nnz * model.epochs
    return {"model": name, "ranks": comm.size, "rmse": res["rmse"], "mae": res["mae"],
            "fit_s": fit_s, "epochs": model.epochs, "epoch_updates_per_s": updates / wall,
            "updates_per_cpu_s": updates / cpu}


def run_surprise(name, folder, fold) -> dict:
    import surprise
    reader = surprise.Reader(line_format="user item rating timestamp", sep="\t")
    data = surprise.Dataset.load_from_folds([(folder / f"{fold}.base", folder / f"{fold}.test")], reader)
    trainset, testset = next(surprise.model_selection.PredefinedKFold().split(data))
    algo = {"surprise SVD": surprise.SVD, "surprise SVD++": surprise.SVDpp}[name](random_state=0)
    t0, c0 = time.perf_counter(), time.process_time()
    algo.fit(trainset)
    fit_s, cpu = time.perf_counter() - t0, time.process_time() - c0
    pred = algo.test(testset)
    updates = trainset.n_ratings * algo.n_epochs
    return {"model": name, "ranks": 1, "rmse": surprise.accuracy.rmse(pred, verbose=False),
            "mae": surprise.accuracy.mae(pred, verbose=False), "fit_s": fit_s,
            "epochs": algo.n_epochs, "epoch_updates_per_s": updates / fit_s,
            "updates_per_cpu_s": updates / cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="the ml-100k folder")
    ap.add_argument("--folds", default=",".join(FOLDS))
    ap.add_argument("--svdpp-folds", default="u1", help="folds on which SVD++ (slow) runs")
    ap.add_argument("--no-peers", action="store_true", help="skip Surprise")
    ap.add_argument("--json", type=Path, help="also write all records here")
    ap.add_argument("--throughput", type=int, metavar="N",
                    help="instead: biased-SGD epochs on N synthetic ratings (scaling runs)")
    args = ap.parse_args()
    comm = world()
    if args.throughput:
        rec = throughput(args.throughput, comm)
        if comm.is_root:
            print(json.dumps(rec))
        return
    records = []
    for fold in args.folds.split(","):
        train, test = splits.movielens_fold(args.folder, fold)
        runs = [(n, lambda n=n, m=m: run_hpcrec(n, m, train, test, comm)) for n, m in HPCREC_MODELS.items()]
        if not args.no_peers and comm.is_root:
            runs.append(("surprise SVD", lambda: run_surprise("surprise SVD", args.folder, fold)))
            if fold in args.svdpp_folds.split(","):
                runs.append(("surprise SVD++", lambda: run_surprise("surprise SVD++", args.folder, fold)))
        for _name, run in runs:
            rec = {"fold": fold, **run()}
            records.append(rec)
            if comm.is_root:
                print(json.dumps(rec), flush=True)
    if comm.is_root:
        summary(records)
        if args.json:
            args.json.write_text(json.dumps(records, indent=1))


def throughput(n_ratings: int, comm, epochs: int = 5) -> dict:
    """Epoch throughput of the default biased SGD on planted synthetic ratings."""
    from hpcrec.io import synthetic
    r = synthetic.ratings(n_users=max(943, n_ratings // 100), n_items=max(1682, n_ratings // 400),
                          n_ratings=n_ratings, seed=0)
    comm.barrier()
    t0 = time.perf_counter()
    model = BiasedSGD(epochs=epochs).fit(r, comm)
    fit_s = time.perf_counter() - t0
    wall = sum(h["seconds"] for h in model.history[1:])  # epoch 1 includes JIT loading
    cpu = comm.allreduce_scalar(sum(h["cpu_seconds"] for h in model.history[1:]))
    return {"model": "hpcrec biased-sgd", "ranks": comm.size, "ratings": r.nnz,
            "factors": model.factors, "epoch_updates_per_s": r.nnz * (epochs - 1) / wall,
            "updates_per_cpu_s": r.nnz * (epochs - 1) / cpu, "fit_s": fit_s,
            "setup_s": fit_s - sum(h["seconds"] for h in model.history)}  # all but the epochs


def summary(records) -> None:
    models = list(dict.fromkeys(r["model"] for r in records))
    svd = [r["updates_per_cpu_s"] for r in records if r["model"] == "surprise SVD"]
    print("\n| model | ranks | folds | mean RMSE | mean MAE | mean fit s | updates/s (wall) "
          "| updates per CPU-s | per CPU-s vs Surprise SVD |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in models:
        rs = [r for r in records if r["model"] == m]
        wall = np.median([r["epoch_updates_per_s"] for r in rs])
        cpu = np.median([r["updates_per_cpu_s"] for r in rs])
        ratio = f"{cpu / np.median(svd):.1f}x" if svd else "-"
        print(f"| {m} | {rs[0]['ranks']} | {len(rs)} | {np.mean([r['rmse'] for r in rs]):.4f} | "
              f"{np.mean([r['mae'] for r in rs]):.4f} | {np.mean([r['fit_s'] for r in rs]):.2f} | "
              f"{wall / 1e6:.2f} M | {cpu / 1e6:.2f} M | {ratio} |")


if __name__ == "__main__":
    main()
