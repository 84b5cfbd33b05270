"""Session 25, lead: 1 -> 2 ranks in process on the dense sets with NumPy's huge-page advice
as HPCREC_HUGEPAGES=auto sets it on this VM (off), the result left in blocks: best seconds
per case over the rounds of each run, each run's 1-rank time against its own 2-rank time.
Session 26's, 27's and 28's records of the same runs (``s26``, ``s27``, ``s28``) take the
same table.

    python benchmarks/results/fim_s25_lead_speedups.py [s26|s27|s28]
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    session = sys.argv[1] if len(sys.argv) > 1 else "s25"
    best = {}
    for path in sorted(HERE.glob(f"fim_inproc_{session}_lead_*_blocks.json")):
        for r in json.loads(path.read_text())["records"]:
            if "seconds" in r:
                name, _, ranks = r["tool"].partition("@")
                key = (r["data"].removesuffix(".h5"), r["support"], name.split("-")[1])
                cell = best.setdefault(key, {})
                n = 2 if ranks else 1
                cell[n] = min(cell.get(n, float("inf")), r["seconds"])
    print("| data | support | algorithm | 1 rank s | 2 ranks s | 1 -> 2 ranks |")
    print("|---|---|---|---|---|---|")
    for (data, support, algorithm), cell in best.items():
        if 1 in cell and 2 in cell:
            print(f"| {data} | {support} | {algorithm} | {cell[1]:.3f} | {cell[2]:.3f} | "
                  f"{cell[1] / cell[2]:.2f}x |")


if __name__ == "__main__":
    main()
