"""Scaling report: records -> table (time, speedup, efficiency) and PNG plots, optionally projected.

Records are grouped into series (same study, mode, workload and parameters; for weak
scaling the input file may differ). Per rank count the best of the repeats (minimum total
time) stands for the point. Strong scaling: speedup ``S = T(p0) / T(p)`` relative to the
smallest measured rank count p0, efficiency ``S / (p / p0)``. Weak scaling: efficiency
``T(p0) / T(p)``, scaled speedup ``efficiency * p / p0``.
Records of runs stopped at their time limit (``status = "timeout"``) are listed under their
series, never measured with.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from ..core.errors import InputError
from ..io.atomic import atomic_open
from ..plots import pyplot, save_png
from . import model, record

PHASE_COLOURS = {"read": "#4c72b0", "compute": "#55a868", "communicate": "#c44e52", "write": "#8172b2"}


def series_key(rec: dict) -> tuple:
    params = dict(rec.get("params", {}))
    mode = rec.get("mode") or "strong"
    if mode == "weak":
        params.pop("input", None)
    return (rec.get("study", ""), mode, rec["workload"], json.dumps(params, sort_keys=True))


def series_name(key: tuple) -> str:
    study, mode, workload, params = key
    if study:
        return f"{study}"
    p = json.loads(params)
    data = Path(str(p.pop("input", ""))).stem
    extra = "-".join(f"{v}" for k, v in sorted(p.items()) if v not in ("", 0, "cpu"))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(x for x in (workload, data, extra, mode) if x))


def group(records: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for rec in records:
        out.setdefault(series_key(rec), []).append(rec)
    return out


def table(records: list[dict], mode: str) -> list[dict]:
    """One row per rank count: best-of-repeats times per phase, speedup, efficiency."""
    best: dict[int, dict] = {}
    repeats: dict[int, int] = {}
    for rec in records:
        p = rec["ranks"]
        repeats[p] = repeats.get(p, 0) + 1
        if p not in best or rec["total_s"] < best[p]["total_s"]:
            best[p] = rec
    ranks = sorted(best)
    p0, t0 = ranks[0], best[ranks[0]]["total_s"]
    rows = []
    for p in ranks:
        rec = best[p]
        t = rec["total_s"]
        ratio = t0 / t if t > 0 else float("nan")
        speedup, efficiency = ((ratio, ratio / (p / p0)) if mode == "strong"
                               else (ratio * p / p0, ratio))
        rows.append({"ranks": p, "nodes": rec["nodes"], "gpus": rec["gpus"], "repeats": repeats[p],
                     "data_nnz": rec["data_nnz"], "total_s": t,
                     **{f"{ph}_s": rec["phases"].get(ph, 0.0) for ph in record.PHASES},
                     "speedup": speedup, "efficiency": efficiency,
                     "throughput": rec["throughput"], "throughput_unit": rec["throughput_unit"],
                     "comm_bytes": rec.get("comm_bytes", 0), "peak_rss_max_mb": rec["peak_rss_max_bytes"] / 2**20,
                     "load_avg_1m": rec.get("load_avg_1m"),
                     "_record": rec})
    return rows


def markdown(rows: list[dict], mode: str) -> str:
    sp = "speedup" if mode == "strong" else "scaled speedup"
    lines = [f"| ranks | nodes | total s | read s | compute s | communicate s | {sp} | efficiency "
             "| throughput | peak MiB/rank | repeats | host load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['ranks']} | {r['nodes']} | {r['total_s']:.3f} | {r['read_s']:.3f} "
                     f"| {r['compute_s']:.3f} | {r['communicate_s']:.3f} | {r['speedup']:.2f} "
                     f"| {r['efficiency']:.0%} | {r['throughput']:.4g} {r['throughput_unit']} "
                     f"| {r['peak_rss_max_mb']:.0f} | {r['repeats']} | {_number(r['load_avg_1m'])} |")
    return "\n".join(lines)


def _number(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def projection_markdown(rows: list[dict], mode: str) -> str:
    sp = "speedup" if mode == "strong" else "scaled speedup"
    lines = [f"| ranks | nodes | compute s | communicate s | total s | {sp} | efficiency |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['ranks']} | {r['nodes']} | {r['compute_s']:.4g} | {r['communicate_s']:.3g} "
                     f"| {r['total_s']:.4g} | {r['speedup']:.1f} | {r['efficiency']:.0%} |")
    return "\n".join(lines)


def _log2(axis, set_scale) -> None:
    """Base-2 log axis labelled with plain numbers (1, 2, 4, ... rather than 2^k)."""
    from matplotlib.ticker import FuncFormatter
    set_scale("log", base=2)
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def plots(name: str, rows: list[dict], mode: str, out: Path, projection: list[dict] | None) -> list[Path]:
    """Speedup vs ideal, efficiency, and time per phase (stacked bars) as PNG files."""
    plt = pyplot()
    ranks = [r["ranks"] for r in rows]
    p0 = ranks[0]
    paths = []

    fig, ax = plt.subplots(figsize=(5, 4))
    xs = sorted(set(ranks) | {x["ranks"] for x in projection or []})
    ax.plot(xs, [x / p0 for x in xs], "k:", label="ideal")
    ax.plot(ranks, [r["speedup"] for r in rows], "o-", label="measured")
    if projection:
        ax.plot([x["ranks"] for x in projection], [x["speedup"] for x in projection], "s--",
                color="#c44e52", label=model.LABEL)
    ax.set(xlabel="MPI ranks", ylabel="speedup" if mode == "strong" else "scaled speedup",
           title=f"{name}: {mode} scaling")
    if projection:
        _log2(ax.xaxis, ax.set_xscale)
        _log2(ax.yaxis, ax.set_yscale)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    paths.append(out / f"{name}-speedup.png")
    save_png(fig, paths[-1], dpi=120)

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.axhline(1.0, color="k", ls=":", label="ideal")
    ax.plot(ranks, [r["efficiency"] for r in rows], "o-", label="measured")
    if projection:
        ax.plot([x["ranks"] for x in projection], [x["efficiency"] for x in projection], "s--",
                color="#c44e52", label=model.LABEL)
        _log2(ax.xaxis, ax.set_xscale)
    ax.set(xlabel="MPI ranks", ylabel="parallel efficiency", ylim=(0, 1.1),
           title=f"{name}: {mode} scaling efficiency")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    paths.append(out / f"{name}-efficiency.png")
    save_png(fig, paths[-1], dpi=120)

    fig, ax = plt.subplots(figsize=(5, 4))
    bottom = [0.0] * len(rows)
    xs = list(range(len(rows)))
    for ph in record.PHASES:
        vals = [r[f"{ph}_s"] for r in rows]
        if any(vals):
            ax.bar(xs, vals, bottom=bottom, label=ph, color=PHASE_COLOURS[ph])
            bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_xticks(xs, [str(p) for p in ranks])
    ax.set(xlabel="MPI ranks", ylabel="seconds (slowest rank)", title=f"{name}: time per phase")
    ax.legend(fontsize=7)
    paths.append(out / f"{name}-phases.png")
    save_png(fig, paths[-1], dpi=120)
    return paths


def write(sources, out: Path, project: bool = False, ranks_per_node: int = 4,
          max_nodes: int = 64, links_per_node: int = 4) -> list[Path]:
    """Write ``report.md``, ``scaling.csv`` and the plots of every series into ``out``."""
    if ranks_per_node < 1 or max_nodes < 1 or links_per_node < 1:
        raise InputError("ranks per node, max nodes and links per node must be positive")
    records = record.load(sources)
    if not records:
        raise InputError("no records to report")
    out.mkdir(parents=True, exist_ok=True)
    net = model.Network(name=f"InfiniBand HDR200, {links_per_node} adapter(s) per node",
                        links_per_node=links_per_node)
    md, csv_rows, files = ["# Scaling report", ""], [], []
    for key, every in group(records).items():
        mode = key[1]
        name = series_name(key)
        recs = [r for r in every if r.get("status", "ok") == "ok"]
        timed_out = "; ".join(f"{r['ranks']} rank(s) stopped after {r['total_s']:.0f} s (limit "
                              f"{r.get('time_limit_s', 0):g} s; phases reached: "
                              f"{' '.join(r.get('phases_reached', [])) or 'none'})"
                              for r in every if r.get("status") == "timeout")
        if not recs:
            md += [f"## {name} ({mode} scaling)", "", f"No measurement; timed out: {timed_out}.", ""]
            continue
        rows = table(recs, mode)
        first = rows[0]["_record"]
        md += [f"## {name} ({mode} scaling)", "",
               f"workload `{first['workload']}`, parameters `{json.dumps(first['params'], sort_keys=True)}`, "
               f"host {first['host']}, {first['threads_per_rank']} thread(s) per rank; "
               "best of the repeats per point; phases of the slowest rank; host load: 1-minute "
               "load average of rank 0's host after the run (other work competing for its cores).",
               "", markdown(rows, mode), ""]
        if timed_out:
            md += [f"Timed out (not in the table): {timed_out}.", ""]
        projection = None
        if project:
            profile = model.Profile.fit([r["_record"] for r in rows], mode)
            projection = model.project(profile, ranks_per_node, max_nodes, net)
            md += [f"**{model.LABEL}** — {net.name}, {ranks_per_node} ranks per node, "
                   f"fitted serial part {profile.serial_s:.3g} s, divisible work {profile.work_s:.3g} "
                   f"rank-s, {profile.calls:.0f} collectives of {profile.bytes_per_call:.3g} B per rank "
                   "per run (compute at this machine's per-rank speed):", "",
                   projection_markdown(projection, mode), ""]
        files += plots(name, rows, mode, out, projection)
        for r in rows:
            csv_rows.append({"series": name, "mode": mode, "kind": "measured",
                             **{k: v for k, v in r.items() if k != "_record"}})
        for r in projection or []:
            csv_rows.append({"series": name, "mode": mode, "kind": "projection", **r})
    report_md = out / "report.md"
    with atomic_open(report_md) as fh:
        fh.write("\n".join(md))
    fields = list(dict.fromkeys(k for r in csv_rows for k in r))
    scaling_csv = out / "scaling.csv"
    with atomic_open(scaling_csv, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_rows)
    return [report_md, scaling_csv, *files]
