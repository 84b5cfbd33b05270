"""Cost of touching 537 MB of fresh NumPy memory (huge pages, as FP-Close's last table)
right after the same amount was freed, against after a pause: if the cost comes back after
a pause, freed memory is being handed back to the host (virtio-balloon free page reporting,
whose kernel delay is about 2 s), not zeroed slowly. Prints per step sys and wall seconds.

    python fim_ranks_s18_h59_reuse.py [PAUSE_S ...]
"""
import resource
import sys
import time

import numpy as np

SLOTS = 1 << 25   # 33.6 M slots of 16 bytes


def touch():
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_stime, time.perf_counter()
    a = np.zeros((SLOTS, 2), np.int64)
    a[::4096] = 1    # one write a 64 kB: every page faulted in
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF).ru_stime, time.perf_counter()
    del a
    return r1 - r0, t1 - t0


def main():
    for pause in [float(x) for x in sys.argv[1:]] or [0, 0, 5, 0, 20, 0]:
        time.sleep(pause)
        s, w = touch()
        print(f"after a pause of {pause:g} s: sys {s:.3f} s wall {w:.3f} s", flush=True)


if __name__ == "__main__":
    main()
