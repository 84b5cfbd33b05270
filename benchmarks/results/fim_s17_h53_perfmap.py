"""Per-kernel CPU profile of ``mine_itemsets`` in process by ``perf`` (session 17, helper h53):
perf cannot name Numba's JIT code, so this writes /tmp/perf-PID.map (perf's map of JIT
symbols) with the address of every function of every library compiled for
``kernels/projected.py`` (llvmlite's ``get_pointer_to_function``), then samples N runs.
Needs an empty NUMBA_CACHE_DIR (a library loaded from Numba's cache holds no module to
list). A non-inlined kernel is its own symbol; ``inline="always"`` ones count in their caller.

    NUMBA_CACHE_DIR=$(mktemp -d) python fim_s17_h53_perfmap.py FILE SUPPORT ALGORITHM N OUT.data
    perf report -i OUT.data --no-children --sort sym
"""
import os
import subprocess
import sys
import time

import numba

from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io import load_transactions
from hpcrec.kernels import projected as P

path, support, algo, n, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
comm = serial()
tx = load_transactions(path, comm)
mine_itemsets(tx, support, algo, comm=comm)   # compiles
syms = {}
for name in dir(P):
    d = getattr(P, name)
    if not isinstance(d, numba.core.registry.CPUDispatcher):
        continue
    for cres in d.overloads.values():
        lib = cres.library
        for f in lib._final_module.functions:
            if not f.is_declaration and lib.get_pointer_to_function(f.name):
                syms[lib.get_pointer_to_function(f.name)] = f.name
addrs = sorted(syms)
with open(f"/tmp/perf-{os.getpid()}.map", "w") as fh:
    for a, b in zip(addrs, addrs[1:] + [addrs[-1] + 0x10000]):
        fh.write(f"{a:x} {min(b - a, 0x100000):x} {syms[a]}\n")
perf = subprocess.Popen(["perf", "record", "-F", "2000", "-p", str(os.getpid()), "-o", out])
time.sleep(1)
for _ in range(n):
    mine_itemsets(tx, support, algo, comm=comm)
perf.send_signal(2)
perf.wait()
