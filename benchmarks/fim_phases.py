"""Where the mining time goes, per rank: the functions ``mine_itemsets`` calls from Python, timed.

Wraps the named functions of hpcrec's mining modules in timers (wall and CPU milliseconds,
and with ``--faults`` minor page faults, summed over their calls), mines each case ``--runs``
times in one process (garbage collector off, the run context built outside the timing, as
fim_bench.py does; one untimed run first loads the Numba cache) and prints per case and rank
the best of every phase with its calls, the whole call (``total``) and ``other``: the call
less its outermost phases (a phase called inside another is shown, not subtracted twice).
Calls made from compiled code are not seen: only a function called from Python can be
wrapped. Under ``mpiexec ... python -m mpi4py`` every rank mines its part (the result left
in blocks, not gathered; ``--result-on all`` or ``root`` gathers it as the API does) and
rank 0 prints a line per rank. For an in-process A/B of a change, run it once per tree
(``PYTHONPATH`` at a ``git archive`` of each with its ``kernels/`` moved into ``hpcrec/``,
as fim_before_after.sh does: an archive without ``hpcrec/kernels`` gets this tree's
kernels from the editable install; check ``hpcrec.kernels.projected.__file__``).

    python benchmarks/fim_phases.py [--runs N] [--phases P,P,...|ranks] [--faults] CASE ...

CASE is DATA:SUPPORT:ALGORITHM; DATA a FIMI file of ``$HPCREC_DATA/fim``, a generated set of
fim_bench.py (``dense-mushroom``, ``longtail``, ...: written into ``--data-dir`` once) or a
path. A phase is ``MODULE.FUNCTION`` below ``hpcrec``, e.g. ``kernels.projected._search``;
one missing from the tree under test is skipped. Lines read ``name=WALL/CPU[/FAULTS]xCALLS``.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from fim_bench import dataset_path

# the one-rank steps: the engine's and the kernels' (the search, the store, the records)
ONE = ["fim.engine.prepare", "fim.prepare.recode_rows", "kernels.exchange.prefix_weights",
       "kernels.exchange.skip_round", "kernels.projected.conditional_rows",
       "kernels.projected._bucket_sizes", "kernels.projected._fill_buckets",
       "kernels.projected._first_work", "kernels.projected._search", "kernels.projected._grown",
       "kernels.projected._reserve", "kernels.lattice.mask_histogram",
       "kernels.lattice.frequent_subsets", "kernels.projected.add_sets", "fim.pfp.records",
       "fim.engine.sorted_records", "fim.engine.decoded", "fim.engine.local_transactions"]
# what ranks add: the distribution layer, the cross-rank filters and the sample sort of the result
RANKS = ["fim.pfp._mine_local", "fim.pfp._cross_rank_kept", "fim.pfp._closure_roles",
         "fim.pfp._met_elsewhere", "kernels.superset.pair_bits", "kernels.superset.met_elsewhere",
         "kernels.superset.by_owner", "kernels.superset.closure_roles", "fim.pfp._extended",
         "fim.pfp.records", "fim.engine.ordered_records", "fim.engine.sorted_records",
         "fim.engine.splitters", "kernels.blocks.deal", "fim.engine.decoded"]
PRESETS = {"one": ONE, "ranks": RANKS}


def _now() -> tuple[float, float, int]:
    return time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class Phases:
    """Wall, CPU seconds and minor faults per wrapped function, summed over its calls."""

    def __init__(self):
        self.depth = 0
        self.clear()

    def clear(self):
        self.spent = defaultdict(lambda: [0.0, 0.0, 0])
        self.calls = defaultdict(int)
        self.outer = [0.0, 0.0, 0]

    def wrap(self, dotted: str) -> None:
        module, _, name = dotted.rpartition(".")
        try:
            mod = importlib.import_module(f"hpcrec.{module}")
        except ModuleNotFoundError:
            raise SystemExit(f"fim_phases.py: no module hpcrec.{module} (phase {dotted})") from None
        inner = getattr(mod, name, None)
        if inner is None:
            return

        def timed(*args, **kwargs):
            self.depth += 1
            start = _now()
            try:
                return inner(*args, **kwargs)
            finally:
                used = [b - a for a, b in zip(start, _now())]
                self.depth -= 1
                self.calls[name] += 1
                for acc in (self.spent[name], *([self.outer] if self.depth == 0 else [])):
                    for i, u in enumerate(used):
                        acc[i] += u
        setattr(mod, name, timed)


def _case(text: str) -> tuple[str, float, str]:
    """DATA:SUPPORT:ALGORITHM, the support a number."""
    parts = text.rsplit(":", 2)
    try:
        data, support, algorithm = parts
        if data and algorithm:
            return data, float(support), algorithm
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not DATA:SUPPORT:ALGORITHM")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def profile(case: tuple[str, float, str], runs: int, phases: Phases, data_dir: Path,
            faults: bool, result_on: str = "blocks") -> str | None:
    """Rank 0: the case's line per rank; other ranks: None. ``result_on`` as
    :func:`hpcrec.fim.mine_itemsets` takes it."""
    from hpcrec.core.comm import world
    from hpcrec.core.context import RunContext
    from hpcrec.fim import mine_itemsets
    from hpcrec.io import load_transactions
    data, support, algorithm = case
    path = Path(data) if Path(data).exists() else dataset_path(data, data_dir)
    comm = world()
    tx = load_transactions(path, comm)
    mine_itemsets(tx, support, algorithm, comm=comm, result_on=result_on)
    best: dict[str, list] = {}
    gc.disable()
    try:
        for _ in range(runs):
            phases.clear()
            ctx = RunContext.build(comm)
            comm.barrier()
            start = _now()
            found = mine_itemsets(tx, support, algorithm, context=ctx, result_on=result_on)
            total = [b - a for a, b in zip(start, _now())]
            now = {**phases.spent, "total": total,
                   "other": [t - o for t, o in zip(total, phases.outer)]}
            best = {k: [min(x, y) for x, y in zip(best.get(k, v), v)] for k, v in now.items()}
    finally:
        gc.enable()
    cells = " ".join(f"{k}={v[0] * 1e3:.2f}/{v[1] * 1e3:.2f}" + (f"/{v[2]}" if faults else "")
                     + (f"x{phases.calls[k]}" if phases.calls.get(k, 1) > 1 else "")
                     for k, v in best.items())
    lines = comm.gather_obj(f"  rank {comm.rank}: {cells}")
    n_sets = comm.allreduce_scalar(len(found))
    if not lines:
        return None
    return f"{data}:{support}:{algorithm} ranks {comm.size} itemsets {n_sets} (ms)\n" + "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="+", type=_case, metavar="DATA:SUPPORT:ALGORITHM")
    ap.add_argument("--runs", type=_positive, default=5, help="timed runs per case; the best per phase")
    ap.add_argument("--phases", default="one", metavar="MODULE.FUNCTION,...",
                    help=f"the functions to time, or a preset: {', '.join(PRESETS)} (default one)")
    ap.add_argument("--faults", action="store_true", help="also count minor page faults")
    ap.add_argument("--result-on", choices=("blocks", "all", "root"), default="blocks",
                    help="where the result is left: a block of the canonical order per rank "
                         "(what `hpcrec mine -o X.h5` writes; default), whole on every rank "
                         "(the Python API's default) or on rank 0")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "hpcrec-fim-ladder",
                    help="where fim_bench.py's generated sets are (written if missing)")
    args = ap.parse_args()
    phases = Phases()
    for dotted in PRESETS.get(args.phases) or args.phases.split(","):
        phases.wrap(dotted)
    from hpcrec.core.errors import HpcrecError
    for case in args.cases:
        try:   # bad input is raised on every rank alike: each exits, none waits
            lines = profile(case, args.runs, phases, args.data_dir, args.faults, args.result_on)
        except HpcrecError as exc:
            raise SystemExit(f"fim_phases.py: {exc}") from None
        if lines:
            print(lines, flush=True)


if __name__ == "__main__":
    main()
