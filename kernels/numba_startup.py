"""Numba's start without SciPy: defers an import that costs a small job a tenth of a second.

At the first compiled call Numba imports ``numba.np.arraymath``, whose module body imports
``scipy.linalg.cython_blas`` (SciPy and its whole linear-algebra package, 0.1-0.4 s) only
to decide whether ``np.correlate``/``np.convolve`` may use BLAS. hpcrec's kernels call
neither, so that probe is answered "no BLAS" without importing SciPy. Everything that
really needs BLAS (``np.dot``, ``np.linalg.*`` in the ALS kernels) asks Numba's
``ensure_blas``/``ensure_lapack`` when it is compiled, which imports SciPy then as usual.
"""
from __future__ import annotations

import sys

_PROBE = ("numba.np.arraymath", "_check_blas")  # (module, function) whose SciPy import is deferred


class _DeferBlasProbe:
    """A meta-path finder that refuses ``scipy*`` to Numba's BLAS probe and to nobody else."""

    def find_spec(self, name, path=None, target=None):
        if name != "scipy" and not name.startswith("scipy."):
            return None
        probed = hasattr(sys.modules.get(_PROBE[0]), "_HAVE_BLAS")
        if probed or "scipy.linalg.cython_blas" in sys.modules:  # done, or nothing to save
            if probed and self in sys.meta_path:
                sys.meta_path.remove(self)
            return None
        frame = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if (code.co_name == _PROBE[1]
                    and frame.f_globals.get("__name__") == _PROBE[0]):
                raise ModuleNotFoundError(f"{name} deferred by hpcrec.kernels.numba_startup")
            frame = frame.f_back
        return None


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once); it costs one string test per
    import and leaves at the first SciPy import after Numba's probe."""
    if not any(isinstance(f, _DeferBlasProbe) for f in sys.meta_path):
        sys.meta_path.insert(0, _DeferBlasProbe())
