"""k-NN benchmark: hpcrec's ItemKNN/UserKNN side by side with Surprise's KNNBaseline.

Two studies, every measurement in a fresh subprocess (clean thread settings, own peak RSS):

``ml100k``  MovieLens 100K folds u1..u5, item-based pearson-baseline, k = 40: RMSE, fit and
            predict seconds per fold for Surprise KNNBaseline and hpcrec (its defaults, and
            the Surprise-exact settings), hpcrec on 1 thread and on all cores. A first hpcrec
            fit is made before timing (loads the cached Numba code; JIT time is reported).
``memory``  peak RSS and fit seconds against the number of users on synthetic sets of
            ``--per-user`` ratings per user (``hpcrec.io.synthetic``, written to HDF5 first;
            hpcrec first fits 1000 ratings to load its cached Numba code, timed apart):
            user-based (Surprise's |U| x |U| matrices) and item-based up to 200k users /
            10M ratings for hpcrec alone (``--surprise-max`` bounds Surprise's points).

Usage: python benchmarks/knn_bench.py [ml100k|memory|all] [--data DIR] [--repeat N] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HPCREC_DATA", REPO.parent / "shared" / "data"))
EXACT = {"max_neighbors": None, "damping": 0.0, "baseline_options": {"method": "als"}}


# -- children: one measurement each, JSON on the last stdout line ----------------------------

def timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def best_of(repeat: int, fit, predict) -> dict:
    """Fit and predict ``repeat`` times; the fastest of each (the machine is shared)."""
    runs = []
    for _ in range(repeat):
        model, fw, fc = timed(fit)
        pred, pw, pc = timed(lambda: predict(model))
        runs.append((fw, fc, pw, pc, pred))
    fw, fc, pw, pc = (min(r[k] for r in runs) for k in range(4))
    return {"fit_s": fw, "fit_cpu_s": fc, "predict_s": pw, "predict_cpu_s": pc, "pred": runs[-1][4]}


def child_ml100k(lib: str, config: str, folder: Path, repeat: int) -> dict:
    import numpy as np
    if lib == "surprise":
        from surprise import Dataset, KNNBaseline, Reader, accuracy
        from surprise.model_selection import PredefinedKFold
        reader = Reader(line_format="user item rating timestamp", sep="\t", rating_scale=(1, 5))
        data = Dataset.load_from_folds([(folder / f"u{k}.base", folder / f"u{k}.test")
                                        for k in range(1, 6)], reader)
        folds = []
        for train, test in PredefinedKFold().split(data):
            res = best_of(repeat, lambda: KNNBaseline(
                k=40, sim_options={"name": "pearson_baseline", "user_based": False},
                verbose=False).fit(train), lambda algo: algo.test(test))
            res["rmse"] = accuracy.rmse(res.pop("pred"), verbose=False)
            folds.append(res)
        return {"folds": folds}
    from hpcrec.io import splits
    from hpcrec.knn import ItemKNN
    params = {"k": 40, "similarity": "pearson-baseline", **(EXACT if config == "exact" else {})}
    pairs = [splits.movielens_fold(folder, f"u{k}") for k in range(1, 6)]
    t0 = time.perf_counter()
    ItemKNN(**params).fit(pairs[0][0]).predict([1], [1])
    first = time.perf_counter() - t0
    folds = []
    for train, test in pairs:
        res = best_of(repeat, lambda: ItemKNN(**params).fit(train),
                      lambda m: m.predict(test.user_ids[test.user], test.item_ids[test.item]))
        res["rmse"] = float(np.sqrt(np.mean((res.pop("pred") - test.rating) ** 2)))
        folds.append(res)
    return {"folds": folds, "first_call_s": first}


def child_memory(lib: str, side: str, path: Path) -> dict:
    import h5py
    import numpy as np

    from hpcrec.core.timing import peak_rss_bytes
    with h5py.File(path) as fh:
        users, items, ratings = fh["user"][()], fh["item"][()], fh["rating"][()]
    probe = slice(0, 10_000)
    if lib == "surprise":
        import pandas as pd
        from surprise import Dataset, KNNBaseline, Reader
        df = pd.DataFrame({"u": users, "i": items, "r": ratings.astype(np.float64)})
        del users, items, ratings
        train = Dataset.load_from_df(df, Reader(rating_scale=(1, 5))).build_full_trainset()
        rss_data = _rss()
        algo = KNNBaseline(k=40, verbose=False,
                           sim_options={"name": "pearson_baseline", "user_based": side == "user"})
        t0 = time.perf_counter()
        algo.fit(train)
        t1 = time.perf_counter()
        for u, i in zip(df.u[probe], df.i[probe]):
            algo.predict(u, i)
    else:
        from hpcrec.knn import ItemKNN, UserKNN
        cls = UserKNN if side == "user" else ItemKNN
        tiny = slice(0, 1000)   # load the cached Numba code first: timed separately
        t0 = time.perf_counter()
        cls(k=40).fit((users[tiny], items[tiny], ratings[tiny])).predict(users[tiny], items[tiny])
        load_s = time.perf_counter() - t0
        rss_data = _rss()
        model = cls(k=40)
        t0 = time.perf_counter()
        model.fit((users, items, ratings))
        t1 = time.perf_counter()
        model.predict(users[probe], items[probe])
    t2 = time.perf_counter()
    out = {"fit_s": t1 - t0, "predict_10k_s": t2 - t1, "rss_data_mb": rss_data / 2**20,
           "peak_rss_mb": peak_rss_bytes() / 2**20}
    if lib == "hpcrec":
        out["jit_load_s"] = load_s
    return out


def _rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# -- parent: runs the children and prints markdown tables -------------------------------------

def run_child(args: list[str], threads: int | None = None, timeout: float = 3600) -> dict:
    env = dict(os.environ)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    env.update(OMP_NUM_THREADS="1", HPCREC_NO_MPI="1")
    proc = subprocess.run([sys.executable, __file__, "child", *args], env=env, text=True,
                          capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["killed"])[-1], "rc": proc.returncode}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def study_ml100k(folder: Path, repeat: int) -> None:
    import numpy as np
    runs = [("Surprise KNNBaseline", "surprise", "-", 1),
            ("hpcrec ItemKNN, Surprise-exact settings", "hpcrec", "exact", 1),
            ("hpcrec ItemKNN, defaults", "hpcrec", "default", 1),
            ("hpcrec ItemKNN, defaults", "hpcrec", "default", os.cpu_count())]
    print(f"Seconds per fold: best of {repeat}; wall clock and CPU time of the process.\n")
    print("| run | threads | mean RMSE | RMSE u1..u5 | fit s | predict s | fit+predict s (CPU s) "
          "| speed-up wall (CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    base = None
    for label, lib, config, threads in runs:
        res = run_child(["ml100k", lib, config, str(folder), str(repeat)], threads)
        if "error" in res:
            print(f"| {label} | {threads} | failed: {res['error']} ||||||")
            continue
        mean = {k: np.mean([f[k] for f in res["folds"]]) for k in res["folds"][0]}
        wall, cpu = mean["fit_s"] + mean["predict_s"], mean["fit_cpu_s"] + mean["predict_cpu_s"]
        base = base or (wall, cpu)
        rm = " ".join(f"{f['rmse']:.4f}" for f in res["folds"])
        extra = f" (first call {res['first_call_s']:.2f} s)" if "first_call_s" in res else ""
        print(f"| {label}{extra} | {threads} | {mean['rmse']:.4f} | {rm} | {mean['fit_s']:.3f} "
              f"| {mean['predict_s']:.3f} | {wall:.3f} ({cpu:.3f}) "
              f"| {base[0] / wall:.1f}x ({base[1] / cpu:.1f}x) |", flush=True)


def study_memory(per_user: int, user_sizes, item_sizes, n_items_user: int, n_items_item: int,
                 surprise_max: dict) -> None:
    from hpcrec.io import synthetic
    print("| model | users | items | ratings | library | fit s | predict 10k s | RSS with data MB "
          "| peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for side, sizes, n_items in (("user", user_sizes, n_items_user), ("item", item_sizes, n_items_item)):
            for n_users in sizes:
                path = Path(tmp) / f"{side}-{n_users}.h5"
                synthetic.write_ratings_h5(path, n_users=n_users, n_items=n_items,
                                           n_ratings=per_user * n_users, seed=1)
                for lib in ("surprise", "hpcrec"):
                    if lib == "surprise" and n_users > surprise_max[side]:
                        continue
                    res = run_child(["memory", lib, side, str(path)], threads=None)
                    cells = ("failed: " + res["error"],) if "error" in res else (
                        f"{res['fit_s']:.2f}" + (f" (+{res['jit_load_s']:.1f} JIT load)"
                                                 if "jit_load_s" in res else ""),
                        f"{res['predict_10k_s']:.2f}",
                        f"{res['rss_data_mb']:.0f}", f"{res['peak_rss_mb']:.0f}")
                    print(f"| {side}-based | {n_users} | {n_items} | {per_user * n_users} | {lib} | "
                          + " | ".join(cells) + " |", flush=True)
                path.unlink()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        kind, lib, arg, path = sys.argv[2:6]
        out = child_ml100k(lib, arg, Path(path), int(sys.argv[6])) if kind == "ml100k" else \
            child_memory(lib, arg, Path(path))
        print(json.dumps(out))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("study", nargs="?", default="all", choices=["ml100k", "memory", "all"])
    p.add_argument("--data", type=Path, default=DATA / "ml-100k", help="ml-100k folder")
    p.add_argument("--per-user", type=int, default=50, help="ratings per user (memory study)")
    p.add_argument("--repeat", type=int, default=3, help="fits per fold, the fastest counts")
    p.add_argument("--quick", action="store_true", help="small memory study (a smoke test)")
    args = p.parse_args()
    print(f"# k-NN benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores\n")
    if args.study in ("ml100k", "all"):
        study_ml100k(args.data, args.repeat)
        print()
    if args.study in ("memory", "all"):
        if args.quick:
            study_memory(args.per_user, [500, 1000], [1000], 500, 1000, {"user": 1000, "item": 1000})
        else:
            study_memory(args.per_user, [1000, 2000, 4000, 8000, 16000],
                         [25_000, 50_000, 100_000, 200_000], 2000, 10_000,
                         {"user": 8000, "item": 50_000})


if __name__ == "__main__":
    main()
