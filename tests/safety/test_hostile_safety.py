"""Safe by default (issue 14): outputs, write errors, HDF5 confinement, special inputs, the
memory budget, numerics, ids, labels, format detection, min_support types, integrity.

Every hostile case ends as exit 2 with one ``hpcrec: error:`` line, nothing at the output
path, no temporary file, and the inputs unchanged. Device nodes, FIFOs and sockets are
private ones inside the test's temporary folder (tests run as root).
"""
from __future__ import annotations

import csv
import json
import os
import resource
import signal
import socket
import stat
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
from conftest import child_env
from helpers import SPECIAL_KINDS, special_file
from test_hostile_inputs import _check_failure, _rt_file, _tx_file

from hpcrec import io
from hpcrec.core import memory
from hpcrec.core.comm import serial
from hpcrec.core.errors import InputError, MemoryBudgetError, OutputError, Terminated
from hpcrec.fim import apriori
from hpcrec.io import atomic, hdf5, jsontext
from hpcrec.io.results import read_itemsets
from hpcrec.io.synthetic import ratings as synthetic_ratings
from hpcrec.mf import ALS, BiasedSGD

BASKETS = "a,b,c\nb,c\na,c\nc\n"


def _workspace(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(BASKETS)
    out = tmp_path / "out"
    out.mkdir()
    return src, out


def _one_error(rc, err):
    assert rc == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpcrec: error: ") and "Traceback" not in err, err
    return lines[0]


# -- 1. outputs ------------------------------------------------------------------------------
SPECIAL = list(SPECIAL_KINDS)
WRITERS = {
    "convert": ["convert", "{src}", "-o", "{dst}"],
    "mine": ["mine", "{src}", "-o", "{dst}", "--min-support", "0.5"],
    "train": ["train", "{ratings}", "-o", "{dst}", "--epochs", "1"],
    "rules": ["rules", "{itemsets}", "-o", "{dst}"],
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "in.csv").write_text(BASKETS)
    _rt_file(folder / "ratings.h5")
    (folder / "itemsets.csv").write_text("support,itemsets,count\n0.5,a,2\n0.5,b,2\n0.25,a|b,1\n")
    return folder


def _writer_argv(command, inputs, dst, src=None):
    return [a.format(src=src or inputs / "in.csv", ratings=inputs / "ratings.h5",
                     itemsets=inputs / "itemsets.csv", dst=dst) for a in WRITERS[command]]


@pytest.mark.parametrize("command", sorted(WRITERS))
@pytest.mark.parametrize("kind", SPECIAL)
def test_output_onto_special_file_is_refused(cli_main, inputs, tmp_path, command, kind):
    dst = special_file(kind, tmp_path / "target.csv" if command in ("mine", "rules") else tmp_path / "t.h5")
    before = os.lstat(dst)
    rc, _, err = cli_main(*_writer_argv(command, inputs, dst))
    line = _one_error(rc, err)
    assert "hpcrec writes only regular files" in line or "folder" in line, line
    after = os.lstat(dst)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    assert sorted(p.name for p in tmp_path.iterdir()) == [dst.name]


def test_symlink_output_writes_its_target(cli_main, inputs, tmp_path):
    target = tmp_path / "real.h5"
    link = tmp_path / "link.h5"
    link.symlink_to(target.name)
    rc, _, err = cli_main("convert", inputs / "in.csv", "-o", link)
    assert rc == 0, err
    assert link.is_symlink() and os.readlink(link) == "real.h5" and h5py.is_hdf5(target)
    assert io.load_transactions(link, serial()).n_rows == 4


@pytest.mark.parametrize("command", sorted(WRITERS))
@pytest.mark.parametrize("alias", ["same", "hardlink", "symlink", "dotted"])
def test_output_onto_its_own_input_is_refused(cli_main, inputs, tmp_path, command, alias):
    src = {"convert": "in.csv", "mine": "in.csv", "train": "ratings.h5",
           "rules": "itemsets.csv"}[command]
    own = tmp_path / src
    own.write_bytes((inputs / src).read_bytes())
    before = own.read_bytes()
    dst = {"same": own, "dotted": tmp_path / "." / src}.get(alias)
    if alias == "hardlink":
        dst = tmp_path / ("h" + src)
        os.link(own, dst)
    elif alias == "symlink":
        dst = tmp_path / ("s" + src)
        dst.symlink_to(own)
    argv = _writer_argv(command, tmp_path, dst, src=own)
    argv[1] = str(own)
    rc, _, err = cli_main(*argv)
    assert "is the input" in _one_error(rc, err)
    assert own.read_bytes() == before


def test_temporary_file_of_a_dead_process_is_removed(tmp_path):
    target = tmp_path / "o.h5"
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    dead = int(proc.stdout)
    stale = tmp_path / f".o.h5.hpcrec-tmp-{socket.gethostname()}-{dead}-deadbeef"
    mine = tmp_path / f".o.h5.hpcrec-tmp-{socket.gethostname()}-{os.getpid()}-cafe0000"
    other_host = tmp_path / f".o.h5.hpcrec-tmp-elsewhere-{dead}-deadbeef"
    for p in (stale, mine, other_host):
        p.write_bytes(b"half")
    atomic.write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert not stale.exists() and mine.exists() and other_host.exists()


@pytest.mark.parametrize("exc", [Terminated, KeyboardInterrupt, RuntimeError])
def test_temporary_file_removed_on_signal_or_error(tmp_path, exc):
    target = tmp_path / "o.csv"
    target.write_text("previous")
    with pytest.raises(exc):
        with atomic.atomic_open(target) as fh:
            fh.write("half")
            raise exc()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]
    assert target.read_text() == "previous"


def test_sigterm_during_a_command_leaves_no_temporary_file(tmp_path):
    """A real SIGTERM while the output is being written: exit 143, one line, no temporary."""
    script = ("import os, signal, sys, time\n"
              "from hpcrec import cli\n"
              "from hpcrec.io import atomic\n"
              "def slow(tmp, data):\n"            # every atomic write creates its file here
              "    open(tmp, 'wb').write(b'x')\n"
              "    os.kill(os.getpid(), signal.SIGTERM)\n"
              "    time.sleep(5)\n"
              "atomic._write_new = slow\n"
              "sys.exit(cli.main(sys.argv[1:]))\n")
    src = tmp_path / "in.csv"
    src.write_text(BASKETS)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-c", script, "convert", str(src), "-o", str(out / "o.h5")],
                          capture_output=True, text=True, env=child_env({"HPCREC_NO_MPI": "1"}),
                          timeout=120)
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "hpcrec: error: terminated (SIGTERM)"
    assert not list(out.iterdir())


def _mine(cli_main, src, out, support):
    rc, _, err = cli_main("mine", src, "-o", out, "--min-support", str(support))
    assert rc == 0, err


def test_itemsets_and_sidecar_from_two_runs_are_refused(cli_main, tmp_path):
    """A kill between the two renames leaves one run's CSV with another's sidecar: refused."""
    src, _ = _workspace(tmp_path)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    _mine(cli_main, src, first, 0.5)
    _mine(cli_main, src, second, 0.25)
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(first.read_bytes())
    (tmp_path / "mixed.csv.meta.json").write_bytes((tmp_path / "second.csv.meta.json").read_bytes())
    out = tmp_path / "rules"
    out.mkdir()
    rc, _, err = cli_main("rules", mixed, "-o", out / "r.csv")
    assert "belongs to another run" in _one_error(rc, err)
    assert not list(out.iterdir())
    rc, _, err = cli_main("rules", first, "-o", out / "r.csv", "--min-threshold", "0.1")
    assert rc == 0, err


# -- 2. write errors -------------------------------------------------------------------------
def _fsize_limit(nbytes):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


@pytest.fixture(scope="module")
def ratings_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ratings") / "r.h5"
    io.write_h5(synthetic_ratings(n_users=200, n_items=300, n_ratings=20000), path)
    return path


@pytest.mark.parametrize("argv", [
    ["convert", "{r}", "-o", "{out}/c.h5"],
    ["train", "{r}", "-o", "{out}/m.h5", "--epochs", "1", "--factors", "32"],
    ["mine", "{tx}", "-o", "{out}/i.csv", "--min-support", "0.0001"],
])
def test_file_size_limit_is_one_clean_line(ratings_file, tmp_path, argv):
    """RLIMIT_FSIZE (``ulimit -f``): the write fails with EFBIG; no crash, file or temporary."""
    tx = tmp_path / "tx.h5"
    io.write_h5(io.load_transactions([[i, i + 1, (7 * i) % 500] for i in range(3000)], serial()), tx)
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "hpcrec", *[a.format(r=ratings_file, tx=tx, out=out) for a in argv]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=child_env({"HPCREC_NO_MPI": "1"}), preexec_fn=_fsize_limit(8192))
    line = _one_error(proc.returncode, "\n".join(
        ln for ln in proc.stderr.splitlines() if ln.startswith("hpcrec: error") or "Traceback" in ln))
    assert "File too large" in line, proc.stderr
    assert not list(out.iterdir())


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 64 KiB tmpfs inside the test's folder (root and a working mount), else skip."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("argv", [
    ["convert", "{r}", "-o", "{out}/c.h5"],
    ["train", "{r}", "-o", "{out}/m.h5", "--epochs", "1", "--factors", "32"],
])
def test_disk_full_is_one_clean_line(ratings_file, tiny_tmpfs, argv):
    cmd = [sys.executable, "-m", "hpcrec", *[a.format(r=ratings_file, out=tiny_tmpfs) for a in argv]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=child_env({"HPCREC_NO_MPI": "1"}))
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("hpcrec: error")]
    assert proc.returncode == 2 and len(errors) == 1 and "No space left on device" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tiny_tmpfs.iterdir())


def test_read_only_output_folder(cli_main, tmp_path, monkeypatch):
    src, out = _workspace(tmp_path)

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr(atomic, "_write_new", refuse)
    rc, _, err = cli_main("convert", src, "-o", out / "o.h5")
    assert _one_error(rc, err) == f"hpcrec: error: cannot write {out / 'o.h5'}: Read-only file system"
    assert not list(out.iterdir())


# -- 3. HDF5 confinement ---------------------------------------------------------------------
def _edited(path, edit):
    with h5py.File(path, "r+") as fh:
        edit(fh)
    return path


def _external_storage(secret):
    def edit(fh):
        del fh["item_labels"]
        fh.create_dataset("item_labels", (5,), dtype=np.int64, external=[(str(secret), 0, 40)])
    return edit


def _virtual(secret_h5):
    def edit(fh):
        del fh["item_labels"]
        layout = h5py.VirtualLayout(shape=(5,), dtype=np.int64)
        layout[:] = h5py.VirtualSource(str(secret_h5), "x", shape=(5,))
        fh.create_virtual_dataset("item_labels", layout)
    return edit


def _external_link(secret_h5):
    def edit(fh):
        del fh["item_labels"]
        fh["item_labels"] = h5py.ExternalLink(str(secret_h5), "x")
    return edit


def _soft_link(fh):
    del fh["item_labels"]
    fh["labels_elsewhere"] = np.arange(5)
    fh["item_labels"] = h5py.SoftLink("/labels_elsewhere")


def _huge_declared(fh):
    del fh["item_labels"]
    fh.create_dataset("item_labels", (2 ** 33,), dtype=np.int64, chunks=(2 ** 20,))
    fh.attrs["n_items"] = 2 ** 33


def _lzf(fh):
    data = fh["indices"][()]
    del fh["indices"]
    fh.create_dataset("indices", data=data, compression="lzf")


def build_confinement_cases(folder):
    """name -> path of a crafted transaction file; secrets live in ``folder/secret``."""
    secret = folder / "secret"
    secret.mkdir()
    (secret / "private.txt").write_bytes(b"PRIVATE-LINE\n" * 8)
    with h5py.File(secret / "other.h5", "w") as fh:
        fh["x"] = np.arange(5, dtype=np.int64)
    edits = {"external_storage": _external_storage(secret / "private.txt"),
             "virtual_dataset": _virtual(secret / "other.h5"),
             "external_link": _external_link(secret / "other.h5"),
             "soft_link": _soft_link, "huge_declared": _huge_declared, "lzf_filter": _lzf}
    return {name: _edited(_tx_file(folder / f"{name}.h5"), edit) for name, edit in edits.items()}


@pytest.fixture(scope="module")
def confinement(tmp_path_factory):
    return build_confinement_cases(tmp_path_factory.mktemp("confinement"))


CONFINEMENT = ["external_storage", "virtual_dataset", "external_link", "soft_link",
               "huge_declared", "lzf_filter"]
READERS = {
    "info": ["info", "{p}", "--json"],
    "convert": ["convert", "{p}", "-o", "{out}/o.h5"],
    "mine": ["mine", "{p}", "-o", "{out}/i.csv", "--min-support", "0.3"],
    "train": ["train", "{p}", "-o", "{out}/m.h5", "--epochs", "1"],
}


@pytest.mark.parametrize("command", sorted(READERS))
@pytest.mark.parametrize("name", CONFINEMENT)
def test_hdf5_confinement(cli_main, confinement, tmp_path, command, name):
    path = confinement[name]
    out = tmp_path / "out"
    out.mkdir()
    rc, stdout, err = cli_main(*[a.format(p=path, out=out) for a in READERS[command]])
    _check_failure(rc, err, None, out)
    assert str(path) in err and "PRIVATE" not in stdout + err


def test_model_with_external_link_is_refused(cli_main, trained_model, tmp_path):
    path, model = trained_model
    bad = tmp_path / "m.h5"
    bad.write_bytes(path.read_bytes())
    with h5py.File(tmp_path / "other.h5", "w") as fh:
        fh["t"] = np.array(["PRIVATE"] * len(model.item_ids), dtype=h5py.string_dtype())
    with h5py.File(bad, "r+") as fh:
        if "item_title" in fh:
            del fh["item_title"]
        fh["item_title"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "t")
    rc, out, err = cli_main("recommend", bad, "--user", model.user_ids[0])
    assert "external link" in _one_error(rc, err) and "PRIVATE" not in out


# -- 4. special inputs -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["fifo", "char_device", "socket"])
@pytest.mark.parametrize("argv", [["info", "{p}"], ["convert", "{p}", "-o", "{out}/o.h5"],
                                  ["mine", "{p}", "-o", "{out}/i.csv", "--min-support", "0.5"],
                                  ["train", "{p}", "-o", "{out}/m.h5"],
                                  ["rules", "{p}", "-o", "{out}/r.csv"]])
def test_special_input_is_refused_at_once(cli_main, tmp_path, kind, argv):
    suffix = ".csv" if argv[0] in ("mine", "rules") else ".dat"
    path = special_file(kind, tmp_path / f"input{suffix}")
    if kind == "char_device":       # a private /dev/zero: would never end
        path.unlink()
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
    out = tmp_path / "out"
    out.mkdir()
    rc, _, err = cli_main(*[a.format(p=path, out=out) for a in argv])
    assert "hpcrec reads regular files only" in _one_error(rc, err)


def test_fifo_input_does_not_hang_a_process_or_mpi_job(run_cli, mpirun, tmp_path):
    fifo = tmp_path / "data.dat"
    os.mkfifo(fifo)
    rc, _, err = run_cli("mine", fifo, "-o", tmp_path / "i.csv", "--min-support", "0.5", timeout=60)
    assert rc == 2 and "FIFO" in err
    rc, _, err = mpirun(2, "train", fifo, "-o", tmp_path / "m.h5", timeout=120)
    assert rc != 0 and "FIFO" in err and not (tmp_path / "m.h5").exists()


# -- 5. the memory budget --------------------------------------------------------------------
def test_cgroup_v2_limit_is_the_tightest_ancestor(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("0::/job/step/task\n")
    root = tmp_path / "fs"
    for rel, value in (("job", "4294967296"), ("job/step", "max"), ("job/step/task", "max")):
        (root / rel).mkdir(parents=True)
        (root / rel / "memory.max").write_text(value + "\n")
    assert memory.cgroup_bytes(str(proc), str(root)) == 4 << 30
    (root / "job/step/task/memory.max").write_text("1073741824\n")
    assert memory.cgroup_bytes(str(proc), str(root)) == 1 << 30


def test_cgroup_v1_limit_and_unlimited(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("12:cpu,cpuacct:/x\n7:memory:/slurm/job1\n")
    folder = tmp_path / "fs" / "memory" / "slurm" / "job1"
    folder.mkdir(parents=True)
    (folder / "memory.limit_in_bytes").write_text("2147483648\n")
    assert memory.cgroup_bytes(str(proc), str(tmp_path / "fs")) == 2 << 30
    (folder / "memory.limit_in_bytes").write_text("9223372036854771712\n")   # v1's "no limit"
    assert memory.cgroup_bytes(str(proc), str(tmp_path / "fs")) is None
    assert memory.cgroup_bytes(str(tmp_path / "missing"), str(tmp_path)) is None


def test_cgroup_limit_is_read_once_per_process(monkeypatch):
    reads = []
    monkeypatch.delenv("HPCREC_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(memory, "physical_bytes", lambda: 64 << 30)
    monkeypatch.setattr(memory, "rlimit_headroom", lambda: None)
    monkeypatch.setattr(memory, "cgroup_bytes", lambda: reads.append(1) or 2 << 30)
    memory.own_cgroup_bytes.cache_clear()
    try:
        first, second = memory.budget_bytes(1), memory.budget_bytes(1)
    finally:
        memory.own_cgroup_bytes.cache_clear()   # the next reader sees the real files
    assert len(reads) == 1
    assert first == second == int(memory._fraction() * (2 << 30))


@pytest.mark.parametrize("mode, limited, free", [("0", False, True), ("1", False, True),
                                                 ("2", False, False), ("0", True, False),
                                                 (None, False, False)])
def test_untouched_room_is_free_only_under_overcommit_and_no_rlimit(mode, limited, free,
                                                                   tmp_path, monkeypatch):
    """Stores reserve room ahead only where Linux overcommits (vm.overcommit_memory 0/1;
    a missing file: unknown, so no) and no RLIMIT_AS/RLIMIT_DATA counts the room."""
    path = tmp_path / "overcommit_memory"
    if mode is not None:
        path.write_text(mode + "\n")
    real = memory.resource.getrlimit
    monkeypatch.setattr(memory.resource, "getrlimit", lambda which: (
        (1 << 40, 1 << 40) if limited and which == memory.resource.RLIMIT_DATA else
        (memory.resource.RLIM_INFINITY,) * 2 if which in (memory.resource.RLIMIT_AS,
                                                          memory.resource.RLIMIT_DATA)
        else real(which)))
    assert memory.untouched_is_free(str(path)) is free


@pytest.mark.parametrize("text,value", [("2G", 2 << 30), ("500M", 500 << 20), ("1.5K", 1536),
                                        ("4096", 4096), ("3GiB", 3 << 30)])
def test_memory_limit_parsing(text, value):
    assert memory.parse_bytes(text) == value


@pytest.mark.parametrize("text", ["lots", "-1G", "0", "nan", "1e30"])
def test_bad_memory_limit_is_an_input_error(text):
    with pytest.raises(InputError, match="HPCREC_MEMORY_LIMIT"):
        memory.parse_bytes(text)


def test_rlimit_as_caps_the_budget():
    code = ("import resource; from hpcrec.core import memory\n"
            "free = memory.budget_bytes()\n"
            "used = memory._status_bytes('VmSize')\n"
            "resource.setrlimit(resource.RLIMIT_AS, (used + (512 << 20), resource.RLIM_INFINITY))\n"
            "capped = memory.budget_bytes()\n"
            "print(free > (1 << 30), 0 < capped <= (512 << 20))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=child_env(), timeout=60)
    assert proc.stdout.split() == ["True", "True"], proc.stderr


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    data = synthetic_ratings(n_users=30, n_items=40, n_ratings=400)
    model = BiasedSGD(factors=4, epochs=2).fit(data, serial())
    model.save(folder / "model.h5")
    io.write_h5(data, folder / "ratings.h5")
    return folder / "model.h5", model


def test_als_systems_are_budgeted(trained_model):
    ratings = trained_model[0].with_name("ratings.h5")
    with pytest.raises(MemoryBudgetError, match="dense 100000 x 100000 systems of als.*--factors"):
        ALS(factors=100_000, epochs=1).fit(ratings, serial())


def test_memory_limit_reaches_mining_and_reading(cli_main, tmp_path, monkeypatch):
    src = tmp_path / "t.dat"
    src.write_text("\n".join(" ".join(str(j) for j in range(i % 40)) for i in range(400)))
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("HPCREC_MEMORY_LIMIT", "1K")
    rc, _, err = cli_main("mine", src, "-o", out / "i.csv", "--min-support", "0.01")
    assert "HPCREC_MEMORY_LIMIT" in _one_error(rc, err)
    assert not list(out.iterdir())


def test_memory_error_is_one_clean_line(cli_main, tmp_path, monkeypatch):
    from hpcrec.io import formats

    def exhausted(*args, **kwargs):
        raise MemoryError()
    for reader in ("load_any", "_read_parts"):    # the serial and the parallel readers
        monkeypatch.setattr(formats, reader, exhausted)
    src, out = _workspace(tmp_path)
    rc, _, err = cli_main("convert", src, "-o", out / "o.h5")
    assert "out of memory" in _one_error(rc, err) and "HPCREC_MEMORY_LIMIT" in err


# -- 6. numerics -----------------------------------------------------------------------------
def _ratings_csv(path, values):
    rng = np.random.default_rng(0)
    rows = [f"{rng.integers(20)},{rng.integers(30)},{rng.choice(values)}" for _ in range(300)]
    path.write_text("user,item,rating\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("value", ["1e30", "3.4e38", "-1e7"])
def test_insane_ratings_are_refused_up_front(cli_main, tmp_path, value):
    src = _ratings_csv(tmp_path / "r.csv", [value, "3", "4"])
    out = tmp_path / "out"
    out.mkdir()
    rc, _, err = cli_main("train", src, "-o", out / "m.h5", "--epochs", "1")
    assert "beyond +-1e+06" in _one_error(rc, err)
    assert not list(out.iterdir())


def test_float32_overflow_is_refused_when_read(cli_main, tmp_path):
    src = _ratings_csv(tmp_path / "r.csv", ["1e39", "3"])
    rc, _, err = cli_main("convert", src, "-o", tmp_path / "o.h5")
    assert "does not fit float32" in _one_error(rc, err)


def test_divergence_stops_training_without_a_model(cli_main, tmp_path):
    src = _ratings_csv(tmp_path / "r.csv", ["1e5", "-1e5", "3"])
    out = tmp_path / "out"
    out.mkdir()
    rc, _, err = cli_main("train", src, "-o", out / "m.h5", "--epochs", "30", "--lr", "0.5")
    assert "training diverged" in _one_error(rc, err)
    assert not list(out.iterdir())


def test_json_outputs_are_strict():
    text = jsontext.dumps({"a": float("nan"), "b": [np.float32("inf"), np.int64(3)], "c": -np.inf})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {"a": None, "b": [None, 3],
                                                                          "c": None}


def test_recommend_json_parses_strictly(cli_main, trained_model):
    path, model = trained_model
    rc, out, err = cli_main("recommend", path, "--user", model.user_ids[0], "--json")
    assert rc == 0, err
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


# -- 7. ids ----------------------------------------------------------------------------------
def test_ids_keep_their_identity(tmp_path):
    src = tmp_path / "ids.csv"
    src.write_text("user,item,rating\n"
                   "18446744073709551615,1,3\n-1,1,4\n"          # 2**64-1 must not wrap onto -1
                   "9007199254740993,2,3\n9007199254740992,2,3\n"  # above 2**53: distinct
                   "1.0,1,2\n1,2,2\n")                             # mixed forms: text ids
    r = io.load_ratings(src, serial())
    assert sorted(r.user_ids.tolist()) == sorted(["18446744073709551615", "-1", "9007199254740993",
                                                  "9007199254740992", "1.0", "1"])
    ints = tmp_path / "ints.csv"
    ints.write_text("user,item,rating\n9223372036854775807,1,3\n-9223372036854775808,1,4\n007,2,1\n")
    r = io.load_ratings(ints, serial())
    assert r.user_ids.dtype == np.int64
    assert r.user_ids.tolist() == [-2 ** 63, 7, 2 ** 63 - 1]


def test_uint64_ids_beyond_int64_are_kept_as_text():
    r = io.load_ratings((np.array([2 ** 64 - 1, 1], np.uint64), [1, 1], [3.0, 4.0]), serial())
    assert sorted(r.user_ids.tolist()) == ["1", "18446744073709551615"]


def test_huge_user_id_query_is_unknown_not_internal(cli_main, trained_model):
    path, _ = trained_model
    rc, _, err = cli_main("recommend", path, "--user", "18446744073709551615")
    assert "unknown user id '18446744073709551615'" in _one_error(rc, err)   # no NumPy repr


# -- 8. labels -------------------------------------------------------------------------------
LABELS = ["a\u2028b", "c\u0085d", "e\u2029f", "line\nbreak", "=1+2", "+x", "-y", "@z", "'q",
          "''", "p|q", "back\\slash", "x\x0cy", "g\x1dh", 'say "hi"', "a,b"]
EDGE = ["\tlead", "\rcr"]   # kept by the Python API and HDF5 (text readers strip cells)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".h5"])
def test_labels_survive_mine_and_rules(cli_main, tmp_path, suffix):
    src = tmp_path / "lab.h5"
    baskets = [LABELS[:9] + EDGE, LABELS[9:] + EDGE, LABELS + EDGE]
    io.write_h5(io.load_transactions(baskets, serial(), partition=False), src)
    out = tmp_path / f"itemsets{suffix}"
    rc, _, err = cli_main("mine", src, "-o", out, "--min-support", "0.6", "--max-len", "2")
    assert rc == 0, err
    sets, _, meta = read_itemsets(out)
    assert sorted(s[0] for s in sets if len(s) == 1) == sorted(LABELS + EDGE)
    rules = tmp_path / f"rules{suffix}"
    rc, _, err = cli_main("rules", out, "-o", rules, "--min-threshold", "0.1")
    assert rc == 0, err


def test_labels_survive_convert_then_mine(cli_main, tmp_path):
    src = tmp_path / "lab.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([LABELS[:8], LABELS[8:], LABELS])
    rc, _, err = cli_main("convert", src, "-o", tmp_path / "lab.h5")
    assert rc == 0, err
    for source in (src, tmp_path / "lab.h5"):
        out = tmp_path / f"{source.suffix[1:]}.csv"
        rc, _, err = cli_main("mine", source, "-o", out, "--min-support", "0.6", "--max-len", "1")
        assert rc == 0, err
        assert sorted(s[0] for s in read_itemsets(out)[0]) == sorted(LABELS)


def test_csv_cells_are_neutralised_for_spreadsheets(cli_main, tmp_path):
    src = tmp_path / "f.h5"
    io.write_h5(io.load_transactions([["=cmd()", "+1", "@SUM(A1)"], ["=cmd()", "+1", "@SUM(A1)"]],
                                     serial(), partition=False), src)
    out = tmp_path / "i.csv"
    rc, _, err = cli_main("mine", src, "-o", out, "--min-support", "0.5")
    assert rc == 0, err
    with open(out, newline="", encoding="utf-8") as fh:
        cells = [row[1] for row in csv.reader(fh)][1:]
    assert len(cells) == 7 and all(c[0] == "'" for c in cells)
    assert {c for c in cells if "|" not in c} == {"'+1", "'=cmd()", "'@SUM(A1)"}
    rc, _, err = cli_main("rules", out, "-o", tmp_path / "r.csv", "--min-threshold", "0.1")
    assert rc == 0, err
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    assert rows and all(c[0] == "'" for r in rows for c in r[:2])


def test_recommend_prints_titles_unchanged(cli_main, tmp_path):
    titles = np.array(["=HYPERLINK(x)", "a\u2028b", "line\nbreak"], dtype=object)
    data = io.load_ratings(([1, 1, 2, 2, 3], [10, 11, 11, 12, 10], [5.0, 3.0, 4.0, 1.0, 2.0]),
                           serial(), partition=False)
    data.item_titles = titles
    io.write_h5(data, tmp_path / "r.h5")
    rc, _, err = cli_main("train", tmp_path / "r.h5", "-o", tmp_path / "m.h5", "--epochs", "2")
    assert rc == 0, err
    rc, out, err = cli_main("recommend", tmp_path / "m.h5", "--user", "3", "--json",
                            "--include-seen")
    assert sorted(r["title"] for r in json.loads(out)) == sorted(titles.tolist())


# -- 9. format detection ---------------------------------------------------------------------
def test_onehot_csv_is_detected(cli_main, tmp_path):
    src = tmp_path / "o.csv"
    src.write_text("a,b,c\n1,1,0\n1,0,1\n0,0,1\n")
    out = tmp_path / "x.csv"
    rc, _, err = cli_main("mine", src, "--min-support", "0.01", "-o", out)
    assert rc == 0, err
    sets, _, meta = read_itemsets(out)
    assert meta["n_transactions"] == 3
    assert {s for s in sets if len(s) == 1} == {("a",), ("b",), ("c",)}


@pytest.mark.parametrize("text", ["a,a,b\n1,0,1\n0,1,1\n", "0,1\n1,0\n0,0\n", ",b\n1,0\n"])
def test_unclear_onehot_csv_asks_for_format(cli_main, tmp_path, text):
    src = tmp_path / "o.csv"
    src.write_text(text)
    rc, _, err = cli_main("info", src)
    assert "give --format onehot-csv or --format baskets-csv" in _one_error(rc, err)


def test_onehot_header_with_duplicates_is_refused(cli_main, tmp_path):
    src = tmp_path / "o.csv"
    src.write_text("a,a,b\n1,0,1\n0,1,1\n")
    rc, _, err = cli_main("info", src, "--format", "onehot-csv")
    assert "duplicate item column 'a'" in _one_error(rc, err)


def test_python_api_takes_format(tmp_path):
    src = tmp_path / "o.txt"
    src.write_text("a,b,c\nTrue,True,False\n1,0,1\n0,0,1\n")
    tx = io.load_transactions(src, serial(), format="onehot-csv")
    assert [sorted(r) for r in tx.to_lists()] == [["a", "b"], ["a", "c"], ["c"]]
    frame = apriori(str(src), min_support=0.5, use_colnames=True, format="onehot-csv",
                    comm=serial())
    assert {frozenset(s) for s in frame["itemsets"]} == {frozenset({"a"}), frozenset({"c"})}


# -- 10. min_support of any numeric type ------------------------------------------------------
@pytest.mark.parametrize("value", [np.float32(0.6), np.float16(0.6), 0.6, np.float64(0.6),
                                   pd.Series([0.6], dtype="float32")[0]])
def test_min_support_compared_as_float64_of_its_value(value):
    df = pd.DataFrame({"a": [1, 1, 1, 0, 0], "b": [1, 1, 1, 1, 0]}, dtype=bool)
    got = apriori(df, min_support=value, use_colnames=True, comm=serial())
    want = {frozenset(c) for c, s in (({"a"}, 3 / 5), ({"b"}, 4 / 5), ({"a", "b"}, 3 / 5))
            if s >= float(value)}
    assert {frozenset(s) for s in got["itemsets"]} == want


# -- 12. integrity ---------------------------------------------------------------------------
def test_model_arrays_carry_verified_checksums(cli_main, trained_model, tmp_path):
    path, model = trained_model
    with h5py.File(path, "r") as fh:
        assert all(hdf5.CHECKSUM in fh[name].attrs for name in ("state/P", "item_ids", "seen_items"))
    bad = tmp_path / "flipped.h5"
    bad.write_bytes(path.read_bytes())
    with h5py.File(bad, "r+") as fh:   # one flipped bit in P, written in place
        p = fh["state/P"][()]
        p.view(np.uint32)[0, 0] ^= 1 << 22
        fh["state/P"][...] = p
    rc, _, err = cli_main("recommend", bad, "--user", model.user_ids[0])
    assert "fails its checksum" in _one_error(rc, err)


def test_checkpoint_files_are_verified(tmp_path):
    path = tmp_path / "checkpoint.h5"
    hdf5.write_h5(path, "checkpoint", {"state/P": np.ones((3, 2))}, attrs={"epoch": 1})
    with h5py.File(path, "r+") as fh:
        fh["state/P"][0, 0] = 2.0
    with pytest.raises(InputError, match="fails its checksum"):
        with hdf5.open_checked(path, "checkpoint"):
            pass


def test_output_error_is_an_os_error_and_one_line():
    err = atomic.write_error("x.h5", OSError(28, "No space left on device"))
    assert isinstance(err, OutputError) and str(err) == "cannot write x.h5: No space left on device"


def test_signal_handlers_are_restored(cli_main, tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    cli_main("info", tmp_path / "missing.csv")
    assert signal.getsignal(signal.SIGTERM) == before


def test_itemset_csv_is_streamed_in_chunks_unchanged(tmp_path, monkeypatch):
    """Bounded memory when writing: the CSV is built chunk by chunk, identical to one piece."""
    from hpcrec.fim import mine_itemsets
    from hpcrec.io import results as output
    baskets = [[f"i{(7 * r + k) % 13}" for k in range(r % 5 + 1)] for r in range(60)]
    res = mine_itemsets(baskets, 0.05, comm=serial())
    output.write_itemsets(tmp_path / "one.csv", res)
    monkeypatch.setattr(output, "ROWS_PER_CHUNK", 3)
    output.write_itemsets(tmp_path / "chunked.csv", res)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "chunked.csv").read_bytes()
    sets, support, meta = read_itemsets(tmp_path / "chunked.csv")
    assert len(sets) == len(res) > 3 and meta["n_transactions"] == 60
