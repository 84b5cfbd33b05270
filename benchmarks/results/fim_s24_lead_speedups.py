"""Session 24, lead: 1 -> 2 ranks in process on the dense sets, from fim_bench.py's records
(best time per case over the rounds of one run, each run's 1-rank time against its own
2-rank time): before the change (9471645, the result whole on every rank) and after it,
with the result whole on every rank (the Python API) and in blocks (hpcrec mine -o X.h5).

    python benchmarks/results/fim_s24_lead_speedups.py
"""
import json
from pathlib import Path

HERE = Path(__file__).parent
RUNS = {"before, all": "before", "after, all": "all", "after, blocks": "blocks"}
CASES = [("dense-mushroom", 0.1), ("dense-mushroom", 0.07), ("dense-chess", 0.5),
         ("dense-chess", 0.45), ("dense-connect", 0.8), ("dense-connect", 0.75), ("dm", 0.05),
         ("dm", 0.01), ("dc", 0.3)]
ALGORITHMS = ["apriori", "fpgrowth", "fpmax", "fpclose"]


def best(tag: str) -> dict:
    out = {}
    for data in ("dense", "dm", "dc"):
        for r in json.loads((HERE / f"fim_inproc_s24_lead_{data}_{tag}.json").read_text())["records"]:
            if "seconds" in r:
                name, _, ranks = r["tool"].partition("@")
                key = (r["data"].removesuffix(".h5"), r["support"], name.split("-")[1], 2 if ranks else 1)
                out[key] = min(out.get(key, float("inf")), r["seconds"])
    return out


def main() -> None:
    runs = [best(tag) for tag in RUNS.values()]
    print("| data | support | " + " | ".join(f"{a}: 1 rank s; 1 -> 2 ranks " + " / ".join(RUNS)
                                              for a in ALGORITHMS) + " |")
    print("|---|---|" + "---|" * len(ALGORITHMS))
    for data, support in CASES:
        cells = []
        for a in ALGORITHMS:
            one = [r.get((data, support, a, 1)) for r in runs]
            two = [r.get((data, support, a, 2)) for r in runs]
            if not any(one):
                cells.append("-")
                continue
            ratios = [f"{o / t:.2f}x" if o and t else "-" for o, t in zip(one, two)]
            cells.append(f"{min(x for x in one if x):.3f}; " + " / ".join(ratios))
        print(f"| {data} | {support} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
