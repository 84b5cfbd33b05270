"""benchmarks/fim_phases.py: the per-phase profile runs, times the phases it wraps and
counts the itemsets the miner finds; bad input (a misspelt phase module, a case that is not
DATA:SUPPORT:ALGORITHM, a missing file, an unknown algorithm) is one clear line."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import brute_force_itemsets, tiny_baskets

TOOL = Path(__file__).resolve().parents[2] / "benchmarks" / "fim_phases.py"


def _run(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_profiles_the_wrapped_phases_and_counts_the_itemsets(tmp_path):
    rows = tiny_baskets(seed=3)
    fimi = tmp_path / "tiny.dat"
    fimi.write_text("".join(" ".join(r[1:] for r in row) + "\n" for row in rows))
    want = len(brute_force_itemsets([[x[1:] for x in row] for row in rows], 0.2, "closed"))
    done = _run("--runs", "2", "--faults", f"{fimi}:0.2:fpclose")
    assert done.returncode == 0, done.stderr
    head, rank0 = done.stdout.splitlines()[:2]
    assert head == f"{fimi}:0.2:fpclose ranks 1 itemsets {want} (ms)"
    cells = dict(c.split("=") for c in rank0.split(":", 1)[1].split())
    assert {"prepare", "_search", "total", "other"} <= cells.keys()
    total, other, search = ([float(x) for x in re.sub(r"x\d+$", "", cells[k]).split("/")]
                            for k in ("total", "other", "_search"))
    assert all(x > 0 for x in total[:2]) and total[2] >= 0
    assert other[0] < total[0] - search[0] * 0.99   # the phases are taken out of "other"


def test_unknown_phase_module_is_one_line(tmp_path):
    done = _run("--phases", "kernels.no_such_module.f", f"{tmp_path}/x.dat:0.5:fpgrowth")
    assert done.returncode == 1
    assert done.stderr.strip() == ("fim_phases.py: no module hpcrec.kernels.no_such_module "
                                   "(phase kernels.no_such_module.f)")


def test_bad_cases_are_one_line(tmp_path):
    fimi = tmp_path / "one.dat"
    fimi.write_text("1 2\n2 3\n")
    for case, runs, said in ((f"{fimi}:0.5", "1", "is not DATA:SUPPORT:ALGORITHM"),
                             (f"{fimi}:half:fpgrowth", "1", "is not DATA:SUPPORT:ALGORITHM"),
                             (f"{fimi}:0.5:fpgrowth", "0", "is not a positive whole number"),
                             (f"{tmp_path}/missing.dat:0.5:fpgrowth", "1", "no such file"),
                             (f"{fimi}:0.5:nope", "1", "unknown algorithm 'nope'")):
        done = _run("--runs", runs, case)
        assert done.returncode != 0 and "Traceback" not in done.stderr, case
        assert said in done.stderr.strip().splitlines()[-1], done.stderr   # (after argparse's usage)


def test_the_result_placement_is_an_option(tmp_path):
    """``--result-on``: on one rank every placement holds the whole result; a placement
    that mine_itemsets does not know is refused by the option itself."""
    rows = tiny_baskets(seed=4)
    fimi = tmp_path / "tiny.dat"
    fimi.write_text("".join(" ".join(r[1:] for r in row) + "\n" for row in rows))
    want = len(brute_force_itemsets([[x[1:] for x in row] for row in rows], 0.2))
    for where in ("blocks", "all", "root"):
        done = _run("--runs", "1", "--result-on", where, f"{fimi}:0.2:fpgrowth")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0] == f"{fimi}:0.2:fpgrowth ranks 1 itemsets {want} (ms)"
    done = _run("--result-on", "everywhere", f"{fimi}:0.2:fpgrowth")
    assert done.returncode == 2 and "invalid choice" in done.stderr
