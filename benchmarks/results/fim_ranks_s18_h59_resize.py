"""Growing a 268 MB int32 array 4x, as kernels/projected.py's `_grow` does for the store's
items (67 M -> 268 M): a fresh `np.empty` plus a copy of the old rows, against NumPy's
in-place `ndarray.resize(refcheck=False)` (glibc `realloc`, served by `mremap` for large
blocks), and against `resize` with the array made read-only for the call (NumPy zero-fills
a writeable array's new part), then the new part's second quarter written. Prints per
step minor faults, sys and wall seconds, and the process's AnonHugePages (kB).

    python fim_ranks_s18_h59_resize.py
"""
import resource
import time

import numpy as np

N = 67_000_000


def now():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_minflt, r.ru_stime, time.perf_counter()


def huge_kb():
    with open("/proc/self/smaps_rollup") as f:
        return int(next(x for x in f if x.startswith("AnonHugePages")).split()[1])


def show(name, t0):
    t1 = now()
    print(f"{name}: faults {t1[0] - t0[0]} sys {t1[1] - t0[1]:.3f} s wall {t1[2] - t0[2]:.3f} s "
          f"AnonHugePages {huge_kb()} kB", flush=True)
    return now()


def main():
    a = np.empty(N, np.int32)
    a[:] = 1
    t = now()
    b = np.empty(4 * N, np.int32)
    b[:N] = a
    t = show("np.empty + copy", t)
    b[N:2 * N] = 2
    show("  then the new part's second quarter written", t)
    del a, b
    for ro in (False, True):
        a = np.empty(N, np.int32)
        a[:] = 1
        t = now()
        if ro:
            a.flags.writeable = False
        a.resize(4 * N, refcheck=False)
        a.flags.writeable = True
        t = show(f"resize{' (read-only for the call)' if ro else ''}", t)
        a[N:2 * N] = 2
        show("  then the new part's second quarter written", t)
        del a


if __name__ == "__main__":
    main()
