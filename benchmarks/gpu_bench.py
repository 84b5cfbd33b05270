"""GPU benchmarks: biased-SGD rating updates per second, ALS seconds per iteration, and the
GPU support counting against one CPU core. Writes gpu_bench.json and gpu_bench.md.

    python benchmarks/gpu_bench.py --out DIR            # on a GPU: ML-20M-sized, ~3 min
    python benchmarks/gpu_bench.py --out DIR --smoke    # tiny, NumPy + CUDA simulator

Data: ML-20M-shaped synthetic ratings (138,493 users, 26,744 items, 20,000,263 ratings,
power-law activity and popularity, from :mod:`hpcrec.io.synthetic`); T10I4D100K from
``$HPCREC_DATA/fim`` when present, else the Quest-like synthetic set of the same shape.
Targets of issue 4 (one H100): SGD >= 2e9 updates/s at d = 32, ALS <= 0.15 s per
iteration at d = 256 (explicit ALS by batched Cholesky and by warm-started CG, and the
implicit-feedback WALS by CG, as the CPU models run it), support counting >= 10x one CPU core;
k-NN similarities (ML-1M-sized,
no target) against one CPU core as well. Each section records its
error instead of stopping the others.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ML20M = dict(n_users=138_493, n_items=26_744, n_ratings=20_000_263)
ML1M = dict(n_users=6_040, n_items=3_706, n_ratings=1_000_209)
SMOKE = dict(n_users=60, n_items=40, n_ratings=400)


class Device:
    """The array module and a barrier: CuPy on a GPU, NumPy (+ CUDA simulator) for --smoke."""

    def __init__(self, smoke: bool):
        if smoke:
            self.xp = np
            self.sync = lambda: None
        else:
            import cupy
            self.xp = cupy
            self.sync = cupy.cuda.Device().synchronize

    def timed(self, fn, *args, **kwargs):
        self.sync()
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.sync()
        return time.perf_counter() - t0, out


def device_info(dev: Device) -> dict:
    info = {"python": platform.python_version(), "numpy": np.__version__}
    import numba
    info["numba"] = numba.__version__
    if dev.xp is np:
        return {**info, "gpu": "none (NumPy + CUDA simulator)"}
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    info.update(gpu=props["name"].decode(), gpu_memory_gib=round(props["totalGlobalMem"] / 2**30, 1),
                multiprocessors=props["multiProcessorCount"], cupy=cupy.__version__,
                cuda_runtime=cupy.cuda.runtime.runtimeGetVersion(),
                cuda_driver=cupy.cuda.runtime.driverGetVersion())
    a = cupy.empty(1 << 29, dtype=np.float32)  # 2 GiB: the copy ceiling, bytes read + written
    b = cupy.empty_like(a)
    b[...] = a
    seconds = min(dev.timed(b.__setitem__, Ellipsis, a)[0] for _ in range(5))
    info["copy_bandwidth_gbs"] = round(2 * a.nbytes / seconds / 1e9)
    del a, b
    return info


def bench_sgd(dev: Device, ratings, d: int, epochs: int, dtype, sweep=(0.25, 4)) -> dict:
    """Hogwild SGD epochs on device-resident, once-shuffled ratings; then one epoch for
    each multiple ``sweep`` of the default number of ratings in flight."""
    from hpcrec.kernels import mf_sgd_cuda as K
    from hpcrec.kernels.protocols import Factors, SgdRates
    xp = dev.xp
    rng = np.random.default_rng(0)
    perm = xp.random.RandomState(0).permutation(ratings.nnz)     # shuffled once, on the device
    u, i, r = (xp.asarray(a)[perm] for a in (ratings.user, ratings.item, ratings.rating))
    P = xp.asarray((0.1 * rng.standard_normal((ratings.n_users, d))).astype(dtype))
    Q = xp.asarray((0.1 * rng.standard_normal((ratings.n_items, d))).astype(dtype))
    bu, bi = xp.zeros(ratings.n_users, np.float32), xp.zeros(ratings.n_items, np.float32)
    factors = Factors(P, Q, bu, bi)
    mu = float(ratings.rating.mean())
    hyper = dict(lr=0.005, lr_bias=0.005, reg=0.02, reg_bias=0.02)
    seconds, rmse = [], []
    for epoch in range(epochs + 1):  # epoch 0 compiles the kernel: not timed
        stride, shift = K.epoch_order(ratings.nnz, rng)
        t, sse = dev.timed(K.sgd_hogwild, (u, i, r), factors, SgdRates(mu, **hyper),
                           stride=stride, shift=shift)
        rmse.append(float(np.sqrt(sse / ratings.nnz)))
        if epoch:
            seconds.append(t)
    median = float(np.median(seconds))
    groups = K.default_groups(K.lanes_for(d), ratings.n_users, ratings.n_items)
    speeds = {}
    for g in (max(1, int(groups * f)) for f in sweep):
        stride, shift = K.epoch_order(ratings.nnz, rng)
        t, _ = dev.timed(K.sgd_hogwild, (u, i, r), factors, SgdRates(mu, **hyper),
                         stride=stride, shift=shift, groups=g)
        speeds[g] = ratings.nnz / t
    return {"d": d, "factor_dtype": np.dtype(dtype).name, "ratings": ratings.nnz,
            "epochs_timed": epochs, "seconds_per_epoch": median,
            "updates_per_second": ratings.nnz / median, "groups": groups,
            "updates_per_second_with_groups": speeds, "train_rmse_by_epoch": rmse}


def csr_side(rows, cols, vals, n_rows, xp):
    from hpcrec.kernels.csr import Csr
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return Csr(indptr, xp.asarray(cols[order]), xp.asarray(vals[order].astype(np.float64)),
               (n_rows, -1))


def bench_solvers(dev: Device, G, D: int, dtype, blocks) -> dict:
    """Seconds per 1,000 batched SPD solves of size D, whole (potrfBatched) or blocked."""
    xp = dev.xp
    count = 50 if xp is np else 2000
    rng = np.random.default_rng(1)
    M = xp.asarray(rng.standard_normal((count, D, D)).astype(dtype))
    A = M @ M.transpose(0, 2, 1) + D * xp.eye(D, dtype=dtype)
    b = xp.asarray(rng.standard_normal((count, D)).astype(dtype))
    out = {}
    for block in blocks:
        G.spd_solve(xp, A, b, block)                          # warm-up
        seconds = min(dev.timed(G.spd_solve, xp, A, b, block)[0] for _ in range(3))
        out["whole" if block is None else f"block{block}"] = seconds * 1000 / count
    return out


def bench_als(dev: Device, ratings, d: int, iterations: int, dtype, blocks, model: str = "als",
              solver: str = "cholesky") -> dict:
    """ALS iterations, two half-steps on the device. ``model="als"``: explicit ratings with
    biases and ALS-WR; ``"wals"``: implicit feedback (confidence 1 + rating, preference 1,
    the Gram matrix formed on the device every half-step, as the models do). ``solver``:
    ``"cholesky"`` (the fastest of the variants, measured first) or ``"cg"`` (3 warm-started
    conjugate-gradient steps, no D x D matrix)."""
    from hpcrec.kernels import mf_als_cuda as G
    from hpcrec.kernels.protocols import RowProblem
    xp = dev.xp
    implicit = model == "wals"
    D = d if implicit else d + 1
    block, solvers = None, {}
    if solver == "cholesky":
        solvers = bench_solvers(dev, G, D, dtype, blocks)
        best = min(solvers, key=solvers.get)
        block = None if best == "whole" else int(best[5:])
    cg_steps = 3 if solver == "cg" else 0
    users = csr_side(ratings.user, ratings.item, ratings.rating, ratings.n_users, xp)
    items = csr_side(ratings.item, ratings.user, ratings.rating, ratings.n_items, xp)
    rng = np.random.default_rng(0)
    P = xp.zeros((ratings.n_users, d), dtype=dtype)
    Q = xp.asarray(rng.normal(0, 0.01 if implicit else 0.1, (ratings.n_items, d)).astype(dtype))
    bu, bi = xp.zeros(ratings.n_users, dtype), xp.zeros(ratings.n_items, dtype)
    mu = 0.0 if implicit else float(ratings.rating.mean())
    coef = np.array([1.0, 0.0, 1.0, 1.0, 1.0]) if implicit else np.array([0.0, 1.0, 0.0, -mu, 1.0])
    reg = 0.25 if implicit else 0.05
    sample = rng.choice(ratings.nnz, min(ratings.nnz, 1_000_000), replace=False)
    su, si = xp.asarray(ratings.user[sample]), xp.asarray(ratings.item[sample])
    sr = xp.ones(len(sample)) if implicit else xp.asarray(ratings.rating[sample].astype(np.float64))
    seconds, rmse = [], []
    for it in range(iterations + 1):  # iteration 0 warms up cuBLAS/cuSOLVER: not timed
        def iteration():
            for csr, X, xb, Y, yb in ((users, Q, bi, P, bu), (items, P, bu, Q, bi)):
                gram = X.T.astype(xp.float64) @ X.astype(xp.float64) if implicit else xp.zeros((d, d))
                G.als_half_step(csr, X, xb,
                                RowProblem(coef, gram, not implicit, reg, reg, True, cg_steps),
                                Y, yb, G.GpuSolve(xp, cholesky_block=block))
        t, _ = dev.timed(iteration)
        pred = mu + bu[su] + bi[si] + (P[su] * Q[si]).sum(axis=1)
        rmse.append(float(xp.sqrt(((pred - sr) ** 2).mean())))
        if it:
            seconds.append(t)
    return {"model": model, "solver": solver, "d": d, "dtype": np.dtype(dtype).name,
            "ratings": ratings.nnz, "iterations_timed": iterations,
            "seconds_per_iteration": float(np.median(seconds)),
            "cholesky": (("whole" if block is None else f"block{block}") if solver == "cholesky" else "-"),
            "solve_seconds_per_1000_systems": solvers,
            "rows_solved_per_iteration": ratings.n_users + ratings.n_items,
            "train_rmse_by_iteration (1M-rating sample)": rmse}


def bench_support(dev: Device, min_support: float, smoke: bool) -> dict:
    """Apriori on T10I4D100K: GPU support counting against the CPU path on one thread."""
    import numba

    from hpcrec.core.comm import serial
    from hpcrec.fim.api import apriori
    from hpcrec.io import synthetic
    path = Path(os.environ.get("HPCREC_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    path = path / "fim" / "T10I4D100K.dat"
    data = str(path) if path.exists() and not smoke else synthetic.transactions(
        n_transactions=300 if smoke else 100_000, n_items=50 if smoke else 1000, seed=0)
    source = path.name if isinstance(data, str) else "synthetic Quest T10I4D100K"
    numba.set_num_threads(1)
    runs = {}
    for device in ("cpu",) if smoke else ("cpu", "gpu"):
        apriori(data, min_support, comm=serial(), device=device)  # compile / warm up
        t, frame = dev.timed(apriori, data, min_support, comm=serial(), device=device)
        runs[device] = (t, set(map(frozenset, frame["itemsets"])))
    out = {"data": source, "min_support": min_support, "cpu_threads": 1,
           "cpu_seconds": runs["cpu"][0], "itemsets": len(runs["cpu"][1])}
    if "gpu" in runs:
        out.update(gpu_seconds=runs["gpu"][0], speedup=runs["cpu"][0] / runs["gpu"][0],
                   identical_itemsets=runs["gpu"][1] == runs["cpu"][1])
    return out


def bench_knn(dev: Device, smoke: bool) -> dict:
    """Item-based Pearson similarities (top 200 per item) of an ML-1M-sized set: the GPU
    path against the CPU kernel on one thread, lists compared (integer ratings: equal)."""
    from functools import partial

    import numba

    from hpcrec import kernels
    from hpcrec.io import synthetic
    from hpcrec.kernels import knn_cuda
    from hpcrec.knn import similarity as sims
    # the GPU kernel with the bench's array module (CuPy; NumPy in the smoke run)
    kernels.TABLE[("knn", "gpu")] = partial(knn_cuda.SimilarityRows, xp=dev.xp)
    r = synthetic.ratings(**(SMOKE if smoke else ML1M), seed=1)
    vals = r.rating.astype(np.float64)
    x = sims.from_coo(r.item, r.user, vals, r.n_items, r.n_users)
    y = sims.from_coo(r.user, r.item, vals, r.n_users, r.n_items)
    numba.set_num_threads(1)
    args = (x, y, 0, x.n_rows, "pearson", 1, 100.0, 200)
    runs = {}
    for name in ("cpu", "gpu"):
        sims.neighbor_rows(*args, device=name)  # compile / warm up
        runs[name] = dev.timed(sims.neighbor_rows, *args, device=name)
    return {"ratings": r.nnz, "items": r.n_items, "users": r.n_users, "cpu_threads": 1,
            "cpu_seconds": runs["cpu"][0], "gpu_seconds": runs["gpu"][0],
            "gpu_module": dev.xp.__name__, "speedup": runs["cpu"][0] / runs["gpu"][0],
            "identical_lists": all(np.array_equal(a, b) for a, b in zip(runs["cpu"][1], runs["gpu"][1]))}


def section(results: dict, name: str, fn, *args):
    t0 = time.perf_counter()
    try:
        results[name] = fn(*args)
    except Exception as exc:  # noqa: BLE001 - recorded; the other sections still run
        results[name] = {"error": f"{type(exc).__name__}: {exc}",
                         "traceback": traceback.format_exc(limit=8)}
    print(f"[{time.perf_counter() - t0:7.1f} s] {name}: {json.dumps(results[name])[:300]}",
          flush=True)


def markdown(results: dict) -> str:
    info = results["device"]
    lines = [f"# GPU benchmarks on {info.get('gpu', '?')}", "",
             "| what | figure | target (H100) |", "| --- | --- | --- |"]
    for key, res in results.items():
        if key.startswith("sgd") and "updates_per_second" in res:
            lines.append(f"| biased SGD, d={res['d']}, {res['factor_dtype']} factors, "
                         f"{res['ratings']:,} ratings | {res['updates_per_second']:.3g} updates/s "
                         f"({res['seconds_per_epoch'] * 1e3:.1f} ms/epoch) | >= 2e9 updates/s |")
        elif key.startswith(("als", "wals")) and "seconds_per_iteration" in res:
            how = f"Cholesky {res['cholesky']}" if res["solver"] == "cholesky" else "CG, 3 steps"
            lines.append(f"| {res['model'].upper()}, d={res['d']}, {res['dtype']}, "
                         f"{res['ratings']:,} ratings, {how} | {res['seconds_per_iteration']:.3f} "
                         f"s/iteration | <= 0.15 s |")
        elif key == "support" and "cpu_seconds" in res:
            fig = (f"GPU {res['gpu_seconds']:.2f} s vs 1 core {res['cpu_seconds']:.2f} s = "
                   f"{res['speedup']:.1f}x, identical: {res['identical_itemsets']}"
                   if "gpu_seconds" in res else f"CPU {res['cpu_seconds']:.2f} s")
            lines.append(f"| apriori support counting, {res['data']}, "
                         f"{res['min_support']:g} | {fig} | >= 10x |")
        elif key == "knn" and "gpu_seconds" in res:
            lines.append(f"| item k-NN Pearson top-200, {res['ratings']:,} ratings | GPU "
                         f"{res['gpu_seconds']:.2f} s vs 1 core {res['cpu_seconds']:.2f} s = "
                         f"{res['speedup']:.1f}x, identical: {res['identical_lists']} | (none) |")
        elif isinstance(res, dict) and "error" in res:
            lines.append(f"| {key} | FAILED: {res['error'][:120]} | |")
    lines += ["", "```", json.dumps(info, indent=1), "```", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-results")))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes on NumPy + the CUDA simulator")
    ap.add_argument("--only", nargs="+", metavar="SECTION",
                    help="run these sections only (e.g. a rerun of failed ones): sgd_float32, "
                         "als_float32, ..., support, knn")
    args = ap.parse_args(argv)
    from hpcrec.io import synthetic
    dev = Device(args.smoke)
    results = {}
    section(results, "device", device_info, dev)
    t0 = time.perf_counter()
    ratings = synthetic.ratings(**(SMOKE if args.smoke else ML20M), seed=0)
    print(f"[{time.perf_counter() - t0:7.1f} s] generated {ratings.nnz:,} ratings", flush=True)
    d_sgd, d_als, n = (4, 8, 1) if args.smoke else (32, 256, 5)
    blocks = (None, 4) if args.smoke else (None, 32, 64, 128)
    sweep = (0.25,) if args.smoke else (0.25, 4)
    sections = [  # the float32 cases and the exactness checks first, the float64 ones last
        ("sgd_float32", bench_sgd, dev, ratings, d_sgd, n, np.float32, sweep),
        ("als_float32", bench_als, dev, ratings, d_als, min(n, 3), np.float32, blocks),
        ("als_cg_float32", bench_als, dev, ratings, d_als, min(n, 3), np.float32, (), "als", "cg"),
        ("wals_cg_float32", bench_als, dev, ratings, d_als, min(n, 3), np.float32, (), "wals", "cg"),
        ("support", bench_support, dev, 0.05 if args.smoke else 0.001, args.smoke),
        ("knn", bench_knn, dev, args.smoke),
        ("sgd_float16", bench_sgd, dev, ratings, d_sgd, n, np.float16, ()),
        ("als_float64", bench_als, dev, ratings, d_als, min(n, 2), np.float64, blocks),
        ("wals_cg_float64", bench_als, dev, ratings, d_als, min(n, 2), np.float64, (), "wals", "cg"),
    ]
    unknown = set(args.only or ()) - {name for name, *_ in sections}
    if unknown:
        ap.error(f"no such section: {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, fn, *fn_args in sections:
        if args.only and name not in args.only:
            continue
        section(results, name, fn, *fn_args)
        # Written after every section: a run stopped at its time limit keeps what it measured.
        (args.out / "gpu_bench.json").write_text(json.dumps(results, indent=1))
        (args.out / "gpu_bench.md").write_text(markdown(results))
    print(markdown(results))
    return int(any(isinstance(v, dict) and "error" in v for v in results.values()))


if __name__ == "__main__":
    sys.exit(main())
