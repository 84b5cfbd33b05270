"""Projection of measured scaling to larger machines with an alpha-beta communication model.

**This is a model, not a measurement.** From the records of a study it takes

- the non-communication time ``T_comp(p) = total - communicate`` at the measured rank counts,
  fitted as ``s + w / p`` for strong scaling (Amdahl: a serial part ``s`` and perfectly
  divisible work ``w``; with one point, ``s = 0``); for weak scaling the per-rank
  ``T_comp`` of the largest measured point (ranks sharing a node slow each other: the
  fullest node is the honest per-rank rate);
- the communication pattern of the smallest multi-rank point: ``k`` collective calls per
  run with ``m`` bytes per call and rank, taken as independent of p (true for the
  Allreduce of count vectors, Gram matrices and model averages this package uses;
  pessimistic for Alltoallv, whose bytes per rank shrink with p);

and predicts ``T(p) = s + w/p + k * t_allreduce(m, p)`` for strong scaling and
``T(p) = T_comp + k * t_allreduce(m, p)`` for weak scaling (work per rank fixed), with
speedup and efficiency relative to the model's own ``T(p0)`` at the smallest measured rank
count p0. Time that ranks spent waiting inside collectives at the measured points (load
imbalance, contention for the cores) is in neither term: where the measured
``communicate`` is much larger than the modelled one, the projection is optimistic. An
Allreduce over p ranks on N nodes is modelled hierarchically: a binomial-tree reduce inside
each node, Rabenseifner's reduce-scatter + allgather between the nodes, a broadcast inside
each node::

    t = 2 * (ceil(log2 q) * a_intra + [q > 1] * m * b_intra)
      + [N > 1] * (2 * ceil(log2 N) * a + 2 * (N - 1) / N * m * b / links)

with q ranks per node, latency ``a`` and inverse bandwidth ``b`` of an InfiniBand HDR200
link (1 us, 24 GB/s usable of 25 GB/s) and ``links`` adapters per node (4 on JUWELS Booster).
Compute rates are this machine's per rank: a projection says how the measured algorithm's
communication grows, not how fast another machine's cores or GPUs are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LABEL = "Projection (alpha-beta model, InfiniBand HDR)"


@dataclass(frozen=True)
class Network:
    """Alpha-beta parameters: seconds per message and seconds per byte, inter- and intra-node."""
    name: str = "InfiniBand HDR200"
    alpha: float = 1.0e-6
    beta: float = 1.0 / 24e9
    links_per_node: int = 1
    alpha_intra: float = 0.3e-6
    beta_intra: float = 1.0 / 10e9


HDR200 = Network()
HDR200_BOOSTER = Network(name="InfiniBand HDR200, 4 adapters per node", links_per_node=4)


def allreduce_seconds(nbytes: float, ranks: int, nodes: int, net: Network = HDR200) -> float:
    """Modelled time of one Allreduce of ``nbytes`` per rank over ``ranks`` on ``nodes``."""
    if ranks <= 1 or nbytes < 0:
        return 0.0
    q = max(1, math.ceil(ranks / nodes))
    intra = 2 * (math.ceil(math.log2(q)) * net.alpha_intra + (nbytes * net.beta_intra if q > 1 else 0.0))
    inter = 0.0
    if nodes > 1:
        inter = (2 * math.ceil(math.log2(nodes)) * net.alpha
                 + 2 * (nodes - 1) / nodes * nbytes * net.beta / net.links_per_node)
    return intra + inter


@dataclass(frozen=True)
class Profile:
    """What the model needs from the measurements (see the module docstring)."""
    serial_s: float          # s
    work_s: float            # w (rank-seconds of divisible work; weak: per-rank time at p0)
    calls: float             # k collective calls per run
    bytes_per_call: float    # m bytes per call and rank
    mode: str                # strong or weak
    base_ranks: int          # p0, the smallest measured rank count: speedups are relative to it

    @classmethod
    def fit(cls, points: list[dict], mode: str = "strong") -> "Profile":
        """From the best record per rank count (dicts with ranks, total_s, phases, comm_*)."""
        if not points:
            raise ValueError("no measured points to fit")
        points = sorted(points, key=lambda r: r["ranks"])
        p = np.array([r["ranks"] for r in points], dtype=float)
        t = np.array([r["total_s"] - r["phases"].get("communicate", 0.0) for r in points])
        t = np.maximum(t, 0.0)
        if mode == "weak":
            serial, work = 0.0, float(t[-1])
        elif len(points) == 1:
            serial, work = 0.0, float(t[0] * p[0])
        else:
            a = np.column_stack([np.ones_like(p), 1.0 / p])
            serial, work = np.linalg.lstsq(a, t, rcond=None)[0]
            if serial < 0:          # no serial part visible: all divisible, through the points
                serial, work = 0.0, float(np.dot(t, 1 / p) / np.dot(1 / p, 1 / p))
            elif work < 0:          # nothing divisible visible: constant time
                serial, work = float(t.mean()), 0.0
        multi = [r for r in points if r["ranks"] > 1 and r.get("comm_calls")]
        calls = bytes_per_call = 0.0
        if multi:
            r = multi[0]
            per_rank = r.get("comm_bytes_per_rank") or [r.get("comm_bytes", 0) / r["ranks"]]
            calls = float(r["comm_calls"])
            bytes_per_call = float(np.mean(per_rank)) / calls
        return cls(float(serial), float(work), calls, bytes_per_call, mode, int(p[0]))

    def time(self, ranks: int, nodes: int, net: Network = HDR200) -> dict:
        """Projected seconds at ``ranks`` on ``nodes``: compute part, communication, total."""
        comp = self.serial_s + (self.work_s if self.mode == "weak" else self.work_s / ranks)
        comm = self.calls * allreduce_seconds(self.bytes_per_call, ranks, nodes, net)
        return {"compute": comp, "communicate": comm, "total": comp + comm}


def rank_ladder(ranks_per_node: int, max_nodes: int) -> list[tuple[int, int]]:
    """(ranks, nodes): powers of two up to one node, then whole nodes doubling to max_nodes."""
    out, r = [], 1
    while r < ranks_per_node:
        out.append((r, 1))
        r *= 2
    n = 1
    while n <= max_nodes:
        out.append((n * ranks_per_node, n))
        n *= 2
    return out


def project(profile: Profile, ranks_per_node: int = 4, max_nodes: int = 64,
            net: Network = HDR200) -> list[dict]:
    """Projected rows for 1 rank up to ``max_nodes`` nodes, each labelled as a projection."""
    p0 = profile.base_ranks
    base = profile.time(p0, math.ceil(p0 / ranks_per_node), net)["total"]
    rows = []
    for ranks, nodes in rank_ladder(ranks_per_node, max_nodes):
        if ranks < p0:
            continue
        t = profile.time(ranks, nodes, net)
        ratio = base / t["total"] if t["total"] > 0 else float("nan")
        speedup, efficiency = ((ratio, ratio * p0 / ranks) if profile.mode == "strong"
                               else (ratio * ranks / p0, ratio))
        rows.append({"ranks": ranks, "nodes": nodes, **{f"{k}_s": v for k, v in t.items()},
                     "speedup": speedup, "efficiency": efficiency, "label": LABEL,
                     "network": net.name})
    return rows
