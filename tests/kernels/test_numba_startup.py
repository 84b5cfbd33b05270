"""Numba's BLAS probe is answered without SciPy; real linear algebra still compiles and runs."""
from __future__ import annotations

import sys
import textwrap

from conftest import run_command

_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import hpcrec.kernels  # installs the deferral
    from numba import njit

    @njit
    def add(x):
        return x + 1

    @njit
    def solve(a, b):
        return np.linalg.solve(a, b), np.dot(b, b)

    add(1)                                   # Numba's first compiled call: the probe
    print("linalg after first call:", "scipy.linalg" in sys.modules)
    a = np.array([[3.0, 1.0], [1.0, 2.0]]); b = np.array([9.0, 8.0])
    x, d = solve(a, b)
    print("solve:", np.allclose(x, np.linalg.solve(a, b)) and d == 145.0)
    print("linalg after solve:", "scipy.linalg" in sys.modules)
""")


def test_first_call_skips_scipy_linalg_and_blas_still_works(tmp_path):
    rc, out, err = run_command([sys.executable, "-c", _SCRIPT],
                               env={"NUMBA_CACHE_DIR": str(tmp_path)}, timeout=300)
    assert rc == 0, err
    assert out.splitlines() == ["linalg after first call: False", "solve: True",
                                "linalg after solve: True"]
