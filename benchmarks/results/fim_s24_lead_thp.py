"""Session 24, lead: dense-mushroom 0.05 FP-Growth in one process, twice, with NumPy's
huge-page advice on (``on``, NumPy's default) or off (``off``): wall, user and sys seconds
and the machine's /proc/vmstat deltas (read on a quiet machine only).

    python benchmarks/results/fim_s24_lead_thp.py on|off
"""
import resource
import sys
import time

FIELDS = ("compact_stall", "compact_fail", "compact_success", "thp_fault_alloc",
          "thp_fault_fallback", "pgfault", "allocstall_normal", "allocstall_movable",
          "pgscan_direct")


def vmstat() -> dict:
    with open("/proc/vmstat") as f:
        now = dict(line.split() for line in f)
    return {k: int(now.get(k, 0)) for k in FIELDS}


def main() -> None:
    if sys.argv[1] == "off":
        from numpy._core import multiarray
        multiarray._set_madvise_hugepage(False)
    from hpcrec.fim import mine_itemsets
    from hpcrec.io import load_transactions
    tx = load_transactions("/tmp/ladder/dense-mushroom.h5")
    mine_itemsets(tx, 0.05, "fpgrowth")
    for _ in range(2):
        a, r0, t = vmstat(), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        mine_itemsets(tx, 0.05, "fpgrowth")
        dt, r1, b = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF), vmstat()
        print(sys.argv[1], round(dt, 2), "user", round(r1.ru_utime - r0.ru_utime, 2), "sys",
              round(r1.ru_stime - r0.ru_stime, 2), {k: b[k] - a[k] for k in a if b[k] != a[k]},
              flush=True)


if __name__ == "__main__":
    main()
