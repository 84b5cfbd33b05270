"""Table of fim_before_after.sh records: per data set, algorithm and support, the fastest run
of each variant (base commit, this tree, the faster pyfim peer) over the rounds, with wall
ratios, CPU ratios (of the least CPU time of each, rounds apart), the process's peak memory and the
mining call's own (fim_bench.memory_mb; pyfim: the leaner peer).

    python benchmarks/fim_ab_table.py RECORDS.jsonl [...]
"""
from __future__ import annotations

import json
import sys

from fim_bench import PEERS, memory_mb


def main(paths: list[str]) -> None:
    best, cpu, loads = {}, {}, []   # the fastest run; the least CPU time (rounds apart)
    for path in paths:
        for line in open(path):
            if line.startswith("#"):
                loads.append(line.strip("# \n"))
                continue
            r = json.loads(line)
            key = (r["data"], r["tool"], r["support"], r["variant"])
            if "seconds" not in r:
                continue
            cpu[key] = min(cpu.get(key, r["cpu_seconds"]), r["cpu_seconds"])
            if key not in best or r["seconds"] < best[key]["seconds"]:
                best[key] = r
    print("| data | support | algorithm | itemsets | base s | this s | this / base (CPU) "
          "| pyfim s | this / pyfim (CPU) | peak MB base / this / pyfim | peak this / pyfim "
          "| call MB base / this / pyfim | call this / pyfim |")
    print("|---" * 13 + "|")
    for (data, tool, s, variant), r in sorted(best.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[0][2])):
        if variant != "after":
            continue
        algo = tool.split("@")[0].split("-")[1]
        b = best.get((data, tool, s, "before"))
        peers = [best[k] for k in ((data, p, s, "peer") for p in PEERS.get(algo, [])) if k in best]
        if b is not None and b["itemsets"] != r["itemsets"]:
            sys.exit(f"{data} {tool} {s}: base and this tree disagree ({b['itemsets']} / {r['itemsets']})")
        cells = [data, f"{s:g}", tool.removeprefix("hpcrec-"), f"{r['itemsets']:,}",
                 f"{b['seconds']:.3f}" if b else "-", f"{r['seconds']:.3f}",
                 f"{r['seconds'] / b['seconds']:.2f} ({cpu[data, tool, s, 'after'] / cpu[data, tool, s, 'before']:.2f})"
                 if b else "-"]
        if peers:
            p = min(peers, key=lambda x: x["seconds"])
            peer_cpu = min(cpu[data, x["tool"], s, "peer"] for x in peers)
            cells += [f"{p['seconds']:.3f} ({p['tool'].removeprefix('pyfim-')})",
                      f"{r['seconds'] / p['seconds']:.2f}x ({cpu[data, tool, s, 'after'] / peer_cpu:.2f}x)"]
        else:
            cells += ["-", "-"]
        peer = min(peers, key=lambda x: x["seconds"]) if peers else None
        cells.append(" / ".join(f"{x['peak_mb']:.0f}" if x else "-" for x in (b, r, peer)))
        cells.append(f"{r['peak_mb'] / peer['peak_mb']:.2f}" if peer else "-")
        cells += _call_cells(b, r, peers)
        print("| " + " | ".join(cells) + " |")
    if loads:
        print(f"\nfirst: {loads[0]}; last: {loads[-1]}")


def _call_cells(base, this, peers) -> list[str]:
    """The mining call's own memory (MB) of base, this tree and the leaner pyfim peer; and
    this tree's over the peer's."""
    mb = [memory_mb(x) if x else None for x in (base, this)]
    mb.append(min((m for m in map(memory_mb, peers) if m is not None), default=None))
    ratio = f"{mb[1] / mb[2]:.2f}" if None not in mb[1:] and mb[2] > 0 else "-"
    return [" / ".join("-" if m is None else f"{m:.0f}" for m in mb), ratio]


if __name__ == "__main__":
    main(sys.argv[1:])
