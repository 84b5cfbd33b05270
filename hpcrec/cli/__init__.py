"""The ``hpcrec`` command: argument parsing, logging, exit codes — and nothing else.

Each sub-command lives in a module of this package with ``register(subparsers)``; its
handler calls the Python API. Errors meant for users (:class:`HpcrecError`) print one line
on stderr and exit 2; an unexpected exception prints one line naming the rank and aborts
every rank (exit 1), so no rank is left waiting. ``HPCREC_DEBUG=1`` shows tracebacks.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings

from .. import __version__, layout
from ..comm import RankFailed, describe_error, world
from ..errors import HpcrecError

# Sub-command modules, in the order --help lists them.
COMMAND_MODULES = ("data", "mine", "model", "bench", "demo")

log = logging.getLogger("hpcrec")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpcrec", description="HPC-native itemset mining and recommender systems (MPI, CPU/GPU).",
        epilog="Run under MPI with: mpiexec -n N hpcrec ...  or  srun hpcrec ...")
    parser.add_argument("--version", action="version", version=f"hpcrec {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted (pytest, notebooks swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Rank 0 logs at INFO (DEBUG with -v, WARNING with -q); other ranks only warnings."""
    comm = world()
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    if comm.rank != 0 and not verbose:
        level = logging.WARNING
    prefix = f"[rank {comm.rank}] " if comm.size > 1 and comm.rank != 0 else ""
    logging.basicConfig(level=level, format=f"{prefix}%(message)s", handlers=[_StderrHandler()],
                        force=True)
    logging.captureWarnings(True)  # one line each, without the warning's source line:
    warnings.formatwarning = lambda message, category, *rest, **kw: f"warning: {message}"


def _fail(message: str, code: int, abort: bool) -> int:
    comm = world()
    if comm.size > 1 and not message.startswith("rank "):
        message = f"rank {comm.rank}: {message}"
    print(f"hpcrec: error: {message}", file=sys.stderr, flush=True)
    if abort and comm.size > 1:
        comm.abort(code)
    return code


def main(argv: list[str] | None = None) -> int:
    try:
        comm = world()
    except HpcrecError as exc:
        print(f"hpcrec: error: {exc}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.quiet)
    layout.show(comm)   # HPCREC_SHOW_LAYOUT=1 (the jobscripts): where each rank runs
    debug = os.environ.get("HPCREC_DEBUG") == "1"
    try:
        return int(args.func(args) or 0)
    except RankFailed as exc:  # every rank raised together: rank 0 reports, all exit
        if debug:
            raise
        if comm.rank == 0:
            print(f"hpcrec: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except HpcrecError as exc:
        if debug:
            raise
        return _fail(describe_error(exc), 2, abort=True)
    except KeyboardInterrupt:
        return _fail("interrupted", 130, abort=True)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug: say where, then take the whole job down
        if debug:
            raise
        return _fail(f"internal error: {describe_error(exc)} (HPCREC_DEBUG=1 shows the traceback)",
                     1, abort=True)


def run() -> None:
    sys.exit(main())
