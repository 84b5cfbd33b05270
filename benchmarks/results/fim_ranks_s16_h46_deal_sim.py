"""The on-demand deal replayed from measured unit costs (fim_ranks_s16_h46_units.py's JSON):
units in claim order, each taken by the rank free first (greedy), per round as mined and
with all rounds joined into one; against half the CPU sum (the ideal on 2 ranks).
`python fim_ranks_s16_h46_deal_sim.py UNITS.json ...`"""
import heapq
import json
import sys


def greedy(costs, ranks=2):
    free = [(0.0, r) for r in range(ranks)]
    for c in costs:
        t, r = heapq.heappop(free)
        heapq.heappush(free, (t + c, r))
    return max(t for t, _ in free)


for f in sys.argv[1:]:
    recs = [u for rank in json.load(open(f)) for u in rank]
    rounds = sorted({u["round"] for u in recs})
    per = []
    for rd in rounds:
        us = sorted((u for u in recs if u["round"] == rd), key=lambda u: -u["unit"])
        per.append([u["cpu"] for u in us])
    rk = json.load(open(f))
    meas = [[sum(u["cpu"] for u in rk[r] if u["round"] == rd) for r in range(len(rk))] for rd in rounds]
    split = sum(greedy(p) for p in per)
    joined = greedy([c for p in per for c in p])
    total = sum(map(sum, per))
    print(f"{f}: units per round {[len(p) for p in per]}, CPU sum {total:.2f}, ideal {total/2:.2f}; "
          f"measured per round per rank {[[round(x, 2) for x in m] for m in meas]}; "
          f"greedy as rounds {split:.2f}, joined {joined:.2f}; last units {[round(c, 3) for c in per[0][-6:]]} | "
          f"round 2: {[round(c, 3) for c in per[-1]]}; largest {sorted(c for p in per for c in p)[-3:]}")
