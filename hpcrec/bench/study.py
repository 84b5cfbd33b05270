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

This module parses and checks a study and builds the commands of each point;
:mod:`hpcrec.bench.local` runs them now (``mpiexec -n P python -m mpi4py -m hpcrec bench
run ...``) and :mod:`hpcrec.bench.slurm` renders them into jobscripts (``--slurm``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError
from . import workloads

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

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


def select_points(study: Study, ranks: list[int] | None) -> Study:
    """The study reduced to the points with these rank counts (None: all of them).

    For studies whose points each take many minutes: run them one at a time (e.g. each
    under a machine-wide lock) into the same records file, then report them together.
    """
    if not ranks:
        return study
    known = {r for r, _ in study.points}
    missing = sorted(set(ranks) - known)
    if missing:
        raise InputError(f"study {study.name}: no point with {', '.join(map(str, missing))} "
                         f"rank(s) (its points: {', '.join(str(r) for r in sorted(known))})")
    return dataclasses.replace(study, points=[p for p in study.points if p[0] in ranks])


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
