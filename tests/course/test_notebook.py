"""The course notebook runs end to end (quick sizes, synthetic data) so it cannot rot.

The kernel is the python3 kernel of this interpreter: a kernelspec written to a temporary
JUPYTER_PATH (searched first) points at ``sys.executable``, so a user-level python3
kernelspec elsewhere cannot send the notebook to another Python.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "course.ipynb"


@pytest.mark.timeout(600)
def test_course_notebook_runs(tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (hpcrec tests)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("HPCREC_COURSE_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for var in ("HPCREC_NO_MPI", "HPCREC_EXPECT_RANKS", "HPCREC_FAIL"):
        monkeypatch.delenv(var, raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    work = tmp_path / "run"
    work.mkdir()
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any failing cell
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) >= 7 and all(c.metadata["jupyter"]["source_hidden"] for c in solutions)
    assert all(c.get("outputs") for c in solutions)
    for name in ("support_sweep.png", "exploration.png", "tsne.png", "rmse.png", "itemsets-2ranks.csv",
                 "als-2ranks.h5"):
        assert (work / "course-out" / name).is_file(), name
