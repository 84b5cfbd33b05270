"""Download MovieLens from GroupLens, verified by checksum, into a local folder.

MovieLens may not be redistributed, so hpcrec never ships it: it fetches the archive,
checks it (the archive's SHA-256 and/or MD5 where published, and each extracted file's
SHA-256 for ml-100k), extracts it atomically (into a temporary folder, then renamed) and
returns the folder. Offline, it fails with one line that names the URL. A failed or
refused download leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError

BASE_URL = "https://files.grouplens.org/datasets/movielens/"
MAX_ARCHIVE_BYTES = 1 << 30  # ml-25m is 262 MB; anything past 1 GiB is not a MovieLens zip


@dataclass(frozen=True)
class Dataset:
    archive: str                      # file name under BASE_URL
    folder: str                       # top folder inside the zip
    ratings: str                      # ratings file inside the folder
    sha256: str | None = None         # of the archive, where known
    files: dict = field(default_factory=dict)  # extracted file -> sha256
    md5: str | None = None            # of the archive, as GroupLens publishes it (NAME.zip.md5)

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

# Archive checksums, each copied from public sources that state it (none computed here):
# - MD5 of ml-100k, ml-1m and ml-25m: GroupLens' NAME.zip.md5 files, as quoted in public code,
#   e.g. github.com/eli-osherovich/papers_with_code datasets/movielens/dl_config.py
#   (100k 0e33842e..., 1m c4d9eecf..., 25m 6b51fb27...) and several dataset download scripts.
# - SHA-256 of ml-1m (a6898adb...): pinned in several public dataset loaders, e.g. a Keras-RS
#   MovieLens example and the SecretFlow ml-1m loader, which also quote the MD5 above.
# - SHA-256 of ml-latest-small (696d65a3...): pinned in three public repositories' MovieLens
#   download code/dataset cards (100,836 ratings, 9,742 movies: the 2018 snapshot).
#   GroupLens says ml-latest-small "will change over time": a new snapshot fails this check.
# - ml-25m: no published SHA-256 was found; its MD5 is checked instead.
DATASETS = {
    "movielens-100k": Dataset("ml-100k.zip", "ml-100k", "u.data", files=_ML100K_FILES,
                              md5="0e33842e24a9c977be4e0107933c0723"),
    "ml-latest-small": Dataset(
        "ml-latest-small.zip", "ml-latest-small", "ratings.csv",
        sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"),
    "ml-1m": Dataset(
        "ml-1m.zip", "ml-1m", "ratings.dat",
        sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        md5="c4d9eecfca2ab87c1945afe126590906"),
    "ml-25m": Dataset("ml-25m.zip", "ml-25m", "ratings.csv", md5="6b51fb2759a8657d3bfcbfc42b592ada"),
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


def fetch(url: str, timeout: float = 60.0, limit: int = MAX_ARCHIVE_BYTES) -> bytes:
    """The bytes at ``url``; any network failure is one :class:`InputError` line."""
    # Imported here, not at the top: every command imports this module (for its list of
    # data sets), and these cost ~25 ms of each start.
    import http.client
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            blob = resp.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise InputError(f"cannot download {url} (HTTP {exc.code} {exc.reason})") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise InputError(f"cannot download {url} ({reason}); offline? fetch it elsewhere and "
                         "unzip it into the target folder") from None
    if len(blob) > limit:
        raise InputError(f"{url}: larger than {limit} bytes, download refused")
    return blob


def verify_archive(blob: bytes, ds: Dataset, url: str) -> None:
    """Check the archive against every checksum known for it."""
    for algo, digest in (("sha256", ds.sha256), ("md5", ds.md5)):
        if digest and hashlib.new(algo, blob).hexdigest() != digest:
            raise InputError(f"{url}: {algo.upper()} mismatch (not the published "
                             f"{ds.archive}), download refused")


def download(name: str, directory, timeout: float = 60.0) -> Path:
    """Fetch, verify and extract data set ``name`` under ``directory``; return its folder.

    Already present and valid: nothing is fetched. Nothing is created before the
    archive has been fetched and verified.
    """
    ds = dataset_info(name)
    directory = Path(directory)
    target = directory / ds.folder
    if (target / ds.ratings).exists():
        return verify_folder(target, name) if ds.files else target
    if target.exists():
        raise InputError(f"{target} exists but holds no {ds.ratings}: remove it first")
    url = BASE_URL + ds.archive
    blob = fetch(url, timeout)
    verify_archive(blob, ds, url)
    import zipfile
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except zipfile.BadZipFile:
        raise InputError(f"{url}: not a zip archive") from None
    with zf:
        for member in zf.namelist():  # no absolute paths or '..' escapes
            if member.startswith(("/", "\\")) or ".." in Path(member).parts:
                raise InputError(f"{url}: unsafe path {member!r} in archive")
        if f"{ds.folder}/{ds.ratings}" not in zf.namelist():
            raise InputError(f"{url}: archive has no {ds.folder}/{ds.ratings}")
        directory.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{ds.folder}-", dir=directory))
        try:
            zf.extractall(tmp)
            if ds.files:
                verify_folder(tmp / ds.folder, name)
            os.replace(tmp / ds.folder, target)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{url}: cannot extract ({exc})") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
