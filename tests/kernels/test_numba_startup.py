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


_CACHED_MODULE = textwrap.dedent("""
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def total(x):
        out = np.empty(1, dtype=x.dtype)     # allocates: the cached code needs Numba's runtime
        out[0] = x.sum()
        return out
""")

_CACHED_CALL = textwrap.dedent("""
    import sys
    import numpy as np
    import hpcrec.kernels  # installs the deferral, without importing Numba
    print("numba imported by hpcrec.kernels:", "numba" in sys.modules)
    from numba.core import caching
    from hpcrec.kernels import numba_startup
    import cached_kernel
    from numba import njit

    print("deferred:", caching.Cache.load_overload is numba_startup._load_without_refresh)
    print("sum:", int(cached_kernel.total(np.arange(5))[0]))
    print("loaded from cache:", cached_kernel.total.stats.cache_hits.most_common(1)[0][1] == 1)
    print("registries after cached call:", "numba.np.polynomial.polynomial_core" in sys.modules)

    @njit
    def uses_registries(n):                 # typed list and dict: compiling refreshes itself
        d = {}
        seen = [0]
        for i in range(n):
            d[i] = 2 * i
            seen.append(i)
        return len(d) + len(seen) + d[n - 1]

    print("compiled after:", uses_registries(3))
""")


def test_cached_load_skips_registry_refresh_and_compiling_still_works(tmp_path):
    (tmp_path / "cached_kernel.py").write_text(_CACHED_MODULE)
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}
    warm = "import numpy as np, cached_kernel; print(int(cached_kernel.total(np.arange(5))[0]))"
    rc, out, err = run_command([sys.executable, "-c", warm], env=env, cwd=tmp_path, timeout=300)
    assert (rc, out) == (0, "10\n"), err
    rc, out, err = run_command([sys.executable, "-c", _CACHED_CALL], env=env, cwd=tmp_path, timeout=300)
    assert rc == 0, err
    assert out.splitlines() == ["numba imported by hpcrec.kernels: False", "deferred: True",
                                "sum: 10", "loaded from cache: True",
                                "registries after cached call: False", "compiled after: 11"]


def _loader_as_read(self, sig, target_context):    # the shape of Numba's own loader
    target_context.refresh()
    with self._guard_against_spurious_io_errors():
        return self._load_overload(sig, target_context)


def _loader_of_another_shape(self, sig, target_context):
    return self._load_overload(sig, target_context)


def test_unknown_numba_or_loader_keeps_its_own_path(monkeypatch):
    from numba.core import caching

    from hpcrec.kernels import numba_startup
    for version in ("0.58.1", "0.99.0", "1.0.0"):
        monkeypatch.setattr(caching.Cache, "load_overload", _loader_as_read)
        assert not numba_startup.defer_registry_refresh(version)
        assert caching.Cache.load_overload is _loader_as_read
    monkeypatch.setattr(caching.Cache, "load_overload", _loader_of_another_shape)
    assert not numba_startup.defer_registry_refresh("0.68.1")
    assert caching.Cache.load_overload is _loader_of_another_shape
    monkeypatch.setattr(caching.Cache, "load_overload", _loader_as_read)
    assert numba_startup.defer_registry_refresh("0.68.1")
    assert caching.Cache.load_overload is numba_startup._load_without_refresh
    assert numba_startup._version("0.69.0rc1") == (0, 69)


def test_the_stamp_covers_every_module_of_the_folder(tmp_path):
    """One digest of all modules: a change to any of them changes it; the same bytes
    written again (a new modification time) give the same digest."""
    from hpcrec.kernels.numba_startup import kernels_stamp
    (tmp_path / "order.py").write_text("A = 1\n")
    (tmp_path / "projected.py").write_text("B = 2\n")
    first = kernels_stamp(tmp_path)
    assert kernels_stamp(tmp_path) == first
    (tmp_path / "order.py").write_text("A = 3\n")
    changed = kernels_stamp(tmp_path)
    assert changed != first
    (tmp_path / "order.py").write_text("A = 1\n")
    assert kernels_stamp(tmp_path) == first
    (tmp_path / "new.py").write_text("")
    assert kernels_stamp(tmp_path) not in (first, changed)


_STAMPS = textwrap.dedent("""
    import sys, types
    import hpcrec.kernels                    # installs the finder; Numba not yet imported
    from numba.core import caching
    from hpcrec.kernels import numba_startup
    stamp = caching._SourceFileBackedLocatorMixin.get_source_stamp
    kernel = types.SimpleNamespace(_py_file=str(numba_startup.KERNELS / "projected.py"))
    other = types.SimpleNamespace(_py_file=sys.argv[1])
    print("kernel:", stamp(kernel) == numba_startup.kernels_stamp())
    print("other:", stamp(other) != numba_startup.kernels_stamp())
""")


def test_a_kernel_is_keyed_on_every_kernel_module(tmp_path):
    """After importing the kernels and then Numba, a kernel module's functions are keyed on
    the folder's stamp (a change to order.py recompiles projected's inlined copies of its
    functions); a file elsewhere keeps Numba's own stamp."""
    other = tmp_path / "elsewhere.py"
    other.write_text("X = 1\n")
    rc, out, err = run_command([sys.executable, "-c", _STAMPS, str(other)],
                               env={"NUMBA_CACHE_DIR": str(tmp_path / "cache")}, cwd=tmp_path,
                               timeout=300)
    assert rc == 0, err
    assert out.splitlines() == ["kernel: True", "other: True"]
