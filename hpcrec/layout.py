"""Where every rank runs: node, CPU cores (its affinity mask) and GPU (``CUDA_VISIBLE_DEVICES``).

Printed once at start-up when ``HPCREC_SHOW_LAYOUT=1`` (the jobscripts set it), so a job's
log shows whether the batch system placed the ranks as intended: pinned to disjoint
physical cores, one GPU each. Ranks of one node whose core sets overlap are reported.
"""
from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("hpcrec")


def core_ranges(cores) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    out, cores = [], sorted(cores)
    for c in cores:
        if out and c == out[-1][1] + 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return ",".join(f"{a}-{b}" if b > a else f"{a}" for a, b in out)


def lines(comm) -> list[str] | None:
    """One line per rank (rank 0 gets them, in rank order; others None); collective."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    mine = (socket.gethostname(), cores, os.environ.get("CUDA_VISIBLE_DEVICES", "-"),
            os.environ.get("NUMBA_NUM_THREADS", "-"))
    every = comm.gather_obj(mine)
    if not comm.is_root:
        return None
    out = [f"layout: rank {r}/{len(every)} on {host}: {len(c)} core(s) {core_ranges(c)}, "
           f"{threads} thread(s), CUDA_VISIBLE_DEVICES={gpu}"
           for r, (host, c, gpu, threads) in enumerate(every)]
    for host in sorted({e[0] for e in every}):
        ranks = [(r, set(e[1])) for r, e in enumerate(every) if e[0] == host]
        shared = sorted({r for r, c in ranks for q, d in ranks if q != r and c & d})
        if shared:
            out.append(f"layout: ranks {', '.join(map(str, shared))} on {host} share cores "
                       "(not pinned to their own cores)")
    return out


def show(comm) -> None:
    """Log the layout (rank 0) when ``HPCREC_SHOW_LAYOUT=1``; collective then, else nothing."""
    if os.environ.get("HPCREC_SHOW_LAYOUT") != "1":
        return
    for line in lines(comm) or []:
        log.info("%s", line)
