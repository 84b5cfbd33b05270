"""Phase timers around one ``hpcrec`` CLI run (``convert`` above all), per rank, on stderr.

Wraps the reader's and writer's steps (the tokenizers, the chunked ``readinto``, the
dictionary and recoding, each piece's background write, ``Slices.close``, ``fsync``, the
rename, every collective) in timers and prints, at exit, each rank's seconds before the
script started (interpreter start), for its imports, and per step; peak RSS and CPU. The
steps overlap (a piece's write runs in the background), so they do not add up to the wall.

    NUMBA_NUM_THREADS=1 python benchmarks/ingest_phases.py -q convert in.dat -o out.h5
    NUMBA_NUM_THREADS=1 mpiexec -n 2 python -m mpi4py benchmarks/ingest_phases.py -q convert in.dat -o out.h5

The command runs through ``hpcrec.cli.run`` (the console script's entry); ``PHASES_CHILD_MAIN=1``:
through ``cli.main`` alone, as before session 14.
"""
import time

T0 = time.perf_counter()
import atexit  # noqa: E402 - the imports are timed
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def _since_exec() -> float:
    """Seconds since this process was created (from /proc)."""
    with open("/proc/self/stat") as fh:
        start = int(fh.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as fh:
        return float(fh.read().split()[0]) - start


BEFORE = _since_exec()
TIMERS: dict[str, list] = {}


def _add(label: str, seconds: float) -> None:
    entry = TIMERS.setdefault(label, [0.0, 0])
    entry[0] += seconds
    entry[1] += 1


def _wrap(owner, name: str, label: str | None = None, generator: bool = False) -> None:
    """Replace ``owner.name`` by a timed version (a generator: each step timed)."""
    fn, label = getattr(owner, name), label or name

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(label, time.perf_counter() - t)

    def timed_steps(*args, **kwargs):
        steps = fn(*args, **kwargs)
        while True:
            t = time.perf_counter()
            try:
                item = next(steps)
            except StopIteration:
                _add(label, time.perf_counter() - t)
                return
            _add(label, time.perf_counter() - t)
            yield item

    setattr(owner, name, timed_steps if generator else timed)


from hpcrec.cli import main, run  # noqa: E402
from hpcrec.core import comm  # noqa: E402
from hpcrec.io import formats, h5slices, streamread, textscan, transactions  # noqa: E402
from hpcrec.kernels import textparse  # noqa: E402

T1 = time.perf_counter()
for kernel in ("fimi_tokens", "basket_labels", "delimited_numbers"):
    _wrap(textparse, kernel, "tokenizer")
_wrap(textscan, "chunks", "readinto+chunking", generator=True)
for step in ("dictionary", "text_dictionary", "recode", "shard_of"):
    _wrap(textscan, step)
_wrap(streamread, "read", "read(total)")
_wrap(h5slices, "_write_piece", "write_piece(bg)")
_wrap(h5slices, "_image", "image(rank0)")
_wrap(h5slices.Slices, "close", "slices.close")
_wrap(transactions, "write_h5", "write(total)")
_wrap(os, "replace", "os.replace")
_wrap(os, "fsync", "os.fsync")
_wrap(formats, "convert", "convert(total)")
for collective in ("allreduce", "allreduce_scalar", "allgather_counts", "allgather_obj", "bcast_obj",
                   "barrier", "quiet_barrier", "allgatherv"):
    _wrap(comm.Comm, collective, "collectives")


def _report() -> None:
    rank = os.environ.get("PMI_RANK", "0")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    lines = [f"[r{rank}] before-script {BEFORE:.3f} imports {T1 - T0:.3f} main {time.perf_counter() - T1:.3f} "
             f"peak MB {usage.ru_maxrss / 1024:.0f} cpu {usage.ru_utime + usage.ru_stime:.2f}"]
    lines += [f"[r{rank}]   {k:22s} {s:7.3f} s x{n}" for k, (s, n) in TIMERS.items()]
    print("\n".join(lines), file=sys.stderr, flush=True)


atexit.register(_report)
if os.environ.get("PHASES_CHILD_MAIN") == "1":   # cli.main alone, as before session 14
    sys.exit(main(sys.argv[1:]))
run()     # the console script's entry, as `hpcrec convert` runs
