"""``hpcrec warmup``: compile the kernels of the commands once, into Numba's on-disk cache.

The first run of a command after installation compiles its kernels (seconds to a minute);
every later run loads them from the cache (``NUMBA_CACHE_DIR``, else ``__pycache__``
beside the package). Batch jobs that start on fresh nodes or images can run this once,
e.g. at the end of an install script, so no production job pays for compilation. It runs
tiny jobs of each command in a temporary folder: the kernels and type signatures they
compile are the ones real runs of the same commands use. Under MPI one rank per node works.
"""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

log = logging.getLogger("hpcrec")
TARGETS = ("convert", "mine", "train")


def register(sub) -> None:
    p = sub.add_parser("warmup", help="compile and cache the kernels the commands use (once per install)")
    p.add_argument("targets", nargs="*", metavar="COMMAND",
                   help=f"commands to prepare, of {', '.join(TARGETS)} (default: all)")
    p.set_defaults(func=cmd_warmup)


def _convert(folder: Path) -> None:
    from ..comm import serial
    from ..io import formats
    (folder / "t.dat").write_text("1 2 3\n2 3\n\n4 1\n")
    (folder / "r.csv").write_text("user,item,rating,timestamp\n1,2,3.5,10\n2,2,4,11\n")
    formats.load_transactions(folder / "t.dat", serial(), format="fimi")
    formats.load_ratings(folder / "r.csv", serial(), format="ratings-csv")


def _mine(folder: Path) -> None:
    from ..comm import serial
    from ..fim import mine_itemsets
    from ..fim.engine import ALGORITHMS
    from ..io.synthetic import transactions
    tx = transactions(200, seed=0, n_items=30, avg_len=5.0)
    for algorithm in ALGORITHMS:
        mine_itemsets(tx, 0.05, algorithm, comm=serial())


def _train(folder: Path) -> None:
    from ..comm import serial
    from ..io.synthetic import ratings
    from ..recommender import Recommender, import_models
    import_models()
    data = ratings(60, 40, 600, seed=0)
    for _name, cls in sorted(Recommender._registry.items()):
        model = cls()
        if hasattr(model, "epochs"):
            model.epochs = 1
        model.fit(data, serial())


def cmd_warmup(args) -> int:
    from ..comm import world
    from ..errors import InputError
    comm = world()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        raise InputError(f"warmup: unknown command {unknown[0]!r}: choose from {', '.join(TARGETS)}")
    with comm.collective_errors():
        if comm.local_rank == 0:
            with tempfile.TemporaryDirectory(prefix="hpcrec-warmup-") as tmp:
                for target in args.targets or TARGETS:
                    t0 = time.perf_counter()
                    logging.disable(logging.INFO)          # the tiny jobs' own reports
                    try:
                        globals()[f"_{target}"](Path(tmp))
                    finally:
                        logging.disable(logging.NOTSET)
                    if comm.is_root:
                        log.info("%s: kernels ready (%.1f s)", target, time.perf_counter() - t0)
    return 0
