"""Benchmark records: the fields of one measurement, JSON lines + CSV, the result line."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from hpcrec.bench import record, workloads
from hpcrec.core.comm import serial, world
from hpcrec.core.errors import InputError
from hpcrec.io import synthetic

REQUIRED = {"workload", "params", "ranks", "nodes", "gpus", "threads_per_rank", "data_rows",
            "data_nnz", "phases", "total_s", "throughput", "throughput_unit",
            "peak_rss_max_bytes", "peak_rss_bytes_per_rank", "versions", "host", "slurm_job_id",
            "comm_bytes", "comm_calls", "timestamp"}


@pytest.fixture(scope="module")
def tx_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "tx.h5"
    synthetic.write_transactions_h5(path, 3000, seed=1, n_items=60)
    return path


def _oracle(path):
    """nnz and per-item counts straight from the file (h5py, no hpcrec reader)."""
    import h5py
    with h5py.File(path, "r") as fh:
        indices = fh["indices"][()]
        rows = len(fh["indptr"]) - 1
    return rows, len(indices), np.bincount(indices, minlength=60)


def test_record_fields_serial(tx_file, tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    rec = workloads.measure("read", {"input": str(tx_file)}, serial(), {"study": "s", "mode": "strong"})
    assert REQUIRED <= rec.keys()
    rows, nnz, counts = _oracle(tx_file)
    assert (rec["data_rows"], rec["data_nnz"]) == (rows, nnz)
    assert rec["result"]["items_seen"] == int(np.count_nonzero(counts))
    assert rec["ranks"] == 1 and rec["nodes"] == 1 and rec["gpus"] == 0
    assert rec["slurm_job_id"] == "4242" and rec["study"] == "s" and rec["mode"] == "strong"
    assert set(rec["phases"]) == {"read", "compute", "communicate"}
    assert rec["phases"]["communicate"] == 0.0 and rec["comm_bytes"] == 0   # one rank: no messages
    assert rec["total_s"] >= rec["phases"]["read"] > 0
    assert rec["throughput"] == pytest.approx(rows / rec["total_s"])
    assert rec["versions"]["hpcrec"] and rec["versions"]["numpy"] == np.__version__
    assert len(rec["peak_rss_bytes_per_rank"]) == 1 and rec["peak_rss_max_bytes"] > 10 * 2**20
    assert isinstance(rec["load_avg_1m_start"], float) and rec["load_avg_1m_start"] >= 0   # and at the end
    assert 0 < rec["cpu_s_per_rank"][0] < rec["total_s"] + 1   # one thread: at most the wall time

    jsonl, csv_path = record.append(rec, tmp_path / "r.jsonl")
    record.append(rec, jsonl)
    lines = jsonl.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1]) == json.loads(json.dumps(rec))
    with open(csv_path, newline="") as fh:
        rows_csv = list(csv.DictReader(fh))
    assert len(rows_csv) == 2 and list(rows_csv[0]) == list(record.CSV_FIELDS)   # one header
    assert float(rows_csv[0]["t_read"]) == pytest.approx(rec["phases"]["read"])
    assert json.loads(rows_csv[0]["params"]) == rec["params"]
    assert record.load([tmp_path / "r.jsonl"])[0]["data_nnz"] == nnz


def test_result_line_parses(tx_file):
    rec = workloads.measure("read", {"input": str(tx_file)}, serial())
    line = record.result_line(rec)
    assert line.startswith("HPCREC_RESULT ") and "\n" not in line
    fields = record.parse_result_line(line)
    assert fields["workload"] == "read" and int(fields["ranks"]) == 1
    assert float(fields["total_s"]) == pytest.approx(rec["total_s"], rel=1e-5)
    assert int(fields["data_nnz"]) == rec["data_nnz"]


def test_bad_inputs(tx_file, tmp_path):
    with pytest.raises(InputError, match="unknown workload"):
        workloads.measure("nope", {}, serial())
    with pytest.raises(InputError, match="unknown parameter"):
        workloads.measure("read", {"input": str(tx_file), "colour": 1}, serial())
    with pytest.raises(InputError, match="required"):
        workloads.measure("read", {}, serial())
    with pytest.raises(InputError, match="not a float"):
        workloads.resolve_params(workloads.get("mine"), {"input": "x", "min_support": "lots"})
    with pytest.raises(InputError, match="no such file"):
        workloads.measure("read", {"input": str(tmp_path / "missing.h5")}, serial())
    rec = workloads.measure("read", {"input": str(tx_file)}, serial())
    with pytest.raises(InputError, match=".jsonl"):
        record.append(rec, tmp_path / "r.json")
    (tmp_path / "bad.jsonl").write_text('{"workload": "read"}\nnot json\n')
    with pytest.raises(InputError, match="bad.jsonl:1"):
        record.load([tmp_path / "bad.jsonl"])


def test_cli_run_appends_and_prints(tx_file, tmp_path, run_cli):
    rc, out, err = run_cli("bench", "run", "read", "--input", tx_file, "-r", tmp_path / "r.jsonl",
                           "--tag", "study=cli")
    assert rc == 0, err
    assert record.parse_result_line(out.strip().splitlines()[-1])["workload"] == "read"
    assert record.load([tmp_path / "r.jsonl"])[0]["study"] == "cli"
    rc, out, err = run_cli("bench", "run", "read", "--input", tx_file, "-r", tmp_path / "no" / "r.jsonl")
    assert rc == 2 and "records file" in err and "Traceback" not in err
    assert not (tmp_path / "no").exists()


@pytest.mark.mpi
def test_record_under_mpi(tmp_path_factory):
    comm = world()
    path = None
    if comm.is_root:
        path = tmp_path_factory.mktemp("bench_mpi") / "tx.h5"
        synthetic.write_transactions_h5(path, 2501, seed=3, n_items=60)
    path = comm.bcast_obj(path)
    rec = workloads.measure("read", {"input": str(path)}, comm)
    if not comm.is_root:
        assert rec is None
        return
    rows, nnz, _ = _oracle(path)
    assert rec["ranks"] == comm.size and rec["nodes"] == 1
    assert (rec["data_rows"], rec["data_nnz"]) == (rows, nnz)
    assert len(rec["peak_rss_bytes_per_rank"]) == comm.size == len(rec["phases_per_rank"])
    assert len(rec["cpu_s_per_rank"]) == comm.size and min(rec["cpu_s_per_rank"]) > 0
    assert rec["peak_rss_max_bytes"] == max(rec["peak_rss_bytes_per_rank"])
    assert rec["phases"] in rec["phases_per_rank"]                  # the slowest rank's phases
    assert sum(rec["phases"].values()) <= rec["total_s"] * (1 + 1e-9)
    if comm.size > 1:   # one Allreduce of 60 int64 counts per rank, at least
        assert rec["comm_calls"] >= 1 and min(rec["comm_bytes_per_rank"]) >= 60 * 8


def test_mine_and_train_workloads(tx_file, tmp_path):
    pytest.importorskip("hpcrec.fim.engine")
    pytest.importorskip("hpcrec.mf")
    mlxtend = pytest.importorskip("mlxtend.frequent_patterns")
    import h5py
    import pandas as pd
    rec = workloads.measure("mine", {"input": str(tx_file), "min_support": 0.02,
                                     "output": str(tmp_path / "sets.csv")}, serial())
    with h5py.File(tx_file, "r") as fh:
        ptr, idx = fh["indptr"][()], fh["indices"][()]
    dense = np.zeros((len(ptr) - 1, 60), dtype=bool)
    dense[np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)), idx] = True
    expected = len(mlxtend.fpgrowth(pd.DataFrame(dense), min_support=0.02))
    assert rec["result"]["itemsets"] == expected and rec["work_unit"] == "transactions"
    assert rec["phases"]["compute"] > 0 and rec["phases"]["write"] > 0
    assert len((tmp_path / "sets.csv").read_text().splitlines()) == expected + 1   # header + rows

    ratings = tmp_path / "r.h5"
    synthetic.write_ratings_h5(ratings, 200, 100, 3000, seed=4)
    rec = workloads.measure("train", {"input": str(ratings), "epochs": 3, "factors": 8,
                                      "output": str(tmp_path / "m.h5")}, serial())
    assert (tmp_path / "m.h5").stat().st_size > 0 and rec["phases"]["write"] > 0
    assert rec["work"] == 3 * 3000 and rec["throughput_unit"] == "rating updates/s"
    assert rec["data_nnz"] == 3000 and np.isfinite(rec["result"]["train_rmse"])
    with pytest.raises(InputError, match="unknown model"):
        workloads.measure("train", {"input": str(ratings), "model": "magic"}, serial())
