"""Scaling studies run for real under the local SLURM (tests/slurm_local.py): a 1 -> 2 rank
strong-scaling study (rendered jobscripts submitted with ``sbatch --wait``, records, report),
and study points that overrun their time limit (recorded as timed out, never requeued)."""
from __future__ import annotations

import sys

import pytest
from slurm_local import job_info, slurm  # noqa: F401  (slurm: the fixture)

from hpcrec.bench import record
from hpcrec.io import synthetic

pytestmark = pytest.mark.timeout(900)   # installing SLURM on a fresh machine included


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


def test_overrunning_study_points_are_recorded_not_requeued(slurm, tmp_path, run_cli):
    """Points of the train template overrun their 4 s: each job ends once (never requeued:
    a benchmark has no checkpoint), with a timed-out record naming the phases reached."""
    data = synthetic.write_ratings_h5(tmp_path / "r.h5", n_users=300, n_items=200, n_ratings=20000)
    spec = tmp_path / "slow.toml"
    spec.write_text(f'name = "slow"\nranks = [1, 2]\ntimeout_s = 4\n'
                    f'[workload]\nname = "train"\ninput = "{data}"\nepochs = 1000000\n'
                    '[slurm]\ntemplate = "train-batch"\nsite = "local"\npartition = "local"\n'
                    'time = "00:01:00"\n')
    env = {**slurm, "HPCREC_VENV": sys.prefix}
    rc, out, err = run_cli("bench", "study", spec, "-o", tmp_path / "out", "--submit", "--wait",
                           env=env, timeout=300)
    assert rc == 0, err
    recs = sorted(record.load([tmp_path / "out"]), key=lambda r: r["ranks"])
    assert [(r["ranks"], r["status"]) for r in recs] == [(1, "timeout"), (2, "timeout")]
    assert all("read" in r["phases_reached"] and r["slurm_job_id"] for r in recs)
    for r in recs:
        job = job_info(slurm, r["slurm_job_id"])
        assert job["Restarts"] == "0" and job["Requeue"] == "0" and job["JobState"] == "COMPLETED", job
