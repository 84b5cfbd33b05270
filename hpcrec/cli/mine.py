"""Itemset commands: ``mine`` (frequent itemsets) and ``rules`` (association rules)."""
from __future__ import annotations

import logging
import signal

from ..core.comm import world
from ..core.context import RunContext
from ..core.device import DEVICES
from ..core.errors import InputError
from ..core.timing import Timer
from ..fim import mine_itemsets
from ..fim.engine import ALGORITHMS
from ..fim.rules import METRICS, rules_table
from ..io.formats import FORMATS
from ..io.results import output_kind, read_itemsets, write_itemsets, write_rules

log = logging.getLogger("hpcrec")


def register(sub) -> None:
    p = sub.add_parser("mine", help="frequent itemsets (apriori, fpgrowth; maximal: fpmax; closed: "
                                          "fpclose), MPI-parallel")
    p.add_argument("input", help="transactions: HDF5, FIMI .dat, basket or one-hot CSV")
    p.add_argument("-o", "--output", required=True, help="output .csv, .parquet or .h5")
    p.add_argument("--min-support", type=float, required=True, help="fraction of transactions, in (0, 1]")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="fpgrowth")
    p.add_argument("--max-len", type=int, help="longest itemset to report")
    p.add_argument("--device", choices=DEVICES, default="cpu",
                   help="where apriori counts supports (default: cpu)")
    p.add_argument("--format", choices=FORMATS, help="input format (default: from the name)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop after this many seconds, at the next level boundary (apriori) "
                        "or batch of item groups (the others); the output is flagged partial. "
                        "SIGTERM does the same")
    p.set_defaults(func=cmd_mine)

    p = sub.add_parser("rules", help="association rules from an itemset file")
    p.add_argument("itemsets", help="output of 'hpcrec mine' (.csv, .parquet, .h5)")
    p.add_argument("-o", "--output", required=True, help="output .csv, .parquet or .h5")
    p.add_argument("--metric", choices=METRICS, default="confidence")
    p.add_argument("--min-threshold", type=float, default=0.8)
    p.add_argument("--num-transactions", type=int,
                   help="transactions mined (default: from the itemset file)")
    p.set_defaults(func=cmd_rules)


def cmd_mine(args) -> int:
    comm = world()
    with comm.collective_errors():
        kind = output_kind(args.output)
    ctx = RunContext.build(comm, args.device, progress=True, time_limit=args.time_limit,
                           stop_signals=(signal.SIGTERM, signal.SIGINT))
    timer = ctx.timer
    with timer.phase("read"):
        source = args.input if args.format is None else _load(args, comm)
    with ctx:
        # HDF5: each rank writes its block of the file; CSV and Parquet: rank 0 writes all
        res = mine_itemsets(source, args.min_support, args.algorithm, args.max_len, context=ctx,
                            result_on="blocks" if kind == "hdf5" else "root")
    with timer.phase("write"):
        write_itemsets(args.output, res, comm)   # collective; raises on every rank together
    total = comm.allreduce_scalar(len(res)) if kind == "hdf5" else len(res)
    phases = ", ".join(f"{k} {timer.phases.get(k, 0.0):.3f}s"
                       for k in ("read", "count", "communicate", "mine", "write"))
    if comm.is_root:
        if res.partial and args.algorithm == "apriori":
            log.warning("stopped early: itemsets up to length %d are complete; %s is flagged partial",
                        res.levels, args.output)
        elif res.partial:
            log.warning("stopped early: only the item groups mined so far are in %s, flagged "
                        "partial", args.output)
        log.info("mine: %d rank(s), %s, %d itemsets, %s", comm.size, args.algorithm, total, phases)
    return 0


def _load(args, comm):
    from ..io import load_transactions
    with comm.collective_errors():
        return load_transactions(args.input, comm, format=args.format)


def cmd_rules(args) -> int:
    comm = world()
    timer = Timer(comm)
    with comm.collective_errors(), timer.phase("read"):
        output_kind(args.output)
        sets, support, meta = read_itemsets(args.itemsets)
        n = meta.get("n_transactions") if args.num_transactions is None else args.num_transactions
        if n is None:
            raise InputError(f"{args.itemsets}: the number of transactions is unknown; "
                             "give --num-transactions")
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise InputError(f"{args.itemsets}: the number of transactions must be a positive "
                             f"integer, got {n!r}")
        _check_closed(sets, args.itemsets)
    with timer.phase("mine"):
        ants, cons, values = rules_table(sets, support, n, args.metric, args.min_threshold,
                                         comm=comm)
    with comm.collective_errors(), timer.phase("write"):
        if comm.is_root:
            write_rules(args.output, ants, cons, values,
                        {"n_transactions": int(n), "metric": args.metric,
                         "min_threshold": args.min_threshold, "itemsets_partial": bool(meta.get("partial", False))})
    if comm.is_root:
        log.info("rules: %d rank(s), %d rules from %d itemsets, %s", comm.size, len(ants),
                 len(sets), timer.summary())
    return 0


def _check_closed(sets: list[tuple], path) -> None:
    """Every itemset's subsets one item shorter are in the file (hence, by induction, all its
    subsets): rules need their supports. Checked on every rank, before the distributed work."""
    present = {frozenset(s) for s in sets}
    for items in sets:
        if len(items) > 1 and any(frozenset(items[:k] + items[k + 1:]) not in present
                                  for k in range(len(items))):
            raise InputError(f"{path}: a subset of itemset {{{', '.join(items)}}} is missing; "
                             "rules need every frequent itemset (as 'hpcrec mine' writes them)")
