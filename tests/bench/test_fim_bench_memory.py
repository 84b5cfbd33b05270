"""benchmarks/fim_bench.py: the mining call's own memory (``call_mb``: the peak resident
memory during the call above the resident memory before it) beside the process's peak."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))
import fim_bench  # noqa: E402

MB = 1 << 20


def _touched(mb: int) -> np.ndarray:
    return np.ones(mb * MB // 8)   # every page written: resident


@pytest.fixture
def resettable():
    if fim_bench.reset_peak() is None:
        pytest.skip("this kernel cannot reset the peak (/proc/self/clear_refs)")


def test_the_call_memory_is_the_calls_peak_above_its_start(resettable):
    before = fim_bench.resident_mb()
    del_me = _touched(160)   # a high-water mark left by earlier work, then freed
    del del_me
    start = fim_bench._clock()
    held = _touched(48)      # the call: 48 MB at most
    *_, memory = fim_bench._since(start)
    del held
    # without the reset the call would carry the 160 MB mark; without the subtraction,
    # the whole process (the interpreter, NumPy, pytest: more than 30 MB)
    assert 44 <= memory["call_mb"] <= 60, memory
    # the process peak survives the reset
    assert fim_bench.peak_mb() >= before + 150


def test_no_call_memory_where_the_peak_cannot_be_reset(tmp_path, monkeypatch, resettable):
    monkeypatch.setattr(fim_bench, "CLEAR_REFS", tmp_path / "missing" / "clear_refs")
    assert fim_bench.reset_peak() is None
    assert fim_bench._since(fim_bench._clock())[2] == {}
    # a write that succeeds but resets nothing (not the kernel's file) is found too
    monkeypatch.setattr(fim_bench, "CLEAR_REFS", tmp_path / "clear_refs")
    freed = _touched(64)
    del freed
    assert fim_bench.reset_peak() is None


def test_a_peer_child_records_both_measures(tmp_path):
    data = tmp_path / "t.dat"
    data.write_text("1 2 3\n1 2\n2 3\n1 2 3 4\n" * 50)
    done = subprocess.run([sys.executable, str(BENCH / "fim_bench.py"), "--child", "pyfim-fpgrowth",
                           "--data-file", str(data), "--supports", "0.5", "0.2",
                           "--budget", "60", "--repeat", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    records = [json.loads(x) for x in done.stdout.splitlines()]
    assert [r["support"] for r in records] == [0.5, 0.2]
    for r in records:
        assert 0 <= r["call_mb"] <= r["peak_mb"] - r["base_mb"] + 1.0, r


def test_the_tables_show_the_call_memory():
    rec = dict(data="d", support=0.1, seconds=1.0, cpu_seconds=1.0, itemsets=5, base_mb=170.0)
    records = [{**rec, "tool": "hpcrec-fpgrowth", "peak_mb": 180.0, "call_mb": 7.0},
               {**rec, "tool": "pyfim-fpgrowth", "peak_mb": 45.0, "call_mb": 3.0},
               {**rec, "tool": "pyfim-eclat", "peak_mb": 44.0, "call_mb": 2.0},
               {**rec, "tool": "hpcrec-fpmax", "peak_mb": 180.0},   # an older record
               {**rec, "tool": "pyfim-fpmax", "peak_mb": 40.0, "base_mb": 38.0}]
    text = fim_bench.table(records)
    assert "5 / 180 (7)" in text
    assert "; 7 / 2 MB)" in text      # against the leaner peer
    assert "; 10 / 2 MB)" in text     # no call_mb: the rise of the peak above the start


def test_repeats_keep_the_fastest_time_the_least_cpu_and_the_most_memory():
    runs = [(0.5, 0.4, 9, {"call_mb": 30.0, "phases": {"mine": 0.5}}),
            (0.3, 0.35, 9, {"call_mb": 0.0, "phases": {"mine": 0.3}}),   # the heap reused
            (0.4, 0.3, 9, {"call_mb": 1.0, "phases": {"mine": 0.4}})]
    assert fim_bench._best_of(runs) == (0.3, 0.3, 9, {"phases": {"mine": 0.3}, "call_mb": 30.0})
    runs[2] = (0.4, 0.3, 9, {"phases": {"mine": 0.4}})   # a run without the measure
    assert "call_mb" not in fim_bench._best_of(runs)[3]


def test_two_rank_children_are_told_where_the_result_goes(tmp_path, monkeypatch):
    """``--result-on`` reaches the child's command line (under mpiexec for ``@2``), so
    its 2-rank runs leave the result whole on every rank or in blocks, as asked."""
    seen = []

    def run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="", stderr="")
    monkeypatch.setattr(fim_bench.subprocess, "run", run)
    for where in ("all", "blocks"):
        fim_bench.launch("hpcrec-fpgrowth@2", tmp_path / "t.dat", [0.5], 10, 1, 60,
                         result_on=where)
        cmd = seen[-1]
        assert Path(cmd[0]).name == "mpiexec" and cmd[1:3] == ["-n", "2"]
        assert cmd[cmd.index("--result-on") + 1] == where
