"""ALS side by side: hpcrec's WALS (implicit feedback) and ALS (explicit) beside implicit
and Spark MLlib, interleaved in one run; every run is a child process whose whole process
tree (Spark's JVM included) is sampled for peak memory.

    export OPENBLAS_NUM_THREADS=1
    python benchmarks/als_bench.py quality ../shared/data/ml-100k      # u1..u5 positives
    python benchmarks/als_bench.py speed --factors 64,256               # ML-20M-sized synthetic
    python benchmarks/als_bench.py speed --users 943 --items 1682 --nnz 44140 --factors 64,256
    python benchmarks/als_bench.py ranks --factors 64                   # 1 vs 2 ranks, 20M
    python benchmarks/als_bench.py explicit-data ../shared/data/ml-100k /tmp/als2m  # u1 x 25
    python benchmarks/als_bench.py explicit /tmp/als2m/train.csv --test /tmp/als2m/test.csv

quality: MovieLens 100K folds, training ratings >= 4 as positives (value 1), 64 factors,
15 iterations; P@10 (hits / 10) and NDCG@10 over the test users with positives (test
rating >= 4), items seen in training excluded, all scored by the same code
(:func:`hpcrec.metrics.evaluate`, the peers' factors copied into an hpcrec model).
hpcrec with its defaults (CG and Cholesky), implicit with its defaults (CG, reg 0.01,
alpha 1, one thread), Spark with its defaults (regParam 0.1, alpha 1, ``local[2]``).

speed: a planted implicit set (user groups with their own popular items, power-law
activity), one thread each: seconds per iteration of hpcrec (CG; ``--variants``: Cholesky
where d <= 64, CG with float64 factors) and implicit (CG), median over the iterations
after the first, and P@10 on one held-out positive of 10,000 users.

ranks: hpcrec's WALS on 1 and 2 MPI ranks on the synthetic set (seconds per iteration,
fit, time inside collectives), and the ranking evaluation of all 10,000 held-out users
under MPI in the same job; ``--pair`` adds two independent 1-rank runs at once.

explicit: ``hpcrec train --model als`` (100 factors, 20 iterations) on 1 and 2 ranks and
Spark ALS (regParam 0.1, ``local[2]``) on a ratings CSV; wall time, peak memory of the
process tree (and of its largest process), user and system CPU of the tree; with
``--test``, the RMSE of each model on held-out ratings (hpcrec: ``hpcrec evaluate``, a
separate untimed process; Spark: after the timed fit, in the same process, its time
reported as ``evaluate_s``). ``--tools`` picks the runs (hpcrec1: one rank with the
threads it picks, i.e. every core; hpcrec1t1: one rank, one thread; hpcrec2: two ranks of
one thread; spark), e.g. one hpcrec run and Spark per command, to keep each locked
measurement short. Spark's driver memory: $SPARK_DRIVER_MEMORY (default 2g). explicit-data writes the set: u1.base
tiled 25x (2,000,000 ratings) and u1.test 25x as the held-out split, user ids offset by
943*k.

implicit-csv: ``hpcrec train --model wals --threshold 4`` on 1 and 2 ranks and Spark ALS
``implicitPrefs`` (the ratings >= 4 as value 1) on a ratings CSV, same factors (64),
iterations (10), reg (0.1, times the row's count in both) and alpha (1); whole process,
peak memory and CPU of the tree; P/R/NDCG/MAP@10 of every model on ``--test`` by
:func:`hpcrec.metrics.evaluate` (untimed; Spark's factors placed by raw id).

Prints one JSON line per run and a Markdown table per mode; ``--json FILE`` keeps them.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
FOLDS = ("u1", "u2", "u3", "u4", "u5")


# -- measuring a child process ----------------------------------------------------------------

def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd``; wall seconds, peak RSS of its process tree (sum, and largest process),
    user/system CPU of the tree, and the last JSON line it printed (its own results).

    CPU: the larger of the reaped children's rusage and the sum over every process seen in
    the tree of its last sampled CPU times — a JVM that PySpark starts is never waited for
    by a process of ours, so rusage alone misses it (and ~50 ms of each process's end is
    missed by the sampling)."""
    import psutil
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    root = psutil.Process(proc.pid)
    peak_total = peak_one = 0
    cpu: dict[int, tuple[float, float]] = {}
    tree = [root]
    try:
        while proc.poll() is None:
            rss = []
            tree = [root, *_children(root)]
            for p in tree:
                try:
                    with p.oneshot():
                        rss.append(p.memory_info().rss)
                        t = p.cpu_times()
                        cpu[p.pid] = (t.user, t.system)
                except psutil.Error:
                    pass
            if rss:
                peak_total, peak_one = max(peak_total, sum(rss)), max(peak_one, max(rss))
            time.sleep(0.05)
    finally:  # stopped (e.g. SIGTERM from `timeout`): take the tree down, Spark's JVM too
        for p in tree:  # psutil refuses a pid reused since it was sampled
            try:
                p.kill()
            except psutil.Error:
                pass
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    sampled = np.array(list(cpu.values()) or [(0.0, 0.0)]).sum(axis=0)
    return {**(json.loads(lines[-1]) if lines else {}), "wall_s": wall,
            "peak_tree_mb": peak_total / 2**20, "peak_process_mb": peak_one / 2**20,
            "user_s": max(after.ru_utime - before.ru_utime, float(sampled[0])),
            "sys_s": max(after.ru_stime - before.ru_stime, float(sampled[1]))}


def _children(root):
    import psutil
    try:
        return root.children(recursive=True)
    except psutil.Error:
        return []


def worker(kind: str, **spec) -> list[str]:
    return [sys.executable, str(HERE), "_worker", json.dumps({"kind": kind, **spec})]


# -- data -------------------------------------------------------------------------------------

def fold_positives(folder, fold):
    from hpcrec.io import splits
    train, test = splits.movielens_fold(folder, fold)
    pos = train.subset(train.rating >= 4)
    pos.rating[:] = 1
    return pos, test


def planted_implicit(users: int, items: int, nnz: int, seed: int = 0, groups: int = 50):
    """(train Ratings, test Ratings): each user's positives come 80% from its group's items,
    20% from all, both by a power-law popularity; one positive of 10,000 users held out."""
    from hpcrec.io.ratings import Ratings
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, items + 1) ** 0.9
    pop /= pop.sum()
    item_group = rng.integers(0, groups, items)
    activity = rng.lognormal(0, 1, users)
    per_user = np.maximum(1, np.round(activity * nnz / activity.sum() * 1.08)).astype(np.int64)
    u = np.repeat(np.arange(users, dtype=np.int64), per_user)
    own = rng.random(len(u)) < 0.8
    cand = rng.choice(items, len(u), p=pop)
    # an "own" pick: a popular item of the user's group (rejection over a few draws)
    grp = u % groups
    for _ in range(6):
        redo = own & (item_group[cand] != grp)
        if not redo.any():
            break
        cand[redo] = rng.choice(items, int(redo.sum()), p=pop)
    keys = np.unique(u * items + cand)[:nnz]
    keys = keys[rng.permutation(len(keys))[:nnz]]
    keys.sort()
    u, i = keys // items, keys % items
    first = np.searchsorted(u, np.arange(users))
    counts = np.diff(np.append(first, len(u)))
    chosen = rng.choice(np.flatnonzero(counts >= 2), min(10_000, int((counts >= 2).sum())), replace=False)
    held = np.zeros(len(u), dtype=bool)
    held[first[chosen] + rng.integers(0, counts[chosen])] = True
    ids_u, ids_i = np.arange(users), np.arange(items)
    make = lambda m: Ratings(u[m], i[m], np.ones(int(m.sum()), np.float32), None, ids_u, ids_i)  # noqa: E731
    return make(~held), make(held)


def load_data(spec):
    if spec.get("fold"):
        return fold_positives(spec["folder"], spec["fold"])
    cache = Path(tempfile.gettempdir()) / "hpcrec-als-bench-{users}-{items}-{nnz}.npz".format(**spec)
    from hpcrec.io.ratings import Ratings
    if cache.exists():
        z = np.load(cache)
        make = lambda p: Ratings(z[p + "u"], z[p + "i"], np.ones(len(z[p + "u"]), np.float32), None,  # noqa: E731
                                 np.arange(spec["users"]), np.arange(spec["items"]))
        return make("tr"), make("te")
    train, test = planted_implicit(spec["users"], spec["items"], spec["nnz"])
    np.savez(cache, tru=train.user, tri=train.item, teu=test.user, tei=test.item)
    return train, test


# -- the runs (in the child) ------------------------------------------------------------------

def scored(model, test, comm=None) -> dict:
    """P@10/NDCG@10 of a fitted model by hpcrec's evaluation (seen = the training positives)."""
    from hpcrec.metrics import evaluate
    t0 = time.perf_counter()
    res = evaluate(model, test, k=10, comm=comm, threshold=1.0 if test.rating.max() <= 1 else 4.0)
    return {"p_at_10": res["precision_at_k"], "ndcg_at_10": res["ndcg_at_k"],
            "users_ranked": res["n_users_ranked"], "evaluate_s": time.perf_counter() - t0}


def scored_factors(train, test, P, Q) -> dict:
    """:func:`scored` for a peer's factors, copied into an hpcrec model."""
    from hpcrec.core.comm import serial
    from hpcrec.mf import WALS
    shell = WALS(factors=P.shape[1], epochs=0).fit(train, serial())
    shell.P, shell.Q = np.asarray(P, np.float64), np.asarray(Q, np.float64)
    return scored(shell, test, serial())


def run_hpcrec(spec) -> dict:
    """hpcrec's WALS, on one process or (``mpi``) on every rank of the launcher's job."""
    from hpcrec.core.comm import serial, world
    from hpcrec.mf import WALS
    comm = world() if spec.get("mpi") else serial()
    train, test = load_data(spec)
    model = WALS(factors=spec["factors"], epochs=spec["iterations"], **spec.get("params", {}))
    if spec.get("dtype"):  # the factors' type (a class setting; float64 shows the float32 choice)
        model.dtype = np.dtype(spec["dtype"]).type
    comm.barrier()
    t0 = time.perf_counter()
    model.fit(train, comm)
    fit = time.perf_counter() - t0
    per_it = float(np.median([h["seconds"] for h in model.history[1:]]))
    cpu_rank = float(np.median([h["cpu_seconds"] for h in model.history[1:]]))
    cpu = comm.allreduce_scalar(cpu_rank)
    cpu_max = comm.allreduce(np.array([cpu_rank]), "max")[0]  # the slowest rank: it waits least
    comm_s = comm.allreduce(np.array([comm.comm_seconds]), "max")[0]  # inside collectives, fit only
    res = {"ranks": comm.size, "fit_s": fit, "s_per_iteration": per_it,
           "cpu_s_per_iteration": cpu, "cpu_s_per_iteration_max_rank": float(cpu_max),
           "comm_s_max_rank": float(comm_s), **scored(model, test, comm)}
    return res if comm.is_root else None


def run_implicit(spec) -> dict:
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    train, test = load_data(spec)
    X = sp.csr_matrix((train.rating, (train.user, train.item)), shape=(train.n_users, train.n_items))
    times, cpu = [], []
    model = AlternatingLeastSquares(factors=spec["factors"], iterations=spec["iterations"],
                                    num_threads=1, random_state=0, **spec.get("params", {}))
    last = [time.perf_counter(), time.process_time()]

    def tick(*_):
        now = (time.perf_counter(), time.process_time())
        times.append(now[0] - last[0])
        cpu.append(now[1] - last[1])
        last[:] = now
    t0 = time.perf_counter()
    last[:] = t0, time.process_time()
    model.fit(X, show_progress=False, callback=tick)
    fit = time.perf_counter() - t0
    return {"fit_s": fit, "s_per_iteration": float(np.median(times[1:] or times)),
            "cpu_s_per_iteration": float(np.median(cpu[1:] or cpu)),
            **scored_factors(train, test, model.user_factors, model.item_factors)}


def spark_session(cores: int = 2, memory: str | None = None, conf: dict | None = None):
    """A ``local[cores]`` session with a checkpoint directory; the driver (which in local
    mode runs the executors too) gets ``memory`` (default $SPARK_DRIVER_MEMORY or 2g);
    ``conf``: further Spark settings (set before the JVM starts, so driver options work)."""
    from pyspark.sql import SparkSession
    memory = memory or os.environ.get("SPARK_DRIVER_MEMORY", "2g")
    builder = (SparkSession.builder.master(f"local[{cores}]").appName("hpcrec-bench")
               .config("spark.driver.memory", memory).config("spark.ui.enabled", "false"))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="spark-ck-"))  # else 20 iterations overflow the stack
    return spark


def run_spark_implicit(spec) -> dict:
    from pyspark.ml.recommendation import ALS
    train, test = load_data(spec)
    spark = spark_session()
    df = spark.createDataFrame(list(zip(train.user.tolist(), train.item.tolist(), [1.0] * train.nnz)),
                               ["user", "item", "rating"])
    als = ALS(rank=spec["factors"], maxIter=spec["iterations"], implicitPrefs=True, seed=0,
              userCol="user", itemCol="item", ratingCol="rating", **spec.get("params", {}))
    t0 = time.perf_counter()
    model = als.fit(df)
    fit = time.perf_counter() - t0
    P, Q = np.zeros((train.n_users, spec["factors"])), np.zeros((train.n_items, spec["factors"]))
    for row in model.userFactors.collect():
        P[row.id] = row.features
    for row in model.itemFactors.collect():
        Q[row.id] = row.features
    spark.stop()
    return {"fit_s": fit, "s_per_iteration": fit / spec["iterations"], **scored_factors(train, test, P, Q)}


def run_spark_explicit(spec) -> dict:
    """Spark ALS on a ratings CSV (read included in the process, as hpcrec's); the held-out
    RMSE after the timed part (cold users/items dropped: Spark predicts NaN for them)."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.recommendation import ALS
    spark = spark_session()
    schema = "user INT, item INT, rating FLOAT"
    df = spark.read.csv(spec["csv"], header=True, schema=schema)
    t0 = time.perf_counter()
    model = ALS(rank=spec.get("factors", 100), maxIter=spec.get("iterations", 20),
                regParam=spec.get("reg", 0.1), seed=0, userCol="user", itemCol="item",
                ratingCol="rating", coldStartStrategy="drop").fit(df)
    model.userFactors.count()
    model.itemFactors.count()
    res = {"fit_s": time.perf_counter() - t0}
    if spec.get("test"):
        t0 = time.perf_counter()
        test = spark.read.csv(spec["test"], header=True, schema=schema)
        pred = model.transform(test)
        res["test_rmse"] = RegressionEvaluator(metricName="rmse", labelCol="rating",
                                               predictionCol="prediction").evaluate(pred)
        res["test_scored"] = pred.count()
        res["evaluate_s"] = time.perf_counter() - t0
    spark.stop()
    return res


def run_spark_implicit_csv(spec) -> dict:
    """Spark ALS ``implicitPrefs`` on a ratings CSV: the ratings >= ``threshold`` as value 1
    (as ``hpcrec train --model wals --threshold``); the factors are written to ``spec["out"]``
    (after the timed fit) for the ranking evaluation by hpcrec's code in the parent."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F
    spark = spark_session()
    t0 = time.perf_counter()
    df = (spark.read.csv(spec["csv"], header=True, schema="user INT, item INT, rating FLOAT")
          .where(F.col("rating") >= spec["threshold"]).withColumn("rating", F.lit(1.0)))
    model = ALS(rank=spec["factors"], maxIter=spec["iterations"], regParam=spec["reg"],
                alpha=spec["alpha"], implicitPrefs=True, seed=0, userCol="user", itemCol="item",
                ratingCol="rating").fit(df)
    users, items = model.userFactors.collect(), model.itemFactors.collect()
    res = {"fit_s": time.perf_counter() - t0}
    np.savez(spec["out"], user=[r.id for r in users], item=[r.id for r in items],
             P=np.array([r.features for r in users]), Q=np.array([r.features for r in items]))
    spark.stop()
    return res


def spark_factors_scored(train_csv, test_csv, factors_npz, threshold, k) -> dict:
    """Ranking metrics of Spark's factors by :func:`hpcrec.metrics.evaluate`, the code behind
    ``hpcrec evaluate --k``: an hpcrec WALS shell fitted (0 epochs) on the same training
    file gives the same ids and seen items; Spark's vectors are placed by raw id (a user or
    item Spark has no vector for scores 0)."""
    from hpcrec.core.comm import serial
    from hpcrec.metrics import evaluate
    from hpcrec.mf import WALS
    z = np.load(factors_npz)
    shell = WALS(factors=z["P"].shape[1], epochs=0, threshold=threshold).fit(str(train_csv), serial())
    for side, ids, raw, vecs in (("P", shell.user_ids, z["user"], z["P"]),
                                 ("Q", shell.item_ids, z["item"], z["Q"])):
        ids = np.asarray(ids).astype(np.int64)
        order = np.argsort(ids)
        at = np.minimum(np.searchsorted(ids, raw, sorter=order), len(ids) - 1)
        known = ids[order[at]] == raw
        full = np.zeros((len(ids), vecs.shape[1]), dtype=shell.P.dtype)
        full[order[at[known]]] = vecs[known]
        setattr(shell, side, full)
    return evaluate(shell, str(test_csv), k=k, comm=serial(), threshold=threshold)


RUNS = {"hpcrec": run_hpcrec, "implicit": run_implicit, "spark": run_spark_implicit,
        "spark-explicit": run_spark_explicit, "spark-implicit-csv": run_spark_implicit_csv}


# -- the modes (in the parent) ----------------------------------------------------------------

def emit(rec, records):
    records.append(rec)
    print(json.dumps(rec), flush=True)


def quality(args, records):
    contenders = [("hpcrec WALS (CG, defaults)", "hpcrec", {}),
                  ("hpcrec WALS (Cholesky)", "hpcrec", {"solver": "cholesky"}),
                  ("implicit ALS (CG, defaults)", "implicit", {}),
                  ("Spark ALS implicitPrefs (defaults, local[2])", "spark", {})]
    for fold in args.folds.split(","):
        for name, kind, params in contenders:
            if kind == "spark" and args.no_spark:
                continue
            spec = dict(fold=fold, folder=str(args.data), factors=64, iterations=15, params=params)
            emit({"mode": "quality", "fold": fold, "tool": name,
                  **measure(worker(kind, **spec), {"NUMBA_NUM_THREADS": "1"})}, records)
    print("\n| tool | " + " | ".join(args.folds.split(",")) + " | mean P@10 / NDCG@10 | s / iteration (median) |")
    print("|---|" + "---|" * (len(args.folds.split(",")) + 2))
    for name, _, _ in contenders:
        rs = [r for r in records if r["tool"] == name]
        if rs:
            cells = " | ".join(f"{r['p_at_10']:.3f} / {r['ndcg_at_10']:.3f}" for r in rs)
            print(f"| {name} | {cells} | {np.mean([r['p_at_10'] for r in rs]):.4f} / "
                  f"{np.mean([r['ndcg_at_10'] for r in rs]):.4f} | "
                  f"{np.median([r['s_per_iteration'] for r in rs]):.3f} |")


def speed(args, records):
    variants = args.variants.split(",")
    for d in (int(x) for x in args.factors.split(",")):
        runs = [("hpcrec WALS (CG, 3 steps)", "hpcrec", {}, None),
                ("implicit ALS (CG, 3 steps)", "implicit", {}, None)]
        if "float64" in variants:
            runs.insert(1, ("hpcrec WALS (CG, 3 steps, float64 factors)", "hpcrec", {}, "float64"))
        if "cholesky" in variants and d <= 64:
            runs.insert(1, ("hpcrec WALS (Cholesky)", "hpcrec", {"solver": "cholesky"}, None))
        for name, kind, params, dtype in runs:
            spec = dict(users=args.users, items=args.items, nnz=args.nnz, factors=d,
                        iterations=args.iterations, params=params, dtype=dtype)
            emit({"mode": "speed", "factors": d, "tool": name, "users": args.users,
                  "items": args.items, "nnz": args.nnz,
                  **measure(worker(kind, **spec), {"NUMBA_NUM_THREADS": "1"})}, records)
    print("\n| factors | tool | s / iteration (1 thread) | CPU s / iteration | CPU vs implicit "
          "| P@10 (held-out) | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for r in records:
        ref = [x["cpu_s_per_iteration"] for x in records if x["factors"] == r["factors"]
               and x["tool"].startswith("implicit")]
        ratio = f"{r['cpu_s_per_iteration'] / ref[0]:.2f}x" if ref else "-"
        print(f"| {r['factors']} | {r['tool']} | {r['s_per_iteration']:.3f} | "
              f"{r['cpu_s_per_iteration']:.3f} | {ratio} | {r['p_at_10']:.3f} | {r['peak_tree_mb']:.0f} |")


def ranks(args, records):
    """hpcrec's WALS (defaults, CG) on 1 and 2 ranks on the synthetic set, then
    ``evaluate --k 10`` under MPI inside the same job; with ``--pair``, also two
    independent 1-rank runs at once: what two cores sharing the memory system give
    without any communication (the ceiling of the 2-rank speed-up on this machine)."""
    from concurrent.futures import ThreadPoolExecutor
    spec = dict(users=args.users, items=args.items, nnz=args.nnz, factors=args.factors_one,
                iterations=args.iterations, mpi=True)
    cmd = lambda p: ["mpiexec", "-n", str(p), *worker("hpcrec", **spec)]  # noqa: E731
    for _rep in range(args.repeat):
        for p in (1, 2):
            emit({"mode": "ranks", "tool": f"hpcrec WALS, {p} rank(s)", "factors": args.factors_one,
                  **measure(cmd(p))}, records)
        if args.pair:
            with ThreadPoolExecutor(2) as pool:
                for r in list(pool.map(measure, [cmd(1), cmd(1)])):
                    emit({"mode": "ranks", "tool": "hpcrec WALS, 1 rank, two copies at once",
                          "factors": args.factors_one, **r}, records)
    print("\n| run | s / iteration | CPU s / iteration (all ranks) | CPU s / iteration (busiest rank) "
          "| comm s (fit, max over ranks) | fit s | evaluate --k 10 s | P@10 | peak MB (largest rank) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in records:
        print(f"| {r['tool']} | {r['s_per_iteration']:.2f} | {r['cpu_s_per_iteration']:.2f} | "
              f"{r['cpu_s_per_iteration_max_rank']:.2f} | {r['comm_s_max_rank']:.2f} | {r['fit_s']:.1f} | "
              f"{r['evaluate_s']:.1f} | {r['p_at_10']:.4f} | {r['peak_process_mb']:.0f} |")


def explicit_data(args, records):
    """u1.base tiled ``copies`` times as train.csv, u1.test likewise as test.csv (users of
    copy k offset by k * n_users), so the training set has 80,000 * copies ratings."""
    from hpcrec.io import splits
    train, test = splits.movielens_fold(args.data, "u1")
    args.out.mkdir(parents=True, exist_ok=True)
    n = int(max(train.user_ids.max(), test.user_ids.max()))  # 943: copy k's users are k*n + id
    for name, r in (("train", train), ("test", test)):
        users, items = r.user_ids[r.user].astype(np.int64), r.item_ids[r.item].astype(np.int64)
        with open(args.out / f"{name}.csv", "w") as f:
            f.write("user,item,rating\n")
            for k in range(args.copies):
                rows = np.column_stack([users + k * n, items, r.rating.astype(np.int64)])
                np.savetxt(f, rows, fmt="%d", delimiter=",")
        emit({"file": str(args.out / f"{name}.csv"), "ratings": r.nnz * args.copies}, records)


def explicit(args, records):
    out = Path(tempfile.mkdtemp(prefix="als-bench-"))
    train = ["hpcrec", "-q", "train", str(args.csv), "--model", "als", "--factors", str(args.factors),
             "--epochs", str(args.iterations), "--reg", str(args.reg), "-o"]
    mpi = ["mpiexec", "-n", "2", sys.executable, "-m", "mpi4py", "-m", "hpcrec"]
    one = {"NUMBA_NUM_THREADS": "1"}
    runs = {"hpcrec1": ("hpcrec als, 1 rank", [*train, str(out / "m1.h5")], out / "m1.h5", None),
            "hpcrec1t1": ("hpcrec als, 1 rank, 1 thread", [*train, str(out / "m1.h5")], out / "m1.h5", one),
            "hpcrec2": ("hpcrec als, 2 ranks", [*mpi, *train[1:], str(out / "m2.h5")], out / "m2.h5", None),
            "spark": ("Spark ALS local[2]", worker("spark-explicit", csv=str(args.csv), factors=args.factors,
                                                   iterations=args.iterations, reg=args.reg,
                                                   test=str(args.test) if args.test else None), None, None)}
    tools = [t for t in args.tools.split(",") if not (t == "spark" and args.no_spark)]
    for rep in range(args.repeat):
        for tool in tools:
            name, cmd, model, env = runs[tool]
            rec = {"mode": "explicit", "tool": name, "repeat": rep, "factors": args.factors,
                   "iterations": args.iterations, **load(), **measure(cmd, env)}
            if model is not None and args.test:  # untimed: the model's held-out RMSE
                ev = subprocess.run(["hpcrec", "evaluate", str(model), "--test", str(args.test)],
                                    capture_output=True, text=True, check=True).stdout
                res = json.loads(ev[ev.index("{"):])
                rec["test_rmse"] = res["rmse"]
                rec["test_scored"] = res.get("n_ratings", res.get("n"))
            emit({**rec, **{"load_end": load()["load_start"]}}, records)
    print("\n| tool | wall s | peak MB (tree) | peak MB (largest process) | user s | sys s | test RMSE |")
    print("|---|---|---|---|---|---|---|")
    for r in records:
        print(f"| {r['tool']} | {r['wall_s']:.1f} | {r['peak_tree_mb']:.0f} | "
              f"{r['peak_process_mb']:.0f} | {r['user_s']:.1f} | {r['sys_s']:.1f} | "
              f"{r.get('test_rmse', float('nan')):.4f} |")


def implicit_csv(args, records):
    """hpcrec's WALS (``hpcrec train --model wals --threshold``) on 1 and 2 ranks beside Spark
    ALS ``implicitPrefs`` on the same ratings CSV, same factors, iterations, reg and alpha;
    P/R/NDCG/MAP@k of every model on the held-out file by the same code (untimed)."""
    out = Path(tempfile.mkdtemp(prefix="als-bench-"))
    common = ["--factors", str(args.factors), "--epochs", str(args.iterations), "--reg", str(args.reg),
              "--alpha", str(args.alpha), "--threshold", str(args.threshold)]
    train = ["hpcrec", "-q", "train", str(args.csv), "--model", "wals", *common, "-o"]
    mpi = ["mpiexec", "-n", "2", sys.executable, "-m", "mpi4py", "-m", "hpcrec"]
    runs = {"hpcrec1": ("hpcrec wals, 1 rank", [*train, str(out / "m1.h5")], out / "m1.h5"),
            "hpcrec2": ("hpcrec wals, 2 ranks", [*mpi, *train[1:], str(out / "m2.h5")], out / "m2.h5"),
            "spark": ("Spark ALS implicitPrefs local[2]", worker(
                "spark-implicit-csv", csv=str(args.csv), factors=args.factors, iterations=args.iterations,
                reg=args.reg, alpha=args.alpha, threshold=args.threshold, out=str(out / "spark.npz")),
                out / "spark.npz")}
    for tool in args.tools.split(","):
        name, cmd, model = runs[tool]
        rec = {"mode": "implicit-csv", "tool": name, "factors": args.factors, "iterations": args.iterations,
               "reg": args.reg, "alpha": args.alpha, "threshold": args.threshold, **load(), **measure(cmd)}
        rec["load_end"] = load()["load_start"]
        if tool == "spark":  # untimed from here
            res = spark_factors_scored(args.csv, args.test, model, args.threshold, args.k)
        else:
            ev = subprocess.run(["hpcrec", "evaluate", str(model), "--test", str(args.test), "--k",
                                 str(args.k), "--threshold", str(args.threshold)],
                                capture_output=True, text=True, check=True).stdout
            res = json.loads(ev[ev.index("{"):])
        emit({**rec, **{f"test_{m}": res[m] for m in
                        ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "n_users_ranked")}},
             records)
    print(f"\n| tool | wall s | peak MB (tree) | peak MB (largest process) | user s | sys s "
          f"| P@{args.k} | R@{args.k} | NDCG@{args.k} | users ranked |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in records:
        print(f"| {r['tool']} | {r['wall_s']:.1f} | {r['peak_tree_mb']:.0f} | {r['peak_process_mb']:.0f} | "
              f"{r['user_s']:.1f} | {r['sys_s']:.1f} | {r['test_precision_at_k']:.4f} | "
              f"{r['test_recall_at_k']:.4f} | {r['test_ndcg_at_k']:.4f} | {r['test_n_users_ranked']} |")


def load() -> dict:
    """The 1-minute load average now (recorded at the start and end of every run)."""
    return {"load_start": float(Path("/proc/loadavg").read_text().split()[0])}


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run measure's clean-up
    if len(sys.argv) == 3 and sys.argv[1] == "_worker":
        spec = json.loads(sys.argv[2])
        result = RUNS[spec["kind"]](spec)
        if result is not None:  # rank 0 of an MPI run
            print(json.dumps(result), flush=True)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    q = sub.add_parser("quality")
    q.add_argument("data", type=Path, help="the ml-100k folder")
    q.add_argument("--folds", default=",".join(FOLDS))
    s = sub.add_parser("speed")
    s.add_argument("--users", type=int, default=138_493)
    s.add_argument("--items", type=int, default=26_744)
    s.add_argument("--nnz", type=int, default=20_000_263)
    s.add_argument("--factors", default="64,256")
    s.add_argument("--iterations", type=int, default=3)
    s.add_argument("--variants", default="cholesky,float64",
                   help="extra hpcrec rows: cholesky (d <= 64), float64 (factors in float64)")
    r = sub.add_parser("ranks")
    r.add_argument("--users", type=int, default=138_493)
    r.add_argument("--items", type=int, default=26_744)
    r.add_argument("--nnz", type=int, default=20_000_263)
    r.add_argument("--factors", dest="factors_one", type=int, default=64)
    r.add_argument("--iterations", type=int, default=3)
    r.add_argument("--repeat", type=int, default=1)
    r.add_argument("--pair", action="store_true", help="also two 1-rank runs at once")
    e = sub.add_parser("explicit")
    e.add_argument("csv", type=Path, help="ratings CSV (user,item,rating)")
    e.add_argument("--test", type=Path, help="held-out ratings CSV: RMSE of every model")
    e.add_argument("--tools", default="hpcrec1,hpcrec2,spark", help="runs, in this order")
    e.add_argument("--factors", type=int, default=100)
    e.add_argument("--iterations", type=int, default=20)
    e.add_argument("--reg", type=float, default=0.1, help="hpcrec --reg and Spark regParam")
    e.add_argument("--repeat", type=int, default=1)
    c = sub.add_parser("implicit-csv")
    c.add_argument("csv", type=Path, help="ratings CSV (user,item,rating)")
    c.add_argument("--test", type=Path, required=True, help="held-out ratings CSV")
    c.add_argument("--tools", default="hpcrec1,hpcrec2,spark", help="runs, in this order")
    c.add_argument("--factors", type=int, default=64)
    c.add_argument("--iterations", type=int, default=10)
    c.add_argument("--reg", type=float, default=0.1, help="hpcrec --reg and Spark regParam (both x n_u)")
    c.add_argument("--alpha", type=float, default=1.0)
    c.add_argument("--threshold", type=float, default=4.0, help="ratings >= this are the positives")
    c.add_argument("--k", type=int, default=10)
    x = sub.add_parser("explicit-data")
    x.add_argument("data", type=Path, help="the ml-100k folder")
    x.add_argument("out", type=Path, help="folder for train.csv and test.csv")
    x.add_argument("--copies", type=int, default=25)
    for p in (q, s, r, e, c, x):
        p.add_argument("--no-spark", action="store_true")
        p.add_argument("--json", type=Path, help="also write all records here")
    args = ap.parse_args()
    records: list[dict] = []
    {"quality": quality, "speed": speed, "ranks": ranks, "explicit": explicit,
     "implicit-csv": implicit_csv, "explicit-data": explicit_data}[args.mode](args, records)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
