"""``hpcrec demo``: the course's story end to end (see :mod:`hpcrec.course`).

Mining and training run over all ranks; rank 0 explores, draws, prints the report and
writes the output folder (CSV tables, PNG figures, ``report.md``).
"""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

from ..core.comm import world
from ..core.device import share_cores
from ..core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the course demo (itemsets and recommenders) end to end",
                       description="The lecture end to end: retail basket analysis, FP-Growth on "
                                   "five transactions, matrix factorization on MovieLens 100K (or a "
                                   "synthetic set of its shape).")
    p.add_argument("--out", default="hpcrec-out", help="output folder (default: ./hpcrec-out)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the synthetic data, the split and the models (default 0)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder holding ml-100k/ and/or retail_dataset.csv (default: synthetic data)")
    p.add_argument("--download", action="store_true",
                   help="fetch MovieLens 100K from GroupLens (checksummed) into --data-dir (default "
                        "OUT/data) if not there; offline, fall back to synthetic data")
    p.add_argument("--quick", action="store_true", help="smaller sweep, fewer epochs (for tests)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from ..course import report, story
    comm = world()
    t0 = time.perf_counter()
    out = Path(args.out)
    with comm.collective_errors():
        if args.seed < 0:
            raise InputError(f"--seed must be >= 0, got {args.seed}")
        if args.data_dir is not None and not Path(args.data_dir).is_dir():
            raise InputError(f"--data-dir {args.data_dir}: no such folder")
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out}: exists and is not a folder")
        if comm.is_root:  # fail now, not after minutes of work, if it cannot be created
            out.mkdir(parents=True, exist_ok=True)
    share_cores(comm)
    with _steps_only():
        res = story.run(args.data_dir, args.download, args.data_dir or out / "data", args.seed,
                        story.QUICK if args.quick else story.FULL, comm)
    with comm.collective_errors():
        if comm.is_root:
            story.write(res, out)
            print(report.terminal(res, out, time.perf_counter() - t0), flush=True)
    return 0


@contextlib.contextmanager
def _steps_only():
    """At the default log level, show the demo's steps but not the models' per-epoch lines
    (-v shows everything, -q nothing)."""
    pkg, steps = logging.getLogger("hpcrec"), logging.getLogger("hpcrec.course")
    saved = pkg.level, steps.level
    if logging.getLogger().level == logging.INFO:
        pkg.setLevel(logging.WARNING)
        steps.setLevel(logging.INFO)
    try:
        yield
    finally:
        pkg.setLevel(saved[0])
        steps.setLevel(saved[1])
