"""The hostile census: every hostile case through every command that reads it, as real processes.

Builds the corpora of the hostile tests (text files of ``tests/safety/bad_inputs``, damaged and
crafted HDF5 files, FIFOs / devices / sockets as inputs, damaged models and itemset files,
outputs onto special files and onto their own input) in a temporary folder, runs each
case through each command under ``strace`` (open calls) with a timeout, and counts:

* clean errors (exit 2, exactly one ``hpcrec: error:`` line, no traceback),
* accepted (exit 0), internal errors (exit 1), crashes (killed by a signal), hangs (timeout),
* runs with a traceback, runs that left a file in the output folder,
* files read outside the named inputs (any open of the ``secret/`` folder that crafted
  files point at, or its marker in what was printed), inputs destroyed (a corpus file whose
  SHA-256 changed or that vanished).

Usage: ``python tests/safety/hostile_census.py [--jobs 2] [--timeout 60] [--mpi-sample]
[--json out.json] [--cases special:,crafted:] [--code DIR]``
(``--code`` runs the commands of another checkout, e.g.
``git archive`` of an older commit, against the same corpus: a before/after comparison).
Exit status 1 when any internal error, crash, hang, outside read,
destroyed input or leftover was seen.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]   # the hostile test modules, conftest, helpers
from helpers import special_file  # noqa: E402  (found through the line above)

SECRET_MARKER = "PRIVATE"


def _build(root: Path) -> dict:
    """kind -> {case name: path}: every hostile corpus, built under ``root``."""
    import test_hostile_commands as hc
    import test_hostile_inputs as hi
    import test_hostile_safety as hs

    from hpcrec import io
    from hpcrec.core.comm import serial
    from hpcrec.io.synthetic import ratings as synthetic_ratings
    from hpcrec.mf import BiasedSGD

    data = {}
    for name in hi.TEXT_CASES:
        src = hi.BAD / name
        if src.exists():
            dst = root / "text" / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
            data[f"text:{name}"] = dst
        else:
            data[f"text:{name}"] = root / "text" / name           # does_not_exist
    (root / "h5").mkdir()
    data.update({f"h5:{k}": v for k, (v, _) in hi._build_h5_cases(root / "h5").items()})
    (root / "crafted").mkdir()
    data.update({f"crafted:{k}": v for k, v in hs.build_confinement_cases(root / "crafted").items()})
    special = root / "special"
    special.mkdir()
    data["special:fifo"] = special / "fifo.dat"
    os.mkfifo(data["special:fifo"])
    data["special:zero_device"] = special / "zero.dat"
    os.mknod(data["special:zero_device"], stat.S_IFCHR | 0o666, os.makedev(1, 5))
    data["special:socket"] = special / "sock.dat"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(data["special:socket"]))
    sock.close()

    good = root / "good"
    good.mkdir()
    r = synthetic_ratings(n_users=30, n_items=40, n_ratings=400)
    BiasedSGD(factors=4, epochs=2).fit(r, serial()).save(good / "model.h5")
    io.write_h5(r, good / "test.h5")
    (good / "itemsets.csv").write_text(hc.GOOD_CSV)
    (good / "in.csv").write_text("a,b,c\nb,c\na,c\nc\n")
    model = BiasedSGD.load(good / "model.h5")
    (root / "models").mkdir()
    models = hc._build_model_cases(root / "models", good / "model.h5", len(model.user_ids),
                                   len(model.item_ids), len(model.seen_items))
    (root / "itemsets").mkdir()
    itemsets = hc._build_itemset_cases(root / "itemsets")
    return {"data": data, "models": {k: v for k, (v, _) in models.items()},
            "itemsets": {k: v for k, (v, _) in itemsets.items()}, "good": good,
            "user": str(model.user_ids[0]), "item": str(model.item_ids[0])}


DATA_COMMANDS = {
    "info": ["info", "{p}", "--json"],
    "convert": ["convert", "{p}", "-o", "{out}/o.h5"],
    "mine": ["mine", "{p}", "-o", "{out}/i.csv", "--min-support", "0.5"],
    "train": ["train", "{p}", "-o", "{out}/m.h5", "--epochs", "1"],
    "evaluate": ["evaluate", "{model}", "--test", "{p}"],
    "cv": ["cv", "{p}", "--folds", "2", "--epochs", "1", "--factors", "2"],
    "rules": ["rules", "{p}", "-o", "{out}/r.csv"],
    "bench-read": ["bench", "run", "read", "--input", "{p}", "-r", "{out}/r.jsonl"],
}
MODEL_COMMANDS = {
    "evaluate": ["evaluate", "{p}", "--test", "{test}"],
    "recommend": ["recommend", "{p}", "--user", "{user}", "--json"],
    "neighbors": ["neighbors", "{p}", "--item", "{item}", "--json"],
    "plot": ["plot", "{p}", "-o", "{out}"],
}
OUTPUT_COMMANDS = {
    "convert": ["convert", "{good}/in.csv", "-o", "{p}"],
    "mine": ["mine", "{good}/in.csv", "-o", "{p}", "--min-support", "0.5"],
    "train": ["train", "{good}/test.h5", "-o", "{p}", "--epochs", "1"],
    "rules": ["rules", "{good}/itemsets.csv", "-o", "{p}"],
}


def _runs(corpus, root: Path) -> list[dict]:
    good = corpus["good"]
    runs = []

    def add(case, command, argv):
        runs.append({"case": case, "command": command, "argv": argv})

    for case, path in sorted(corpus["data"].items()):
        for command, argv in DATA_COMMANDS.items():
            add(case, command, [a.format(p=path, out="{out}", model=good / "model.h5") for a in argv])
    for case, path in sorted(corpus["models"].items()):
        for command, argv in MODEL_COMMANDS.items():
            add(f"model:{case}", command, [a.format(p=path, out="{out}", test=good / "test.h5",
                                                     user=corpus["user"], item=corpus["item"])
                                            for a in argv])
    for case, path in sorted(corpus["itemsets"].items()):
        add(f"itemsets:{case}", "rules", ["rules", str(path), "-o", "{out}/r.csv"])
    targets = root / "targets"
    targets.mkdir()
    for kind in ("char_device", "fifo", "socket", "folder"):
        for command, argv in OUTPUT_COMMANDS.items():
            suffix = ".csv" if command in ("mine", "rules") else ".h5"
            target = targets / f"{kind}-{command}{suffix}"
            special_file(kind, target)
            add(f"output:{kind}", command, [a.format(good=good, p=target) for a in argv])
    for command, argv in OUTPUT_COMMANDS.items():   # onto its own input (a copy of it)
        own = targets / f"own-{command}"
        own.mkdir()
        src = next(Path(a.format(good=good, p="")) for a in argv if "{good}" in a)
        shutil.copy(src, own / src.name)
        add("output:own_input", command,
            [a.format(good=own, p=own / src.name) for a in argv])
    return runs


def _fingerprint(root: Path) -> dict:
    """SHA-256 (or the file type) of every corpus entry, outputs excluded."""
    prints = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        if "runs" in Path(dirpath).relative_to(root).parts[:1]:
            continue
        for name in filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                prints[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                prints[str(p)] = f"mode {stat.S_IFMT(st.st_mode):o} rdev {st.st_rdev}"
    return prints


def _run_one(run: dict, root: Path, index: int, timeout: float, strace: bool, mpi: int,
             code: str | None) -> dict:
    out = root / "runs" / str(index)
    out.mkdir(parents=True)
    argv = [a.replace("{out}", str(out)) for a in run["argv"]]
    base = [sys.executable, "-m", "hpcrec", *argv]
    if mpi:
        base = [str(Path(sys.executable).with_name("mpiexec")), "-n", str(mpi), sys.executable,
                "-m", "mpi4py", "-m", "hpcrec", *argv]
    log = out.with_suffix(".strace")
    cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log), *base] \
        if strace else base
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "HYDRA_", "HPCREC_"))}
    if not mpi:
        env["HPCREC_NO_MPI"] = "1"
    if code:
        env["PYTHONPATH"] = code
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True, cwd=out)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        hang = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        stdout, stderr = proc.communicate()
        hang = True
    rc = proc.returncode
    secret_opens = 0
    if strace and log.exists():
        secret_opens = sum(1 for line in log.read_text(errors="replace").splitlines()
                           if "/secret/" in line and "ENOENT" not in line)
        log.unlink()
    errors = [ln for ln in stderr.splitlines() if ln.startswith("hpcrec: error:")]
    leftovers = [p.name for p in out.iterdir()] if rc != 0 else []
    if run["command"] == "plot" or rc == 0:
        leftovers = []
    shutil.rmtree(out, ignore_errors=True)
    if hang:
        verdict = "hang"
    elif rc < 0 or rc >= 128 and rc not in (130, 143):
        verdict = "crash"
    elif rc == 0:
        verdict = "accepted"
    elif rc == 1 and any("internal error" in e for e in errors):
        verdict = "internal"
    elif rc == 2 and len(errors) >= 1 and "Traceback" not in stderr and (len(errors) == 1 or mpi):
        verdict = "clean"
    else:
        verdict = "other"
    return {**run, "argv": argv, "rc": rc, "verdict": verdict, "seconds": time.perf_counter() - t0,
            "traceback": "Traceback" in stderr, "secret_opens": secret_opens,
            "secret_printed": SECRET_MARKER in stdout + stderr, "leftovers": leftovers,
            "error": errors[0] if errors else stderr.strip()[-300:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--no-strace", action="store_true")
    parser.add_argument("--mpi-sample", action="store_true",
                        help="also run the special inputs and crafted HDF5 files through mine and "
                             "train under mpiexec -n 2")
    parser.add_argument("--json", help="write every run's record here")
    parser.add_argument("--cases", help="comma-separated case prefixes to run (e.g. special:,crafted:)")
    parser.add_argument("--code", help="import hpcrec from this folder in the runs (comparison)")
    args = parser.parse_args(argv)
    strace = not args.no_strace and shutil.which("strace") is not None
    root = Path(tempfile.mkdtemp(prefix="hpcrec-census-"))
    try:
        corpus = _build(root)
        runs = [(r, 0) for r in _runs(corpus, root)
                if not args.cases or r["case"].startswith(tuple(args.cases.split(",")))]
        if args.mpi_sample:
            runs += [({**r, "command": f"{r['command']} (mpi 2)"}, 2) for r, _ in runs
                     if r["case"].startswith(("special:", "crafted:"))
                     and r["command"] in ("mine", "train")]
        before = _fingerprint(root)
        with cf.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda ir: _run_one(ir[1][0], root, ir[0], args.timeout, strace,
                                                        ir[1][1], args.code), enumerate(runs)))
        after = _fingerprint(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    destroyed = sorted(p for p in before if after.get(p) != before[p])
    counts = {v: sum(r["verdict"] == v for r in results)
              for v in ("clean", "accepted", "internal", "crash", "hang", "other")}
    cases = {r["case"] for r in results}
    commands = {r["command"] for r in results}
    summary = {"runs": len(results), "cases": len(cases), "commands": len(commands), **counts,
               "tracebacks": sum(r["traceback"] for r in results),
               "outside_reads": sum(r["secret_opens"] > 0 or r["secret_printed"] for r in results),
               "inputs_destroyed": len(destroyed),
               "leftovers": sum(bool(r["leftovers"]) for r in results), "strace": strace}
    for r in results:
        if r["verdict"] not in ("clean",) or r["secret_opens"] or r["leftovers"]:
            print(f"{r['verdict']:>9}  {r['case']:<34} {r['command']:<14} rc={r['rc']}  {r['error'][:150]}")
    print(json.dumps(summary, indent=1))
    if destroyed:
        print("destroyed:", *destroyed, sep="\n  ")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": results}, indent=1))
    bad = (counts["internal"] + counts["crash"] + counts["hang"] + summary["outside_reads"]
           + summary["inputs_destroyed"] + summary["leftovers"] + summary["tracebacks"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
