"""benchmarks/gpu_bench.py end to end at toy size (NumPy + CUDA simulator), so the script
that a GPU machine runs does not rot between GPU sessions."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_command

pytest.importorskip("numba.cuda", reason="numba-cuda is not installed")


def test_gpu_bench_smoke(tmp_path: Path):
    rc, out, err = run_command([sys.executable, REPO / "benchmarks" / "gpu_bench.py", "--smoke",
                                "--out", tmp_path], env={"NUMBA_ENABLE_CUDASIM": "1"},
                               timeout=300)
    assert rc == 0, out + err
    results = json.loads((tmp_path / "gpu_bench.json").read_text())
    assert set(results) == {"device", "sgd_float32", "sgd_float16", "als_float32", "als_float64",
                            "als_cg_float32", "wals_cg_float32", "wals_cg_float64", "support", "knn"}
    assert not [k for k, v in results.items() if "error" in v]
    sgd = results["sgd_float32"]["train_rmse_by_epoch"]
    assert sgd[-1] < sgd[0]                                     # it trains, not just runs
    for key in ("als_float64", "als_cg_float32"):
        als = results[key]["train_rmse_by_iteration (1M-rating sample)"]
        assert als[-1] < als[0], key
    assert results["knn"]["identical_lists"] and results["knn"]["gpu_module"] == "numpy"
    assert "| biased SGD, d=4" in (tmp_path / "gpu_bench.md").read_text()
