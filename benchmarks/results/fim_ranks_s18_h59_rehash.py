"""FP-Close's last table growth on one rank of dm 0.05 (kernels/projected.py `_reserve`):
16.8 M slots holding 8.4 M entries rehashed into 33.6 M slots (537 MB). Times `_rehash` into
a fresh `np.zeros` table (as `_reserve` does) against the same into a table whose pages are
already faulted in (zeroed again by `fill(0)`, timed apart): how much of the growth is the
fresh memory and how much the loop. Prints minor faults, user, sys and wall seconds.

    PYTHONPATH=TREE python fim_ranks_s18_h59_rehash.py
"""
import resource
import time

import numpy as np

from hpcrec.kernels.projected import _rehash

OLD, ENTRIES = 1 << 24, 1 << 23


def now():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_minflt, r.ru_utime, r.ru_stime, time.perf_counter()


def show(name, t0):
    t1 = now()
    print(f"{name}: faults {t1[0] - t0[0]} user {t1[1] - t0[1]:.3f} sys {t1[2] - t0[2]:.3f} "
          f"wall {t1[3] - t0[3]:.3f} s", flush=True)
    return now()


def main():
    entries = np.zeros((ENTRIES, 2), np.int64)   # (key, set + 1), placed by _rehash itself
    entries[:, 0] = np.random.default_rng(0).integers(1, 1 << 62, ENTRIES)
    entries[:, 1] = np.arange(1, ENTRIES + 1)
    old = np.zeros((OLD, 2), np.int64)
    _rehash(old, entries)
    _rehash(np.zeros((4, 2), np.int64), np.zeros((2, 2), np.int64))   # compiled / cache loaded
    for _ in range(2):
        t = now()
        new = np.zeros((2 * OLD, 2), np.int64)
        _rehash(new, old)
        show("fresh np.zeros + _rehash", t)
        t = now()
        new.fill(0)
        t = show("  the same table zeroed again (pages present)", t)
        _rehash(new, old)
        show("  _rehash into it", t)
        del new


if __name__ == "__main__":
    main()
