"""Itemset mining side by side: hpcrec (1 and 2 ranks) against mlxtend, pyfim, efficient-apriori.

For each data set and tool, one child process reads the data into the tool's native input
(not timed), warms up (Numba kernels load from the cache), then mines down a ladder of
min_support values, highest first, printing one JSON line per run: mining seconds, peak
resident memory of the process so far (data included; for 2 ranks the larger rank), and
the number of itemsets. Runs under 2 s are repeated (best of ``--repeat``). A tool whose run takes longer than ``--budget`` seconds is not run
at the lower supports of that data set (recorded as skipped): runs grow about 3x per
step of the default ladder, so the default budget of 20 s skips runs beyond ~60 s. All tools get the same
threshold: the smallest count c with c / n >= min_support (mlxtend's rule); pyfim is given
that count, efficient-apriori its own fraction (it keeps support > min_support - see the
README). The itemset counts must agree; the table marks any disagreement. A run still
going after twice the budget is abandoned (recorded as stopped), with the lower supports.

    python benchmarks/fim_bench.py                       # the default ladder, a few minutes
    python benchmarks/fim_bench.py --supports 0.001 --tools hpcrec-fpgrowth pyfim-fpgrowth
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HPCREC_DATA", ROOT.parent / "shared" / "data")) / "fim"
LADDER = [0.01, 0.002, 0.0005, 0.0001]
TOOLS = ["hpcrec-apriori", "hpcrec-fpgrowth", "hpcrec-fpmax", "hpcrec-apriori@2", "hpcrec-fpgrowth@2",
         "hpcrec-fpmax@2", "pyfim-fpgrowth", "pyfim-eclat", "pyfim-fpmax", "mlxtend-apriori",
         "mlxtend-fpgrowth", "efficient-apriori"]


def peak_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- children: one tool, one data set, the whole ladder ---------------------------------------

def child(tool: str, path: Path, supports: list[float], budget: float, repeat: int) -> None:
    from hpcrec.comm import serial, world
    from hpcrec.fim.result import min_count
    from hpcrec.io import load_transactions
    name, _, ranks = tool.partition("@")
    family, _, algorithm = name.partition("-")
    comm = world() if family == "hpcrec" else serial()
    tx = load_transactions(path, comm if family == "hpcrec" else serial())
    n = tx.n_total
    if family == "hpcrec":
        from hpcrec.fim import mine_itemsets
        from hpcrec.fim.frames import itemsets_frame
        from hpcrec.timing import Timer
        # load (or compile) every Numba kernel before timing: a tiny set reaching level 5
        mine_itemsets([[0, 1, 2, 3, 4]] * 4 + [[0, 1]], 0.5, algorithm, comm=comm)
        mine_itemsets(tx, 0.05, algorithm, comm=comm)

        def run(s):
            timer = Timer(comm)
            comm.barrier()
            t0 = time.perf_counter()
            res = mine_itemsets(tx, s, algorithm, comm=comm, timer=timer)
            comm.barrier()
            seconds = time.perf_counter() - t0
            t1 = time.perf_counter()
            itemsets_frame(res)
            extra = {"frame_s": time.perf_counter() - t1,
                     "phases": {k: round(v, 4) for k, v in timer.phases.items()}}
            return seconds, len(res), extra
    elif family == "pyfim":
        import fim
        rows = tx.to_lists()
        target = "m" if algorithm == "fpmax" else "s"
        miner = fim.eclat if algorithm == "eclat" else fim.fpgrowth
        miner(rows, target=target, supp=-min_count(0.05, n), zmin=1)

        def run(s):
            t0 = time.perf_counter()
            out = miner(rows, target=target, supp=-min_count(s, n), zmin=1, report="a")
            return time.perf_counter() - t0, len(out), {}
    elif family == "mlxtend":
        import numpy as np
        import pandas as pd
        import scipy.sparse as sp
        from mlxtend.frequent_patterns import apriori, fpgrowth
        mat = sp.csr_matrix((np.ones(tx.nnz, dtype=bool), tx.indices, tx.indptr),
                            shape=(tx.n_rows, tx.n_items))
        df = pd.DataFrame.sparse.from_spmatrix(mat, columns=[str(x) for x in tx.labels])

        def run(s):
            t0 = time.perf_counter()
            if algorithm == "apriori":
                out = apriori(df, min_support=s, low_memory=True)
            else:
                out = fpgrowth(df, min_support=s)
            return time.perf_counter() - t0, len(out), {}
    else:
        from efficient_apriori.itemsets import itemsets_from_transactions
        rows = [tuple(r) for r in tx.to_lists()]

        def run(s):
            t0 = time.perf_counter()
            found, _ = itemsets_from_transactions(rows, s, max_length=1000)
            return time.perf_counter() - t0, sum(len(v) for v in found.values()), {}

    skipped_from = None
    for s in sorted(supports, reverse=True):
        if skipped_from is not None:
            record = {"support": s, "skipped": f"over {budget:g} s at {skipped_from:g}"}
        else:
            watchdog = _watchdog(tool, path, s, budget, comm.rank == 0)
            seconds, count, extra = run(s)
            watchdog.cancel()
            for _ in range(repeat - 1 if seconds < 2.0 else 0):  # short runs: best of `repeat`
                again = run(s)
                if again[0] < seconds:
                    seconds, count, extra = again
            peak = comm.allreduce_scalar(peak_mb(), "max") if family == "hpcrec" else peak_mb()
            record = {"support": s, "seconds": round(seconds, 4), "itemsets": count,
                      "peak_mb": round(peak, 1), **extra}
            if seconds > budget:
                skipped_from = s
        if comm.rank == 0:
            print(json.dumps({"tool": tool, "data": path.name, "ranks": comm.size, **record}),
                  flush=True)


def _watchdog(tool: str, path: Path, support: float, budget: float, report: bool):
    """End this child if one run exceeds 2 x budget: the lower supports count as skipped."""
    import threading

    def expire():
        if report:
            print(json.dumps({"tool": tool, "data": path.name, "support": support,
                              "skipped": f"stopped after {2 * budget:g} s"}), flush=True)
        os._exit(0)
    timer = threading.Timer(2 * budget, expire)
    timer.daemon = True
    timer.start()
    return timer


# -- parent: every tool on every data set, then a table ----------------------------------------

def launch(tool: str, path: Path, supports, budget: float, repeat: int,
           timeout: float) -> list[dict]:
    py = sys.executable
    cmd = [py, __file__, "--child", tool, "--data-file", str(path), "--budget", str(budget),
           "--repeat", str(repeat),
           "--supports", *map(str, supports)]
    if "@" in tool:
        cmd = [str(Path(py).with_name("mpiexec")), "-n", tool.split("@")[1], py, "-m", "mpi4py", *cmd[1:]]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out, err = proc.stdout, proc.stderr if proc.returncode else ""
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = f"killed after {timeout:g} s"
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    done = {r["support"] for r in records}
    for s in supports:
        if s not in done:
            records.append({"tool": tool, "data": path.name, "support": s,
                            "skipped": err.strip().splitlines()[-1] if err.strip() else "no result"})
    return records


def table(records: list[dict]) -> str:
    lines = []
    for data in dict.fromkeys(r["data"] for r in records):
        lines += [f"\n**{data}** — seconds (mining, after reading) / itemsets / peak MB\n",
                  "| min_support | " + " | ".join(_tools_in(records, data)) + " |",
                  "|---" * (1 + len(_tools_in(records, data))) + "|"]
        for s in sorted({r["support"] for r in records if r["data"] == data}, reverse=True):
            cells, counts = [], set()
            for tool in _tools_in(records, data):
                r = next((x for x in records if x["data"] == data and x["tool"] == tool
                          and x["support"] == s), None)
                if r is None or "skipped" in r:
                    cells.append("skipped" if r is None else f"skipped ({r['skipped']})")
                    continue
                cells.append(f"{r['seconds']:.3g} / {r['itemsets']:,} / {r['peak_mb']:.0f}")
                if not tool.split("@")[0].endswith("fpmax"):  # maximal sets are fewer
                    counts.add(r["itemsets"])
            flag = "" if len(counts) <= 1 else " **counts disagree**"
            lines.append(f"| {s:g}{flag} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _tools_in(records, data):
    """The tools with results on ``data``, in the order of TOOLS."""
    return [t for t in TOOLS if any(r["tool"] == t and r["data"] == data for r in records)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["retail.dat", "T10I4D100K.dat"])
    ap.add_argument("--supports", nargs="+", type=float, default=LADDER)
    ap.add_argument("--tools", nargs="+", default=TOOLS, choices=TOOLS)
    ap.add_argument("--budget", type=float, default=20.0,
                    help="a tool slower than this (s) skips the lower supports, where a "
                         "run would take about 3x longer (default 20: skip beyond ~60 s)")
    ap.add_argument("--repeat", type=int, default=3, help="runs under 2 s: best of this many")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fim_bench.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--table", type=Path, metavar="JSON", help="only print the table of a results file")
    args = ap.parse_args()
    if args.table:
        saved = json.loads(args.table.read_text())
        print(f"machine: {saved['machine']}\ncommand: {saved['command']}")
        print(table(saved["records"]))
        return
    if args.child:
        child(args.child, args.data_file, args.supports, args.budget, args.repeat)
        return
    records = []
    for name in args.datasets:
        path = DATA / name
        if not path.exists():
            sys.exit(f"missing {path} (set HPCREC_DATA)")
        for tool in args.tools:
            got = launch(tool, path, args.supports, args.budget, args.repeat,
                         4 * args.budget + 120)
            for r in got:
                print(json.dumps(r), file=sys.stderr, flush=True)
            records += got
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
              f"Python {platform.python_version()}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/fim_bench.py " + " ".join(sys.argv[1:])
    args.out.write_text(json.dumps({"machine": machine, "command": command,
                                    "records": records}, indent=1))
    print(f"machine: {machine}\ncommand: {command}")
    print(table(records))


if __name__ == "__main__":
    main()
