"""The training jobscripts under the local SLURM (tests/slurm_local.py), on tiny synthetic data:

* a new job never resumes an earlier job's checkpoint (fold 1, then fold 2 with the defaults:
  fold 2's model is the one a clean run gives), and each rank's layout line is in the log;
* a job near its time limit (USR1, as ``--signal=B:USR1@120`` sends) checkpoints and requeues
  itself: its done-file appears only once it has ended for good, and the model is
  bit-identical with an uninterrupted run;
* with HPCREC_ON_TIMEOUT=chain the successor gets the original's sbatch options (a
  non-default partition, a constraint, the time limit) and continues the same run;
* two instances of scripts/slurm-local.sh run side by side.
"""
from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
from conftest import REPO, run_command
from slurm_local import SCRIPT, job_info, slurm, slurm_cmd, wait_for  # noqa: F401  (slurm: the fixture)

from hpcrec.io import synthetic
from hpcrec.recommender import Recommender

pytestmark = pytest.mark.timeout(900)
TRAIN = REPO / "jobscripts" / "train-batch.sbatch"


def _env(slurm, tmp_path, **extra) -> dict:
    return {**os.environ, **slurm, "HPCREC_SITE": "local", "HPCREC_VENV": sys.prefix,
            "HPCREC_JOBSCRIPTS": str(REPO / "jobscripts"), "HPCREC_DATA_DIR": str(tmp_path),
            "FACTORS": "4", **{k: str(v) for k, v in extra.items()}}


def _sbatch(env, *options, wait=False) -> str:
    argv = ["sbatch", "--parsable", *(["--wait"] if wait else []), *options, str(TRAIN)]
    rc, out, err = run_command(argv, env=env, timeout=240)
    assert rc == 0, err
    return out.strip().split(";")[0]


def _log(tmp_path, job) -> str:
    return (tmp_path / f"job-{job}.out").read_text(errors="replace")


def _straight(ratings, out, mpirun):
    """The model of a clean 2-rank run (mpiexec)."""
    rc, _, err = mpirun(2, "train", ratings, "--factors", "4", "--epochs", "6", "--device", "cpu",
                        "-o", out, timeout=300)
    assert rc == 0, err
    return Recommender.load(out)


def _same_model(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("P", "Q", "bu", "bi"))


def test_second_fold_does_not_resume_the_first(slurm, tmp_path, mpirun):
    folds = [synthetic.write_ratings_h5(tmp_path / f"u{k}.h5", n_users=200, n_items=100,
                                        n_ratings=4000, seed=k) for k in (1, 2)]
    jobs = []
    for fold in folds:   # the defaults of CHECKPOINT and OUTPUT, as a user would submit
        env = _env(slurm, tmp_path, RATINGS=fold, EPOCHS=6, CHECKPOINT_EVERY=2)
        jobs.append(_sbatch(env, "-p", "local", "--ntasks-per-node=2", "-c", "1", "-t", "5",
                            f"--output={tmp_path}/job-%j.out", wait=True))
    second = _log(tmp_path, jobs[1])
    assert "resuming" not in second and "Traceback" not in second, second
    model = Recommender.load(tmp_path / f"model-{jobs[1]}.h5")
    assert _same_model(model, _straight(folds[1], tmp_path / "clean.h5", mpirun))
    assert (tmp_path / f"model-{jobs[0]}.h5").exists()          # fold 1's model kept apart
    # the layout line: both ranks, on this node, each pinned to its own core
    lines = re.findall(r"layout: rank (\d)/2 on (\S+): 1 core\(s\) (\d+),", second)
    assert sorted(r for r, _, _ in lines) == ["0", "1"] and len({c for _, _, c in lines}) == 2, second
    assert "share cores" not in second


def _interrupt_when_checkpointed(slurm, tmp_path, job):
    """USR1 to the batch shell (what --signal=B:USR1@120 does) once a checkpoint exists."""
    wait_for("the first checkpoint", (tmp_path / "checkpoints" / job / "checkpoint.h5").exists, 180)
    slurm_cmd(slurm, "scancel", "--signal=USR1", "--batch", job)


EPOCHS = 3000   # tiny data: long enough to be interrupted after the first checkpoint


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """Ratings and the model of an uninterrupted 1-rank run of EPOCHS epochs on them."""
    folder = tmp_path_factory.mktemp("long")
    ratings = synthetic.write_ratings_h5(folder / "r.h5", n_users=200, n_items=100, n_ratings=4000)
    args = ["train", ratings, "--factors", "4", "--epochs", str(EPOCHS), "--device", "cpu",
            "-o", folder / "clean.h5"]
    rc, _, err = run_command([sys.executable, "-m", "hpcrec", *args], env={"NUMBA_NUM_THREADS": 1},
                             timeout=300)   # (results do not depend on the thread count)
    assert rc == 0, err
    return ratings, Recommender.load(folder / "clean.h5")


def test_requeued_job_resumes_and_is_done_only_at_the_end(slurm, tmp_path, long_run):
    ratings, clean = long_run
    done = tmp_path / "done"
    env = _env(slurm, tmp_path, RATINGS=ratings, EPOCHS=EPOCHS, CHECKPOINT_EVERY=50,
               HPCREC_DONE_FILE=done)
    job = _sbatch(env, "-p", "local", "--ntasks-per-node=1", "-c", "1", "-t", "5", f"--output={tmp_path}/job-%j.out")
    _interrupt_when_checkpointed(slurm, tmp_path, job)
    wait_for("the requeue", lambda: job_info(slurm, job)["Restarts"] == "1"
             and job_info(slurm, job)["JobState"] == "PENDING", 120)
    assert not done.exists(), "done-file written although the job was requeued"
    wait_for("the job's end", lambda: job_info(slurm, job)["JobState"] in ("COMPLETED", "FAILED"), 240)
    log = _log(tmp_path, job)
    assert job_info(slurm, job)["JobState"] == "COMPLETED" and "resuming from" in log, log
    assert done.exists()
    assert _same_model(Recommender.load(tmp_path / f"model-{job}.h5"), clean)


def test_chained_successor_keeps_the_sbatch_options(slurm, tmp_path, long_run):
    ratings, clean = long_run
    done = tmp_path / "done"
    env = _env(slurm, tmp_path, RATINGS=ratings, EPOCHS=EPOCHS, CHECKPOINT_EVERY=50,
               HPCREC_DONE_FILE=done, HPCREC_ON_TIMEOUT="chain")
    options = ["--partition=extra", "--constraint=hpcrec", "--ntasks-per-node=1", "--cpus-per-task=1",
               "--time=00:04:00", "--job-name=chained", f"--output={tmp_path}/job-%j.out"]
    first = _sbatch(env, *options)
    _interrupt_when_checkpointed(slurm, tmp_path, first)
    found = wait_for("the successor", lambda: re.search(r"Submitted batch job (\d+)",
                                                         _log(tmp_path, first)), 120)
    second = found.group(1)
    info = job_info(slurm, second)
    assert (info["Partition"], info["Features"], info["TimeLimit"], info["NumTasks"], info["JobName"]) \
        == ("extra", "hpcrec", "00:04:00", "1", "chained"), info
    wait_for("the first job's end", lambda: job_info(slurm, first)["JobState"] not in ("RUNNING", "COMPLETING"), 120)
    wait_for("the successor's end", lambda: job_info(slurm, second)["JobState"] in ("COMPLETED", "FAILED"), 240)
    assert job_info(slurm, second)["JobState"] == "COMPLETED", _log(tmp_path, first)
    assert done.exists()
    assert _same_model(Recommender.load(tmp_path / f"model-{first}.h5"), clean)   # the run keeps its id


def test_two_instances_side_by_side(slurm, tmp_path):
    """A second instance (own folder: own munge socket, own ports) starts and answers while
    the first runs; starting again in a folder whose instance runs is refused."""
    env = {"HPCREC_SLURM_DIR": tmp_path / "second", "PATH": os.environ["PATH"]}
    rc, out, err = run_command(["bash", SCRIPT, "start"], env=env, timeout=120)
    try:
        assert rc == 0, err
        conf = str(tmp_path / "second" / "etc" / "slurm.conf")
        assert slurm_cmd({"SLURM_CONF": conf}, "sinfo", "-h", "-o", "%P").split() == ["local*", "extra"]
        assert "local*" in slurm_cmd(slurm, "sinfo", "-h", "-o", "%P")       # the first still answers
        rc, _, err = run_command(["bash", SCRIPT, "start"], env=env, timeout=60)
        assert rc == 1 and "already runs in" in err
    finally:
        run_command(["bash", SCRIPT, "stop"], env=env, timeout=60)
