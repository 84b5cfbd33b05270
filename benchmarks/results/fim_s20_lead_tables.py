"""Session 20, lead: one markdown table per data set of two ladder runs (fim_bench.py --out
JSON files): per support and algorithm, hpcrec / the pyfim peer with the least CPU time
(best round per case), first run / second run, and the mining call's memory (call_mb,
hpcrec / the leaner peer) of the second; over 1.0 in bold.

    python benchmarks/results/fim_s20_lead_tables.py FIRST.json SECOND.json
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fim_bench import PEERS, best, memory_mb


def _cell(recs, data, algo, s):
    ours = next((r for r in recs if r["tool"] == f"hpcrec-{algo}" and r["data"] == data
                 and r["support"] == s and "seconds" in r), None)
    peers = [r for r in recs if r["tool"] in PEERS[algo] and r["data"] == data
             and r["support"] == s and "seconds" in r]
    if ours is None or not peers:
        return None, None
    cpu = ours["cpu_seconds"] / min(p["cpu_seconds"] for p in peers)
    mem = [m for m in map(memory_mb, peers) if m is not None]
    return cpu, (memory_mb(ours), min(mem)) if mem and memory_mb(ours) is not None else None


def _mark(x):
    return "-" if x is None else (f"**{x:.2f}**" if x > 1.0 else f"{x:.2f}")


runs = [best(json.loads(Path(p).read_text())["records"]) for p in sys.argv[1:3]]
for data in dict.fromkeys(r["data"] for r in runs[1]):
    print(f"\n**{data}**: CPU ratio, run 1 / run 2 (call MB hpcrec / pyfim, run 2)\n")
    print("| support | " + " | ".join(PEERS) + " |")
    print("|---" * (1 + len(PEERS)) + "|")
    for s in sorted({r["support"] for r in runs[1] if r["data"] == data}, reverse=True):
        cells = []
        for algo in PEERS:
            (a, _), (b, mem) = (_cell(recs, data, algo, s) for recs in runs)
            m = "" if mem is None else f" ({mem[0]:.0f} / {mem[1]:.0f})"
            cells.append(f"{_mark(a)} / {_mark(b)}{m}")
        print(f"| {s:g} | " + " | ".join(cells) + " |")
