"""Scaling studies: parsing, jobscript rendering, a local 1->2 rank study with mpiexec, and the
rendered jobscript's body run without SLURM."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from conftest import MPIEXEC, REPO, run_command

from hpcrec.bench import record, slurm, study
from hpcrec.core.errors import InputError
from hpcrec.io import synthetic

TEMPLATES = sorted(slurm.JOBSCRIPTS.glob("*.sbatch"))


@pytest.fixture(scope="module")
def tx_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("study") / "tx.h5"
    synthetic.write_transactions_h5(path, 4000, seed=2, n_items=80)
    return path


def write_study(folder: Path, text: str, name: str = "s.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def strong_toml(data: Path, extra: str = "") -> str:
    return (f'name = "rd"\nmode = "strong"\nranks = [1, 2]\ntimeout_s = 120\n{extra}\n'
            f'[workload]\nname = "read"\ninput = "{data}"\n')


def bash_syntax(text: str, tmp_path: Path) -> None:
    script = tmp_path / "check.sh"
    script.write_text(text)
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_load_and_points(tmp_path, tx_file):
    s = study.load(write_study(tmp_path, strong_toml(tx_file.relative_to(tx_file.parent))
                               .replace(str(tx_file.relative_to(tx_file.parent)), str(tx_file))))
    assert s.points == [(1, 1), (2, 1)] and s.params["input"] == str(tx_file)
    by_nodes = study.load(write_study(tmp_path, 'mode = "strong"\nnodes = [1, 4, 2]\ntasks_per_node = 4\n'
                                      '[workload]\nname = "read"\ninput = "x.h5"\n', "n.toml"))
    assert by_nodes.points == [(4, 1), (8, 2), (16, 4)]
    assert by_nodes.params["input"] == str((tmp_path / "x.h5").resolve())   # relative to the file
    js = study.load(write_study(tmp_path, json.dumps({"ranks": [2, 1], "workload": {"name": "read", "input": "/d"}}),
                                "j.json"))
    assert js.points == [(1, 1), (2, 1)] and js.name == "j"


@pytest.mark.parametrize("text, message", [
    ('ranks = [1]\nmode = "fast"\n[workload]\nname = "read"\ninput = "x"\n', "mode must be"),
    ('ranks = [1]\nnodes = [1]\n[workload]\nname = "read"\ninput = "x"\n', "either 'ranks' or 'nodes'"),
    ('ranks = [0, 2]\n[workload]\nname = "read"\ninput = "x"\n', "positive integers"),
    ('ranks = [1]\ncolour = 1\n[workload]\nname = "read"\ninput = "x"\n', "unknown key"),
    ('ranks = [1]\n[workload]\nname = "read"\nspeed = 3\ninput = "x"\n', "unknown parameter"),
    ('ranks = [1]\n[workload]\nname = "dance"\n', "unknown workload"),
    ('ranks = [1]\nmode = "weak"\n[workload]\nname = "read"\n', "weak mode needs"),
    ('ranks = [1]\nmode = "weak"\n[workload]\nname = "read"\n[weak]\nkind = "ratings"\nfoo_per_rank = 3\n',
     "not an option"),
    ('ranks = [3]\ntasks_per_node = 2\n[workload]\nname = "read"\ninput = "x"\n', "evenly"),
    ('ranks = [1\n', "not a valid TOML"),
    ('ranks = [1]\nmode = "weak"\n[workload]\nname = "read"\ninput = "x"\n[weak]\nkind = "ratings"\n',
     "remove 'input'"),
    ('ranks = [1]\nworkload = 3\n', "must be a table"),
    ('ranks = [1]\n[workload]\nname = "read"\ninput = "x"\n[slurm]\ncpus_per_task = "many"\n', "must be of type int"),
    ('ranks = [1]\n[workload]\nname = "read"\ninput = "x"\n[slurm]\nqueue = "q"\n', "unknown"),
])
def test_bad_studies(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        study.load(write_study(tmp_path, text))


def test_set_sbatch():
    text = "#!/bin/bash\n#SBATCH --nodes=1\n#SBATCH --time=00:10:00\necho hi\n"
    out = slurm.set_sbatch(slurm.set_sbatch(text, "nodes", "4"), "account", "proj")
    assert "#SBATCH --nodes=4\n" in out and "--nodes=1" not in out
    assert out.index("#SBATCH --account=proj") < out.index("echo hi")
    assert slurm.set_sbatch(out, "exclusive", None).count("#SBATCH --exclusive\n") == 1


def test_templates_are_valid_bash_with_required_lines(tmp_path):
    assert {t.stem for t in TEMPLATES} >= {"mine-batch", "mine-booster", "train-batch", "train-booster"}
    for t in TEMPLATES:
        text = t.read_text()
        bash_syntax(text, tmp_path)
        for option in ("job-name", "partition", "nodes", "ntasks-per-node", "cpus-per-task", "time"):
            assert re.search(rf"^#SBATCH --{option}=\S+$", text, re.M), (t.name, option)
        step = text.split(slurm.STEP_BEGIN, 1)[1].split(slurm.STEP_END, 1)[0]
        assert re.search(r"^hpcrec_run (mine|train) ", step, re.M), t.name
        assert ("--gpus-per-task=1" in text) == ("booster" in t.stem)
        assert "#SBATCH --threads-per-core=1" in text   # physical cores only
        if t.stem.startswith("train"):
            assert "#SBATCH --signal=B:USR1@120" in text and "--checkpoint" in text
    lib = (slurm.JOBSCRIPTS / "lib.sh").read_text()
    assert 'hpcrec_step hpcrec_launch python -m mpi4py -m hpcrec "$@"' in lib
    assert '$(hpcrec_launcher) "$@"' in lib and 'echo "${HPCREC_LAUNCHER:-srun --kill-on-bad-exit=1}"' in lib
    for helper in ("lib.sh", "sites/jsc.sh", "sites/local.sh"):
        bash_syntax((slurm.JOBSCRIPTS / helper).read_text(), tmp_path)


@pytest.mark.parametrize("template", [t.stem for t in TEMPLATES])
def test_rendered_jobscripts(tmp_path, tx_file, template):
    wl = ('[workload]\nname = "train"\ninput = "r.h5"\nepochs = 3\n' if template.startswith("train")
          else f'[workload]\nname = "read"\ninput = "{tx_file}"\n')
    text = (f'name = "x"\nranks = [1, 8]\ntasks_per_node = 4\nrepeat = 2\n{wl}'
            f'[slurm]\ntemplate = "{template}"\naccount = "proj"\ntime = "00:05:00"\n'
            f'gpus_per_node = {4 if "booster" in template else 0}\nsbatch = ["--qos=debug"]\n')
    s = study.load(write_study(tmp_path, text))
    scripts = slurm.render_all(s, tmp_path / "out")
    assert [p.name for p in scripts] == ["x-1.sbatch", "x-8.sbatch"]
    for path, (ranks, nodes) in zip(scripts, s.points):
        body = path.read_text()
        bash_syntax(body, tmp_path)
        for line in (f"--nodes={nodes}", f"--ntasks-per-node={ranks // nodes}", "--account=proj",
                     "--time=00:05:00", "--exclusive", "--qos=debug", f"--job-name=hpcrec-x-{ranks}",
                     f"--output={tmp_path / 'out' / 'logs'}/%x-%j.out"):
            assert re.search(rf"^#SBATCH {re.escape(line)}$", body, re.M), (path.name, line)
        if "booster" in template:
            assert "#SBATCH --gpus-per-task=1" in body and "#SBATCH --gpu-bind=closest" in body
        step = body.split(slurm.STEP_BEGIN, 1)[1].split(slurm.STEP_END, 1)[0]
        # no requeue (a benchmark has no checkpoint), a time limit per run instead (5 min job,
        # 2 repeats: (300 - 30) // 2 - 10 s grace)
        assert "#SBATCH --no-requeue" in body and not re.search(r"^#SBATCH --(requeue|signal)", body, re.M)
        assert "HPCREC_NO_MPI=1 HPCREC_EXPECT_RANKS= python -m hpcrec bench point --timeout 125 " in step
        assert "$(hpcrec_launcher) python -m mpi4py -m hpcrec bench run" in step
        assert "seq 2" in step and f"-r {tmp_path / 'out' / 'records.jsonl'}" in step
        assert "hpcrec_run" not in step   # the template's own step is gone
        assert f"HPCREC_JOBSCRIPTS={slurm.JOBSCRIPTS}" in body
        assert os.stat(path).st_mode & stat.S_IXUSR


def test_local_strong_study_and_report(tmp_path, tx_file, run_cli):
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    spec = write_study(tmp_path, strong_toml(tx_file))
    rc, out, err = run_cli("bench", "study", spec, "-o", tmp_path / "st", timeout=300)
    assert rc == 0, err
    recs = record.load([tmp_path / "st"])
    assert sorted(r["ranks"] for r in recs) == [1, 2]
    assert len({r["data_nnz"] for r in recs}) == 1 and all(r["study"] == "rd" for r in recs)
    assert all(r["threads_per_rank"] == 1 for r in recs)
    rc, out, err = run_cli("bench", "report", tmp_path / "st", "-o", tmp_path / "rep", "--project")
    assert rc == 0, err
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## rd (strong scaling)" in md and "| 2 | 1 |" in md and "Projection" in md


def test_points_one_at_a_time(tmp_path, tx_file, run_cli):
    """--ranks runs a subset of the points; records of separate runs report as one series."""
    spec = write_study(tmp_path, strong_toml(tx_file))
    s = study.load(spec)
    assert study.select_points(s, [2]).points == [(2, 1)] and study.select_points(s, None) is s
    with pytest.raises(InputError, match="no point with 3 rank"):
        study.select_points(s, [1, 3])
    rc, out, err = run_cli("bench", "study", spec, "--ranks", "4", "-o", tmp_path / "st")
    assert rc == 2 and "no point with 4 rank(s) (its points: 1, 2)" in err and "Traceback" not in err
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    for ranks in ("2", "1"):
        rc, out, err = run_cli("bench", "study", spec, "--ranks", ranks, "-o", tmp_path / "st", timeout=300)
        assert rc == 0, err
        assert [r["ranks"] for r in record.load([tmp_path / "st"])][-1] == int(ranks)
    rc, out, err = run_cli("bench", "report", tmp_path / "st", "-o", tmp_path / "rep")
    assert rc == 0, err
    assert "| 1 | 1 |" in (tmp_path / "rep" / "report.md").read_text()   # one series, p0 = 1


def test_local_weak_study(tmp_path, run_cli):
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    spec = write_study(tmp_path, 'name = "wk"\nmode = "weak"\nranks = [1, 2]\n[workload]\nname = "read"\n'
                                 '[weak]\nkind = "ratings"\nnnz_per_rank = 3000\nrows_per_rank = 200\nitems = 40\n'
                                 'dir = "gen"\n')
    rc, out, err = run_cli("bench", "study", spec, "-o", tmp_path / "wk", timeout=300)
    assert rc == 0, err
    recs = sorted(record.load([tmp_path / "wk"]), key=lambda r: r["ranks"])
    import h5py
    sizes = []
    for r in recs:   # each point read the whole file generated for it, which grows with the ranks
        with h5py.File(r["params"]["input"], "r") as fh:
            sizes.append(len(fh["rating"]))
        assert r["mode"] == "weak" and f"weak-ratings-{r['ranks']}-" in r["params"]["input"]
        assert Path(r["params"]["input"]).parent == tmp_path / "gen"   # [weak] dir, from the file
    assert [r["data_nnz"] for r in recs] == sizes and 1.8 * sizes[0] <= sizes[1] <= 2 * sizes[0]


def test_study_errors_are_one_line(tmp_path, run_cli):
    rc, out, err = run_cli("bench", "study", tmp_path / "none.toml")
    assert rc == 2 and "no such study file" in err and "Traceback" not in err
    spec = write_study(tmp_path, strong_toml(tmp_path / "missing.h5"))
    rc, out, err = run_cli("bench", "study", spec, "-o", tmp_path / "st", timeout=300)
    assert rc == 2 and "no such file" in err and "Traceback" not in err


def test_jobscript_body_without_slurm(tmp_path, tx_file):
    """The rendered jobscript runs as is outside SLURM with the SLURM variables it reads set:
    checks its shell logic, the site file (local: ranks started by mpiexec) and the step helper."""
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    spec = write_study(tmp_path, strong_toml(tx_file) + '[slurm]\ntemplate = "mine-batch"\nsite = "local"\n')
    s = study.load(spec)
    for path, (ranks, _) in zip(slurm.render_all(s, tmp_path / "out"), s.points):
        env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "SLURM_NTASKS": ranks,
               "SLURM_CPUS_PER_TASK": 1, "SLURM_JOB_ID": f"10{ranks}", "HPCREC_VENV": sys.prefix}
        rc, out, err = run_command(["bash", path], env=env, timeout=180)
        assert rc == 0, err
        assert "HPCREC_RESULT" in out
    recs = record.load([tmp_path / "out"])
    assert [(r["ranks"], r["slurm_job_id"]) for r in recs] == [(1, "101"), (2, "102")]


@pytest.mark.parametrize("value, seconds", [("30", 1800), ("5:07", 307), ("00:05:00", 300),
                                            ("1-0", 86400), ("1-2:30", 95400), ("2-00:00:01", 172801)])
def test_slurm_time_limits(value, seconds):
    assert slurm.slurm_seconds(value) == seconds


def test_run_limit_fits_the_job(tmp_path, tx_file):
    s = study.load(write_study(tmp_path, strong_toml(tx_file, '[slurm]\ntime = "00:01:00"')))
    assert slurm.run_limit(s) == 20           # 60 s - 30 s spare - 10 s grace (timeout_s 120)
    s.repeat = 3
    with pytest.raises(InputError, match="leaves no time for 3 repeat"):
        slurm.run_limit(s)


def test_overrunning_point_is_recorded_and_the_study_goes_on(tmp_path, run_cli):
    """Each point overruns its 5 s: both are recorded as timed out (with the phases reached),
    the second point still runs, and the report lists them instead of failing."""
    if not MPIEXEC.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    data = synthetic.write_ratings_h5(tmp_path / "r.h5", n_users=300, n_items=200, n_ratings=20000)
    spec = write_study(tmp_path, f'name = "slow"\nranks = [1, 2]\nrepeat = 2\ntimeout_s = 5\n'
                                 f'[workload]\nname = "train"\ninput = "{data}"\nepochs = 1000000\n')
    rc, out, err = run_cli("bench", "study", spec, "-o", tmp_path / "st", timeout=200)
    assert rc == 0, err
    recs = record.load([tmp_path / "st"])
    assert [(r["ranks"], r["status"]) for r in recs] == [(1, "timeout"), (2, "timeout")]  # 1 repeat each
    assert all("read" in r["phases_reached"] and r["time_limit_s"] == 5 for r in recs)
    rc, out, err = run_cli("bench", "report", tmp_path / "st", "-o", tmp_path / "rep")
    assert rc == 0, err
    assert "timed out: 1 rank(s) stopped after" in (tmp_path / "rep" / "report.md").read_text()


def test_templates_are_package_data(tmp_path):
    """Every file of jobscripts/ is covered by the package-data globs, importlib.resources
    finds the templates, and `bench study --slurm` renders from a non-editable install (the
    wheel installed with --target, used with the tests' interpreter)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["hpcrec.jobscripts"] == "jobscripts"
    folder = REPO / "jobscripts"
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".py":
            package = ".".join(("hpcrec", "jobscripts", *path.relative_to(folder).parts[:-1]))
            assert package in config["packages"], path
            assert any(path.match(g) for g in config["package-data"][package]), path
    assert {p.stem for p in slurm.JOBSCRIPTS.glob("*.sbatch")} >= {"mine-batch", "train-booster"}
    wheels = tmp_path / "wheels"
    rc, _, err = run_command([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", REPO,
                              "-w", wheels], timeout=300)
    assert rc == 0, err
    rc, _, err = run_command([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                              tmp_path / "site", *wheels.glob("hpcrec-*.whl")], timeout=300)
    assert rc == 0, err
    data = tmp_path / "tx.h5"
    synthetic.write_transactions_h5(data, 100, seed=1, n_items=20)
    spec = write_study(tmp_path, strong_toml(data, '[slurm]\ntemplate = "mine-batch"'))
    rc, out, err = run_command([sys.executable, "-m", "hpcrec", "bench", "study", spec, "--slurm",
                                "-o", tmp_path / "out"], env={"PYTHONPATH": tmp_path / "site"},
                               cwd=tmp_path, timeout=120)
    assert rc == 0, err
    body = (tmp_path / "out" / "jobs" / "rd-2.sbatch").read_text()
    assert f"HPCREC_JOBSCRIPTS={tmp_path / 'site' / 'hpcrec' / 'jobscripts'}" in body
