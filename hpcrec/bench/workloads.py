"""Benchmark workloads: what one measurement runs, with its parameters and its unit of work.

Each workload reads its input (phase ``read``), runs through the public Python API, and
reports this rank's seconds per phase. Time inside the communicator's collectives is
``communicate``; the rest of the algorithm's time is ``compute``. Workloads:

- ``read``:  partitioned read of an HDF5 (or text) data set by every rank, then the global
  item histogram (one Allreduce) — the I/O and data-decomposition floor of every job;
- ``mine``:  frequent itemsets with ``hpcrec.fim`` (Apriori, FP-Growth, FP-Max);
- ``train``: a recommender from ``hpcrec.mf`` trained for E epochs.
"""
from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.comm import Comm
from ..core.context import RunContext
from ..core.device import DEVICES
from ..core.errors import InputError
from ..core.timing import Timer
from ..io import formats


@dataclass(frozen=True)
class Param:
    """One workload parameter: CLI option ``--name`` and study key ``name``."""
    name: str
    type: type
    default: object
    help: str
    choices: tuple | None = None


@dataclass
class Outcome:
    """This rank's view of one run: phase seconds, the data set, the global work done."""
    phases: dict
    data: dict
    work: float
    work_unit: str
    gpus_per_rank: int = 0
    result: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Workload:
    name: str
    help: str
    params: tuple[Param, ...]
    run: Callable[[dict, Comm], Outcome]
    modules: tuple[str, ...] = ()                # imported before the clock starts


_progress: Path | None = None   # rank 0 of a measurement notes the phases it enters here


def _note(event: str) -> None:
    """Append ``event`` to the progress file (see :mod:`hpcrec.bench.point`), if any."""
    if _progress is not None:
        with open(_progress, "a", encoding="utf-8") as fh:
            fh.write(event + "\n")


def _timer(comm: Comm) -> Timer:
    """A workload's timer: phases ``read``, ``compute``, ``communicate``, ``write``, each noted."""
    return Timer(comm, on_phase=_note)


def _data_info(path: str, rows: int, nnz: int) -> dict:
    return {"name": Path(path).name, "rows": int(rows), "nnz": int(nnz)}


def _optional(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"workload needs {module} ({what}), which is not importable: {exc}") from None


# -- read ----------------------------------------------------------------------------------
def run_read(p: dict, comm: Comm) -> Outcome:
    timer = _timer(comm)
    with comm.collective_errors(), timer.phase("read"):
        kind = p["kind"] or formats.kind_of(p["input"])
        if kind == "transactions":
            data = formats.load_transactions(p["input"], comm)
            column, rows, n_cols = data.rows.indices, data.n_total, data.n_items
        else:
            data = formats.load_ratings(p["input"], comm)
            column, rows, n_cols = data.item, data.n_total, data.n_items
    with timer.computing():
        counts = np.bincount(column, minlength=n_cols).astype(np.int64)
        comm.allreduce(counts)
    nnz = int(counts.sum())
    unit = "transactions" if kind == "transactions" else "ratings"
    return Outcome(timer.phases, _data_info(p["input"], rows, nnz), rows, unit,
                   result={"items_seen": int(np.count_nonzero(counts))})


# -- mine ----------------------------------------------------------------------------------
def run_mine(p: dict, comm: Comm) -> Outcome:
    """Read this rank's slice, then mine it with ``hpcrec.fim``'s engine (its own phases kept as detail)."""
    from ..fim import engine
    ctx = RunContext.build(comm, p["device"])
    timer = _timer(comm)
    with comm.collective_errors(), timer.phase("read"):
        tx = formats.load_transactions(p["input"], comm)
    with timer.computing():
        itemsets = engine.mine_itemsets(tx, p["min_support"], p["algorithm"], p["max_len"] or None,
                                        context=ctx)
    if p["output"]:
        from ..io.results import write_itemsets
        with comm.collective_errors(), timer.phase("write"):
            if comm.is_root:
                write_itemsets(p["output"], itemsets)
    nnz = comm.allreduce_scalar(tx.nnz)
    return Outcome(timer.phases, _data_info(p["input"], tx.n_total, nnz), tx.n_total, "transactions",
                   int(ctx.device == "gpu"),
                   {"itemsets": int(len(itemsets)), "engine_phases": dict(ctx.timer.phases)})


# -- train ---------------------------------------------------------------------------------
def run_train(p: dict, comm: Comm) -> Outcome:
    """Read this rank's shard, then fit an ``hpcrec.mf`` model on it for E epochs."""
    from ..mf import FactorModel
    from ..recommender import models as registered
    models = {name: cls for name, cls in registered().items() if issubclass(cls, FactorModel)}
    with comm.collective_errors():
        if p["model"] not in models:
            raise InputError(f"unknown model {p['model']!r}: choose one of {', '.join(sorted(models))}")
        model = models[p["model"]](factors=p["factors"], epochs=p["epochs"], seed=p["seed"],
                                   device=p["device"])
    ctx = RunContext.build(comm, model.device, stop_signals=model.stop_signals)
    gpus = int(ctx.device == "gpu")
    timer = _timer(comm)
    with comm.collective_errors(), timer.phase("read"):
        shard = formats.load_ratings(p["input"], comm)
    with timer.computing():
        model.fit(shard, context=ctx)
    if p["output"]:
        with comm.collective_errors(), timer.phase("write"):
            if comm.is_root:
                model.save(p["output"])
    stats = model.fit_stats
    updates = stats["updates"]
    result = {"epochs_s": stats["seconds"]}   # the epoch loop alone, without setup
    if result["epochs_s"]:
        result["epoch_updates_per_s"] = updates / result["epochs_s"]
    if model.history:
        result["train_rmse"] = float(model.history[-1]["train_rmse"])
    return Outcome(timer.phases, _data_info(p["input"], shard.n_total, shard.n_total),
                   float(updates), "rating updates", gpus, result)


_INPUT = Param("input", str, None, "data file: HDF5 (each rank reads its slice) or text")
_DEVICE = Param("device", str, "cpu", "compute device", DEVICES)
_OUTPUT = Param("output", str, "", "also write the result here (rank 0; timed as 'write')")

WORKLOADS = {w.name: w for w in (
    Workload("read", "partitioned read + global item histogram (I/O floor)", (
        _INPUT,
        Param("kind", str, "", "data kind (default: from the file)", ("", "transactions", "ratings")),
    ), run_read),
    Workload("mine", "frequent itemsets (hpcrec.fim)", (
        _INPUT,
        Param("min_support", float, 0.01, "minimum support (fraction of transactions)"),
        Param("algorithm", str, "fpgrowth", "mining algorithm", ("apriori", "fpgrowth", "fpmax")),
        Param("max_len", int, 0, "longest itemset (0: no limit)"),
        _DEVICE,
        _OUTPUT,
    ), run_mine, ("hpcrec.fim.engine",)),
    Workload("train", "recommender training (hpcrec.mf)", (
        _INPUT,
        Param("model", str, "biased-sgd", "model name"),
        Param("factors", int, 64, "embedding dimension"),
        Param("epochs", int, 10, "training epochs"),
        Param("seed", int, 0, "random seed"),
        _DEVICE,
        _OUTPUT,
    ), run_train, ("hpcrec.mf",)),
)}


def get(name: str) -> Workload:
    if name not in WORKLOADS:
        raise InputError(f"unknown workload {name!r}: choose one of {', '.join(WORKLOADS)}")
    return WORKLOADS[name]


def resolve_params(workload: Workload, given: dict) -> dict:
    """Defaults filled in, types checked, unknown keys refused (one clear error each)."""
    known = {p.name: p for p in workload.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InputError(f"workload {workload.name}: unknown parameter(s) {', '.join(unknown)} "
                         f"(known: {', '.join(known)})")
    out = {}
    for name, spec in known.items():
        value = given.get(name, spec.default)
        if value is None:
            raise InputError(f"workload {workload.name}: parameter '{name}' is required")
        try:
            value = spec.type(value) if not isinstance(value, bool) else value
        except (TypeError, ValueError):
            raise InputError(f"workload {workload.name}: {name}={value!r} is not a "
                             f"{spec.type.__name__}") from None
        if spec.choices and value not in spec.choices:
            raise InputError(f"workload {workload.name}: {name}={value!r} is not one of "
                             f"{', '.join(map(str, spec.choices))}")
        out[name] = value
    return out


def measure(name: str, given: dict, comm: Comm, tags: dict | None = None, warmup: int = 0) -> dict | None:
    """Run one measurement on every rank; rank 0 returns the record (others None).

    ``warmup`` untimed runs come first, so that JIT compilation (Numba) and a cold page
    cache stay out of the measurement.
    """
    from . import point, record
    global _progress
    progress = os.environ.get(point.PROGRESS_ENV)
    _progress = Path(progress) if progress and comm.is_root else None
    with comm.collective_errors():
        workload = get(name)
        params = resolve_params(workload, given)
        if warmup < 0:
            raise InputError(f"warmup must be >= 0, got {warmup}")
        for module in workload.modules:
            _optional(module, workload.help)
    for _ in range(warmup):
        _note("warmup")
        workload.run(params, comm)
    _note("timed")
    load_start = os.getloadavg()[0]   # with load_avg_1m at the end: what else ran meanwhile
    comm.barrier()  # every rank starts the clock together
    timer = Timer(comm)
    cpu0 = time.process_time()
    out = workload.run(params, comm)
    took = timer.record()
    rec = record.build(comm, name, params, out.data, out.phases, took["total_s"], out.work,
                       out.work_unit, took["comm_bytes"], took["comm_calls"], out.gpus_per_rank, tags,
                       time.process_time() - cpu0)
    if rec is not None:
        rec["result"] = out.result
        rec["warmup"] = warmup
        rec["load_avg_1m_start"] = load_start
    return rec
