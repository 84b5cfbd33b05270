"""The HDF5 schema shared by every hpcrec file, with checked opening and atomic writing.

Every file carries two root attributes: ``hpcrec_kind`` (``transactions``, ``ratings``,
``model``, ``itemsets``, ...) and ``hpcrec_format_version``. Strings are stored as UTF-8
variable-length datasets. Reading checks kind, version, dataset presence, dtypes and
lengths, and turns every failure (truncated file, garbage, wrong schema) into one
:class:`InputError` line. Nothing is ever unpickled.

Confinement: a file hpcrec opens may hold only groups and datasets stored inside it.
External links, soft links, external raw storage, virtual datasets and any filter but
deflate (the one hpcrec writes) are refused, and every dataset's declared size must be
backed by its storage in the file (at most :data:`MAX_RATIO` times it when compressed), so
a small file cannot make hpcrec read other files or allocate what it does not hold.

Integrity: :func:`write_h5` stores a CRC-32 of every dataset's values in the dataset
attribute ``hpcrec_crc32``; files of the kinds in :data:`VERIFIED_KINDS` (read whole:
models, checkpoints, itemsets, rules) are verified when opened. Files are built in memory
and written with plain ``os.write`` calls, so a full disk is one clean error line.
"""
from __future__ import annotations

import contextlib
import io
import zlib
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..core.lazy import lazy_module
from ..core.memory import check_memory
from .atomic import write_bytes
from .inputs import check_regular

h5py = lazy_module("h5py")   # a job that reads and writes only text never loads it

FORMAT_VERSION = 1
SIGNATURE = b"\x89HDF\r\n\x1a\n"   # the superblock's first bytes
CHECKSUM = "hpcrec_crc32"
VERIFIED_KINDS = ("model", "checkpoint", "itemsets", "rules")
MAX_RATIO = 1100        # deflate expands at most ~1032:1
MAX_OBJECTS = 10_000    # hpcrec files hold a few dozen groups and datasets
ALLOWED_FILTERS = {1}   # h5py.h5z.FILTER_DEFLATE (HDF5's H5Z_FILTER_DEFLATE), without loading h5py
# What h5py raises on damaged or crafted files (MemoryError is left to the memory budget).
H5PY_ERRORS = (OSError, KeyError, TypeError, ValueError, IndexError, RuntimeError,
               NotImplementedError, OverflowError, AttributeError)


def string_dtype():
    """h5py's UTF-8 string dtype (loads h5py)."""
    return h5py.string_dtype("utf-8")


def is_hdf5(path) -> bool:
    """Whether ``path`` is a regular file holding HDF5's signature where HDF5 looks for it
    (byte 0, or the end of a user block: 512, 1024, 2048, ...), without loading h5py."""
    path = Path(path)
    if not path.is_file():
        return False
    size, offset = path.stat().st_size, 0
    with path.open("rb") as fh:
        while offset + len(SIGNATURE) <= size:
            fh.seek(offset)
            if fh.read(len(SIGNATURE)) == SIGNATURE:
                return True
            offset = 2 * offset or 512
    return False


@contextlib.contextmanager
def open_checked(path, kind: str | tuple[str, ...]):
    """Open an hpcrec HDF5 file read-only and check its kind and format version."""
    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    check_regular(path)
    if not is_hdf5(path):
        raise InputError(f"{path}: not an HDF5 file")
    try:
        fh = h5py.File(path, "r")
    except H5PY_ERRORS as exc:
        raise InputError(f"{path}: unreadable HDF5 file ({str(exc).splitlines()[0]})") from None
    with fh:
        try:
            _check_kind(fh, path, kinds)
            _check_confined(fh, path)
            if attr_str(fh.attrs.get("hpcrec_kind")) in VERIFIED_KINDS:
                _verify(fh, path)
            yield fh
        except InputError:
            raise
        except H5PY_ERRORS as exc:
            # h5py reports damaged files with these (a truncated file opens fine, then
            # fails on the first read; undecodable strings are a ValueError; HDF5 library
            # failures on broken links or types are RuntimeError / NotImplementedError).
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


def _check_confined(fh, path) -> None:
    """Refuse links, storage or filters that reach outside the file or beyond its size."""
    stack, seen = [fh], 0
    while stack:
        group = stack.pop()
        for name in group:
            seen += 1
            if seen > MAX_OBJECTS:
                raise InputError(f"{path}: more than {MAX_OBJECTS} objects; not an hpcrec file")
            link = group.get(name, getlink=True)
            where = f"{group.name.rstrip('/')}/{name}"
            if isinstance(link, h5py.ExternalLink):
                raise InputError(f"{path}: '{where}' is an external link to another file; refused")
            if isinstance(link, h5py.SoftLink):
                raise InputError(f"{path}: '{where}' is a soft link; hpcrec files hold none")
            obj = group[name]
            if isinstance(obj, h5py.Group):
                stack.append(obj)
            elif isinstance(obj, h5py.Dataset):
                _check_dataset(obj, path, where)


def _check_dataset(ds, path, where) -> None:
    if ds.is_virtual:
        raise InputError(f"{path}: dataset '{where}' is virtual (maps other files); refused")
    if ds.external:
        raise InputError(f"{path}: dataset '{where}' keeps its data in external files; refused")
    plist = ds.id.get_create_plist()
    filters = [plist.get_filter(k)[0] for k in range(plist.get_nfilters())]
    if any(f not in ALLOWED_FILTERS for f in filters):
        raise InputError(f"{path}: dataset '{where}' uses an HDF5 filter hpcrec does not write "
                         f"(ids {filters}); refused")
    declared = int(ds.size) * ds.dtype.itemsize
    stored = ds.id.get_storage_size()
    if declared > (stored * MAX_RATIO if filters else stored):
        raise InputError(f"{path}: dataset '{where}' declares {declared} bytes but the file "
                         f"stores {stored} for it; damaged or crafted file")


def checksum(values: np.ndarray) -> int:
    """CRC-32 of an array's values (little-endian bytes; strings as length-prefixed UTF-8)."""
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        crc = 0
        for x in values.reshape(-1).tolist():
            b = x if isinstance(x, bytes) else str(x).encode("utf-8", "surrogatepass")
            crc = zlib.crc32(len(b).to_bytes(8, "little") + b, crc)
        return crc
    data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    return zlib.crc32(data.reshape(-1).view(np.uint8))   # the buffer itself: no copy


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of ``a + b`` from ``crc1 = crc32(a)``, ``crc2 = crc32(b)`` and ``len(b)``.

    Appending ``len2`` zero bytes multiplies the register by x**(8 len2) modulo the CRC
    polynomial, a linear map on 32 bits: it is applied as 32x32 bit matrices, squared once
    per bit of ``len2`` (so ranks checksum their own slices and the totals are combined).
    """
    def times(mat, vec):
        out, k = 0, 0
        while vec:
            if vec & 1:
                out ^= mat[k]
            vec, k = vec >> 1, k + 1
        return out

    step = [0xEDB88320] + [1 << k for k in range(31)]   # one zero bit (reflected polynomial)
    for _ in range(3):                                   # one zero byte
        step = [times(step, col) for col in step]
    while len2:
        if len2 & 1:
            crc1 = times(step, crc1)
        len2 >>= 1
        if len2:
            step = [times(step, col) for col in step]
    return crc1 ^ crc2


def _verify(fh, path) -> None:
    """Compare every dataset carrying a checksum with its values (files read whole)."""
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and CHECKSUM in obj.attrs:
            values = obj.asstr()[()] if h5py.check_string_dtype(obj.dtype) is not None else obj[()]
            if _as_int(obj.attrs[CHECKSUM]) != checksum(values):
                raise InputError(f"{path}: dataset '{name}' fails its checksum; the file is damaged")
    fh.visititems(visit)


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


def check_read(path, nbytes: int) -> None:
    """Refuse to read ``nbytes`` from ``path`` over this rank's memory budget."""
    check_memory(nbytes, f"reading {path}",
                 "read it with more ranks (each reads its own slice) or on a node with more memory")


def read_labels(ds) -> np.ndarray:
    """Labels as int64 (numeric ids) or an object array of str."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.array(ds.asstr()[()], dtype=object)
    values = ds[()]
    if values.dtype.kind == "u" and values.size and values.max() > np.iinfo(np.int64).max:
        raise InputError(f"{ds.file.filename}: dataset '{ds.name}' holds ids beyond int64")
    return values.astype(np.int64)


def read_ids(ds) -> np.ndarray:
    """An id or label table (see :func:`read_labels`); every entry must be distinct."""
    values = read_labels(ds)
    increasing = values.dtype.kind in "iu" and bool(np.all(values[1:] > values[:-1]))
    if not increasing and len(np.unique(values)) != len(values):  # hpcrec writes them sorted
        raise InputError(f"{ds.file.filename}: dataset '{ds.name}' lists an id twice")
    return values


def label_data(labels) -> np.ndarray:
    """Labels in a form h5py stores: int64 if all integers, else UTF-8 strings."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return np.array([str(x) for x in arr], dtype=string_dtype())


def write_h5(path, kind: str, datasets: dict, attrs: dict | None = None) -> Path:
    """Write one hpcrec HDF5 file atomically; ``datasets`` maps names to arrays, stored
    contiguous and uncompressed: partitioned reads run at page-cache speed and the serial
    write waits for no deflate (docs/fim.md, "HDF5 layout")."""
    arrays = [np.asarray(d) for d in datasets.values() if d is not None]
    check_memory(2 * sum(a.nbytes + (64 * a.size if a.dtype.kind in "OU" else 0) for a in arrays),
                 f"the HDF5 image of {path}", "write it from a node with more memory")
    buffer = io.BytesIO()   # built in memory: h5py never meets a failing disk write
    build(buffer, kind, datasets, attrs)
    return write_bytes(path, buffer.getbuffer())


def build(fileobj, kind: str, datasets: dict, attrs: dict | None = None,
          reserved: dict | None = None) -> dict:
    """Write an hpcrec HDF5 image into the file object ``fileobj`` (h5py never sees a disk).

    ``reserved`` maps names to (dtype, length, CRC-32) of datasets whose values are written
    later, by whoever holds them (:mod:`.h5slices`): they are stored contiguous, allocated
    at once and never filled, and they come first in the file, right after the kind's
    attributes: their byte offsets (returned) follow from their dtypes and lengths alone,
    whatever ``datasets`` and ``attrs`` hold (a CRC-32 is a fixed-size attribute).
    """
    from .. import __version__
    offsets = {}
    with h5py.File(fileobj, "w") as fh:
        fh.attrs["hpcrec_kind"] = kind
        fh.attrs["hpcrec_format_version"] = FORMAT_VERSION
        fh.attrs["created_by"] = f"hpcrec {__version__}"
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
        dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
        for name, (dtype, length, crc) in (reserved or {}).items():
            ds = fh.create_dataset(name, shape=(length,), dtype=dtype, dcpl=dcpl)
            ds.attrs[CHECKSUM] = np.uint32(crc)
            offsets[name] = ds.id.get_offset() if length else None
        for key, value in (attrs or {}).items():
            fh.attrs[key] = value
        for name, data in datasets.items():
            if data is None:
                continue
            data = np.asarray(data)
            if data.dtype == object or data.dtype.kind == "U":
                data = np.array([str(x) for x in data.reshape(-1)], dtype=string_dtype()).reshape(data.shape)
            ds = fh.create_dataset(name, data=data)
            ds.attrs[CHECKSUM] = np.uint32(checksum(data))
    return offsets
