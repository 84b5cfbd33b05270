"""Start-up of the command line: whole processes cold and warm, and a small job's overhead.

For each command: the whole process with an empty Numba cache (cold: compilation), then
warm (best and median of ``--repeat`` fresh processes), and its compute time: the same
command run a second time inside one process, when every import is done and every kernel
loaded (best of ``--repeat``). Overhead = warm whole process - compute: what a small job
pays for the interpreter, imports, MPI and the first call of each kernel. Peak MB: the
warm process's peak resident memory (``ru_maxrss`` of that child; under ``mpiexec`` the
largest of its processes; the runtime before any data dominates it for these small jobs).
``python -c pass`` is the floor of any Python command. Children run with bytecode caching
on (PYTHONDONTWRITEBYTECODE dropped), as an installed package does: without it every
hpcrec module is compiled from source at every start (~0.3 s CPU more). With ``--baseline
SRC`` another source tree of hpcrec (through PYTHONPATH, which wins over an editable
install's finder) runs the same commands, interleaved. ``--mpi N`` adds ``mine`` under
``mpiexec -n N``. Prints a Markdown table and writes JSON to --out.

    python benchmarks/startup_bench.py --out benchmarks/results/startup_bench.json
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A second call of the command in the same process: its wall time is the compute time.
TWICE = """import sys, time
from hpcrec.cli import main
main(sys.argv[1:])
t = time.perf_counter()
main(sys.argv[1:])
print("COMPUTE_S", time.perf_counter() - t, file=sys.stderr)
"""


def commands(work: Path, shared: Path) -> dict[str, list[str]]:
    (work / "small.dat").write_text("1 2 3\n2 3\n4\n" * 1000)
    (work / "alone").mkdir(exist_ok=True)   # u1.base without its folder's u.item (titles)
    shutil.copyfile(shared / "ml-100k" / "u1.base", work / "alone" / "u1.base")
    return {
        "--version": ["--version"],
        "--help": ["--help"],
        "convert FIMI (3000 lines)": ["-q", "convert", str(work / "small.dat"), "-o", str(work / "s.h5")],
        "mine retail.dat (fpgrowth, 1 %)": ["-q", "mine", str(shared / "fim" / "retail.dat"),
                                            "--min-support", "0.01", "-o", str(work / "m.csv")],
        "train u1.base (biased-sgd, 5 epochs)": ["-q", "train", str(shared / "ml-100k" / "u1.base"),
                                                 "--model", "biased-sgd", "--epochs", "5",
                                                 "-o", str(work / "model.h5")],
        "train u1.base alone (no u.item beside it)": ["-q", "train", str(work / "alone" / "u1.base"),
                                                      "--model", "biased-sgd", "--epochs", "5",
                                                      "-o", str(work / "model2.h5")],
    }


def timed(cmd: list[str], env: dict) -> tuple[float, str, float]:
    """(wall seconds, stderr, peak resident MB) of one fresh process."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{text[-2000:]}")
    return wall, text, usage.ru_maxrss / 1024


def measure(name: str, argv: list[str], envs: dict[str, dict], repeat: int, cold: bool,
            launch: tuple[str, ...] = ()) -> list[dict]:
    """One row per variant (``envs``: name -> environment), their fresh processes interleaved;
    ``launch``: an MPI launcher's words (``mpiexec -n 2``), then ``python -m mpi4py``."""
    py = [*launch, sys.executable, "-m", "mpi4py"] if launch else [sys.executable]
    cache = Path(tempfile.mkdtemp(prefix="hpcrec-numba-cold-"))
    if cold:     # each variant starts from its own empty cache; else from the caller's
        envs = {v: {**env, "NUMBA_CACHE_DIR": str(cache / v)} for v, env in envs.items()}
    prefix = f"mpiexec -n {launch[2]} " if launch else ""
    rows = {v: {"command": f"{prefix}hpcrec {name}", "variant": v} for v in envs}
    try:
        for v, env in envs.items():     # cold: an empty cache (compilation); else untimed warm-up
            rows[v]["cold_s"] = timed([*py, "-m", "hpcrec", *argv], env)[0] if cold else None
            if not cold:
                timed([*py, "-c", TWICE, *argv], env)
        warm = {v: [] for v in envs}
        peak = {v: [] for v in envs}
        compute = {v: [] for v in envs}
        for _ in range(repeat):
            for v, env in envs.items():
                wall, _, mb = timed([*py, "-m", "hpcrec", *argv], env)
                warm[v].append(wall)
                peak[v].append(mb)
                if not argv[0].startswith("--"):
                    _, err, _ = timed([*py, "-c", TWICE, *argv], env)
                    compute[v].append(float(err.split("COMPUTE_S")[-1].split()[0]))
        for v, row in rows.items():
            row.update(warm_best_s=min(warm[v]), warm_median_s=statistics.median(warm[v]),
                       peak_mb=statistics.median(peak[v]))
            if compute[v]:
                row.update(compute_s=min(compute[v]), overhead_s=min(warm[v]) - min(compute[v]))
        return list(rows.values())
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "hpcrec-startup"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--baseline", help="source tree of another hpcrec version (e.g. a git archive, "
                    "with hpcrec/kernels linked to kernels/), run through PYTHONPATH, interleaved")
    ap.add_argument("--no-cold", action="store_true", help="skip the empty-cache (compiling) runs")
    ap.add_argument("--mpi", type=int, default=2, metavar="N",
                    help="also run `mine` under mpiexec -n N (0: not); warm only")
    ap.add_argument("--out", default="startup_bench.json")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("HPCREC_EXPECT_RANKS", "PYTHONDONTWRITEBYTECODE")}
    envs = {"this tree": env}
    if args.baseline:
        envs["baseline"] = {**env, "PYTHONPATH": str(Path(args.baseline).resolve())}
    load = os.getloadavg()
    floor = min(timed([sys.executable, "-c", "pass"], env)[0] for _ in range(args.repeat))
    todo = commands(work, Path(args.shared))
    rows = [row for name, argv in todo.items()
            for row in measure(name, argv, envs, args.repeat, not args.no_cold)]
    if args.mpi:    # MPI's start-up: the launcher, MPI_Init on every rank
        mpiexec = str(Path(sys.executable).with_name("mpiexec"))
        name = next(n for n in todo if n.startswith("mine"))
        rows += measure(name, todo[name], envs, args.repeat, False,
                        (mpiexec, "-n", str(args.mpi)))
    result = {"load_before": load, "load_after": os.getloadavg(), "python_pass_s": floor,
              "baseline": args.baseline, "commands": rows}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"load average before {load[0]:.1f}, after {result['load_after'][0]:.1f}; "
          f"python -c pass: {floor:.2f} s\n")
    print("| command | variant | cold s | warm s (best / median) | compute s | overhead s | peak MB |\n"
          "|---|---|---|---|---|---|---|")
    for r in rows:
        cold = "-" if r["cold_s"] is None else f"{r['cold_s']:.2f}"
        extra = (f"{r['compute_s']:.2f} | {r['overhead_s']:.2f}" if "compute_s" in r else "- | -")
        print(f"| {r['command']} | {r['variant']} | {cold} | {r['warm_best_s']:.2f} / "
              f"{r['warm_median_s']:.2f} | {extra} | {r['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
