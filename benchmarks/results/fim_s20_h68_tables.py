"""The session-20 h68 memory tables: per data set and support, each hpcrec algorithm (one
rank) against its pyfim peer (fim_bench.PEERS; of two, the one with less memory), both
measures: the mining call's own memory (call_mb) and the process's peak (peak_mb), in MB,
hpcrec / pyfim; bold where hpcrec's is above. Then how many cells meet "<= pyfim" under
each measure, and under the call measure with 2 MB of slack (the allocator's reuse of
freed heap moves small calls by a few MB, see benchmarks/README.md).

    python benchmarks/results/fim_s20_h68_tables.py benchmarks/results/fim_ladder_s20_h68_*.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fim_bench import PEERS  # noqa: E402

SLACK_MB = 2.0


def _mb(x: float) -> str:
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"


def _cell(ours: float, peer: float) -> str:
    text = f"{_mb(ours)} / {_mb(peer)}"
    return f"**{text}**" if ours > peer else text


def main(paths: list[str]) -> None:
    met = {"call": [0, 0], "call+2": [0, 0], "peak": [0, 0]}
    over = []   # the call's memory above pyfim's by more than the slack
    for path in paths:
        saved = json.loads(Path(path).read_text())
        runs = {(r["tool"], r["support"]): r for r in saved["records"] if "seconds" in r}
        data = saved["records"][0]["data"]
        print(f"\n**{data}** ({' -> '.join(saved['load'])}): call MB hpcrec / pyfim; peak MB hpcrec / pyfim\n")
        print("| min_support | " + " | ".join(PEERS) + " |\n" + "|---" * (1 + len(PEERS)) + "|")
        for s in sorted({k[1] for k in runs}, reverse=True):
            cells = []
            for algo, peers in PEERS.items():
                ours = runs.get((f"hpcrec-{algo}", s))
                theirs = [runs[p, s] for p in peers if (p, s) in runs]
                if ours is None or not theirs:
                    cells.append("-" if ours is None else "no pyfim result")
                    continue
                call = min(p["call_mb"] for p in theirs)
                peak = min(p["peak_mb"] for p in theirs)
                for key, ok in (("call", ours["call_mb"] <= call),
                                ("call+2", ours["call_mb"] <= call + SLACK_MB),
                                ("peak", ours["peak_mb"] <= peak)):
                    met[key][0] += ok
                    met[key][1] += 1
                cells.append(f"{_cell(ours['call_mb'], call)}; {_cell(ours['peak_mb'], peak)}")
                if ours["call_mb"] > call + SLACK_MB:
                    over.append(f"{data} {s:g} {algo} +{ours['call_mb'] - call:.0f} MB")
            print(f"| {s:g} | " + " | ".join(cells) + " |")
    print("\ncells meeting <= pyfim: " + ", ".join(f"{k} {a} of {n}" for k, (a, n) in met.items()))
    print(f"\ncall above pyfim's by more than {SLACK_MB:g} MB ({len(over)}): " + "; ".join(over))


if __name__ == "__main__":
    main(sys.argv[1:])
