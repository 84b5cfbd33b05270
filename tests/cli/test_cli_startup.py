"""Start-up of the ``hpcrec`` command (lazy imports) and its progress reports."""
from __future__ import annotations

import subprocess
import sys

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
    cache = tmp_path / "numba-cache"
    rc, _, err = run_cli("warmup", "convert", env={"NUMBA_CACHE_DIR": str(cache)}, timeout=300)
    assert rc == 0 and "convert: kernels ready" in err
    assert any("textparse" in p.name and p.suffix == ".nbi" for p in cache.rglob("*"))
    rc, _, err = run_cli("warmup", "nothing", env={"NUMBA_CACHE_DIR": str(cache)})
    assert rc == 2 and "unknown command 'nothing'" in err
