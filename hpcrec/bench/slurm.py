"""A scaling study as SLURM jobs: one jobscript per point, rendered from a template shipped
as package data (``hpcrec.jobscripts``, the top-level ``jobscripts/`` folder installed
with hpcrec): its ``#SBATCH`` values are set and its step block is replaced by the
point's commands; :func:`submit` hands the scripts to ``sbatch``."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from ..core.errors import HpcrecError, InputError
from ..io.atomic import atomic_open
from . import point
from .study import Study, point_commands, weak_dir

JOBSCRIPTS = Path(str(resources.files("hpcrec.jobscripts")))   # package data (see pyproject.toml)
STEP_BEGIN = "# >>> hpcrec step"
STEP_END = "# <<< hpcrec step"


def set_sbatch(text: str, option: str, value: str | None) -> str:
    """Set ``#SBATCH --option=value`` (or the bare flag when value is None), replacing a present one."""
    line = f"#SBATCH --{option}" + ("" if value is None else f"={value}")
    pattern = re.compile(rf"^#SBATCH --{re.escape(option)}(=.*)?$", re.M)
    if pattern.search(text):
        return pattern.sub(lambda _: line, text, count=1)
    return _after_header(text, line)


def _after_header(text: str, line: str) -> str:
    """Insert ``line`` after the last ``#SBATCH`` line (sbatch stops reading them at the first command)."""
    last = list(re.finditer(r"^#SBATCH .*$", text, re.M))
    if not last:
        raise InputError("jobscript template has no #SBATCH lines")
    end = last[-1].end()
    return text[:end] + "\n" + line + text[end:]


def template_path(study: Study) -> Path:
    name = study.slurm.template or (
        {"train": "train"}.get(study.workload, "mine")
        + ("-booster" if study.params.get("device") == "gpu" else "-batch"))
    path = JOBSCRIPTS / f"{name}.sbatch"
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in JOBSCRIPTS.glob("*.sbatch"))) or "none"
        raise InputError(f"no jobscript template {path} (templates: {have})")
    return path


def render(study: Study, ranks: int, nodes: int, out: Path) -> str:
    """The jobscript of one point: the template with this point's resources and commands."""
    text = template_path(study).read_text()
    s = study.slurm
    if STEP_BEGIN not in text or STEP_END not in text:
        raise InputError(f"{template_path(study)}: no '{STEP_BEGIN}' ... '{STEP_END}' block to fill")
    settings = {"job-name": f"hpcrec-{study.name}-{ranks}", "nodes": str(nodes),
                "ntasks-per-node": str(ranks // nodes),
                "output": str(out / "logs" / "%x-%j.out"), "time": s.time}
    if s.account:
        settings["account"] = s.account
    if s.partition:
        settings["partition"] = s.partition
    if s.cpus_per_task:
        settings["cpus-per-task"] = str(s.cpus_per_task)
    elif study.threads_per_rank:
        settings["cpus-per-task"] = str(study.threads_per_rank)
    if s.gpus_per_node:   # one GPU per rank, with the cores closest to it (see jobscripts/README.md)
        if ranks // nodes > s.gpus_per_node:
            raise InputError(f"{ranks // nodes} ranks per node, but [slurm] gpus_per_node = "
                             f"{s.gpus_per_node}: one GPU per rank")
        settings["gpus-per-task"] = "1"
    for key, value in settings.items():
        text = set_sbatch(text, key, value)
    if s.exclusive:
        text = set_sbatch(text, "exclusive", None)
    for extra in s.sbatch:
        key, _, value = str(extra).lstrip("-").partition("=")
        text = set_sbatch(text, key, value or None)
    text = re.sub(r"^#SBATCH --(signal|requeue)\b.*\n", "", text, flags=re.M)
    text = set_sbatch(text, "no-requeue", None)   # a benchmark has no checkpoint to resume from
    prepare, argv = point_commands(study, ranks, out)
    limit = run_limit(study)
    q = shlex.quote
    step = [f"# study {study.name}: {ranks} rank(s) on {nodes} node(s), {study.repeat} repeat(s); "
            f"a run over {limit} s is recorded as timed out"]
    if prepare:
        step.append(f"[ -f {q(prepare[3])} ] || HPCREC_NO_MPI=1 HPCREC_EXPECT_RANKS= python -m hpcrec "
                    + " ".join(map(q, prepare)))
    step.append(f"for _ in $(seq {study.repeat}); do")
    step.append("    rc=0; HPCREC_NO_MPI=1 HPCREC_EXPECT_RANKS= python -m hpcrec bench point "
                f"--timeout {limit} --ranks {ranks} --nodes {nodes} -- \\")
    step.append("        $(hpcrec_launcher) python -m mpi4py -m hpcrec " + " ".join(map(q, argv))
                + " || rc=$?")
    step.append(f'    if [ "$rc" = {point.TIMED_OUT} ]; then break; elif [ "$rc" != 0 ]; then exit "$rc"; fi')
    step.append("done")
    head, rest = text.split(STEP_BEGIN, 1)
    tail = rest.split(STEP_END, 1)[1].partition("\n")[2]
    head = _after_header(head, "# rendered by 'hpcrec bench study'; site and helpers:\n"
                         f"export HPCREC_JOBSCRIPTS={q(str(JOBSCRIPTS))} HPCREC_SITE={q(s.site)}")
    return head + f"{STEP_BEGIN} (rendered)\n" + "\n".join(step) + f"\n{STEP_END}\n" + tail


def slurm_seconds(value: str) -> int:
    """A SLURM time limit (``MM``, ``MM:SS``, ``H:MM:SS``, ``D-H``, ``D-H:MM``, ``D-H:MM:SS``) in seconds."""
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", value.strip())
    if not m:
        raise InputError(f"[slurm] time {value!r} is not a SLURM time limit (e.g. 00:30:00)")
    days, a, b, c = (int(x) if x else None for x in m.groups())
    if days is None and c is not None:   # H:MM:SS
        return a * 3600 + b * 60 + c
    if days is None:                      # MM or MM:SS
        return a * 60 + (b or 0)
    return days * 86400 + a * 3600 + (b or 0) * 60 + (c or 0)


def run_limit(study: Study) -> int:
    """Seconds one run of a SLURM point may take: ``timeout_s``, shortened so that every
    repeat can overrun and still be recorded before the job's time limit (30 s spare)."""
    fits = (slurm_seconds(study.slurm.time) - 30) // study.repeat - point.GRACE_S
    if fits < 1:
        raise InputError(f"[slurm] time {study.slurm.time} leaves no time for {study.repeat} "
                         "repeat(s): ask for more time")
    return int(min(study.timeout_s, fits))


def render_all(study: Study, out: Path) -> list[Path]:
    """Write one jobscript per point into ``out/jobs``; returns their paths."""
    (out / "jobs").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    if study.mode == "weak":
        weak_dir(study, out).mkdir(parents=True, exist_ok=True)
    paths = []
    for ranks, nodes in study.points:
        path = out / "jobs" / f"{study.name}-{ranks}.sbatch"
        with atomic_open(path) as fh:
            fh.write(render(study, ranks, nodes, out))
        path.chmod(0o755)
        paths.append(path)
    return paths


def submit(scripts: list[Path], wait: bool = False, timeout_s: int = 3600) -> list[str]:
    """``sbatch`` every script; with ``wait``, block until all ended and fail if any failed."""
    if not shutil.which("sbatch"):
        raise HpcrecError("sbatch not found: submit from a SLURM login node (or use scripts/slurm-local.sh)")
    argv = ["sbatch", "--parsable"] + (["--wait"] if wait else [])
    procs = [(s, subprocess.Popen(argv + [str(s)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)) for s in scripts]
    jobs, failed = [], []
    for script, proc in procs:
        try:
            stdout, stderr = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            failed.append(f"{script.name}: still running after {timeout_s} s")
            continue
        job = stdout.strip().split(";")[0]
        jobs.append(job)
        if proc.returncode != 0:
            failed.append(f"{script.name} (job {job or '-'}): exit {proc.returncode} {stderr.strip()}")
    if failed:
        raise HpcrecError("SLURM jobs failed: " + "; ".join(failed))
    return jobs
