"""One measurement = one record: built collectively, written by rank 0 as JSON lines + CSV.

A record says what ran (workload, parameters, data size), where (ranks, nodes, GPUs,
threads per rank, hosts, SLURM job id, library versions) and how long each phase took.
The total is the slowest rank's wall time and the phases are that rank's, so they add up
to the total (every rank's phases are kept too); ``communicate`` is the time spent inside
collectives (waiting for slower ranks included), ``compute`` the rest of the algorithm. The same
numbers go to stdout as one ``HPCREC_RESULT key=value ...`` line for JUBE or ReFrame.
"""
from __future__ import annotations

import csv
import datetime as _dt
import fcntl
import io
import json
import os
import platform
import socket
from importlib import metadata
from pathlib import Path

from .. import __version__
from ..core.comm import Comm, mpi_library
from ..core.errors import InputError
from ..core.timing import peak_rss_bytes

PHASES = ("read", "compute", "communicate", "write")
RESULT_PREFIX = "HPCREC_RESULT"
CSV_FIELDS = ("timestamp", "workload", "study", "mode", "ranks", "nodes", "gpus",
              "threads_per_rank", "data", "data_rows", "data_nnz", "work", "work_unit",
              *(f"t_{p}" for p in PHASES), "total_s", "throughput", "throughput_unit",
              "comm_bytes", "comm_calls", "peak_rss_max_bytes", "host", "slurm_job_id",
              "params", "versions", "status")
_VERSIONED = ("numpy", "numba", "h5py", "mpi4py", "mpich", "cupy-cuda12x", "pandas")


def library_versions() -> dict:
    """Versions of hpcrec, Python, the MPI library and the numerical packages in use."""
    out = {"hpcrec": __version__, "python": platform.python_version(), "mpi": mpi_library()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def threads_per_rank() -> int:
    """Threads a rank's Numba kernels use (NUMBA_NUM_THREADS / the launcher's CPU binding)."""
    import numba
    return int(numba.get_num_threads())


def build(comm: Comm, workload: str, params: dict, data: dict, phases: dict, total_s: float,
          work: float, work_unit: str, comm_bytes: int, comm_calls: int, gpus_per_rank: int = 0,
          tags: dict | None = None, cpu_s: float = 0.0) -> dict | None:
    """Gather this rank's phase times and memory; rank 0 gets the record, others None.

    ``phases`` are this rank's seconds per phase and ``total_s`` its wall time for the
    whole measurement (the record keeps the slowest rank's); ``data`` describes the whole data set
    (``name``, ``rows``, ``nnz``); ``work`` is the global amount of work done (transactions
    scanned, rating updates) from which the throughput follows; ``comm_bytes`` and
    ``comm_calls`` are this rank's collective traffic during the measurement; ``cpu_s`` its
    CPU seconds (all its threads; an MPI library that polls while waiting counts that too):
    ``cpu_s / total_s`` well below the threads per rank means the rank did not get its cores.
    """
    mine = {"phases": {k: float(v) for k, v in phases.items()}, "rss": peak_rss_bytes(),
            "total": float(total_s), "cpu_s": float(cpu_s),
            "host": socket.gethostname(), "comm_bytes": int(comm_bytes), "comm_calls": int(comm_calls)}
    every = comm.gather_obj(mine)
    if not comm.is_root:
        return None
    slowest = max(every, key=lambda r: r["total"])
    total = slowest["total"]
    hosts = sorted({r["host"] for r in every})
    tags = dict(tags or {})
    return {
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "workload": workload, "study": tags.pop("study", ""), "mode": tags.pop("mode", ""),
        "tags": tags, "params": params,
        "ranks": comm.size, "nodes": len(hosts), "gpus": comm.size * gpus_per_rank,
        "threads_per_rank": threads_per_rank(),
        "data": data.get("name", ""), "data_rows": int(data.get("rows", 0)),
        "data_nnz": int(data.get("nnz", 0)),
        "work": float(work), "work_unit": work_unit,
        "phases": slowest["phases"], "phases_per_rank": [r["phases"] for r in every],
        "total_s": total,
        "throughput": float(work) / total if total > 0 else 0.0,
        "throughput_unit": f"{work_unit}/s",
        "comm_bytes": sum(r["comm_bytes"] for r in every),
        "comm_bytes_per_rank": [r["comm_bytes"] for r in every],
        "comm_calls": max(r["comm_calls"] for r in every),
        "cpu_s_per_rank": [r["cpu_s"] for r in every],
        "peak_rss_max_bytes": max(r["rss"] for r in every),
        "peak_rss_bytes_per_rank": [r["rss"] for r in every],
        "host": hosts[0] if len(hosts) == 1 else f"{hosts[0]} (+{len(hosts) - 1})",
        "hosts": hosts,
        "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
        "load_avg_1m": os.getloadavg()[0],   # rank 0's host: other work competing for its cores
        "versions": library_versions(),
    }


def timed_out(workload: str, params: dict, tags: dict, ranks: int, nodes: int, limit_s: float,
              elapsed_s: float, reached: list[str]) -> dict:
    """The record of a run killed at its time limit (``status = "timeout"``): no times, no
    throughput, the phases it had reached; reports list it instead of measuring with it."""
    tags = dict(tags)
    return {
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "status": "timeout", "time_limit_s": float(limit_s), "phases_reached": list(reached),
        "workload": workload, "study": tags.pop("study", ""), "mode": tags.pop("mode", ""),
        "tags": tags, "params": params, "ranks": int(ranks), "nodes": int(nodes), "gpus": 0,
        "threads_per_rank": 0, "data": "", "data_rows": 0, "data_nnz": 0, "work": 0.0,
        "work_unit": "", "phases": {}, "total_s": float(elapsed_s), "throughput": 0.0,
        "throughput_unit": "", "comm_bytes": 0, "comm_calls": 0, "peak_rss_max_bytes": 0,
        "host": socket.gethostname(), "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
        "versions": library_versions(),
    }


def csv_row(rec: dict) -> dict:
    """The record flattened to the fixed CSV columns (nested parts as JSON text)."""
    row = {k: rec.get(k, "") for k in CSV_FIELDS}
    for p in PHASES:
        row[f"t_{p}"] = rec["phases"].get(p, 0.0)
    row["params"] = json.dumps(rec.get("params", {}), sort_keys=True)
    row["versions"] = json.dumps(rec.get("versions", {}), sort_keys=True)
    return row


def _append_locked(path: Path, text_for) -> None:
    """Append under an exclusive lock: concurrent jobs sharing one records file never interleave.

    ``text_for(empty)`` returns what to write, given whether the file is still empty (so a
    CSV header is written exactly once). Records are appended, not replaced atomically:
    a log grows while other jobs may be writing to it.
    """
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0, os.SEEK_END)
            fh.write(text_for(fh.tell() == 0))
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def append(rec: dict, path) -> tuple[Path, Path]:
    """Append ``rec`` to ``path`` (JSON lines, ``.jsonl``) and to the CSV beside it."""
    jsonl = Path(path)
    if jsonl.suffix != ".jsonl":
        raise InputError(f"records file must end in .jsonl (a CSV copy is kept beside it): {jsonl}")
    if not jsonl.parent.is_dir():
        raise InputError(f"records folder does not exist: {jsonl.parent}")
    line = json.dumps(rec, sort_keys=True) + "\n"
    _append_locked(jsonl, lambda empty: line)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writerow(csv_row(rec))
    row = buf.getvalue()
    header = ",".join(CSV_FIELDS) + "\n"
    csv_path = jsonl.with_suffix(".csv")
    _append_locked(csv_path, lambda empty: header + row if empty else row)
    return jsonl, csv_path


def result_line(rec: dict) -> str:
    """``HPCREC_RESULT key=value ...``: one line a JUBE/ReFrame pattern can parse."""
    fields = {"workload": rec["workload"], "ranks": rec["ranks"], "nodes": rec["nodes"],
              "gpus": rec["gpus"], "threads": rec["threads_per_rank"],
              "data_nnz": rec["data_nnz"], "total_s": f"{rec['total_s']:.6g}",
              **{f"t_{p}": f"{rec['phases'].get(p, 0.0):.6g}" for p in PHASES},
              "throughput": f"{rec['throughput']:.6g}", "unit": rec["throughput_unit"],
              "comm_bytes": rec["comm_bytes"], "peak_rss_max_mb": f"{rec['peak_rss_max_bytes'] / 2**20:.1f}",
              "slurm_job_id": rec["slurm_job_id"] or "-"}
    return RESULT_PREFIX + " " + " ".join(f"{k}={v}" for k, v in fields.items())


def parse_result_line(line: str) -> dict:
    """The key=value fields of a result line (for scripts that scrape job output)."""
    if not line.startswith(RESULT_PREFIX + " "):
        raise InputError(f"not a {RESULT_PREFIX} line: {line[:60]!r}")
    return dict(part.split("=", 1) for part in line[len(RESULT_PREFIX) + 1:].split())


# fields a report reads -> the JSON types they must have (bool is excluded from numbers)
_NUMBER = (int, float)
LOADED_FIELDS = {"workload": str, "ranks": int, "nodes": int, "gpus": int, "threads_per_rank": int,
                 "total_s": _NUMBER, "throughput": _NUMBER, "throughput_unit": str,
                 "phases": dict, "params": dict, "host": str, "comm_calls": int,
                 "data_nnz": int, "peak_rss_max_bytes": int}


def _check_record(rec, where: str) -> dict:
    if not isinstance(rec, dict):
        raise InputError(f"{where}: not an hpcrec bench record")
    for name, kind in LOADED_FIELDS.items():
        value = rec.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise InputError(f"{where}: not an hpcrec bench record (field {name!r} missing or "
                             "of the wrong type)")
    if not all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in rec["phases"].values()):
        raise InputError(f"{where}: not an hpcrec bench record (phase times must be numbers)")
    if rec["ranks"] < 1 or rec["nodes"] < 1 or rec["total_s"] < 0:
        raise InputError(f"{where}: not an hpcrec bench record (ranks, nodes or total_s out of range)")
    return rec


def load(paths) -> list[dict]:
    """Records from JSON-lines files (or folders holding ``records.jsonl``), in file order;
    each is checked to have the fields a report reads, with their types."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            p = p / "records.jsonl"
        if not p.is_file():
            raise InputError(f"no records file: {p}")
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError(f"{p}: not UTF-8 text") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}:{n}: not a JSON record ({exc.msg})") from None
            out.append(_check_record(rec, f"{p}:{n}"))
    return out
