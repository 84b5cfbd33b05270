"""The HDF5 schema shared by every hpcrec file, with checked opening and atomic writing.

Every file carries two root attributes: ``hpcrec_kind`` (``transactions``, ``ratings``,
``model``, ``itemsets``, ...) and ``hpcrec_format_version``. Strings are stored as UTF-8
variable-length datasets. Reading checks kind, version, dataset presence, dtypes and
lengths, and turns every failure (truncated file, garbage, wrong schema) into one
:class:`InputError` line. Nothing is ever unpickled.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import h5py
import numpy as np

from ..errors import InputError
from .atomic import atomic_path

FORMAT_VERSION = 1
STR = h5py.string_dtype("utf-8")


def is_hdf5(path) -> bool:
    path = Path(path)
    return path.is_file() and path.stat().st_size >= 8 and h5py.is_hdf5(str(path))


@contextlib.contextmanager
def open_checked(path, kind: str | tuple[str, ...]):
    """Open an hpcrec HDF5 file read-only and check its kind and format version."""
    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if not is_hdf5(path):
        raise InputError(f"{path}: not an HDF5 file")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: unreadable HDF5 file ({str(exc).splitlines()[0]})") from None
    with fh:
        try:
            _check_kind(fh, path, kinds)
            yield fh
        except InputError:
            raise
        except (OSError, KeyError, TypeError, ValueError, IndexError) as exc:
            # h5py reports damaged files with these (a truncated file opens fine, then
            # fails on the first read; undecodable strings are a ValueError).
            raise InputError(f"{path}: damaged or inconsistent HDF5 file "
                             f"({_first_line(exc)})") from None


def _check_kind(fh, path, kinds) -> None:
    found = attr_str(fh.attrs.get("hpcrec_kind"))
    if found is None:
        raise InputError(f"{path}: not an hpcrec file (no 'hpcrec_kind' attribute)")
    if found not in kinds:
        raise InputError(f"{path}: holds {found}, expected {' or '.join(kinds)}")
    version = fh.attrs.get("hpcrec_format_version")
    if _as_int(version) != FORMAT_VERSION:
        raise InputError(f"{path}: format version {attr_str(version)} not supported "
                         f"(this hpcrec reads version {FORMAT_VERSION})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _as_int(value):
    """An integer attribute value, or None when it is missing or not one integer."""
    try:
        arr = np.asarray(value)
        if arr.size != 1 or arr.dtype.kind not in "iu":
            return None
        return int(arr.reshape(-1)[0])
    except (TypeError, ValueError):
        return None


def attr_str(value):
    """A string attribute as str (bytes decoded), None when absent."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def attr_int(fh, name: str, default: int = -1) -> int:
    """An integer attribute of ``fh`` (``default`` when absent); anything else is an InputError."""
    if name not in fh.attrs:
        return default
    value = _as_int(fh.attrs[name])
    if value is None or value < 0:
        raise InputError(f"{fh.filename}: attribute '{name}' is not a non-negative integer")
    return value


def dataset(fh, name: str, kinds: str, ndim: int = 1, length: int | None = None):
    """The dataset ``name`` after checking its presence, dtype kind ('i', 'f', 'O'/'S') and length."""
    if name not in fh or not isinstance(fh[name], h5py.Dataset):
        raise InputError(f"{fh.filename}: missing dataset '{name}'")
    ds = fh[name]
    dk = "O" if h5py.check_string_dtype(ds.dtype) is not None else ds.dtype.kind
    if dk not in kinds or ds.ndim != ndim:
        raise InputError(f"{fh.filename}: dataset '{name}' has dtype {ds.dtype} and {ds.ndim} "
                         f"dimension(s); expected kind {kinds!r} with {ndim}")
    if length is not None and ds.shape[0] != length:
        raise InputError(f"{fh.filename}: dataset '{name}' has {ds.shape[0]} entries, "
                         f"the file declares {length}")
    return ds


def read_labels(ds) -> np.ndarray:
    """Labels as int64 (numeric ids) or an object array of str."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.array(ds.asstr()[()], dtype=object)
    return ds[()].astype(np.int64)


def label_data(labels) -> np.ndarray:
    """Labels in a form h5py stores: int64 if all integers, else UTF-8 strings."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return np.array([str(x) for x in arr], dtype=STR)


def write_h5(path, kind: str, datasets: dict, attrs: dict | None = None,
             compression: str | None = None) -> Path:
    """Write one hpcrec HDF5 file atomically; ``datasets`` maps names to arrays."""
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as fh:
        fh.attrs["hpcrec_kind"] = kind
        fh.attrs["hpcrec_format_version"] = FORMAT_VERSION
        from .. import __version__
        fh.attrs["created_by"] = f"hpcrec {__version__}"
        for key, value in (attrs or {}).items():
            fh.attrs[key] = value
        for name, data in datasets.items():
            if data is None:
                continue
            data = np.asarray(data)
            if data.dtype == object or data.dtype.kind == "U":
                data = np.array([str(x) for x in data.reshape(-1)], dtype=STR).reshape(data.shape)
            fh.create_dataset(name, data=data,
                              compression=compression if data.size > 4096 else None)
    return path
