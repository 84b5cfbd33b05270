"""``hpcrec warmup``: compile the kernels of the commands once, into Numba's on-disk cache.

The first run of a command after installation compiles its kernels (seconds to a minute);
every later run loads them from the cache (``NUMBA_CACHE_DIR``, else ``__pycache__``
beside the package). Batch jobs that start on fresh nodes or images can run this once,
e.g. at the end of an install script, so no production job pays for compilation. It runs
tiny jobs of each command in a temporary folder: the kernels and type signatures they
compile are the ones real runs of the same commands use. One rank per node runs them on
its own (the one-rank paths); launched on two or more ranks (``mpiexec -n 2 hpcrec
warmup``), all ranks then run ``mine`` and ``train`` together, which compiles the kernels
only distributed runs use (the exchange of PFP, the sample sort of the result, ...).

It also byte-compiles hpcrec's modules (``__pycache__``, or ``PYTHONPYCACHEPREFIX``): where
``PYTHONDONTWRITEBYTECODE`` is set (many container images) or the install never wrote them,
every process of every rank would otherwise compile the sources of the ~100 modules a
command imports again, about 0.2 s of CPU per rank (benchmarks/README.md, session 19).
"""
from __future__ import annotations

import compileall
import contextlib
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


def _convert(folder: Path, comm) -> None:
    """The readers' kernels (one rank: ``convert`` runs no other kernels)."""
    from ..io import formats
    (folder / "t.dat").write_text("1 2 3\n2 3\n\n4 1\n")
    (folder / "r.csv").write_text("user,item,rating,timestamp\n1,2,3.5,10\n2,2,4,11\n")
    formats.load_transactions(folder / "t.dat", comm, format="fimi")
    formats.load_ratings(folder / "r.csv", comm, format="ratings-csv")


def _mine(folder: Path, comm) -> None:
    """Every algorithm on a dense set, a sparse one (the frequent items fill 17 % and 2 %
    of the slots) and one of 80 frequent items (the result's records in two mask words),
    then again along the paths a large set reaches by its size (:func:`_size_paths`):
    each compiles kernels of its own (a first apriori run on retail.dat compiled 103
    functions, 15 s, after a warm-up on the dense set alone)."""
    import numpy as np

    from ..fim import mine_itemsets
    from ..fim.engine import ALGORITHMS
    from ..io.results import write_itemsets
    from ..io.synthetic import transactions
    result_on = "root" if comm.size > 1 else "all"
    dense = transactions(200, seed=0, n_items=30, avg_len=5.0)
    sparse = transactions(1000, seed=1, n_items=1000, avg_len=8.0, n_patterns=500)
    wide = np.random.default_rng(2).random((300, 80)) < 0.25   # 80 items: two mask words
    wide[:100, :8] = True
    wide = [np.flatnonzero(row).tolist() for row in wide]
    sets = {"dense": (dense, 0.05), "sparse": (sparse, 0.003), "wide": (wide, 0.12)}
    for tx, support in sets.values():
        for algorithm in ALGORITHMS:
            res = mine_itemsets(tx, support, algorithm, comm=comm, result_on=result_on)
    if comm.is_root:
        write_itemsets(folder / "i.h5", res)   # the HDF5 result's relabelling
    for settings, algorithms, names in _size_paths():
        with _thresholds(*settings):
            for name in names:
                for algorithm in algorithms:
                    mine_itemsets(*sets[name], algorithm, comm=comm, result_on=result_on)


def _size_paths():
    """(thresholds, algorithms, sets) that force, on a tiny set, a path a large one takes
    by its size: apriori's counting paths for sparse data (a tiny set switches to bitsets
    at once; here tid-lists throughout: level 2 by often pairs, every parent by
    intersection, by occurrence deliver, the two mixed; then the switch to bitsets and
    streamed rows), and for the FP miners stores and working arrays grown from a few
    entries, and rounds of a few items, each of several builds."""
    from ..fim import count_distribution as cd
    from ..fim import pfp
    from ..kernels import intersect, projected
    lists = {"BITS_FROM": 0}
    apriori, fp, every = ("apriori",), ("fpgrowth", "fpmax", "fpclose"), ("dense", "sparse", "wide")
    rounds = {"MIN_ROUND": 64, "ROUND_SHARE": 1 << 40, "BATCH_WEIGHT": 16}
    return (((cd, {"TRIANGLE": 0}), (intersect, lists)), apriori, ("sparse",)), \
        (((intersect, {**lists, "WEIGHT": 10**9, "TRY_PRUNE": 0.0}),), apriori, ("sparse",)), \
        (((intersect, {**lists, "WEIGHT": 0, "TRY_PRUNE": 0.0}),), apriori, ("sparse",)), \
        (((intersect, lists),), apriori, ("sparse",)), \
        (((intersect, {"BITS_FROM": 10**6}),), apriori, ("sparse",)), \
        (((cd, {"FLOOR": 0, "LISTS": 0.0}),), apriori, ("sparse",)), \
        (((projected, {"START_SMALL": True}),), fp, every), \
        (((pfp, rounds),), fp, every)


@contextlib.contextmanager
def _thresholds(*settings):
    """Each ``(module, {name: value})`` of ``settings`` set inside the block."""
    was = [(module, {name: getattr(module, name) for name in values})
           for module, values in settings]
    try:
        for module, values in settings:
            for name, value in values.items():
                setattr(module, name, value)
        yield
    finally:
        for module, values in was:
            for name, value in values.items():
                setattr(module, name, value)


def _train(folder: Path, comm) -> None:
    from ..io.synthetic import ratings
    from ..mf import FactorModel
    from ..recommender import models
    data = ratings(60, 40, 600, seed=0)
    for cls in models().values():
        model = cls()
        if isinstance(model, FactorModel):
            model.epochs = 1
        model.fit(data, comm)


def cmd_warmup(args) -> int:
    from ..core.comm import serial, world
    from ..core.errors import InputError
    comm = world()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        raise InputError(f"warmup: unknown command {unknown[0]!r}: choose from {', '.join(TARGETS)}")
    targets = args.targets or TARGETS
    with comm.collective_errors():
        if comm.local_rank == 0:
            _bytecode(comm.is_root)
            _run(targets, serial(), comm.is_root, "")
    if comm.size > 1:   # the distributed paths, with every rank
        with comm.collective_errors():
            _run([t for t in targets if t != "convert"], comm, comm.is_root, f" on {comm.size} ranks")
    return 0


def _bytecode(report: bool) -> None:
    """Write the bytecode of every module of hpcrec (Python reads it even where it may not
    write it); a folder it cannot write to is a warning, not an error."""
    from .. import kernels  # its own folder in a development install (pyproject.toml)
    package = Path(__file__).resolve().parents[1]
    folders = dict.fromkeys(str(Path(p).resolve()) for p in (package, *kernels.__path__))
    failed = [f for f in folders if not compileall.compile_dir(f, quiet=2)]
    if failed:
        log.warning("warning: bytecode not written under %s (read-only? set PYTHONPYCACHEPREFIX)",
                    ", ".join(failed))
    elif report:
        log.info("bytecode: ready")


def _run(targets, comm, report: bool, where: str) -> None:
    """The tiny jobs of ``targets`` on ``comm``, each rank in a temporary folder of its own;
    ``report``: log a line per target."""
    with tempfile.TemporaryDirectory(prefix="hpcrec-warmup-") as tmp:
        for target in targets:
            t0 = time.perf_counter()
            logging.disable(logging.INFO)          # the tiny jobs' own reports
            try:
                globals()[f"_{target}"](Path(tmp), comm)
            finally:
                logging.disable(logging.NOTSET)
            if report:
                log.info("%s: kernels ready%s (%.1f s)", target, where, time.perf_counter() - t0)
