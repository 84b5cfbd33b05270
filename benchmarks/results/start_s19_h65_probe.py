"""Where a rank's start goes (session 19, h65): CPU and wall at each step of the start
(interpreter and site, NumPy, Numba, mpi4py's MPI init, hpcrec's command modules), then the
command; and Numba's dispatchers, how many the imports create and which ones the run loads
from the cache (each load's CPU and wall). One line block per rank on stderr at exit.

    mpiexec -n 2 python start_s19_h65_probe.py mine DATA --min-support S --algorithm A -q -o OUT
"""
import atexit
import gc
import importlib.abc
import sys
import time

T0, W0 = time.process_time(), time.perf_counter()
marks = [("interpreter and site", T0, 0.0)]
created, loaded = [], []


def mark(name):
    marks.append((name, time.process_time(), time.perf_counter() - W0))


class CountDispatchers(importlib.abc.MetaPathFinder):
    """Wraps Numba's Dispatcher (creation, compile-or-load) once its module is complete."""

    done = False

    def find_spec(self, name, path=None, target=None):
        dispatcher = sys.modules.get("numba.core.dispatcher")
        if not self.done and hasattr(dispatcher, "Dispatcher"):
            self.done = True
            cls = dispatcher.Dispatcher
            init, compile_ = cls.__init__, cls.compile

            def __init__(self, py_func, *args, **kwargs):
                created.append(f"{py_func.__module__}.{py_func.__qualname__}")
                init(self, py_func, *args, **kwargs)

            def compile(self, sig):
                t, w = time.process_time(), time.perf_counter()
                try:
                    return compile_(self, sig)
                finally:
                    loaded.append((f"{self.py_func.__module__}.{self.py_func.__qualname__}",
                                   time.process_time() - t, time.perf_counter() - w))
            cls.__init__, cls.compile = __init__, compile
        return None


def report():
    mark("exit")
    out = [f"rank {MPI.COMM_WORLD.Get_rank()}"]
    previous = 0.0
    for name, cpu, wall in marks:
        out.append(f"  {name:34s} cpu {cpu:6.3f} (+{cpu - previous:5.3f}) wall {wall:6.3f}")
        previous = cpu
    out.append(f"  dispatchers created {len(created)}, loaded (or compiled) {len(loaded)}, "
               f"their cpu {sum(x[1] for x in loaded):.3f} s")
    out += [f"    cpu {c:6.3f} wall {w:6.3f} {name}" for name, c, w in sorted(loaded, key=lambda x: -x[1])]
    sys.stderr.write("\n".join(out) + "\n")


sys.meta_path.insert(0, CountDispatchers())
import numpy  # noqa: E402,F401

mark("numpy")
import numba  # noqa: E402,F401

mark("numba")
from mpi4py import MPI  # noqa: E402

mark("mpi4py.MPI (MPI init)")
from hpcrec import cli  # noqa: E402

mark("hpcrec.cli")
cli.build_parser(cli.command_of(sys.argv[1:]))   # the command's module: fim, kernels, io
mark("the command's modules")
atexit.register(report)
code = cli.main(sys.argv[1:], process=True)
mark("command")
gc.freeze()   # as hpcrec's run()
sys.exit(code)
