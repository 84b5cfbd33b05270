"""The ``hpcrec`` command: argument parsing, logging, exit codes — and nothing else.

Each sub-command lives in a module of this package with ``register(subparsers)``; its
handler calls the Python API. Errors meant for users (:class:`HpcrecError`) print one line
on stderr and exit 2 — so do running out of memory (``MemoryError``), an OS error while
reading or writing (EIO, ENOSPC, EACCES, ...) and SIGTERM outside a phase that handles it
(exit 143, temporary files removed); an unexpected exception prints one line naming the
rank and aborts every rank (exit 1), so no rank is left waiting. ``HPCREC_DEBUG=1`` shows
tracebacks.

Before any work, every output path (``-o``) is checked: a regular file or nothing, never
an input of the same command (:func:`check_paths`). SIGXFSZ is ignored, so a file-size
limit is a write error (EFBIG) reported like a full disk.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import signal
import sys
import threading
import warnings

from .. import __version__, layout, progress
from ..core.errors import HpcrecError, Terminated

# Every sub-command: its module and its one-line help, in the order --help lists them. Only
# the module of the command being run is imported (with its NumPy, pandas, Numba, MPI), so
# ``hpcrec --help`` and ``--version`` start in a fraction of a second; a test keeps these
# lines equal to the ones each module registers.
COMMANDS = {
    "convert": ("data", "convert a text data file (or MovieLens folder) to hpcrec HDF5"),
    "info": ("data", "summarise a data file (HDF5 or text)"),
    "data": ("data", "fetch public data sets"),
    "generate": ("data", "write a seeded synthetic data set to HDF5 (streamed in chunks)"),
    "mine": ("mine", "frequent itemsets (apriori, fpgrowth; maximal: fpmax; closed: fpclose), "
             "MPI-parallel"),
    "rules": ("mine", "association rules from an itemset file"),
    "train": ("model", "train a recommender on ratings and save it to HDF5"),
    "evaluate": ("model", "score a model on held-out ratings (JSON on stdout)"),
    "recommend": ("model", "top-k items for a user"),
    "neighbors": ("model", "items nearest to an item in embedding space"),
    "cv": ("model", "cross-validate a model (MovieLens folds u1..u5 or k-fold)"),
    "plot": ("model", "PNG views of a model: error per epoch, norms, t-SNE"),
    "bench": ("bench", "benchmarks and scaling studies (records, SLURM jobs, reports)"),
    "demo": ("demo", "run the course demo (itemsets and recommenders) end to end"),
    "warmup": ("warmup", "compile and cache the kernels the commands use (once per install)"),
}
# Argument names (argparse dests) that hold input files or folders, and the output file.
INPUT_ARGS = ("input", "ratings", "itemsets", "model", "test")
OUTPUT_ARG = "output"

log = logging.getLogger("hpcrec")


class DeprecatedAlias(argparse.Action):
    """Stores the value; an option string after the first is an old name, noted in
    ``args.deprecated`` (old -> new) so that :func:`warn_deprecated` says so once."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        if option_string != self.option_strings[0]:
            notes = dict(getattr(namespace, "deprecated", None) or {})
            notes[option_string] = self.option_strings[0]
            namespace.deprecated = notes


def warn_deprecated(args, rank: int) -> None:
    """One warning per deprecated option used, on rank 0 only."""
    if rank == 0:
        for old, new in (getattr(args, "deprecated", None) or {}).items():
            log.warning("warning: %s is deprecated, use %s", old, new)


def command_of(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None, full: bool = False) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s module (every module with ``full``) is imported.

    The other commands are listed with their help line and parse nothing.
    """
    parser = argparse.ArgumentParser(
        prog="hpcrec", description="HPC-native itemset mining and recommender systems (MPI, CPU/GPU).",
        epilog="Run under MPI with: mpiexec -n N hpcrec ...  or  srun hpcrec ...")
    parser.add_argument("--version", action="version", version=f"hpcrec {__version__}")
    _logging_options(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = COMMANDS.get(command, (None,))[0]
    for name, (module, help_line) in COMMANDS.items():
        if full or module == wanted:
            if name not in sub.choices:
                importlib.import_module(f"{__name__}.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    _logging_options_below(sub)
    return parser


def _logging_options_below(sub) -> None:
    """-v/-q after every registered (sub-)command too, not on the help-line stand-ins."""
    for command_parser in sub.choices.values():
        if command_parser.add_help and "--quiet" not in command_parser._option_string_actions:
            _logging_options(command_parser, default=argparse.SUPPRESS)
            for action in command_parser._actions:   # e.g. `bench study`
                if isinstance(action, argparse._SubParsersAction):
                    _logging_options_below(action)


def _logging_options(parser: argparse.ArgumentParser, default) -> None:
    """-v/-q, before the command (``default=False``) and after it (SUPPRESS: an option given
    after the command overrides, one not given leaves the value from before the command)."""
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", default=default,
                        help="warnings and errors only (no progress, no summary lines)")


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
    from ..core.comm import world
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
    from ..core.comm import world
    comm = world()
    if comm.size > 1 and not message.startswith("rank "):
        message = f"rank {comm.rank}: {message}"
    print(f"hpcrec: error: {message}", file=sys.stderr, flush=True)
    if abort and comm.size > 1:
        comm.abort(code)
    return code


def check_paths(args) -> None:
    """Refuse, before any work, an output that is not a regular file or that is an input."""
    output = getattr(args, OUTPUT_ARG, None)
    if not output or getattr(args, "output_is_folder", False):   # ("": no output)
        return
    from ..io.atomic import check_not_input, resolve_output
    resolve_output(output)
    inputs = [getattr(args, name, None) for name in INPUT_ARGS]
    check_not_input(output, [p for p in inputs if isinstance(p, (str, os.PathLike))])


def _raise_terminated(signum, frame):
    raise Terminated()


def _install_signals() -> dict:
    """SIGTERM unwinds (removing temporary files); SIGXFSZ is ignored (writes fail with EFBIG)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_terminated)
    if hasattr(signal, "SIGXFSZ"):
        previous[signal.SIGXFSZ] = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return previous


def _os_error(exc: OSError) -> str:
    from ..core.comm import describe_error
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or describe_error(exc)}"


def main(argv: list[str] | None = None, *, process: bool = False) -> int:
    """Run one command; the exit status. ``process``: this call is the whole process
    (:func:`run`), whose start-up objects are kept out of the cyclic GC (:func:`_settle`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if process:
        gc.disable()
    args = build_parser(command_of(argv)).parse_args(argv)   # --help, --version: done here
    if process:
        _settle()
    # Idle OpenMP threads (Numba's omp layer) sleep instead of spinning between parallel
    # regions: spinning doubled the CPU of a 2-thread rank for no speed on a shared node
    # (benchmarks/README.md, issue 20). An explicit setting wins; read when libgomp loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from ..core import pages
    from ..core.comm import describe_error, world
    from ..core.errors import RankFailed
    try:
        comm = world()
    except HpcrecError as exc:
        print(f"hpcrec: error: {exc}", file=sys.stderr)
        return 2
    setup_logging(args.verbose, args.quiet)
    progress.configure(os.environ.get("HPCREC_PROGRESS_SECONDS", progress.DEFAULT_SECONDS))
    warn_deprecated(args, comm.rank)
    layout.show(comm)   # HPCREC_SHOW_LAYOUT=1 (the jobscripts): where each rank runs
    debug = os.environ.get("HPCREC_DEBUG") == "1"
    previous = _install_signals()
    try:
        with comm.collective_errors():
            pages.apply()   # every command: conversions fill large arrays too
            check_paths(args)
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
    except Terminated:
        return _fail("terminated (SIGTERM)", 143, abort=True)
    except BrokenPipeError:
        return 0
    except MemoryError as exc:
        if debug:
            raise
        return _fail(f"out of memory ({describe_error(exc)}): use more ranks or nodes, a smaller "
                     "problem, or set HPCREC_MEMORY_LIMIT so hpcrec refuses it up front", 2, abort=True)
    except Exception as exc:  # noqa: BLE001 - a bug: say where, then take the whole job down
        if debug:
            raise
        if isinstance(exc, OSError) and exc.errno is not None:  # the system: EIO, ENOSPC, ...
            return _fail(_os_error(exc), 2, abort=True)
        return _fail(f"internal error: {describe_error(exc)} (HPCREC_DEBUG=1 shows the traceback)",
                     1, abort=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _settle() -> None:
    """Move every object made so far (the modules imported: ~55,000 for `mine`, of the
    ~71,000 its process ends with) to the GC's permanent generation and turn the GC back
    on, so collections during the run and at exit no longer walk them (0.07-0.19 s of a
    small job's process, benchmarks/README.md). They live until exit anyway; their cycles
    are not collected."""
    gc.freeze()
    gc.enable()


def run() -> None:
    """The ``hpcrec`` process: :func:`main`, then exit without the final GC walking what
    the command made (the kernels loaded, the result objects); everything is still
    finalised (atexit: MPI, files, logging)."""
    code = main(process=True)
    gc.freeze()
    sys.exit(code)
