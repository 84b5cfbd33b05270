"""Numba's start, cut to what a job that only runs cached kernels needs.

Two fixed costs a small job pays for nothing, each removed by a small, guarded change:

* At the first compiled call Numba imports ``numba.np.arraymath``, whose module body imports
  ``scipy.linalg.cython_blas`` (SciPy and its whole linear-algebra package, 0.1-0.4 s) only
  to decide whether ``np.correlate``/``np.convolve`` may use BLAS. hpcrec's kernels call
  neither, so that probe is answered "no BLAS" without importing SciPy. Everything that
  really needs BLAS (``np.dot``, ``np.linalg.*`` in the ALS kernels) asks Numba's
  ``ensure_blas``/``ensure_lapack`` when it is compiled, which imports SciPy then as usual.
* Loading a kernel from the on-disk cache first *refreshes* the target context: it imports
  and installs every typing and lowering registry (lists, dicts, sets, random, linalg,
  ...), 0.1-0.3 s, which only compiling uses. Numba's compiler refreshes both contexts
  itself before typing anything, so a cached load here only initialises the runtime (NRT:
  the symbols cached code links against) and leaves the registries to the first compile.
  Applied only to Numba versions whose ``Cache.load_overload`` was read for this
  (:data:`KNOWN_NUMBA`) and still has the expected shape; any other gets Numba's own path.

And one correctness guard: Numba keys a cached function on the source of its own file, but
kernels inline functions of other kernel modules (``projected`` inlines
``order.pack_mask``), whose change would leave the cached machine code stale: after a
``git pull`` that changed ``order.py`` alone, FP-Growth would have written records of the
old layout. A function of this folder is keyed on the source of every module here
(:func:`kernels_stamp`), so a change to any of them recompiles them all
(:func:`stamp_by_folder`, on every Numba whose locator has the expected method).
"""
from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

_PROBE = ("numba.np.arraymath", "_check_blas")  # (module, function) whose SciPy import is deferred
KNOWN_NUMBA = ((0, 59), (0, 68))   # oldest and newest minor versions whose cache loader was read
KERNELS = Path(__file__).resolve().parent   # the folder whose modules share one stamp
_LOADER_NAMES = {"refresh", "_guard_against_spurious_io_errors", "_load_overload"}


class _DeferBlasProbe:
    """A meta-path finder that refuses ``scipy*`` to Numba's BLAS probe and to nobody else,
    and defers the registry refresh as soon as Numba's cache module is loaded (importing
    Numba is left to the kernels that use it)."""

    deferred = False

    def find_spec(self, name, path=None, target=None):
        if not self.deferred:   # Numba's cache loader, patched once its module is complete
            caching = sys.modules.get("numba.core.caching")
            version = getattr(sys.modules.get("numba"), "__version__", None)
            if version and hasattr(getattr(caching, "Cache", None), "load_overload"):
                self.deferred = True
                defer_registry_refresh(version)
                stamp_by_folder(caching)
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


def _version(text: str) -> tuple[int, int]:
    major, minor = (text.split(".") + ["0"])[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def _load_without_refresh(self, sig, target_context):
    """``Cache.load_overload`` minus the registry refresh (compiling refreshes them itself)."""
    from numba.core.runtime import rtsys
    rtsys.initialize(target_context)      # the part of the refresh cached code needs
    with self._guard_against_spurious_io_errors():
        return self._load_overload(sig, target_context)
    # None (a miss) if the `with` block swallowed an I/O error: the caller compiles


def defer_registry_refresh(numba_version: str) -> bool:
    """Make cached loads skip the registry refresh, on a known Numba only; True if done."""
    from numba.core import caching
    original = caching.Cache.load_overload
    if original is _load_without_refresh:
        return True
    if not KNOWN_NUMBA[0] <= _version(numba_version) <= KNOWN_NUMBA[1]:
        return False
    code = getattr(original, "__code__", None)
    if code is None or not _LOADER_NAMES <= set(code.co_names):
        return False                      # not the loader that was read: leave it alone
    caching.Cache.load_overload = _load_without_refresh
    return True


def kernels_stamp(folder: Path = KERNELS) -> bytes:
    """A digest of the source of every module in ``folder`` (re-read only when a file's
    name, modification time or size changes)."""
    files = sorted(folder.glob("*.py"))
    return _digest(folder, tuple((f.name, st.st_mtime_ns, st.st_size)
                                 for f in files for st in (f.stat(),)))


@functools.lru_cache(maxsize=8)
def _digest(folder: Path, files: tuple) -> bytes:
    h = hashlib.sha256()
    for name, _, _ in files:
        h.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return h.digest()


def stamp_by_folder(caching) -> bool:
    """Make Numba key the cached functions of this folder's modules on
    :func:`kernels_stamp` (others keep their own file's stamp); True if done."""
    mixin = getattr(caching, "_SourceFileBackedLocatorMixin", None)
    original = getattr(mixin, "get_source_stamp", None)
    if original is None or getattr(original, "by_folder", False):
        return original is not None

    def get_source_stamp(self):
        path = getattr(self, "_py_file", None)
        if path and not getattr(sys, "frozen", False) and Path(path).resolve().parent == KERNELS:
            return kernels_stamp()
        return original(self)

    get_source_stamp.by_folder = True
    mixin.get_source_stamp = get_source_stamp
    return True


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once; it costs a few tests per import and
    leaves at the first SciPy import after Numba's probe). It defers the refresh at the
    first import after ``numba.core.caching`` (Numba imports many more modules after it)."""
    if not any(isinstance(f, _DeferBlasProbe) for f in sys.meta_path):
        sys.meta_path.insert(0, _DeferBlasProbe())
