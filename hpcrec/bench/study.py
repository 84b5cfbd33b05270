"""Scaling studies: a declarative description, run locally with mpiexec or as SLURM jobs.

A study (TOML or JSON) names a workload and its parameters, the mode (``strong``: the same
data on every point; ``weak``: data generated per point, growing with the ranks) and the
points (``ranks = [1, 2, 4]`` or ``nodes = [1, 2, 4]`` with ``tasks_per_node``). Every
point runs ``hpcrec bench run`` under a launcher and appends to ``OUT/records.jsonl``::

    name = "t10-strong"
    mode = "strong"
    ranks = [1, 2]
    repeat = 3
    warmup = 1                       # untimed runs first (Numba compilation)
    [workload]
    name = "mine"
    input = "$SCRATCH/T10I4D100K.h5" # $VARS expanded; relative paths from the study file
    min_support = 0.005
    [weak]                           # weak mode: `hpcrec generate KIND`, X_per_rank x ranks
    kind = "transactions"
    rows_per_rank = 100000
    dir = "$SCRATCH/weak"            # where the data is generated (default: OUT/data)
    [slurm]                          # for --slurm: which template, account, time, site
    template = "mine-batch"
    account = "myproject"

Locally each point is ``mpiexec -n P python -m mpi4py -m hpcrec bench run ...``; with
``--slurm`` each point becomes a jobscript rendered from ``jobscripts/TEMPLATE.sbatch``:
its ``#SBATCH`` values are set and its step block is replaced by the point's commands.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..core.errors import HpcrecError, InputError
from ..io.atomic import atomic_open
from . import point, workloads

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

JOBSCRIPTS = Path(str(resources.files("hpcrec.jobscripts")))   # package data (see pyproject.toml)
STEP_BEGIN = "# >>> hpcrec step"
STEP_END = "# <<< hpcrec step"
GENERATE_KEYS = {"transactions": ("rows", "items", "avg_len", "pattern_len", "patterns", "seed"),
                 "ratings": ("rows", "items", "nnz", "seed")}


@dataclass
class Slurm:
    template: str = ""
    account: str = ""
    partition: str = ""
    time: str = "00:30:00"
    site: str = "jsc"
    cpus_per_task: int = 0
    gpus_per_node: int = 0
    exclusive: bool = True
    sbatch: list = field(default_factory=list)   # extra "#SBATCH" options, e.g. "--qos=debug"


@dataclass
class Study:
    name: str
    mode: str
    workload: str
    params: dict
    points: list                 # (ranks, nodes) pairs, ascending
    tasks_per_node: int
    threads_per_rank: int
    repeat: int
    warmup: int                  # untimed runs before each measurement (JIT compilation)
    timeout_s: int
    weak: dict                   # options of `hpcrec generate` (weak mode)
    data_dir: Path | None        # where weak-scaling data is generated (None: OUT/data)
    slurm: Slurm


def _need(cond: bool, where: Path, message: str) -> None:
    if not cond:
        raise InputError(f"{where}: {message}")


def _positive_ints(value, where: Path, key: str) -> list[int]:
    ok = isinstance(value, list) and value and all(isinstance(v, int) and v > 0 for v in value)
    _need(bool(ok), where, f"'{key}' must be a non-empty list of positive integers")
    return sorted(set(value))


def _table(raw: dict, key: str, where: Path) -> dict:
    value = raw.get(key) or {}
    _need(isinstance(value, dict), where, f"'{key}' must be a table ([{key}])")
    return dict(value)


def _slurm(raw: dict, where: Path) -> Slurm:
    defaults = Slurm()
    for key, value in raw.items():
        _need(hasattr(defaults, key), where, f"[slurm] {key}: unknown (known: "
              f"{', '.join(f.name for f in dataclasses.fields(Slurm))})")
        want = type(getattr(defaults, key))
        _need(isinstance(value, want) and not (want is int and isinstance(value, bool)), where,
              f"[slurm] {key} must be of type {want.__name__}")
    return Slurm(**raw)


def load(path) -> Study:
    """Parse and check a study file; paths in it are taken relative to its folder."""
    path = Path(path)
    _need(path.is_file(), path, "no such study file")
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid {'JSON' if path.suffix == '.json' else 'TOML'} "
                         f"study ({exc})") from None
    known = {"name", "mode", "ranks", "nodes", "tasks_per_node", "threads_per_rank", "repeat",
             "warmup", "timeout_s", "workload", "weak", "slurm"}
    unknown = sorted(set(raw) - known)
    _need(not unknown, path, f"unknown key(s) {', '.join(unknown)}")
    mode = raw.get("mode", "strong")
    _need(mode in ("strong", "weak"), path, f"mode must be 'strong' or 'weak', got {mode!r}")
    tpn = raw.get("tasks_per_node", 0)
    _need(isinstance(tpn, int) and tpn >= 0, path, "'tasks_per_node' must be an integer >= 0")
    _need(("ranks" in raw) != ("nodes" in raw), path, "give either 'ranks' or 'nodes' (not both)")
    if "nodes" in raw:
        _need(tpn > 0, path, "'nodes' needs 'tasks_per_node'")
        points = [(n * tpn, n) for n in _positive_ints(raw["nodes"], path, "nodes")]
    else:
        points = []
        for r in _positive_ints(raw["ranks"], path, "ranks"):
            nodes = math.ceil(r / tpn) if tpn else 1
            _need(r % nodes == 0, path, f"{r} ranks do not fill {nodes} nodes evenly")
            points.append((r, nodes))
    wl = _table(raw, "workload", path)
    _need("name" in wl, path, "[workload] needs a 'name'")
    workload = workloads.get(wl.pop("name"))
    weak = _table(raw, "weak", path)
    data_dir = None
    if mode == "weak":
        _need("input" not in wl, path, "weak mode generates the input of every point: "
              "remove 'input' from [workload]")
        _need(weak.get("kind") in GENERATE_KEYS, path, "weak mode needs [weak] kind = "
              "'transactions' or 'ratings' (the data generated per point)")
        allowed = GENERATE_KEYS[weak["kind"]]
        if "dir" in weak:   # $VARS expanded, relative to the study file
            data_dir = (path.parent / os.path.expandvars(str(weak.pop("dir")))).resolve()
        for key in weak:
            base = key.removesuffix("_per_rank")
            _need(key == "kind" or base in allowed, path,
                  f"[weak] {key}: not an option of 'hpcrec generate {weak['kind']}' ({', '.join(allowed)})")
        wl.setdefault("input", "")          # filled per point
    elif isinstance(wl.get("input"), str) and wl["input"]:   # $VARS expanded, relative to the file
        wl["input"] = str((path.parent / os.path.expandvars(wl["input"])).resolve())
    params = workloads.resolve_params(workload, wl)
    slurm = _slurm(_table(raw, "slurm", path), path)
    scalars = {k: raw.get(k, d) for k, d in (("threads_per_rank", 1), ("repeat", 1), ("timeout_s", 900))}
    for key, value in scalars.items():
        _need(isinstance(value, int) and value > 0, path, f"'{key}' must be a positive integer")
    warmup = raw.get("warmup", 0)
    _need(isinstance(warmup, int) and warmup >= 0, path, "'warmup' must be an integer >= 0")
    name = str(raw.get("name") or path.stem)
    _need(re.fullmatch(r"[A-Za-z0-9_.-]+", name) is not None, path,
          "'name' may hold letters, digits, '_', '.', '-' only")
    return Study(name, mode, workload.name, params, points, tpn, scalars["threads_per_rank"],
                 scalars["repeat"], warmup, scalars["timeout_s"], weak, data_dir, slurm)


# -- the commands of one point ---------------------------------------------------------------
def weak_dir(study: Study, out: Path) -> Path:
    return study.data_dir or out / "data"


def weak_data(study: Study, ranks: int, out: Path) -> tuple[Path, list[str]]:
    """The generated data file of a weak-scaling point and the ``hpcrec generate`` argv making it."""
    kind = study.weak["kind"]
    options = []
    for key, value in sorted(study.weak.items()):
        if key != "kind":
            value = value * ranks if key.endswith("_per_rank") else value
            options += ["--" + key.removesuffix("_per_rank").replace("_", "-"), str(value)]
    digest = hashlib.sha1(" ".join(options).encode()).hexdigest()[:8]   # new sizes, new file
    target = weak_dir(study, out) / f"weak-{kind}-{ranks}-{digest}.h5"
    return target, ["generate", kind, "-o", str(target), *options]


def point_commands(study: Study, ranks: int, out: Path) -> tuple[list[str] | None, list[str]]:
    """(argv preparing the data or None, argv of the measurement), both without launcher."""
    params = dict(study.params)
    prepare = None
    if study.mode == "weak":
        target, prepare = weak_data(study, ranks, out)
        params["input"] = str(target)
    argv = ["bench", "run", study.workload]
    for key, value in params.items():
        argv += ["--" + key.replace("_", "-"), str(value)]
    argv += ["--warmup", str(study.warmup), "-r", str(out / "records.jsonl"),
             "--tag", f"study={study.name}", "--tag", f"mode={study.mode}"]
    return prepare, argv


# -- local runs ----------------------------------------------------------------------------------
def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if not found:
        raise HpcrecError("mpiexec not found: install an MPI (e.g. pip install hpcrec[mpi-wheel])")
    return found


def _run_logged(argv: list[str], env: dict, log: Path, timeout_s: int, what: str) -> None:
    """Run ``argv`` in its own process group with output to ``log``; kill the group on timeout."""
    with open(log, "ab") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise HpcrecError(f"{what}: no result within {timeout_s} s (killed); log: {log}") from None
    if rc != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise HpcrecError(f"{what}: exit {rc}; log: {log}: " + " | ".join(tail))


def run_local(study: Study, out: Path) -> Path:
    """Run every point (and repeat) now with mpiexec; records go to ``out/records.jsonl``."""
    (out / "logs").mkdir(parents=True, exist_ok=True)
    if study.mode == "weak":
        weak_dir(study, out).mkdir(parents=True, exist_ok=True)
    base_env = dict(os.environ, OMP_NUM_THREADS=str(study.threads_per_rank),
                    NUMBA_NUM_THREADS=str(study.threads_per_rank))
    hpcrec = [sys.executable, "-m", "hpcrec"]
    for ranks, _ in study.points:
        prepare, argv = point_commands(study, ranks, out)
        log = out / "logs" / f"{study.name}-{ranks}.log"
        if prepare and not Path(prepare[3]).exists():
            env = {k: v for k, v in base_env.items() if k != "HPCREC_EXPECT_RANKS"}
            _run_logged(hpcrec + prepare, dict(env, HPCREC_NO_MPI="1"), log,
                        study.timeout_s, f"preparing data for {ranks} rank(s)")
        env = dict(base_env, HPCREC_EXPECT_RANKS=str(ranks))
        launch = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "hpcrec"]
        for _ in range(study.repeat):   # an overrun is recorded; the next point may be faster
            if point.run(launch + argv, study.timeout_s, ranks, 1, log, env) == point.TIMED_OUT:
                break
    return out / "records.jsonl"


# -- SLURM -----------------------------------------------------------------------------------------
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
