"""A 1 -> 2 rank strong-scaling study run for real under SLURM.

Starts a single-node SLURM with scripts/slurm-local.sh (installing Debian's slurmctld, slurmd,
slurm-client and munge when missing), renders the study's jobscripts, submits them with
``sbatch --wait``, checks the records and the report, and stops the daemons — also when the
test fails. Needs root (the daemons run as root) and SLURM installed or apt-get to install
it; skipped with the reason otherwise, or with HPCREC_SKIP_SLURM=1. Every step has a timeout.
"""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from conftest import REPO, run_command
from hpcrec.bench import record
from hpcrec.io import synthetic

SCRIPT = REPO / "scripts" / "slurm-local.sh"
pytestmark = pytest.mark.timeout(900)   # installing SLURM on a fresh machine included


def _why_not() -> str | None:
    if os.environ.get("HPCREC_SKIP_SLURM") == "1":
        return "HPCREC_SKIP_SLURM=1"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the local SLURM daemons run as root; this test is not running as root"
    if not shutil.which("slurmctld") and not shutil.which("apt-get"):
        return "SLURM is not installed and there is no apt-get to install it"
    if (os.cpu_count() or 1) < 2:
        return "a 2-rank job needs 2 CPUs"
    return None


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    why = _why_not()
    if why:
        pytest.skip(why)
    state = tmp_path_factory.mktemp("slurm")
    env = {"HPCREC_SLURM_DIR": state, "PATH": os.environ["PATH"]}
    rc, out, err = run_command(["bash", SCRIPT, "start"], env=env, timeout=480)
    try:
        if rc != 0:
            pytest.fail(f"scripts/slurm-local.sh start failed ({rc}): {err.strip()[-2000:]}")
        yield {"SLURM_CONF": str(state / "etc" / "slurm.conf"), "HPCREC_SLURM_DIR": str(state)}
    finally:
        run_command(["bash", SCRIPT, "stop"], env=env, timeout=60)


def test_strong_study_under_slurm(slurm, tmp_path, run_cli):
    data = tmp_path / "tx.h5"
    synthetic.write_transactions_h5(data, 20000, seed=5, n_items=200)
    spec = tmp_path / "slurm.toml"
    spec.write_text(f'name = "sl"\nmode = "strong"\nranks = [1, 2]\ntimeout_s = 240\n'
                    f'[workload]\nname = "read"\ninput = "{data}"\n'
                    '[slurm]\ntemplate = "mine-batch"\nsite = "local"\npartition = "local"\n'
                    'time = "00:05:00"\n')
    env = {**slurm, "HPCREC_VENV": sys.prefix}
    rc, out, err = run_cli("bench", "study", spec, "-o", tmp_path / "out", "--submit", "--wait",
                           env=env, timeout=300)
    logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in (tmp_path / "out" / "logs").glob("*"))
    assert rc == 0, f"{err}\njob logs:\n{logs}"
    recs = sorted(record.load([tmp_path / "out"]), key=lambda r: r["ranks"])
    assert [r["ranks"] for r in recs] == [1, 2]
    assert all(r["slurm_job_id"] for r in recs) and recs[0]["slurm_job_id"] != recs[1]["slurm_job_id"]
    assert recs[0]["data_nnz"] == recs[1]["data_nnz"] > 0
    assert all(r["threads_per_rank"] == 1 for r in recs)   # --cpus-per-task reached the ranks
    assert "HPCREC_RESULT" in logs
    rc, out, err = run_cli("bench", "report", tmp_path / "out", "-o", tmp_path / "rep", "--project")
    assert rc == 0, err
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## sl (strong scaling)" in md and "| 2 | 1 |" in md
    assert (tmp_path / "rep" / "sl-speedup.png").stat().st_size > 5000
