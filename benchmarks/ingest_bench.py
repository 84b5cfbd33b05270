"""Ingestion and HDF5 reads, side by side, interleaved, whole processes.

Writes (once, into --workdir) a ratings CSV shaped like ML-25M's ``ratings.csv`` and a
Quest-like FIMI file, then runs, interleaved ``--repeat`` times, each as a fresh process:

* ``pandas``: a plain ``pandas.read_csv`` + ``h5py`` script on the ratings CSV (the peer);
* ``hpcrec convert`` of the ratings CSV, of the FIMI file and of the same baskets as a
  basket CSV (items as words) on 1 and 2 MPI ranks, through the console script's entry
  (``hpcrec.cli.run``);
* the serial readers that ``convert`` used before (kept as its fall-back) on the same files.

Every child reports its peak RSS (``getrusage``; under MPI the largest rank's); the CPU
seconds (user + system, all ranks) are taken from the waited-for children, so a wall time
spent waiting for the disk (``convert`` fsyncs its output before the rename; the pandas
script does not) shows as wall minus CPU. Then the
HDF5 part: a partitioned read of each converted file by rank 0 of 2 from the page cache
(MB/s of its slice), item counting (``np.bincount``), and the same read from a
gzip-compressed copy (the layout before). Prints a Markdown table and writes JSON to
--out. (Start-up has its own harness: ``benchmarks/startup_bench.py``.)

    python benchmarks/ingest_bench.py --rows 2000000 --transactions 1000000 --out results.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD_PEAK = "import atexit, resource, sys; atexit.register(lambda: print('PEAK_KB', " \
             "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
PANDAS_SCRIPT = CHILD_PEAK + """
import h5py, pandas as pd
df = pd.read_csv(sys.argv[1])
with h5py.File(sys.argv[2], "w") as fh:
    for col in df.columns:
        fh.create_dataset(col, data=df[col].to_numpy())
"""
# The ``hpcrec`` console script's entry (``cli.run``: the start-up objects frozen out of the
# GC, the GC not walking them again at exit), as ``hpcrec convert`` runs; ``--child-main``
# takes ``cli.main`` alone, as this harness did up to session 13.
HPCREC_CLI = CHILD_PEAK + "from hpcrec.cli import run\nrun()\n"
HPCREC_MAIN = CHILD_PEAK + "from hpcrec.cli import main\nsys.exit(main(sys.argv[1:]))\n"
SERIAL_READER = CHILD_PEAK + """
from hpcrec.io import formats, ratings, transactions, write_h5
path = sys.argv[1]
data = transactions.read_fimi(path) if path.endswith(".dat") else ratings.read_ml_csv(path)
write_h5(data, sys.argv[2])
"""


def make_ratings_csv(path: Path, rows: int, seed: int = 0) -> None:
    """userId,movieId,rating,timestamp like ML-25M (162k users, 59k movies, half stars)."""
    rng = np.random.default_rng(seed)
    with path.open("w") as fh:
        fh.write("userId,movieId,rating,timestamp\n")
        for lo in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - lo)
            cols = (np.sort(rng.integers(1, 162_542, n)), rng.zipf(1.3, n) % 209_172 + 1,
                    rng.integers(1, 11, n) / 2, rng.integers(789_652_009, 1_574_327_703, n))
            fh.write("\n".join(f"{u},{i},{r:g},{t}" for u, i, r, t in zip(*(c.tolist() for c in cols))))
            fh.write("\n")


def make_fimi(path: Path, rows: int, seed: int = 0) -> None:
    from hpcrec.io.synthetic import transactions
    tx = transactions(rows, seed=seed, n_items=10_000, avg_len=10.0)
    labels, ptr, ix = tx.labels, tx.rows.indptr, tx.rows.indices
    with path.open("w") as fh:
        for lo in range(0, tx.n_rows, 100_000):
            hi = min(tx.n_rows, lo + 100_000)
            fh.write("\n".join(" ".join(map(str, labels[ix[ptr[r]:ptr[r + 1]]].tolist()))
                               for r in range(lo, hi)))
            fh.write("\n")


def make_baskets_csv(dat: Path, path: Path) -> None:
    """The FIMI file's baskets as a basket CSV of words (``i17,i342,...``)."""
    with dat.open() as src, path.open("w") as fh:
        for line in src:
            fh.write(",".join(f"i{x}" for x in line.split()) + "\n")


def make_inputs(work: Path, rows: int, transactions: int) -> None:
    """The three input files in ``work``, (re)made unless they have the asked-for lines."""
    csv, dat = work / "ratings.csv", work / "baskets.dat"
    if not csv.exists() or sum(1 for _ in csv.open()) != rows + 1:
        make_ratings_csv(csv, rows)
    if not dat.exists() or sum(1 for _ in dat.open()) != transactions:
        make_fimi(dat, transactions)
        make_baskets_csv(dat, work / "baskets.csv")
    if not (work / "baskets.csv").exists():
        make_baskets_csv(dat, work / "baskets.csv")


def run(cmd: list[str], env: dict, cwd: Path) -> dict:
    """One child from the scratch folder ``cwd`` (``python -c`` puts the current folder
    first on sys.path: from a source tree it would import that tree, not PYTHONPATH's)."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    peaks = [int(kb) for kb in re.findall(r"PEAK_KB (\d+)", proc.stderr)]   # ranks' lines may interleave
    return {"seconds": wall, "cpu_s": cpu, "peak_mb": max(peaks) / 1024 if peaks else None}


def ingest(args, work: Path, env: dict) -> list[dict]:
    py, mpiexec = sys.executable, str(Path(sys.executable).with_name("mpiexec"))
    csv, dat, bcsv = work / "ratings.csv", work / "baskets.dat", work / "baskets.csv"
    cli = HPCREC_MAIN if args.child_main else HPCREC_CLI
    cases = {
        "pandas.read_csv + h5py (ratings)": [py, "-c", PANDAS_SCRIPT, str(csv), str(work / "p.h5")],
        "hpcrec convert, 1 rank (ratings)": [py, "-c", cli, "-q", "convert", str(csv),
                                             "--format", "ratings-csv", "-o", str(work / "r1.h5")],
        "hpcrec convert, 2 ranks (ratings)": [mpiexec, "-n", "2", py, "-m", "mpi4py", "-c", cli,
                                              "-q", "convert", str(csv), "--format", "ratings-csv",
                                              "-o", str(work / "r2.h5")],
        "serial reader before (ratings)": [py, "-c", SERIAL_READER, str(csv), str(work / "rs.h5")],
        "hpcrec convert, 1 rank (FIMI)": [py, "-c", cli, "-q", "convert", str(dat),
                                          "-o", str(work / "f1.h5")],
        "hpcrec convert, 2 ranks (FIMI)": [mpiexec, "-n", "2", py, "-m", "mpi4py", "-c", cli,
                                           "-q", "convert", str(dat), "-o", str(work / "f2.h5")],
        "serial reader before (FIMI)": [py, "-c", SERIAL_READER, str(dat), str(work / "fs.h5")],
        "hpcrec convert, 1 rank (basket CSV)": [py, "-c", cli, "-q", "convert", str(bcsv),
                                                "--format", "baskets-csv", "-o", str(work / "b1.h5")],
        "hpcrec convert, 2 ranks (basket CSV)": [mpiexec, "-n", "2", py, "-m", "mpi4py", "-c", cli,
                                                 "-q", "convert", str(bcsv), "--format", "baskets-csv",
                                                 "-o", str(work / "b2.h5")],
    }
    if args.no_serial:
        cases = {k: v for k, v in cases.items() if "before" not in k}
    envs = {name: env for name in cases}
    if args.baseline:     # the same convert runs from another source tree, through PYTHONPATH
        base_env = {**env, "PYTHONPATH": str(Path(args.baseline).resolve())}
        for name in [n for n in cases if n.startswith("hpcrec convert")]:
            base = name.replace("hpcrec convert", "baseline convert")
            cases[base] = [str(Path(a).with_name("b-" + Path(a).name)) if a.endswith(".h5")
                           else a for a in cases[name]]
            envs[base] = base_env
    if args.cases:
        cases = {k: v for k, v in cases.items() if any(c in k for c in args.cases)}
    results = {name: [] for name in cases}
    for name, cmd in cases.items():                    # untimed: page cache, Numba's cache
        run(cmd, envs[name], work)
    for _ in range(args.repeat):                       # interleaved
        for name, cmd in cases.items():
            results[name].append(run(cmd, envs[name], work))
    out = []
    for name, runs in results.items():
        mb = (csv if "ratings" in name else bcsv if "basket" in name else dat).stat().st_size / 1e6
        best = min(r["seconds"] for r in runs)
        out.append({"case": name, "input_mb": mb, "best_s": best,
                    "cpu_s": min(r["cpu_s"] for r in runs),
                    "median_s": float(np.median([r["seconds"] for r in runs])),
                    "mb_per_s": mb / best, "peak_mb": max(r["peak_mb"] or 0 for r in runs)})
    return out


def reads(work: Path) -> list[dict]:
    """Rank 0 of 2 reading its slice from the page cache; bincount over it; gzip for contrast."""
    import h5py

    from hpcrec.io import ratings, transactions
    out = []
    for name, read in (("f1.h5", transactions.read_h5), ("r1.h5", ratings.read_h5)):
        src = work / name
        if not src.exists():                            # its format's convert was not run
            continue
        gz = work / f"gz-{name}"
        with h5py.File(src, "r") as a, h5py.File(gz, "w") as b:
            for k, v in a.attrs.items():
                b.attrs[k] = v
            for k, ds in a.items():
                b.create_dataset(k, data=ds[()], compression="gzip" if ds.size > 4096 else None)
        for layout, path in (("contiguous (now)", src), ("gzip (before)", gz)):
            read(path, 0, 2)                            # into the page cache
            t0 = time.perf_counter()
            part = read(path, 0, 2)
            sec = time.perf_counter() - t0
            arrays = ([part.rows.indices] if hasattr(part, "rows")
                      else [part.user, part.item, part.rating, part.timestamp])
            nbytes = sum(a.nbytes for a in arrays)
            codes = arrays[0]
            n_bins = part.n_items if hasattr(part, "rows") else part.n_users
            t0 = time.perf_counter()
            np.bincount(codes, minlength=n_bins)
            count = time.perf_counter() - t0
            out.append({"file": name, "layout": layout, "slice_mb": nbytes / 1e6, "read_s": sec,
                        "read_mb_per_s": nbytes / 1e6 / sec,
                        "bincount_mb_per_s": codes.nbytes / 1e6 / count})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000, help="ratings in the CSV")
    ap.add_argument("--transactions", type=int, default=1_000_000, help="rows of the FIMI file")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "hpcrec-ingest"))
    ap.add_argument("--no-serial", action="store_true", help="skip the old serial readers (slow)")
    ap.add_argument("--baseline", help="source tree of another hpcrec version (e.g. a git archive, "
                    "with hpcrec/kernels linked to kernels/): its convert runs too, interleaved")
    ap.add_argument("--cases", nargs="*", help="run only the cases whose name contains one of these")
    ap.add_argument("--no-reads", action="store_true", help="skip the HDF5 read part")
    ap.add_argument("--child-main", action="store_true", help="children call hpcrec.cli.main "
                    "(the harness before session 14), not the console script's entry run")
    ap.add_argument("--reuse", action="store_true", help="take the workdir's input files as they "
                    "are (no line counts: files made by hand, e.g. the 40M files concatenated)")
    ap.add_argument("--out", default="ingest_bench.json")
    args = ap.parse_args()
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        make_inputs(work, args.rows, args.transactions)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for name in ("HPCREC_EXPECT_RANKS", "PYTHONDONTWRITEBYTECODE"):   # bytecode cached, as installed
        env.pop(name, None)
    load = os.getloadavg()
    result = {"load_before": load, "ingest": ingest(args, work, env),
              "reads": [] if args.no_reads else reads(work)}
    result["load_after"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(result, indent=1))
    ing = {r["case"]: r for r in result["ingest"]}
    peer = ing.get("pandas.read_csv + h5py (ratings)", {"best_s": float("nan")})
    print(f"load average before {load[0]:.1f}, after {result['load_after'][0]:.1f}\n")
    print("| case | input MB | best s | median s | CPU s | MB/s | peak MB (largest rank) | time vs pandas |")
    print("|---|---|---|---|---|---|---|---|")
    for r in result["ingest"]:
        print(f"| {r['case']} | {r['input_mb']:.0f} | {r['best_s']:.2f} | {r['median_s']:.2f} | "
              f"{r['cpu_s']:.2f} | {r['mb_per_s']:.1f} | {r['peak_mb']:.0f} | "
              f"{r['best_s'] / peer['best_s']:.2f}x |")
    for who in ("hpcrec", "baseline"):
        for kind in ("ratings", "FIMI", "basket CSV"):
            one, two = ing.get(f"{who} convert, 1 rank ({kind})"), ing.get(f"{who} convert, 2 ranks ({kind})")
            if one and two:
                print(f"\n{who} {kind}: 2 ranks vs 1 rank: {one['best_s'] / two['best_s']:.2f}x")
    print("\n| file | layout | slice MB | read s | read MB/s | bincount MB/s |\n|---|---|---|---|---|---|")
    for r in result["reads"]:
        print(f"| {r['file']} | {r['layout']} | {r['slice_mb']:.0f} | {r['read_s']:.3f} | "
              f"{r['read_mb_per_s']:.0f} | {r['bincount_mb_per_s']:.0f} |")


if __name__ == "__main__":
    main()
