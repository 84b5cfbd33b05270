"""Where a mining call's own memory goes: at the entry and exit of the steps of
``mine_itemsets`` (one rank), the resident memory and the peak so far, both above the
resident memory at the call's start (the high-water mark reset once, there:
fim_bench.reset_peak). Warmed up as fim_bench.py's child (a tiny set, then the first
support given, not reported) and run once at each support given.

    python benchmarks/results/fim_s20_h68_callmem.py DATA ALGORITHM SUPPORT...
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import fim_bench  # noqa: E402

STEPS = {"engine": ("prepare", "sorted_records", "decoded", "records"),
         "pfp": ("_mine_local", "_exchange", "_builds", "records"),
         "count_distribution": ("mine",)}


def main(data: Path, algorithm: str, supports: list[float]) -> None:
    from hpcrec.core.comm import serial
    from hpcrec.fim import engine, mine_itemsets
    from hpcrec.io import load_transactions
    tx = load_transactions(data, serial())
    mine_itemsets([[0, 1, 2, 3, 4]] * 4 + [[0, 1]], 0.5, algorithm, comm=serial())
    mine_itemsets(tx, supports[0], algorithm, comm=serial())
    log, start = [], {}

    def note(what):
        log.append((what, fim_bench.resident_mb() - start["rss"], fim_bench.call_mb(start["rss"])))

    def wrapped(name, fn):
        def step(*args, **kwargs):
            note(f"> {name}")
            out = fn(*args, **kwargs)
            note(f"< {name}")
            return out
        return step

    modules = {"engine": engine, "pfp": engine.pfp, "count_distribution": engine.count_distribution}
    for module, names in STEPS.items():
        for name in names:
            setattr(modules[module], name, wrapped(f"{module}.{name}", getattr(modules[module], name)))
    for s in supports:
        log.clear()
        start["rss"] = fim_bench.reset_peak()
        res = mine_itemsets(tx, s, algorithm, comm=serial())
        note("end")
        print(f"\n{data.name} {algorithm} {s:g}: {len(res):,} itemsets, call {log[-1][2]:.1f} MB "
              f"(result arrays {sum(a.nbytes for a in (res.items, res.ptr, res.counts)) / 2**20:.1f} MB)")
        print("| step | resident | peak so far |\n|---|---|---|")
        for what, rss, peak in log:
            print(f"| {what} | +{rss:.1f} | +{peak:.1f} |")
        del res


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], [float(x) for x in sys.argv[3:]])
