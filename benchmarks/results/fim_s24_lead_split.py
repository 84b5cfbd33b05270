"""Session 24, lead: dense-mushroom 0.05 FP-Growth in one process with ``order.SPLIT_MAX`` set
to the given value before mining (63 frequent items over 8,000 rows need a 13-bit split:
at 12 the records fall to the record layout): the best of 3 calls after one untimed.

    python benchmarks/results/fim_s24_lead_split.py 12    # then 14, alternated
"""
import sys
import time

from hpcrec.kernels import order


def main() -> None:
    order.SPLIT_MAX = int(sys.argv[1])
    from hpcrec.fim import mine_itemsets
    from hpcrec.io import load_transactions
    tx = load_transactions("/tmp/ladder/dense-mushroom.h5")
    mine_itemsets(tx, 0.05, "fpgrowth")
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        found = mine_itemsets(tx, 0.05, "fpgrowth")
        best = min(best, time.perf_counter() - t)
    print("SPLIT_MAX", order.SPLIT_MAX, len(found), "itemsets", round(best, 3), "s")


if __name__ == "__main__":
    main()
