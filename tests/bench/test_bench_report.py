"""Scaling report and projection model, on synthetic records with known answers."""
from __future__ import annotations

import json
import math

import pytest

from hpcrec.bench import model, report
from hpcrec.core.errors import InputError

PNG = b"\x89PNG\r\n\x1a\n"


def rec(ranks, total, read=0.0, comm=0.0, study="s", mode="strong", nodes=1, inp="d.h5",
        comm_bytes=0, calls=0):
    compute = total - read - comm
    return {"workload": "mine", "study": study, "mode": mode, "params": {"input": inp, "min_support": 0.01},
            "ranks": ranks, "nodes": nodes, "gpus": 0, "threads_per_rank": 1, "host": "h",
            "data_nnz": 1000, "total_s": total, "throughput": 1000 / total,
            "throughput_unit": "transactions/s", "peak_rss_max_bytes": 2**27,
            "phases": {"read": read, "compute": compute, "communicate": comm},
            "comm_bytes": comm_bytes * ranks, "comm_bytes_per_rank": [comm_bytes] * ranks,
            "comm_calls": calls}


def write_records(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_strong_table_best_of_repeats():
    rows = report.table([rec(1, 10.0), rec(2, 6.5), rec(1, 12.0), rec(2, 6.0), rec(4, 4.0)], "strong")
    assert [r["ranks"] for r in rows] == [1, 2, 4]
    assert [r["repeats"] for r in rows] == [2, 2, 1]
    assert [r["total_s"] for r in rows] == [10.0, 6.0, 4.0]           # minimum per point
    assert [r["speedup"] for r in rows] == pytest.approx([1.0, 10 / 6, 2.5])
    assert [r["efficiency"] for r in rows] == pytest.approx([1.0, 10 / 12, 0.625])


def test_weak_table_relative_to_smallest_point():
    rows = report.table([rec(2, 5.0, mode="weak"), rec(4, 6.25, mode="weak")], "weak")
    assert rows[0]["efficiency"] == 1.0 and rows[1]["efficiency"] == pytest.approx(0.8)
    assert rows[1]["speedup"] == pytest.approx(0.8 * 2)                # scaled speedup


def test_series_grouping():
    recs = [rec(1, 1.0), rec(2, 0.6), rec(1, 1.0, study="t"),
            rec(1, 1.0, study="w", mode="weak", inp="a.h5"), rec(2, 1.1, study="w", mode="weak", inp="b.h5")]
    groups = report.group(recs)
    assert sorted(len(v) for v in groups.values()) == [1, 2, 2]      # weak points share a series


def test_report_files(tmp_path):
    src = write_records(tmp_path / "r.jsonl", [rec(1, 10.0, read=1.0), rec(2, 6.0, read=0.6, comm=0.4,
                                                                           comm_bytes=8000, calls=10)])
    files = report.write([src], tmp_path / "out", project=True)
    names = {f.name for f in files}
    assert {"report.md", "scaling.csv", "s-speedup.png", "s-efficiency.png", "s-phases.png"} <= names
    for f in files:
        if f.suffix == ".png":
            assert f.read_bytes()[:8] == PNG and f.stat().st_size > 5000
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| 2 | 1 | 6.000 |" in md and "1.67" in md and "83%" in md
    assert model.LABEL in md and "| 256 | 64 |" in md
    csv_text = (tmp_path / "out" / "scaling.csv").read_text()
    assert csv_text.count("projection") >= 9 and csv_text.count("measured") == 2
    with pytest.raises(InputError, match="no records"):
        report.write([write_records(tmp_path / "e.jsonl", [])], tmp_path / "o2")


def test_allreduce_model():
    net = model.HDR200
    assert model.allreduce_seconds(1e6, 1, 1, net) == 0.0
    one_node = model.allreduce_seconds(1e6, 4, 1, net)
    assert one_node > 0
    times = [model.allreduce_seconds(1e6, 4 * n, n, net) for n in (1, 2, 4, 8, 64)]
    assert times == sorted(times) and times[-1] > times[0]
    # Large messages between 2 nodes: the bandwidth term 2 * (1/2) * m * beta dominates.
    big = model.allreduce_seconds(1e9, 2, 2, net)
    assert big == pytest.approx(1e9 * net.beta, rel=1e-3)
    assert model.allreduce_seconds(1e9, 8, 2, model.HDR200_BOOSTER) < model.allreduce_seconds(1e9, 8, 2, net)


def test_profile_fit_recovers_amdahl():
    s, w = 2.0, 30.0
    points = [rec(p, s + w / p) for p in (1, 2, 4)]
    prof = model.Profile.fit(points, "strong")
    assert prof.serial_s == pytest.approx(s) and prof.work_s == pytest.approx(w)
    rows = model.project(prof, ranks_per_node=4, max_nodes=64)
    assert rows[-1]["ranks"] == 256 and rows[-1]["nodes"] == 64
    assert all(r["label"] == model.LABEL for r in rows)
    # No communication measured: the projection is Amdahl's law exactly.
    for r in rows:
        assert r["speedup"] == pytest.approx((s + w) / (s + w / r["ranks"]))


def test_projection_monotone_with_communication():
    points = [rec(1, 10.0), rec(2, 5.5, comm=0.3, comm_bytes=4e6, calls=50)]
    prof = model.Profile.fit(points, "strong")
    assert prof.calls == 50 and prof.bytes_per_call == pytest.approx(4e6 / 50)
    rows = model.project(prof, 4, 64)
    eff = [r["efficiency"] for r in rows]
    comm = [r["communicate_s"] for r in rows]
    comp = [r["compute_s"] for r in rows]
    assert eff == sorted(eff, reverse=True) and all(0 < e <= 1.0 + 1e-9 for e in eff)
    assert comm == sorted(comm) and comm[0] == 0.0
    assert comp == sorted(comp, reverse=True)
    weak = model.project(model.Profile.fit([rec(1, 4.0, mode="weak"),
                                            rec(2, 4.4, comm=0.2, mode="weak", comm_bytes=1e6, calls=20)],
                                           "weak"), 4, 64)
    totals = [r["total_s"] for r in weak]
    assert totals == sorted(totals) and weak[-1]["efficiency"] < weak[0]["efficiency"] <= 1.0
    assert all(math.isfinite(r["speedup"]) for r in weak)


def test_projection_anchored_at_the_smallest_point():
    """Waiting time inside collectives at p=2 must not make the projection beat ideal."""
    prof = model.Profile.fit([rec(1, 0.58), rec(2, 0.484, comm=0.339, comm_bytes=8e4, calls=369)], "strong")
    rows = model.project(prof, 4, 64)
    assert rows[0]["efficiency"] == pytest.approx(1.0)
    assert all(r["efficiency"] <= 1.0 + 1e-9 for r in rows)
    assert all(r["speedup"] <= r["ranks"] + 1e-9 for r in rows)
