"""Session 25, lead: the table of fim_s25_lead_hugepages.sh's runs: per hpcrec cell, the
seconds of each round with NumPy's huge-page advice on and off, and the ratio to its
pyfim peer (fpgrowth: the faster of pyfim's fpgrowth and eclat) measured in the same run.

    python benchmarks/results/fim_s25_lead_hugepages_table.py OUTDIR
"""
import json
import sys
from collections import defaultdict
from pathlib import Path

PEERS = {"hpcrec-fpgrowth": ("pyfim-fpgrowth", "pyfim-eclat"), "hpcrec-apriori": ("pyfim-apriori",),
         "hpcrec-fpmax": ("pyfim-fpmax",), "hpcrec-fpclose": ("pyfim-fpclose",)}


def main() -> None:
    runs = defaultdict(dict)   # (data, support, tool) -> {(hp, round): seconds}
    for path in sorted(Path(sys.argv[1]).glob("*_hp*_r*.json")):
        hp, rnd = path.stem.split("_")[-2:]
        for r in json.loads(path.read_text())["records"]:
            if "seconds" in r:
                runs[(r["data"], r["support"], r["tool"])][(hp, rnd)] = r["seconds"]
    print("| data | support | tool | on: s by round | off: s by round | off / on (best) "
          "| / pyfim on | / pyfim off |")
    print("|---|---|---|---|---|---|---|---|")
    for (data, support, tool), cell in sorted(runs.items()):
        if tool not in PEERS:
            continue
        best = {}
        for hp in ("hp1", "hp0"):
            mine = [cell[k] for k in sorted(cell) if k[0] == hp]
            peer = [min(runs[(data, support, p)].get(k, float("inf")) for p in PEERS[tool])
                    for k in sorted(cell) if k[0] == hp]
            best[hp] = (mine, min(mine), min(peer))
        on, off = best["hp1"], best["hp0"]
        print(f"| {data} | {support} | {tool} | {' / '.join(f'{s:.3f}' for s in on[0])} | "
              f"{' / '.join(f'{s:.3f}' for s in off[0])} | {off[1] / on[1]:.2f} | "
              f"{on[1] / on[2]:.2f}x | {off[1] / off[2]:.2f}x |")


if __name__ == "__main__":
    main()
