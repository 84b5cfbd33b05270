"""The threshold rule loads no Numba: fim_bench's pyfim child uses it, and its memory is
compared with hpcrec's (pandas-free mining is tested in tests/cli/test_cli_startup.py)."""
from __future__ import annotations

import subprocess
import sys


def test_the_threshold_rule_loads_no_numba():
    code = ("import sys\nfrom hpcrec.fim.result import min_count\nassert min_count(0.5, 3) == 2\n"
            "print(sorted({m.split('.')[0] for m in sys.modules if '.' in m}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(eval(out.stdout.strip().splitlines()[-1]))
    assert "numba" not in loaded and "pandas" not in loaded, loaded
