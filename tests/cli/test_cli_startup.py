"""Start-up of the ``hpcrec`` command (lazy imports) and its progress reports."""
from __future__ import annotations

import argparse
import fcntl
import logging
import os
import re
import struct
import subprocess
import sys
import termios

from conftest import child_env, run_command
from helpers import small_ratings

from hpcrec import cli

HEAVY = ("pandas", "numba", "numpy", "h5py", "mpi4py", "hpcrec.io", "hpcrec.fim", "hpcrec.mf",
         "hpcrec.knn", "hpcrec.kernels", "hpcrec.core.comm")


def test_help_and_version_import_nothing_heavy():
    code = ("import sys, contextlib, io\n"
            "import hpcrec.cli as c\n"
            "for argv in (['--version'], ['--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "        c.main(argv)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
            f"or m.startswith({HEAVY!r})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# What no command loads without a launcher (mpi4py), a plot or a DataFrame, beyond the
# `import scipy` Numba itself makes (its version check): loaded means a submodule is in
# sys.modules (a lazy stand-in of the package is not loaded).
NEVER = ("pandas.", "matplotlib.", "mpi4py.", "sklearn.", "scipy.sparse", "scipy.linalg")
COMMAND_NEEDS = (   # (argv with {d} the folder, modules it must not load), run in this order
    ("mine {d}/t.dat --min-support 0.5 -o {d}/i.csv", NEVER + ("h5py.", "pyarrow.")),
    ("rules {d}/i.csv -o {d}/r.csv", NEVER + ("h5py.", "pyarrow.")),
    ("convert {d}/t.dat -o {d}/t.h5", NEVER + ("pyarrow.",)),
    ("info {d}/t.h5", NEVER + ("pyarrow.",)),
    ("train {d}/r3.csv --model biased-sgd --epochs 2 -o {d}/m.h5", NEVER),
)


def test_each_command_loads_only_what_it_needs(tmp_path):
    """pandas (0.15-0.3 s and ~50 MB of a small job) serves only the DataFrame API, h5py only
    HDF5 files, pyarrow only text ratings; mpi4py only a launched job. One process runs
    the commands in turn, each checked for what it must not have loaded so far."""
    (tmp_path / "t.dat").write_text("1 2 3\n1 2\n2 3\n")
    (tmp_path / "r3.csv").write_text("user,item,rating\n1,2,3.5\n2,2,4\n1,3,5\n3,1,2\n")
    code = ("import sys\n"
            "import hpcrec.cli as c\n"
            f"for argv, never in {COMMAND_NEEDS!r}:\n"
            f"    assert c.main(['-q', *argv.format(d={str(tmp_path)!r}).split()]) == 0, argv\n"
            "    print('loaded by', argv.split()[0], sorted(m for m in sys.modules if m.startswith(never)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=child_env(), timeout=600)
    assert out.returncode == 0, out.stderr
    loaded = [ln for ln in out.stdout.splitlines() if ln.startswith("loaded by ")]   # not `info`'s
    assert loaded == [f"loaded by {argv.split()[0]} []" for argv, _ in COMMAND_NEEDS], out.stdout
    assert (tmp_path / "r.csv").read_text().startswith("antecedents,consequents,")


def test_command_table_matches_the_modules():
    parser = cli.build_parser(full=True)
    sub = next(a for a in parser._actions if a.dest == "command")
    registered = {a.dest: a.help for a in sub._choices_actions}
    assert registered == {name: help_line for name, (_, help_line) in cli.COMMANDS.items()}
    assert list(sub.choices) == list(cli.COMMANDS)


def test_a_command_parses_with_only_its_module(run_cli, tmp_path):
    rc, out, err = run_cli("convert", "--help")
    assert rc == 0 and "--format" in out
    rc, out, err = run_cli("--help")
    assert rc == 0 and all(name in out for name in cli.COMMANDS)


def test_progress_lines_in_batch_logs_and_quiet(run_cli, tmp_path):
    src = tmp_path / "t.dat"
    src.write_text("1 2 3\n4 5\n" * 1000)
    env = {"HPCREC_PROGRESS_SECONDS": "0"}
    rc, _, err = run_cli("convert", str(src), "-o", str(tmp_path / "t.h5"), env=env)
    assert rc == 0
    lines = [ln for ln in err.splitlines() if ln.startswith(f"reading {src}: ")]
    assert lines and lines[-1].startswith(f"reading {src}: 100% (")
    assert "\r" not in err
    rc, _, err = run_cli("-q", "convert", str(src), "-o", str(tmp_path / "u.h5"), env=env)
    assert rc == 0 and err == ""


def test_warmup_fills_the_kernel_cache(run_cli, tmp_path):
    """... and writes the bytecode of modules its own run never imports (`mine`'s), even
    where the environment says not to write bytecode (it is put under a private prefix)."""
    cache, pyc = tmp_path / "numba-cache", tmp_path / "pyc"
    env = {"NUMBA_CACHE_DIR": str(cache), "PYTHONPYCACHEPREFIX": str(pyc),
           "PYTHONDONTWRITEBYTECODE": "1"}
    rc, _, err = run_cli("warmup", "convert", env=env, timeout=300)
    assert rc == 0 and "convert: kernels ready" in err
    assert any("textparse" in p.name and p.suffix == ".nbi" for p in cache.rglob("*"))
    for module in ("hpcrec/cli/mine.py", "kernels/projected.py"):   # the source tree's names
        folder, name = module.rsplit("/", 1)
        assert any(p.name.startswith(name[:-3] + ".") and p.parent.as_posix().endswith(folder)
                   for p in pyc.rglob("*.pyc")), module
    rc, _, err = run_cli("warmup", "nothing", env={"NUMBA_CACHE_DIR": str(cache)})
    assert rc == 2 and "unknown command 'nothing'" in err


FIRST_RUNS = """
import sys
from numba.core import event
from hpcrec.core.comm import serial
from hpcrec.fim import mine_itemsets
from hpcrec.io.synthetic import dense_transactions, transactions
sets = [(transactions(80_000, seed=3, n_items=6000, avg_len=10.0), 0.0003),
        (dense_transactions(5000, 22, 4, 6, seed=4), 0.1)]
compiled = []
class Tally(event.Listener):
    def on_start(self, ev):
        compiled.append(getattr(ev.data["dispatcher"], "__qualname__", "?"))
    def on_end(self, ev):
        pass
event.register("numba:compile", Tally())
for tx, support in sets:
    for algorithm in ("apriori", "fpgrowth", "fpmax", "fpclose"):
        mine_itemsets(tx, support, algorithm, comm=serial())
print(sorted(set(compiled)))
"""


def test_warmup_mine_leaves_nothing_to_compile(run_cli, tmp_path):
    """After `hpcrec warmup mine` into an empty cache, every algorithm on a sparse set
    that takes its size paths (1,527 frequent items: level 2 by often pairs, FP rounds)
    and on a dense one compiles no kernel: a batch job on a fresh node pays for none (a
    warm-up on one tiny dense set had left 103 functions, 15 s, to a first sparse
    apriori run on retail.dat)."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"), "PYTHONPYCACHEPREFIX": str(tmp_path / "pyc")}
    rc, _, err = run_cli("warmup", "mine", env=env, timeout=900)
    assert rc == 0 and "mine: kernels ready" in err, err
    rc, out, err = run_command([sys.executable, "-c", FIRST_RUNS], env, timeout=300)
    assert rc == 0, err
    assert out.strip() == "[]", out


def _train_args(tmp_path):
    small_ratings(3)[0].to_csv(tmp_path / "r.csv", index=False)
    return ("train", str(tmp_path / "r.csv"), "--model", "als", "--factors", "4", "--epochs", "3",
            "-o", str(tmp_path / "m.h5"))


def test_training_progress_in_batch_logs_and_quiet(run_cli, tmp_path):
    """Not a terminal: one line per epoch with its losses (epochs // 25 apart); -q: none."""
    rc, _, err = run_cli(*_train_args(tmp_path), env={"HPCREC_PROGRESS_SECONDS": "0"})
    assert rc == 0, err
    epochs = [ln for ln in err.splitlines() if ln.startswith("epoch ")]
    assert [ln.split(":")[0] for ln in epochs] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("train_rmse" in ln for ln in epochs) and "\r" not in err
    rc, _, err = run_cli("-q", *_train_args(tmp_path))
    assert rc == 0 and err == ""
    rc, _, err = run_cli(*_train_args(tmp_path), "--quiet")   # after the command, as after `mine`
    assert rc == 0 and err == ""


def _commands(sub, path=()):
    """(words, parser) of every registered command and sub-command (e.g. `bench study`)."""
    for name, parser in sub.choices.items():
        yield (*path, name), parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                yield from _commands(action, (*path, name))


def test_logging_options_before_and_after_every_command():
    """-v/-q are accepted after any (sub-)command as well as before it; given after, they
    override, and not given they keep what was said before the command."""
    top = cli.build_parser(full=True)
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    commands = list(_commands(sub))
    assert any(len(words) == 2 for words, _ in commands)
    for words, parser in commands:
        assert {"-q", "--quiet", "-v", "--verbose"} <= set(parser._option_string_actions), words
    ns = top.parse_known_args(["-q", "warmup", "convert"])[0]
    assert ns.quiet and not ns.verbose
    ns = top.parse_known_args(["warmup", "convert", "-q", "-v"])[0]
    assert ns.quiet and ns.verbose
    ns = top.parse_known_args(["warmup", "convert"])[0]
    assert not ns.quiet and not ns.verbose


def test_training_progress_is_a_bar_on_a_terminal(tmp_path):
    """stderr a terminal (a private pseudo-terminal): a tqdm bar over the epochs, redrawn
    in place, the losses as its postfix, and no log line per epoch."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 x 100
    try:
        proc = subprocess.Popen([sys.executable, "-m", "hpcrec", *_train_args(tmp_path)],
                                stdout=subprocess.PIPE, stderr=slave, env=child_env(None))
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:   # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert re.search(r"training als: +\d+%\|", text), text   # tqdm's bar
    assert "train_rmse" in text   # the postfix
    assert not any(ln.startswith("epoch ") for ln in text.replace("\r", "\n").splitlines()), text


def test_progress_interval_is_configured_by_the_entry_point(caplog):
    """The library reads no environment: the interval is set by configure() (the CLI passes
    HPCREC_PROGRESS_SECONDS); a value that is not a number keeps the default, with a warning."""
    from hpcrec import progress
    try:
        progress.configure("2.5")
        assert progress._LogLines("x", 1, "it").every == 2.5
        with caplog.at_level(logging.WARNING, logger="hpcrec"):
            progress.configure("soon")
        assert progress._LogLines("x", 1, "it").every == progress.DEFAULT_SECONDS
        assert "not a number of seconds" in caplog.text
    finally:
        progress.configure(progress.DEFAULT_SECONDS)


def test_mining_progress_in_batch_logs(run_cli, tmp_path):
    """FP-Growth reports the conditional items it has mined, ending at 100 %; -q: nothing."""
    src = tmp_path / "t.h5"
    assert run_cli("generate", "transactions", "-o", src, "--rows", "3000", "--items", "60")[0] == 0
    env = {"HPCREC_PROGRESS_SECONDS": "0"}
    args = ("mine", src, "--min-support", "0.01", "-o", tmp_path / "f.csv")
    rc, _, err = run_cli(*args, env=env)
    assert rc == 0, err
    lines = [ln for ln in err.splitlines() if ln.startswith("mining (conditional items): ")]
    assert lines and lines[-1].startswith("mining (conditional items): 100% ("), err
    rc, _, err = run_cli("-q", *args, env=env)
    assert rc == 0 and err == ""


def test_idle_openmp_threads_sleep_unless_the_user_says_otherwise(cli_main, monkeypatch, tmp_path):
    """The CLI sets OMP_WAIT_POLICY=PASSIVE before any kernel runs, keeping an explicit value."""
    (tmp_path / "t.dat").write_text("1 2\n")
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert cli_main("info", str(tmp_path / "t.dat"))[0] == 0
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert cli_main("info", str(tmp_path / "t.dat"))[0] == 0
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_process_entry_keeps_start_up_objects_out_of_the_gc(tmp_path):
    """`hpcrec` as a process (main(process=True), what run() calls): the objects of the
    imports are frozen out of the cyclic GC, which is on again for the command; a plain
    main() call (the API, tests) leaves the GC alone. The command's output is the same."""
    (tmp_path / "t.dat").write_text("1 2 3\n1 2\n2 3\n")
    code = ("import gc, sys\n"
            "import hpcrec.cli as c\n"
            f"d = {str(tmp_path)!r}\n"
            "argv = ['-q', 'mine', d + '/t.dat', '--min-support', '0.5', '-o', d + '/{}.csv']\n"
            "assert c.main([a.format('plain') for a in argv]) == 0\n"
            "print(gc.isenabled(), gc.get_freeze_count())\n"
            "assert c.main([a.format('process') for a in argv], process=True) == 0\n"
            "print(gc.isenabled(), gc.get_freeze_count() > 10000)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=child_env(), timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["True 0", "True True"], out.stdout
    assert (tmp_path / "plain.csv").read_bytes() == (tmp_path / "process.csv").read_bytes()
    rc = subprocess.run([sys.executable, "-m", "hpcrec", "-q", "mine", str(tmp_path / "t.dat"),
                         "--min-support", "0.5", "-o", str(tmp_path / "run.csv")],
                        env=child_env(), timeout=600).returncode
    assert rc == 0
    assert (tmp_path / "run.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
