"""The resident memory of fim_bench.py's hpcrec child before its first timed call, step by
step: the packages first, one at a time in the order they depend on each other, so each
line is what that step adds (VmRSS, RssAnon, RssFile, MB; the last column the resident
total after it); then the child's own steps (its hpcrec imports, reading the data set, the
two warm-up runs). Prints a markdown table and which packages have submodules loaded.

    python benchmarks/results/fim_s20_h68_floor.py DATA ALGORITHM EASIEST_SUPPORT
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

FIELDS = ("VmRSS", "RssAnon", "RssFile")
WATCHED = {"pandas", "mpi4py", "scipy", "pyarrow", "numba", "llvmlite", "h5py", "numpy",
           "sklearn", "matplotlib"}


def memory() -> dict[str, float]:
    with open("/proc/self/status") as status:
        pairs = (line.split(":") for line in status)
        return {k: int(v.split()[0]) / 1024 for k, v in pairs if k in FIELDS}


def main(data: Path, algorithm: str, easy: float) -> None:
    from_start = memory()
    rows = [("interpreter", from_start)]

    def step(label, fn):
        before = memory()
        fn()
        after = memory()
        rows.append((label, {k: after[k] - before[k] for k in FIELDS} | {"total": after["VmRSS"]}))

    for module in ("numpy", "h5py", "llvmlite.binding", "scipy", "numba"):
        step(f"import {module}", lambda m=module: importlib.import_module(m))
    child = ("hpcrec.core.comm", "hpcrec.core.context", "hpcrec.io", "hpcrec.fim", "hpcrec.fim.result")
    step("import hpcrec (the child's imports)", lambda: [importlib.import_module(m) for m in child])
    from hpcrec.core.comm import serial
    from hpcrec.io import load_transactions
    held = {}
    step("hpcrec.fim.mine_itemsets (its modules, no kernel loaded)",
         lambda: held.update(mine=importlib.import_module("hpcrec.fim").mine_itemsets))
    mine_itemsets = held["mine"]
    step(f"read {data.name} (and check it: the first kernel)",
         lambda: held.update(tx=load_transactions(data, serial())))
    step(f"warm-up: tiny set ({algorithm}'s kernels loaded)",
         lambda: mine_itemsets([[0, 1, 2, 3, 4]] * 4 + [[0, 1]], 0.5, algorithm, comm=serial()))
    step(f"warm-up: {data.name} at {easy:g}", lambda: mine_itemsets(held["tx"], easy, algorithm,
                                                                    comm=serial()))
    print("| step | VmRSS | RssAnon | RssFile | total |\n|---|---|---|---|---|")
    for label, m in rows:
        print(f"| {label} | {m['VmRSS']:+.1f} | {m['RssAnon']:+.1f} | {m['RssFile']:+.1f} "
              f"| {m.get('total', m['VmRSS']):.1f} |")
    print("packages with submodules loaded:",
          sorted({m.split(".")[0] for m in sys.modules if "." in m} & WATCHED))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]))
