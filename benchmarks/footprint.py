"""Where an in-process miner's memory goes before any data: hpcrec against pyfim.

One fresh child per tool does what ``fim_bench.py``'s child does, step by step, and reports
its resident memory after each step (VmRSS, its file-backed and anonymous parts, and the
peak VmHWM; MB): the interpreter, NumPy, h5py (hpcrec reads the generated sets from
HDF5), Numba, hpcrec's miner modules, the data read, the kernels loaded (a tiny mine, as
fim_bench does before timing), one mine at the given support. The pyfim child: the
interpreter, pyfim, the rows read as Python lists, the same mine. Then hpcrec's largest
mappings (``/proc/self/smaps``). Pss (``smaps_rollup``) charges each shared page to its
sharers: with ``--ranks 2`` the hpcrec child runs as two processes under ``mpiexec`` (each
its own serial run, not in step; the first to finish reports), which share the libraries'
clean pages. Prints a Markdown table; writes JSON to --out.

    python benchmarks/footprint.py --data dense-chess --support 0.8 --out footprint.json
"""
from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

from fim_bench import dataset_path, plain_rows, read_plain

FIELDS = ("VmRSS", "RssFile", "RssAnon", "VmHWM", "Pss")


def status() -> dict[str, float]:
    rows = {}
    for name in ("status", "smaps_rollup"):
        with open(f"/proc/self/{name}") as f:
            rows.update(line.split(":", 1) for line in f if line.rstrip().endswith("kB"))
    return {k: round(int(rows[k].split()[0]) / 1024, 1) for k in FIELDS}


def mappings(top: int = 6) -> list[tuple[str, float]]:
    """The ``top`` largest resident mappings by file name ([anon], [heap]), MB."""
    rss = collections.Counter()
    name = None
    for line in open("/proc/self/smaps"):
        word = line.split(None, 1)[0]
        if not word.endswith(":"):                     # a mapping's header line
            fields = line.split()
            name = fields[5].rsplit("/", 1)[-1] if len(fields) > 5 else "[anon]"
        elif word == "Rss:":
            rss[name] += int(line.split()[1]) / 1024
    return [(n, round(mb, 1)) for n, mb in rss.most_common(top)]


def child(tool: str, path: Path, support: float, count: int) -> None:
    steps = [("python", status())]
    if tool == "hpcrec":
        import numpy  # noqa: F401
        steps.append(("+ numpy", status()))
        import h5py  # noqa: F401
        steps.append(("+ h5py", status()))
        import numba  # noqa: F401
        steps.append(("+ numba", status()))
        from hpcrec.core.comm import serial
        from hpcrec.fim import mine_itemsets
        from hpcrec.io import load_transactions
        steps.append(("+ hpcrec miner modules", status()))
        tx = load_transactions(path, serial())
        steps.append(("+ data read", status()))
        mine_itemsets([[0, 1, 2, 3, 4]] * 4 + [[0, 1]], 0.5, "fpgrowth", comm=serial())
        steps.append(("+ kernels loaded (tiny mine)", status()))
        found = len(mine_itemsets(tx, support, "fpgrowth", comm=serial()))
    else:
        import fim
        steps.append(("+ pyfim", status()))
        rows = read_plain(plain_rows(path))
        steps.append(("+ data read", status()))
        found = len(fim.fpgrowth(rows, target="s", supp=-count, zmin=1, report="a"))
    steps.append((f"+ fpgrowth at {support:g} ({found:,} itemsets)", status()))
    print(json.dumps({"tool": tool, "steps": steps, "mappings": mappings()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="dense-chess")
    ap.add_argument("--support", type=float, default=0.8)
    ap.add_argument("--workdir", default="/tmp/hpcrec-footprint")
    ap.add_argument("--out", default="footprint.json")
    ap.add_argument("--ranks", type=int, default=1, help="hpcrec child processes (mpiexec -n)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    path = dataset_path(args.data, Path(args.workdir))
    if args.child:
        return child(args.child, path, args.support, args.count)
    from hpcrec.fim.result import min_count  # pyfim's threshold, as fim_bench's
    with open(plain_rows(path)) as rows:               # (the text is written once, here)
        count = min_count(args.support, sum(1 for _ in rows))
    mpiexec = [str(Path(sys.executable).with_name("mpiexec")), "-n", str(args.ranks)]
    runs = [json.loads(subprocess.run([*(mpiexec if tool == "hpcrec" and args.ranks > 1 else []),
                                       sys.executable, __file__, "--child", tool, "--data", args.data,
                                       "--support", str(args.support), "--count", str(count),
                                       "--workdir", args.workdir],
                                      capture_output=True, text=True, check=True).stdout.splitlines()[0])
            for tool in ("hpcrec", "pyfim")]
    Path(args.out).write_text(json.dumps(runs, indent=1))
    print(f"| {args.data} ({args.ranks} hpcrec process(es)) | step | "
          + " | ".join(f"{f} MB" for f in FIELDS) + " |\n|---|---|" + "---|" * len(FIELDS))
    for run in runs:
        for step, values in run["steps"]:
            print(f"| {run['tool']} | {step} | " + " | ".join(f"{values[f]:.0f}" for f in FIELDS) + " |")
    print("\nhpcrec's largest mappings (resident MB): "
          + ", ".join(f"{n} {mb:.0f}" for n, mb in runs[0]["mappings"]))


if __name__ == "__main__":
    main()
