"""The project's single-node SLURM (scripts/slurm-local.sh) for tests: a module-scoped fixture
``slurm`` (the environment that points SLURM's commands at it) and small job helpers.

Starts its own instance in a temporary folder (own munge socket, free ports), installing
Debian's slurmctld, slurmd, slurm-client and munge when missing, and stops it afterwards —
also when a test fails. Needs root (the daemons run as root) and SLURM installed or apt-get;
skipped with the reason otherwise, or with HPCREC_SKIP_SLURM=1. Every wait is bounded.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from conftest import REPO, run_command

SCRIPT = REPO / "scripts" / "slurm-local.sh"


def why_not() -> str | None:
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
    why = why_not()
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


def slurm_cmd(slurm: dict, *args, timeout: float = 30) -> str:
    """Run a SLURM client command against the instance; its stdout (fails the test on error)."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, SLURM_CONF=slurm["SLURM_CONF"]))
    assert proc.returncode == 0, f"{' '.join(map(str, args))}: {proc.stderr}"
    return proc.stdout


def job_info(slurm: dict, job: str) -> dict:
    """``scontrol show job -o`` as a dict (values with blanks are cut at the blank)."""
    line = slurm_cmd(slurm, "scontrol", "show", "job", "-o", job).strip()
    return dict(f.split("=", 1) for f in line.split() if "=" in f)


def wait_for(what: str, check, timeout: float = 120, every: float = 0.3):
    """Poll ``check()`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")
