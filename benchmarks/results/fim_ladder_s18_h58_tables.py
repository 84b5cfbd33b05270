"""Session 18, h58: markdown tables of the ladder runs (fim_ladder_s18_h58_*.jsonl): per
data set, support x algorithm, hpcrec / pyfim CPU, wall and peak-memory ratios (best
round per case, fim_bench.best; the peer with the least CPU / wall); misses in bold."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fim_bench import PEERS, best


def _mark(x):
    return f"**{x:.2f}**" if x > 1.0 else f"{x:.2f}"


R = str(Path(__file__).with_name("fim_ladder_s18_h58_{}.jsonl"))
for ds in ["dense-mushroom", "dense-chess", "dense-connect", "longtail", "retail", "T10I4D100K"]:
    lines = open(R.format(ds)).read().splitlines()
    recs = best([json.loads(x) for x in lines if x.startswith("{")])
    loads = [x[2:] for x in lines if x.startswith("#")]
    rounds = sorted({json.loads(x)["round"] for x in lines if x.startswith("{")})
    d = recs[0]["data"]

    def find(t, s, recs=recs):
        return next((r for r in recs if r["tool"] == t and r["support"] == s), None)

    one = [float(x.split("load ")[1].split()[0]) for x in loads]
    print(f"**{d}** (rounds {', '.join(map(str, rounds))}; {loads[0].split(' at ')[1][:5]}-"
          f"{loads[-1].split(' at ')[1][:5]} UTC; load {min(one):.1f}-{max(one):.1f})\n")
    print("| support | " + " | ".join(PEERS) + " |")
    print("|---" * (1 + len(PEERS)) + "|")
    for s in sorted({r["support"] for r in recs}, reverse=True):
        cells = []
        for a in PEERS:
            o = find(f"hpcrec-{a}", s)
            ps = [p for p in (find(t, s) for t in PEERS[a]) if p and "seconds" in p]
            if o is None or "seconds" not in o:
                cells.append("**skipped**" + (f" ({o['skipped']})" if o else ""))
                continue
            if not ps:
                cells.append(f"pyfim skipped; hpcrec {o['seconds']:.3g} s")
                continue
            pc = min(ps, key=lambda p: p["cpu_seconds"])
            pw = min(ps, key=lambda p: p["seconds"])
            cpu, wall = o["cpu_seconds"] / pc["cpu_seconds"], o["seconds"] / pw["seconds"]
            mem = o["peak_mb"] / pw["peak_mb"]
            cells.append(f"{_mark(cpu)} / {_mark(wall)} / {mem:.1f} ({o['cpu_seconds']:.3g})")
        print(f"| {s:g} | " + " | ".join(cells) + " |")
    print()
