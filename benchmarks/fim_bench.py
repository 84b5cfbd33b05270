"""Itemset mining side by side: hpcrec (1 and 2 ranks) against mlxtend, pyfim, efficient-apriori.

Data: the FIMI files in ``$HPCREC_DATA/fim`` (retail.dat, T10I4D100K.dat) and the ladder
of generated sets (``GENERATED``: three dense one-hot sets shaped like chess, mushroom and
connect, and a kosarak-like long-tail sparse set), written seeded into ``--data-dir`` at
bench time (never committed). Each set has its own min_support ladder (``LADDERS``), from
the easy end down to about 10^6 frequent itemsets or more.

For each round, data set and tool, one child process reads the data into the tool's native
input (not timed), warms up (Numba kernels load from the cache), then mines down the
ladder, highest support first. No timed hpcrec run loads or compiles a Numba kernel: the
warm-up (a tiny set and the easiest support) cannot reach every dispatch path of a lower
support (retail.dat's apriori at 0.0005 compiled 23 kernels inside its timed run on a
fresh cache, 22 s), so a run in which Numba took its compiler lock on any rank is not
counted but run again, its own times kept in the record's ``warm_up``, and a counted run
that still takes the lock fails the child (:func:`_measured`). It prints one JSON line
per run: mining seconds (with
Python's cyclic garbage collector off during the call, see ``_without_gc``), the CPU
seconds of this process during it (``cpu_seconds``, the least of the repeats: on a shared
machine it moves less with the load than the wall time; rank 0's for 2 ranks), peak
resident memory of the process so far (``peak_mb``, VmHWM: data, interpreter and
libraries included; for 2 ranks the larger rank), the peak resident memory during the
mining call above the resident memory just before it (``call_mb``: the high-water mark
reset before the call, as the protocol leaves input and import out of the time; the
most of the repeats, since a call reuses without new pages what the heap kept of an
earlier one; absent where the reset is not possible, see :func:`reset_peak`), and
the number of itemsets. The peers' children read the rows as plain text
(``plain_rows``), so they hold no Numba runtime. Tools alternate within a round and ``--rounds`` repeats the whole
sequence, so every tool meets the same load; the table keeps each case's best round.
Runs under 2 s are repeated (best of ``--repeat``). A tool whose run takes longer than
``--budget`` seconds is not run at the lower supports of that data set (recorded as
skipped); a run still going after twice the budget is abandoned (recorded as stopped),
with the lower supports. All tools get the same threshold: the smallest count c with
c / n >= min_support (mlxtend's rule); pyfim is given that count, efficient-apriori its own
fraction (it keeps support > min_support - see the README). Itemset counts of the same
kind (all, maximal, closed) must agree; the table marks any disagreement (pyfim leaves
out the itemsets contained in every transaction, so on a dense set it can report a few
fewer).

    python benchmarks/fim_bench.py                       # FIMI files, all tools
    python benchmarks/fim_bench.py --datasets dense-chess dense-mushroom dense-connect longtail \
        --tools hpcrec-apriori pyfim-apriori hpcrec-fpgrowth pyfim-fpgrowth pyfim-eclat ...
    python benchmarks/fim_bench.py --supports 0.001 --tools hpcrec-fpgrowth pyfim-fpgrowth
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HPCREC_DATA", ROOT.parent / "shared" / "data")) / "fim"
LADDER = [0.01, 0.002, 0.0005, 0.0001]
# generated data sets: (generator, keyword arguments) of hpcrec.io.synthetic
GENERATED = {
    "dense-chess": ("write_dense_h5", dict(n_transactions=5000, n_attributes=37, max_values=3,
                                           n_clusters=16, seed=1)),
    "dense-mushroom": ("write_dense_h5", dict(n_transactions=8000, n_attributes=23,
                                              max_values=8, n_clusters=12, seed=1)),
    "dense-connect": ("write_dense_h5", dict(n_transactions=20000, n_attributes=43,
                                             max_values=3, n_clusters=8, seed=1)),
    "longtail": ("write_transactions_h5", dict(n_transactions=200_000, n_items=20_000,
                                               avg_len=8.0, avg_pattern_len=4.0,
                                               n_patterns=5000, long_tail=True, seed=4)),
}
LADDERS = {"dense-chess": [0.8, 0.7, 0.6, 0.5, 0.45],
           "dense-mushroom": [0.3, 0.2, 0.1, 0.07],
           "dense-connect": [0.9, 0.85, 0.8, 0.75],
           "longtail": [0.01, 0.005, 0.003, 0.002]}
TOOLS = ["hpcrec-apriori", "hpcrec-fpgrowth", "hpcrec-fpmax", "hpcrec-fpclose", "hpcrec-apriori@2",
         "hpcrec-fpgrowth@2", "hpcrec-fpmax@2", "hpcrec-fpclose@2", "pyfim-apriori",
         "pyfim-fpgrowth", "pyfim-eclat", "pyfim-fpmax", "pyfim-fpclose", "mlxtend-apriori",
         "mlxtend-fpgrowth", "efficient-apriori"]
KIND = {"fpmax": "maximal", "fpclose": "closed"}  # itemset kind by algorithm (else: all)
# the pyfim reference of each hpcrec algorithm: the faster of the listed
PEERS = {"apriori": ["pyfim-apriori"], "fpgrowth": ["pyfim-fpgrowth", "pyfim-eclat"],
         "fpmax": ["pyfim-fpmax"], "fpclose": ["pyfim-fpclose"]}


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024.0


_RESET = {"peak_mb": 0.0}   # the process's peak before the last reset_peak


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM; Linux), MB, over its whole life: the
    larger of VmHWM and its value before the last :func:`reset_peak`. Not ``ru_maxrss``:
    Linux carries that over ``exec`` from the forked parent, so every child would report
    at least the parent's resident memory."""
    return max(_status_mb("VmHWM"), _RESET["peak_mb"])


def resident_mb() -> float:
    """This process's resident memory now (VmRSS; Linux), MB."""
    return _status_mb("VmRSS")


CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak() -> float | None:
    """Reset this process's VmHWM to its resident memory now (writing "5" to
    ``/proc/self/clear_refs``, Linux >= 4.0) and return that resident memory, MB; None
    where the reset is not possible or did not take (another OS, an older kernel), so that
    no later peak is read against a high-water mark left by earlier work."""
    _RESET["peak_mb"] = peak_mb()
    try:
        CLEAR_REFS.write_text("5")
        peak, now = _status_mb("VmHWM"), resident_mb()
    except OSError:
        return None
    return now if peak <= now + 1.0 else None   # 1 MB: RSS may move between the reads


def call_mb(start: float | None) -> float | None:
    """Peak resident memory since :func:`reset_peak` returned ``start``, above ``start``,
    MB: what the call in between held at most, beyond what the process held before it."""
    return None if start is None else max(0.0, _status_mb("VmHWM") - start)


# -- children: one tool, one data set, the whole ladder ---------------------------------------

def child(tool: str, path: Path, supports: list[float], budget: float, repeat: int,
          frame: bool, result_on: str = "all") -> None:
    from hpcrec.core.comm import serial, world
    from hpcrec.fim.result import min_count
    from hpcrec.io import load_transactions
    name, _, ranks = tool.partition("@")
    family, _, algorithm = name.partition("-")
    comm = world() if family == "hpcrec" else serial()
    if family in ("pyfim", "efficient"):   # plain Python: no Numba runtime in the peer's memory
        rows = read_plain(plain_rows(path))
        n = len(rows)
    else:
        tx = load_transactions(path, comm)
        n = tx.n_total
    easy = max(supports)
    work = None   # hpcrec: the Numba work counter (_numba_work); the peers hold no Numba
    if family == "hpcrec":
        from hpcrec.core.context import RunContext
        from hpcrec.fim import mine_itemsets
        # load (or compile) most Numba kernels before timing: a tiny set reaching level 5
        # and the easiest support; a lower support may take a dispatch path these miss,
        # which _measured finds and runs again
        work = _numba_work()
        mine_itemsets([[0, 1, 2, 3, 4]] * 4 + [[0, 1]], 0.5, algorithm, comm=comm)
        mine_itemsets(tx, easy, algorithm, comm=comm)

        def run(s):
            ctx = RunContext.build(comm)
            timer = ctx.timer
            comm.barrier()
            t0 = _clock()
            res = mine_itemsets(tx, s, algorithm, context=ctx, result_on=result_on)
            comm.barrier()
            seconds, cpu, memory = _since(t0)
            extra = {"phases": {k: round(v, 4) for k, v in timer.phases.items()}, **memory}
            if frame:  # the mlxtend-style DataFrame of frozensets, timed apart
                from hpcrec.fim.frames import itemsets_frame
                t1 = time.perf_counter()
                itemsets_frame(res)
                extra["frame_s"] = time.perf_counter() - t1
            return seconds, cpu, len(res), extra
    elif family == "pyfim":
        import fim
        target = {"fpmax": "m", "fpclose": "c"}.get(algorithm, "s")
        miner = {"eclat": fim.eclat, "apriori": fim.apriori}.get(algorithm, fim.fpgrowth)
        miner(rows, target=target, supp=-min_count(easy, n), zmin=1)

        def run(s):
            t0 = _clock()
            out = miner(rows, target=target, supp=-min_count(s, n), zmin=1, report="a")
            return _result(t0, len(out))
    elif family == "mlxtend":
        import numpy as np
        import pandas as pd
        import scipy.sparse as sp
        from mlxtend.frequent_patterns import apriori, fpgrowth
        mat = sp.csr_matrix((np.ones(tx.nnz, dtype=bool), tx.rows.indices, tx.rows.indptr),
                            shape=(tx.n_rows, tx.n_items))
        df = pd.DataFrame.sparse.from_spmatrix(mat, columns=[str(x) for x in tx.labels])

        def run(s):
            t0 = _clock()
            if algorithm == "apriori":
                out = apriori(df, min_support=s, low_memory=True)
            else:
                out = fpgrowth(df, min_support=s)
            return _result(t0, len(out))
    else:
        from efficient_apriori.itemsets import itemsets_from_transactions
        rows = [tuple(r) for r in rows]

        def run(s):
            t0 = _clock()
            found, _ = itemsets_from_transactions(rows, s, max_length=1000)
            return _result(t0, sum(len(v) for v in found.values()))

    # before any timed run: data loaded, kernels warm (hpcrec: the Numba runtime); the
    # table compares what each tool's runs add to this as well as the peaks themselves
    def top(mb):   # 2 ranks: the larger rank's
        return comm.allreduce_scalar(mb, "max") if family == "hpcrec" else mb
    base = top(resident_mb())
    skipped_from = None
    for s in sorted(supports, reverse=True):
        if skipped_from is not None:
            record = {"support": s, "skipped": f"over {budget:g} s at {skipped_from:g}"}
        else:
            watchdog = _watchdog(tool, path, s, budget, comm.rank == 0)
            runs = [_measured(run, s, work, comm)]
            warm_up = {k: v for k, v in runs[0][3].items() if k == "warm_up"}  # kept over repeats
            watchdog.cancel()
            for _ in range(repeat - 1 if runs[0][0] < 2.0 else 0):  # short runs: best of `repeat`
                runs.append(_measured(run, s, work, comm, again=False))
            seconds, cpu, count, extra = _best_of(runs)
            if "call_mb" in extra:   # 2 ranks: the larger rank's, as the peak
                extra["call_mb"] = top(extra["call_mb"])
            record = {"support": s, "seconds": round(seconds, 4), "cpu_seconds": round(cpu, 4),
                      "itemsets": count, "peak_mb": round(top(peak_mb()), 1),
                      "base_mb": round(base, 1), **extra, **warm_up}
            if seconds > budget:
                skipped_from = s
        if comm.rank == 0:
            where = {"result_on": result_on} if family == "hpcrec" and comm.size > 1 else {}
            print(json.dumps({"tool": tool, "data": path.name, "ranks": comm.size, **where,
                              **record}),
                  flush=True)


def _best_of(runs: list[tuple]) -> tuple[float, float, int, dict]:
    """The repeats of one case, (seconds, CPU, itemsets, extra) each, as one: the fastest
    run's, with the least CPU time of any and the most ``call_mb`` (a repeat reuses
    without new pages what the heap kept of an earlier one; absent if any lacks it)."""
    seconds, _, count, extra = min(runs, key=lambda r: r[0])
    memory = [r[3].get("call_mb") for r in runs]
    extra = {k: v for k, v in extra.items() if k != "call_mb"}
    if None not in memory:
        extra["call_mb"] = max(memory)
    return seconds, min(r[1] for r in runs), count, extra


def _clock() -> tuple[float, float, float | None]:
    """The start of a timed call: the peak memory reset (:func:`reset_peak`) first, so
    that neither the reset nor the reads fall in the timed window."""
    rss = reset_peak()
    return time.perf_counter(), time.process_time(), rss


def _since(start: tuple[float, float, float | None]) -> tuple[float, float, dict]:
    """(wall, CPU) seconds since ``start`` (:func:`_clock`) and ``{"call_mb": peak resident
    memory above the start's}`` (empty where the peak cannot be reset): taken before the
    run's result is freed (pyfim's 6.6 M tuples at dense-mushroom 0.07: about 0.5 s CPU
    to free), so the result counts in the call's memory."""
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    mb = call_mb(start[2])
    return wall, cpu, {} if mb is None else {"call_mb": round(mb, 1)}


def _result(start, count: int) -> tuple[float, float, int, dict]:
    """A peer's run: (wall, CPU, itemsets, {"call_mb": ...}) since ``start``."""
    seconds, cpu, memory = _since(start)
    return seconds, cpu, count, memory


def _without_gc(run, support):
    """``run(support)`` with Python's cyclic garbage collector off. A peer that returns
    millions of tuples (pyfim) otherwise spends most of its time in the collector, and how
    much depends on how many objects the child already holds (pyfim fpgrowth on
    dense-mushroom at 0.07: about 3 s with it off, 11-13 s in a lean child with it on):
    off, every tool is timed on its own work."""
    gc.disable()
    try:
        return run(support)
    finally:
        gc.enable()


def _numba_work():
    """A function giving (how often Numba took its compiler lock, how many kernels it
    compiled) in this process since this call. Loading a kernel signature from the cache
    and compiling one both take the lock (once or more); calling a loaded one does not."""
    from numba.core import event

    class Tally(event.Listener):
        def __init__(self):
            self.n = {"numba:compiler_lock": 0, "numba:compile": 0}

        def on_start(self, ev):
            self.n[ev.kind] += 1

        def on_end(self, ev):
            pass

    tally = Tally()
    for kind in tally.n:
        event.register(kind, tally)
    return lambda: tuple(tally.n.values())


def _measured(run, support, work, comm, again=True):
    """``run(support)`` (:func:`_without_gc`) in which no Numba kernel was loaded or
    compiled (``work``: :func:`_numba_work`, on any rank; None for the peers). A run that
    needed one (a dispatch path the warm-up did not reach: with a fresh cache, seconds of
    compiling) is not counted: with ``again`` it is run once more, its own numbers kept in
    the result's ``warm_up``; a counted run that still loads one fails the child."""
    if work is None:
        return _without_gc(run, support)

    def counted():
        before = work()
        out = _without_gc(run, support)
        return out, [comm.allreduce_scalar(x - x0, "max") for x, x0 in zip(work(), before)]
    out, (locks, compiles) = counted()
    if locks and again:
        first = {"seconds": round(out[0], 4), "cpu_seconds": round(out[1], 4),
                 "numba_locks": locks, "numba_compiles": compiles}
        (*out, extra), (locks, _) = counted()
        out = (*out, {**extra, "warm_up": first})
    if locks:
        raise RuntimeError(f"Numba loaded or compiled a kernel in a timed run at {support:g}")
    return out


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
           timeout: float, frame: bool = False, result_on: str = "all") -> list[dict]:
    py = sys.executable
    cmd = [py, __file__, "--child", tool, "--data-file", str(path), "--budget", str(budget),
           "--repeat", str(repeat), *(["--frame"] if frame else []), "--result-on", result_on,
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


def best(records: list[dict]) -> list[dict]:
    """Per (tool, data, support), the fastest round (a skip only where no round ran)."""
    out = {}
    for r in records:
        key = (r["tool"], r["data"], r["support"])
        old = out.get(key)
        if old is None or ("skipped" in old and "skipped" not in r) or \
                ("seconds" in r and "seconds" in old and r["seconds"] < old["seconds"]):
            out[key] = r
    return list(out.values())


def _kind(tool: str) -> str:
    return KIND.get(tool.split("@")[0].split("-")[1], "all")


def table(records: list[dict]) -> str:
    records = best(records)
    lines = []
    for data in dict.fromkeys(r["data"] for r in records):
        lines += [f"\n**{data}** — seconds (mining, after reading) / itemsets / peak MB "
                  "(process; call)\n",
                  "| min_support | " + " | ".join(_tools_in(records, data)) + " |",
                  "|---" * (1 + len(_tools_in(records, data))) + "|"]
        for s in sorted({r["support"] for r in records if r["data"] == data}, reverse=True):
            cells, counts = [], {}
            for tool in _tools_in(records, data):
                r = _find(records, tool, data, s)
                if r is None or "skipped" in r:
                    cells.append("skipped" if r is None else f"skipped ({r['skipped']})")
                    continue
                cells.append(f"{r['seconds']:.3g} / {r['itemsets']:,} / {r['peak_mb']:.0f}"
                             + (f" ({r['call_mb']:.0f})" if "call_mb" in r else ""))
                counts.setdefault(_kind(tool), set()).add(r["itemsets"])
            flag = "".join(f" **{k} counts disagree ({', '.join(map(str, sorted(v)))})**"
                           for k, v in counts.items() if len(v) > 1)
            lines.append(f"| {s:g}{flag} | " + " | ".join(cells) + " |")
        lines += ratios(records, data)
    return "\n".join(lines)


def _find(records, tool, data, support):
    return next((x for x in records if x["data"] == data and x["tool"] == tool
                 and x["support"] == support), None)


def ratios(records: list[dict], data: str) -> list[str]:
    """hpcrec one rank / the faster pyfim peer (time; CPU time against the peer with the
    least; peak memory of the process; then the mining call's own memory, :func:`memory_mb`,
    hpcrec / the peer with the least, MB), and 1 -> 2 ranks speedup."""
    algos = [a for a in PEERS if _find_any(records, f"hpcrec-{a}", data)]
    if not algos:
        return []
    lines = [f"\n**{data}** — hpcrec / pyfim time, CPU time (process peak memory ratio; call MB, "
             "hpcrec / pyfim) ratio, 1 rank; speedup 1 -> 2 ranks\n",
             "| min_support | " + " | ".join(algos) + " |", "|---" * (1 + len(algos)) + "|"]
    for s in sorted({r["support"] for r in records if r["data"] == data}, reverse=True):
        cells = []
        for a in algos:
            ours, two = _find(records, f"hpcrec-{a}", data, s), _find(records, f"hpcrec-{a}@2", data, s)
            peers = [p for p in (_find(records, t, data, s) for t in PEERS[a])
                     if p is not None and "seconds" in p]
            if ours is None or "seconds" not in ours:
                cells.append("-")
                continue
            cell = "no pyfim result"
            if peers:
                peer = min(peers, key=lambda p: p["seconds"])
                cell = f"{ours['seconds'] / peer['seconds']:.2f}x"
                if ours.get("cpu_seconds") and peer.get("cpu_seconds"):
                    cpu_peer = min((p for p in peers if p.get("cpu_seconds")),
                                   key=lambda p: p["cpu_seconds"])
                    cell += f", CPU {ours['cpu_seconds'] / cpu_peer['cpu_seconds']:.2f}x"
                cell += f" ({ours['peak_mb'] / peer['peak_mb']:.2f}"
                known = [m for m in map(memory_mb, peers) if m is not None]
                if memory_mb(ours) is not None and known:   # against the leaner peer
                    cell += f"; {memory_mb(ours):.0f} / {min(known):.0f} MB"
                cell += ")"
            if two is not None and "seconds" in two:
                cell += f"; {ours['seconds'] / two['seconds']:.2f}x on 2"
            cells.append(cell)
        lines.append(f"| {s:g} | " + " | ".join(cells) + " |")
    return lines


def memory_mb(record: dict) -> float | None:
    """The mining call's own memory, MB: ``call_mb``, or in a record without it (before
    session 20) the rise of the process's peak above its resident memory before the first
    timed run (every earlier support's run included); None where neither is known."""
    if "call_mb" in record:
        return record["call_mb"]
    return max(0.0, record["peak_mb"] - record["base_mb"]) if "base_mb" in record else None


def _find_any(records, tool, data):
    return any(r["tool"] == tool and r["data"] == data for r in records)


def _tools_in(records, data):
    """The tools with results on ``data``, in the order of TOOLS."""
    return [t for t in TOOLS if any(r["tool"] == t and r["data"] == data for r in records)]


def _load() -> str:
    """The 1, 5 and 15 minute load averages and the UTC time (Linux), as recorded with a run."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3]) + time.strftime(" at %H:%M:%S UTC", time.gmtime())


def plain_rows(path: Path) -> Path:
    """The data set as text, one transaction a line (item ids and spaces), which the
    peers' children read with plain Python: hpcrec's reader checks the rows with a Numba
    kernel, and a peer's child holding the Numba runtime (about 130 MB) would flatter
    hpcrec's peak-memory ratio. FIMI files are that text already; for the others the
    parent writes it (once) beside the data set."""
    if path.suffix == ".dat":
        return path
    text = path.with_suffix(".rows.txt")
    if not text.exists():
        from hpcrec.core.comm import serial
        from hpcrec.io import load_transactions
        rows = load_transactions(path, serial()).to_lists()
        part = text.with_suffix(".part")
        part.write_text("".join(" ".join(map(str, r)) + "\n" for r in rows))
        part.replace(text)
    return text


def read_plain(path: Path) -> list[list[int]]:
    with open(path) as f:
        return [[int(x) for x in line.split()] for line in f]


def dataset_path(name: str, data_dir: Path) -> Path:
    """A FIMI file of $HPCREC_DATA/fim, or a generated set written (once) into data_dir."""
    if name not in GENERATED:
        return DATA / name
    path = data_dir / f"{name}.h5"
    if not path.exists():
        from hpcrec.io import synthetic
        writer, kwargs = GENERATED[name]
        data_dir.mkdir(parents=True, exist_ok=True)
        getattr(synthetic, writer)(path, **kwargs)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["retail.dat", "T10I4D100K.dat"],
                    help=f"FIMI files of $HPCREC_DATA/fim or generated: {', '.join(GENERATED)}")
    ap.add_argument("--supports", nargs="+", type=float,
                    help="min_support ladder for every data set (default: per data set)")
    ap.add_argument("--tools", nargs="+", default=TOOLS, choices=TOOLS)
    ap.add_argument("--budget", type=float, default=20.0,
                    help="a tool slower than this (s) skips the lower supports, where a "
                         "run would take about 3x longer (default 20: skip beyond ~60 s)")
    ap.add_argument("--repeat", type=int, default=3, help="runs under 2 s: best of this many")
    ap.add_argument("--rounds", type=int, default=1, help="repeat all tools, interleaved; keep the best")
    ap.add_argument("--frame", action="store_true",
                    help="hpcrec: also build the mlxtend-style DataFrame after each run (timed "
                         "apart as frame_s; its frozensets then dominate peak memory)")
    ap.add_argument("--result-on", choices=("all", "blocks"), default="all",
                    help="hpcrec on 2 ranks: the result whole on every rank (the Python API's "
                         "default) or one block of the canonical order per rank (what "
                         "`hpcrec mine -o X.h5` writes from)")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "hpcrec-fim-ladder",
                    help="where generated data sets are written")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fim_bench.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--table", type=Path, metavar="JSON", help="only print the table of a results file")
    args = ap.parse_args()
    if args.table:
        saved = json.loads(args.table.read_text())
        print(f"machine: {saved['machine']}\ncommand: {saved['command']}")
        if "load" in saved:
            print(f"load: {' -> '.join(saved['load'])}")
        print(table(saved["records"]))
        return
    if args.child:
        child(args.child, args.data_file, args.supports, args.budget, args.repeat, args.frame,
              args.result_on)
        return
    load = [_load()]
    paths = {name: dataset_path(name, args.data_dir) for name in args.datasets}
    for path in paths.values():
        if not path.exists():
            sys.exit(f"missing {path} (set HPCREC_DATA)")
        if any(t.startswith(("pyfim", "efficient")) for t in args.tools):
            plain_rows(path)
    records = []
    for _ in range(args.rounds):
        for name, path in paths.items():
            supports = args.supports or LADDERS.get(name, LADDER)
            for tool in args.tools:
                got = launch(tool, path, supports, args.budget, args.repeat,
                             4 * args.budget + 120, args.frame, args.result_on)
                for r in got:
                    print(json.dumps(r), file=sys.stderr, flush=True)
                records += got
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
              f"Python {platform.python_version()}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/fim_bench.py " + " ".join(sys.argv[1:])
    load.append(_load())
    args.out.write_text(json.dumps({"machine": machine, "command": command, "load": load,
                                    "records": records}, indent=1))
    print(f"machine: {machine}\ncommand: {command}\nload: {' -> '.join(load)}")
    print(table(records))


if __name__ == "__main__":
    main()
