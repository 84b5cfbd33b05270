"""The data commands end to end: convert, info --json, generate, data download, and the demo.

CLI runs are subprocesses (the real entry point); download runs in-process against a
local HTTP server on 127.0.0.1 with ``BASE_URL`` monkeypatched: no internet is needed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io as pyio
import json
import socket
import threading
import zipfile

import h5py
import numpy as np
import pytest

from hpcrec import io
from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError
from hpcrec.io import download


def _info(run_cli, path):
    rc, out, err = run_cli("info", path, "--json")
    assert rc == 0, err
    return json.loads(out)


def _no_temp_files(folder):
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


# facts from the shared data READMEs (fim/README.md, ml-100k/README)
SHARED = [
    ("fim/retail.dat", "transactions", 88162, 16470, 908576),
    ("fim/T10I4D100K.dat", "transactions", 100000, 870, 1010228),
    ("fim/retail_dataset.csv", "transactions", 315, 9, 1277),
    ("ml-100k/u.data", "ratings", 943, 1682, 100000),
    ("ml-100k", "ratings", 943, 1682, 100000),
]


@pytest.mark.parametrize("name,kind,rows,items,nnz", SHARED)
def test_convert_and_info_on_shared_data(run_cli, cli_main, shared_data, tmp_path, name, kind,
                                         rows, items, nnz):
    source = shared_data / name
    out = tmp_path / "out.h5"
    rc, stdout, err = run_cli("convert", source, "-o", out)     # the real entry point
    assert rc == 0, err
    assert out.is_file() and _no_temp_files(tmp_path)
    for path in (source, out):                       # text directly, and the converted file
        info = _info(cli_main, path)                 # in-process: same code, no start-up
        assert (info["kind"], info["rows"], info["items"], info["nnz"]) == (kind, rows, items, nnz)
        assert info["density"] == pytest.approx(nnz / (rows * items))
    assert _info(run_cli, out)["format"] == "hdf5"
    with h5py.File(out) as fh:                        # the documented schema
        assert fh.attrs["hpcrec_kind"] == kind and fh.attrs["hpcrec_format_version"] == 1


def test_info_text_output(run_cli, tmp_path):
    path = tmp_path / "t.dat"
    path.write_text("1 2\n2 3\n")
    rc, out, err = run_cli("info", path)
    assert rc == 0, err
    assert "transactions" in out and "nnz: 4" in out.replace("  ", "")


@pytest.mark.parametrize("fmt,text,kind", [
    ("baskets-csv", "a,b\nb\n", "transactions"),
    ("fimi", "1 2\n2\n", "transactions"),
    ("onehot-csv", "a,b\n1,0\n1,1\n", "transactions"),
    ("ratings-csv", "1,2,3\n2,2,4\n", "ratings"),
    ("movielens", "1\t2\t3\t4\n", "ratings"),
])
def test_convert_explicit_format(run_cli, tmp_path, fmt, text, kind):
    src = tmp_path / "input.txt"                     # a name that tells nothing
    src.write_text(text)
    rc, _, err = run_cli("convert", src, "-o", tmp_path / "o.h5")
    assert rc == 2 and "give --format" in err
    rc, _, err = run_cli("convert", src, "-o", tmp_path / "o.h5", "--format", fmt)
    assert rc == 0, err
    assert _info(run_cli, tmp_path / "o.h5")["kind"] == kind


def test_convert_under_mpi_writes_once(mpirun, shared_data, tmp_path):
    out = tmp_path / "retail.h5"
    rc, _, err = mpirun(2, "convert", shared_data / "fim" / "retail.dat", "-o", out)
    assert rc == 0, err
    assert _no_temp_files(tmp_path)
    back = io.load_transactions(out, serial(), partition=False)
    assert (back.n_rows, back.n_items, back.nnz) == (88162, 16470, 908576)


def test_generate_both_kinds(run_cli, tmp_path):
    rc, _, err = run_cli("generate", "transactions", "-o", tmp_path / "t.h5", "--rows", "500",
                         "--items", "50", "--seed", "3")
    assert rc == 0, err
    assert _info(run_cli, tmp_path / "t.h5")["rows"] == 500
    rc, _, err = run_cli("generate", "transactions", "--dense", "-o", tmp_path / "d.h5",
                         "--rows", "300", "--attributes", "12", "--max-values", "5")
    assert rc == 0, err
    dense = io.load_transactions(tmp_path / "d.h5", serial(), partition=False)
    assert np.array_equal(np.diff(dense.rows.indptr), np.full(300, 12))  # one value per attribute
    rc, _, err = run_cli("generate", "transactions", "--long-tail", "-o", tmp_path / "l.h5",
                         "--rows", "3000", "--items", "400")
    assert rc == 0, err
    lengths = np.diff(io.load_transactions(tmp_path / "l.h5", serial(), partition=False).rows.indptr)
    assert lengths.max() > 8 * lengths.mean()  # a long tail of long transactions
    rc, _, err = run_cli("generate", "transactions", "--dense", "--max-values", "1", "-o",
                         tmp_path / "x.h5")
    assert rc == 2 and "--max-values" in err and not (tmp_path / "x.h5").exists()
    rc, _, err = run_cli("generate", "ratings", "-o", tmp_path / "r.h5", "--rows", "40",
                         "--items", "30", "--nnz", "300")
    assert rc == 0, err
    info = _info(run_cli, tmp_path / "r.h5")
    assert info["kind"] == "ratings" and info["nnz"] == 300 and info["rows"] <= 40


def test_demo_under_two_ranks(mpirun, tmp_path):
    """The README's main command (scripts/main.sh): `hpcrec demo` under 2 ranks."""
    out = tmp_path / "demo"
    rc, stdout, err = mpirun(2, "demo", "--quick", "--out", out, timeout=600)
    assert rc == 0, err
    assert stdout.strip() and "Traceback" not in err
    assert out.is_dir() and any(out.iterdir())


# -- download --------------------------------------------------------------------------------

def _zip(members: dict) -> bytes:
    buf = pyio.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


FAKE_ML1M = _zip({"ml-1m/ratings.dat": "1::10::5::978300760\n2::10::3::978302109\n",
                  "ml-1m/movies.dat": "10::Fake (2000)::Drama\n"})


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server over tmp_path/www; BASE_URL points at it. Yields the folder."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(download, "BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}/")
    yield www
    httpd.shutdown()
    httpd.server_close()


def _pin(monkeypatch, name, blob, algo="sha256"):
    sums = {"sha256": None, "md5": None, algo: hashlib.new(algo, blob).hexdigest()}
    ds = dataclasses.replace(download.DATASETS[name], **sums)
    monkeypatch.setitem(download.DATASETS, name, ds)


@pytest.mark.parametrize("algo", ["sha256", "md5"])
def test_download_verified(server, tmp_path, monkeypatch, algo):
    (server / "ml-1m.zip").write_bytes(FAKE_ML1M)
    _pin(monkeypatch, "ml-1m", FAKE_ML1M, algo)
    target = tmp_path / "data"
    folder = download.download("movielens-1m", target)
    assert folder == target / "ml-1m"
    r = io.load_ratings(folder, serial())
    assert r.nnz == 2 and list(r.item_titles) == ["Fake (2000)"]
    assert sorted(p.name for p in target.iterdir()) == ["ml-1m"]        # no temp folder left
    (server / "ml-1m.zip").unlink()                                      # present: no fetch
    assert download.download("ml-1m", target) == folder


@pytest.mark.parametrize("algo", ["sha256", "md5"])
def test_download_checksum_mismatch_leaves_nothing(server, tmp_path, monkeypatch, algo):
    (server / "ml-1m.zip").write_bytes(FAKE_ML1M)
    _pin(monkeypatch, "ml-1m", b"other bytes", algo)
    target = tmp_path / "data"
    with pytest.raises(InputError, match=f"{algo.upper()} mismatch.*download refused"):
        download.download("ml-1m", target)
    assert not target.exists()


def test_download_pinned_checksums_reject_fake(server, tmp_path):
    """The published checksums are in force: a fake archive is refused for every data set."""
    for name, ds in download.DATASETS.items():
        assert ds.sha256 or ds.md5, name
        (server / ds.archive).write_bytes(_zip({f"{ds.folder}/{ds.ratings}": "1,2,3\n"}))
        with pytest.raises(InputError, match="mismatch"):
            download.download(name, tmp_path / "data")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("members,message", [
    ({"other/ratings.dat": "1::2::3::4\n"}, "archive has no ml-1m/ratings.dat"),
    ({"ml-1m/ratings.dat": "x", "../evil.txt": "x"}, "unsafe path"),
])
def test_download_bad_archive(server, tmp_path, monkeypatch, members, message):
    blob = _zip(members)
    (server / "ml-1m.zip").write_bytes(blob)
    _pin(monkeypatch, "ml-1m", blob)
    with pytest.raises(InputError, match=message):
        download.download("ml-1m", tmp_path / "data")
    assert not (tmp_path / "data").exists() and not (tmp_path / "evil.txt").exists()


def test_download_not_a_zip_and_http_error(server, tmp_path, monkeypatch):
    (server / "ml-1m.zip").write_bytes(b"<html>not a zip</html>")
    _pin(monkeypatch, "ml-1m", b"<html>not a zip</html>")
    with pytest.raises(InputError, match="not a zip archive"):
        download.download("ml-1m", tmp_path / "data")
    with pytest.raises(InputError, match="HTTP 404"):
        download.download("ml-25m", tmp_path / "data")                  # not served
    assert not (tmp_path / "data").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_offline_one_line(tmp_path, monkeypatch, cli_main):
    monkeypatch.setattr(download, "BASE_URL", f"http://127.0.0.1:{_closed_port()}/")
    rc, _, err = cli_main("data", "download", "ml-latest-small", "--dir", tmp_path / "d")
    assert rc == 2
    assert err.startswith("hpcrec: error: cannot download http://127.0.0.1:")
    assert "offline?" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_download_unknown_name(run_cli, tmp_path):
    rc, _, err = run_cli("data", "download", "ml-7b", "--dir", tmp_path)
    assert rc == 2 and "invalid choice" in err
    with pytest.raises(InputError, match="unknown data set"):
        download.dataset_info("ml-7b")


def test_verify_folder_on_shared_ml100k(shared_data, tmp_path):
    assert download.verify_folder(shared_data / "ml-100k") == shared_data / "ml-100k"
    fake = tmp_path / "ml-100k"
    fake.mkdir()
    for name in download.DATASETS["movielens-100k"].files:
        (fake / name).write_bytes((shared_data / "ml-100k" / name).read_bytes())
    (fake / "u.data").write_bytes(b"1\t1\t1\t1\n")
    with pytest.raises(InputError, match="SHA-256 mismatch"):
        download.verify_folder(fake)
    assert download.sha256_of(b"abc") == hashlib.sha256(b"abc").hexdigest()


def test_describe_hdf5_in_slices_matches_whole(shared_data, tmp_path, monkeypatch):
    """info reads HDF5 slice by slice (files larger than memory): same summary as one slice."""
    for source in (shared_data / "fim" / "retail.dat", shared_data / "ml-100k" / "u.data"):
        out = io.write_h5(io.formats.load_any(source), tmp_path / "x.h5")
        whole = io.describe(out)
        monkeypatch.setattr(io.formats, "DESCRIBE_SLICE_BYTES", 50_000)   # dozens of slices
        sliced = io.describe(out)
        monkeypatch.undo()
        assert sliced.pop("rating_mean", 0) == pytest.approx(whole.pop("rating_mean", 0))
        assert sliced == whole
        assert whole == {k: v for k, v in io.describe(source).items() if k in whole
                         and k not in ("size_bytes", "format")} | {
            "size_bytes": out.stat().st_size, "format": "hdf5", "format_version": 1}
