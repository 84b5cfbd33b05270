"""benchmarks/fim_bench.py: no timed hpcrec run loads or compiles a Numba kernel, even
where a lower support takes a dispatch path that the child's warm-up does not reach."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hpcrec.core.comm import serial

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))
import fim_bench  # noqa: E402

# The child, with every timed window (fim_bench._clock to _since) reported on stderr:
# its wall seconds and how often Numba took its compiler lock in it (a kernel loaded
# from the cache or compiled), counted by a listener of the probe's own.
PROBE = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import fim_bench
from numba.core import event

taken = [0]

class Tally(event.Listener):
    def on_start(self, ev):
        taken[0] += 1

    def on_end(self, ev):
        pass

event.register("numba:compiler_lock", Tally())
clock, since = fim_bench._clock, fim_bench._since

def probe_clock():
    return clock(), taken[0]

def probe_since(start):
    wall, cpu, memory = since(start[0])
    print(json.dumps({"wall": round(wall, 4), "numba": taken[0] - start[1]}), file=sys.stderr)
    return wall, cpu, memory

fim_bench._clock, fim_bench._since = probe_clock, probe_since
fim_bench.child("hpcrec-apriori", Path(sys.argv[2]), [0.005, 0.001], 60.0, 2, False)
"""


def sparse_triples(path: Path) -> Path:
    """20,000 rows of 4 random items of 1,000, and 1,000 planted triples in 25 rows each:
    sparse; at 0.005 only items are frequent (apriori stops at level 2), at 0.001 the
    triples are, counted per parent on tid-lists (the intersecting counter's path)."""
    rng = np.random.default_rng(5)
    rows = [set(r) for r in rng.integers(0, 1000, (20_000, 4)).tolist()]
    for triple in rng.integers(0, 1000, (1000, 3)).tolist():
        for r in rng.choice(len(rows), 25, replace=False):
            rows[r] |= set(triple)
    path.write_text("".join(" ".join(map(str, sorted(r))) + "\n" for r in rows))
    return path


def test_timed_runs_find_every_kernel_loaded(tmp_path):
    data = sparse_triples(tmp_path / "triples.dat")
    done = subprocess.run([sys.executable, "-c", PROBE, str(BENCH), str(data)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr
    records = {r["support"]: r for r in map(json.loads, done.stdout.splitlines())}
    windows = [json.loads(x) for x in done.stderr.splitlines() if x.startswith('{"wall"')]
    # the case's premise: some window at 0.001 needed a kernel the warm-up did not load
    assert any(w["numba"] for w in windows), windows
    quiet = {w["wall"] for w in windows if w["numba"] == 0}
    for support in (0.005, 0.001):
        assert records[support]["seconds"] in quiet, (support, records[support], windows)
    assert records[0.001]["warm_up"]["numba_locks"] > 0


def test_a_timed_run_that_still_loads_a_kernel_fails():
    taken = [0]

    def work():   # a kernel loaded in every run
        return taken[0], 0

    def run(support):
        taken[0] += 1
        return 0.1, 0.1, 7, {}
    with pytest.raises(RuntimeError, match="timed run at 0.5"):
        fim_bench._measured(run, 0.5, work, serial())
    assert taken[0] == 2   # the first run was not counted; its rerun was, and failed
