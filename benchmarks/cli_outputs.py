"""Fingerprints of what the CLI produces, to show that a refactoring changed no output.

Runs a fixed, seeded set of commands (generate, convert, mine with every algorithm, rules,
train every model, evaluate, recommend, neighbors) at 1 and 2 ranks in a scratch folder and
writes one SHA-256 per artefact: output files byte for byte, HDF5 files by their datasets
and attributes (the per-epoch wall-clock entries of a model's history excluded: they are the
only field that differs between identical runs), JSON on stdout byte for byte.

    python benchmarks/cli_outputs.py -o before.json           # in the old checkout's venv
    python benchmarks/cli_outputs.py -o after.json            # in the new one
    python benchmarks/cli_outputs.py --compare before.json after.json
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

VOLATILE_HISTORY = ("seconds", "cpu_seconds")
MODELS = {"biased-sgd": ["--factors", "8", "--epochs", "4"],
          "als": ["--factors", "8", "--epochs", "3"],
          "wals": ["--factors", "8", "--epochs", "3"],
          "course-gd": ["--factors", "8", "--epochs", "5"],
          "item-knn": ["--k", "20"],
          "user-knn": ["--k", "20"]}


def _attr(value):
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and value.startswith("[{"):
        try:
            rows = json.loads(value)
        except ValueError:
            return value
        return json.dumps([{k: v for k, v in r.items() if k not in VOLATILE_HISTORY} for r in rows])
    return repr(np.asarray(value).tolist())


def h5_digest(path: Path) -> str:
    h = hashlib.sha256()
    with h5py.File(path, "r") as fh:
        items = [("", fh)]
        fh.visititems(lambda name, obj: items.append((name, obj)))
        for name, obj in sorted(items, key=lambda x: x[0]):
            h.update(name.encode())
            for key in sorted(obj.attrs):
                h.update(f"{key}={_attr(obj.attrs[key])}".encode())
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                h.update(str(data.dtype).encode() + repr(data.shape).encode())
                h.update(np.ascontiguousarray(data).tobytes() if data.dtype.kind != "O"
                         else repr(data.tolist()).encode())
    return h.hexdigest()


def digest(path: Path) -> str:
    if path.suffix == ".h5":
        return h5_digest(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(prefix: list[str], *args, cwd: Path) -> str:
    proc = subprocess.run([*prefix, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, args))}\n{proc.stderr[-2000:]}")
    return proc.stdout


def fingerprints(work: Path, ranks: int) -> dict[str, str]:
    py = [sys.executable, "-m", "mpi4py", "-m", "hpcrec"]
    cli = py if ranks == 1 else ["mpiexec", "-n", str(ranks), *py]
    out: dict[str, str] = {}
    serial = [sys.executable, "-m", "hpcrec"]
    if not (work / "tx.h5").exists():   # the inputs: made once, by one process
        run(serial, "generate", "transactions", "--rows", "4000", "--items", "120", "--seed", "3",
            "-o", "tx.h5", cwd=work)
        run(serial, "generate", "transactions", "--dense", "--rows", "1500", "--seed", "4",
            "-o", "dense.h5", cwd=work)
        run(serial, "generate", "ratings", "--rows", "300", "--items", "150", "--nnz", "12000",
            "--seed", "5", "-o", "train.h5", cwd=work)
        run(serial, "generate", "ratings", "--rows", "300", "--items", "150", "--nnz", "3000",
            "--seed", "6", "-o", "test.h5", cwd=work)
        rng = np.random.default_rng(7)
        (work / "baskets.dat").write_text("".join(
            " ".join(map(str, sorted(set(rng.integers(0, 60, rng.integers(1, 12)))))) + "\n"
            for _ in range(2000)))
        lines = [f"{u},{i},{rng.integers(1, 6)},{1000 + k}" for k, (u, i) in enumerate(
            {(int(rng.integers(1, 200)), int(rng.integers(1, 90))) for _ in range(6000)})]
        (work / "ratings.csv").write_text("user,item,rating,timestamp\n" + "\n".join(lines) + "\n")
    tag = f"n{ranks}"
    for src in ("baskets.dat", "ratings.csv"):
        name = f"{tag}-{Path(src).stem}.h5"
        run(cli, "convert", src, "-o", name, cwd=work)
        out[name] = digest(work / name)
    for data, support in (("tx.h5", "0.01"), ("dense.h5", "0.6"), (f"{tag}-baskets.h5", "0.02")):
        for algo in ("apriori", "fpgrowth", "fpmax", "fpclose"):
            name = f"{tag}-{Path(data).stem.split('-')[-1]}-{algo}.csv"
            run(cli, "mine", data, "--algorithm", algo, "--min-support", support, "--quiet",
                "-o", name, cwd=work)
            out[name] = digest(work / name)
            out[name + ".meta.json"] = digest(work / (name + ".meta.json"))
        rules = f"{tag}-{Path(data).stem.split('-')[-1]}-rules.csv"
        run(cli, "rules", f"{tag}-{Path(data).stem.split('-')[-1]}-fpgrowth.csv", "--metric",
            "confidence", "--min-threshold", "0.5", "--quiet", "-o", rules, cwd=work)
        out[rules] = digest(work / rules)
    for model, options in MODELS.items():
        name = f"{tag}-{model}.h5"
        run(cli, "train", "train.h5", "--model", model, "--seed", "1", *options, "-o", name, cwd=work)
        out[name] = digest(work / name)
        for what, args in (("evaluate", ["--test", "test.h5", "--k", "10"]),
                           ("recommend", ["--user", "7", "-k", "5", "--json"]),
                           ("neighbors", ["--item", "11", "-k", "5", "--json"])):
            text = run(serial, what, name, *args, cwd=work)
            out[f"{name}:{what}"] = hashlib.sha256(text.encode()).hexdigest()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", help="write the fingerprints here (JSON)")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args()
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        for k in differ:
            print(f"differs: {k}")
        print(f"{len(a.keys() & b.keys()) - len([k for k in differ if k in a and k in b])} "
              f"identical, {len(differ)} differ or missing")
        return 1 if differ else 0
    if not args.output:
        ap.error("-o is required (or --compare)")
    env_cache = os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "hpcrec-numba"))
    with tempfile.TemporaryDirectory() as tmp:
        result = {}
        for n in args.ranks:
            result.update(fingerprints(Path(tmp), n))
    Path(args.output).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"{len(result)} fingerprints in {args.output} (Numba cache {env_cache})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
