"""Data commands: ``convert``, ``info``, ``data download``, ``generate``."""
from __future__ import annotations

import logging

from ..core.comm import fault_point, world
from ..core.errors import InputError
from ..io import download, formats, jsontext, synthetic

log = logging.getLogger("hpcrec")


def register(sub) -> None:
    p = sub.add_parser("convert", help="convert a text data file (or MovieLens folder) to hpcrec HDF5")
    p.add_argument("input", help="input file or folder")
    p.add_argument("-o", "--output", required=True, help="output .h5 file")
    p.add_argument("--format", choices=[f for f in formats.FORMATS if f != "hdf5"],
                   help="input format (default: inferred from the name)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("info", help="summarise a data file (HDF5 or text)")
    p.add_argument("input")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--format", choices=formats.FORMATS,
                   help="input format (default: inferred from the name)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("data", help="fetch public data sets")
    dsub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    d = dsub.add_parser("download", help="download and verify a MovieLens data set")
    d.add_argument("name", choices=sorted(download.DATASETS) + sorted(download.ALIASES))
    d.add_argument("--dir", default="data", help="target folder (default: ./data)")
    d.set_defaults(func=cmd_download)

    p = sub.add_parser("generate", help="write a seeded synthetic data set to HDF5 (streamed in chunks)")
    p.add_argument("kind", choices=["transactions", "ratings"])
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rows", type=int, help="transactions, or users (default 100000 / 943)")
    p.add_argument("--items", type=int, help="distinct items (default 1000 / 1682)")
    p.add_argument("--nnz", type=int, default=100_000, help="ratings (ratings only)")
    p.add_argument("--avg-len", type=float, default=10.0, help="mean transaction length (T)")
    p.add_argument("--pattern-len", type=float, default=4.0, help="mean pattern length (I)")
    p.add_argument("--patterns", type=int, default=2000, help="number of patterns (L)")
    p.add_argument("--long-tail", action="store_true",
                   help="Zipf-distributed transaction lengths (kosarak-like click streams)")
    p.add_argument("--dense", action="store_true",
                   help="one-hot correlated categorical records instead of baskets "
                        "(transactions only; --attributes, --max-values, --clusters)")
    p.add_argument("--attributes", type=int, default=30,
                   help="dense: attributes per record, i.e. items per transaction (default 30)")
    p.add_argument("--max-values", type=int, default=4,
                   help="dense: each attribute has 2..this many values (default 4)")
    p.add_argument("--clusters", type=int, default=8, help="dense: latent record clusters (default 8)")
    p.set_defaults(func=cmd_generate)


def cmd_convert(args) -> int:
    comm = world()
    formats.convert(args.input, args.output, args.format, comm)
    if comm.is_root:
        log.info("wrote %s", args.output)
    return 0


def cmd_info(args) -> int:
    comm = world()
    with comm.collective_errors():
        fault_point("read", comm)
        info = formats.describe(args.input, args.format) if comm.is_root else None
    if comm.is_root:
        if args.json:
            print(jsontext.dumps(info))
        else:
            for key, value in info.items():
                print(f"{key:>18}: {value}")
    return 0


def cmd_download(args) -> int:
    comm = world()
    with comm.collective_errors():
        folder = download.download(args.name, args.dir) if comm.is_root else None
    if comm.is_root:
        print(folder)
    return 0


def cmd_generate(args) -> int:
    comm = world()
    for option in ("rows", "items", "nnz", "avg_len", "pattern_len", "patterns", "attributes",
                   "clusters"):
        value = getattr(args, option)
        if value is not None and not value > 0:
            raise InputError(f"--{option.replace('_', '-')} must be positive, got {value}")
    if args.max_values < 2:
        raise InputError(f"--max-values must be at least 2, got {args.max_values}")
    if args.dense and args.kind != "transactions":
        raise InputError("--dense generates transactions only")
    with comm.collective_errors():
        if comm.is_root:
            if args.dense:
                synthetic.write_dense_h5(args.output, args.rows or 10_000, args.seed,
                                         args.attributes, args.max_values, args.clusters)
            elif args.kind == "transactions":
                synthetic.write_transactions_h5(args.output, args.rows or 100_000, args.seed,
                                                args.items or 1000, args.avg_len,
                                                args.pattern_len, args.patterns, args.long_tail)
            else:
                synthetic.write_ratings_h5(args.output, args.rows or 943, args.items or 1682,
                                           args.nnz, args.seed)
    if comm.is_root:
        log.info("wrote %s", args.output)
    return 0
