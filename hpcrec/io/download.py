"""Download MovieLens from GroupLens, verified by SHA-256, into a local folder.

MovieLens may not be redistributed, so hpcrec never ships it: it fetches the archive,
checks it (the archive's hash where known, and each extracted file's hash for ml-100k),
extracts it atomically (into a temporary folder, then renamed) and returns the folder.
Offline, it fails with one line that names the URL and suggests ``--data-dir``.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

BASE_URL = "https://files.grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class Dataset:
    archive: str                      # file name under BASE_URL
    folder: str                       # top folder inside the zip
    ratings: str                      # ratings file inside the folder
    sha256: str | None = None         # of the archive, where known
    files: dict = field(default_factory=dict)  # extracted file -> sha256


# Per-file hashes of ml-100k: the GroupLens release as cross-checked in the shared data README.
_ML100K_FILES = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
    "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
    "ua.base": "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2",
    "ua.test": "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42",
}

DATASETS = {
    "movielens-100k": Dataset("ml-100k.zip", "ml-100k", "u.data", files=_ML100K_FILES),
    "ml-latest-small": Dataset("ml-latest-small.zip", "ml-latest-small", "ratings.csv"),
    "ml-1m": Dataset("ml-1m.zip", "ml-1m", "ratings.dat"),
    "ml-25m": Dataset("ml-25m.zip", "ml-25m", "ratings.csv"),
}
ALIASES = {"ml-100k": "movielens-100k", "movielens-1m": "ml-1m", "movielens-25m": "ml-25m"}


def sha256_of(path_or_bytes) -> str:
    h = hashlib.sha256()
    if isinstance(path_or_bytes, (bytes, bytearray)):
        h.update(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def dataset_info(name: str) -> Dataset:
    key = ALIASES.get(name, name)
    if key not in DATASETS:
        raise InputError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[key]


def verify_folder(folder, name: str = "movielens-100k") -> Path:
    """Check the known per-file hashes of an extracted data set; return its folder."""
    ds = dataset_info(name)
    folder = Path(folder)
    for fname, digest in ds.files.items():
        f = folder / fname
        if not f.exists():
            raise InputError(f"{folder}: missing {fname} of {name}")
        if sha256_of(f) != digest:
            raise InputError(f"{f}: SHA-256 mismatch: not the GroupLens release of {name}")
    return folder


def download(name: str, directory, timeout: float = 60.0) -> Path:
    """Fetch, verify and extract data set ``name`` under ``directory``; return its folder.

    Already present and valid: nothing is fetched.
    """
    ds = dataset_info(name)
    directory = Path(directory)
    target = directory / ds.folder
    if (target / ds.ratings).exists():
        return verify_folder(target, name) if ds.files else target
    directory.mkdir(parents=True, exist_ok=True)
    url = BASE_URL + ds.archive
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            blob = resp.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"cannot download {url} ({reason}); offline? pass a local copy "
                         "with --data-dir") from None
    if ds.sha256 and sha256_of(blob) != ds.sha256:
        raise InputError(f"{url}: SHA-256 mismatch, download refused")
    tmp = Path(tempfile.mkdtemp(prefix=f".{ds.folder}-", dir=directory))
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            for member in zf.namelist():  # no absolute paths or '..' escapes
                if member.startswith("/") or ".." in Path(member).parts:
                    raise InputError(f"{url}: unsafe path {member!r} in archive")
            zf.extractall(tmp)
        if ds.files:
            verify_folder(tmp / ds.folder, name)
        os.replace(tmp / ds.folder, target)
    except zipfile.BadZipFile:
        raise InputError(f"{url}: not a zip archive") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
