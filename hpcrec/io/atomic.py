"""Output files: checked, written under a temporary name beside the target, then renamed.

The rules (docs/safety.md):

* An output replaces only a regular file, or creates one. A device node, FIFO, socket or
  folder at the output path is refused before anything is written.
* A symbolic link is followed: its final target is written (replaced atomically in the
  target's folder) and the link itself stays, as a shell redirection would do.
* An output that is the same file as an input (same path, or same device and inode) is
  refused before any work (:func:`check_not_input`; the CLI passes every input).
* The temporary file is ``.NAME.hpcrec-tmp-HOST-PID-RANDOM`` in the target's folder. It is
  fsynced, then renamed over the target (the previous file's blocks are freed after the
  rename, in the background: :func:`_replace`); on any error, SIGINT or SIGTERM (the CLI turns it
  into :class:`~hpcrec.core.errors.Terminated`) it is removed. A temporary file left by a killed
  process (same host, that PID gone) is removed by the next write of the same target.
* A failing write (disk full, file-size limit, read-only file system, I/O error, no
  permission) is one :class:`~hpcrec.core.errors.OutputError` line; nothing appears at the target.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import stat
import threading
from pathlib import Path

from ..core.errors import InputError, OutputError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISSOCK, "a socket"))


def kind_of_mode(mode: int) -> str:
    """``a regular file``, ``a folder``, ``a FIFO``, ... for an ``st_mode``."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def resolve_output(path) -> Path:
    """The file an output at ``path`` writes (symlinks followed), after checking it may be written."""
    path = Path(path)
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        shown = path.parent if target.parent == path.parent.resolve() else target.parent
        raise InputError(f"output folder does not exist: {shown}")
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"output {path} is {kind_of_mode(st.st_mode)}; hpcrec writes only "
                         "regular files (or creates them)")
    return target


def check_not_input(output, inputs) -> None:
    """Refuse an output that is one of ``inputs`` (files, or folders of files), by path or inode."""
    out = Path(os.path.realpath(output))
    try:
        out_st = os.stat(out)
    except OSError:
        out_st = None
    for given in inputs:
        if given is None:
            continue
        src = Path(os.path.realpath(given))
        candidates = [src]
        if src.is_dir():  # a MovieLens folder: the files read from it
            candidates = [src / name for name in COMPANION_FILES]
        elif src.is_file():  # files read beside a named one: MovieLens metadata, sidecars
            candidates.append(Path(f"{src}.meta.json"))
            if _is_movielens_name(src.name):
                candidates += [src.parent / name for name in COMPANION_FILES]
        for cand in candidates:
            same = cand == out
            if not same and out_st is not None:
                with contextlib.suppress(OSError):
                    st = os.stat(cand)
                    same = (st.st_dev, st.st_ino) == (out_st.st_dev, out_st.st_ino)
            if same:
                raise InputError(f"output {output} is the input {given if cand == src else cand}: "
                                 "choose another output path")


# Files hpcrec may read beside a named input (MovieLens metadata).
COMPANION_FILES = ("u.data", "u.item", "u.user", "u.genre", "ratings.dat", "movies.dat",
                   "ratings.csv", "movies.csv")


def _is_movielens_name(name: str) -> bool:
    name = name.lower()
    return name in COMPANION_FILES or (name.startswith("u") and name.endswith((".base", ".test")))


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}.hpcrec-tmp-{socket.gethostname()}-"


def _remove_stale(target: Path) -> None:
    """Remove temporary files of ``target`` left by dead processes of this host."""
    prefix = _tmp_prefix(target)
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if not entry.name.startswith(prefix):
                continue
            pid = entry.name[len(prefix):].split("-", 1)[0]
            if not pid.isdigit() or _alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``'s target; on success it replaces the target.

    On any exception (or SIGTERM, SIGINT) the temporary file is removed and the target is
    untouched. OS errors while writing become one :class:`OutputError` line.
    """
    target = resolve_output(path)
    _remove_stale(target)
    tmp = target.with_name(f"{_tmp_prefix(target)}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        try:
            yield tmp
            _fsync(tmp)
            resolve_output(path)  # nothing swapped in meanwhile (a FIFO, a folder)
            _replace(tmp, target)
        except OutputError:
            raise
        except OSError as exc:
            raise write_error(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _replace(tmp: Path, target: Path) -> None:
    """``os.replace(tmp, target)``, with the previous target's blocks freed in the background.

    A rename over a file frees that file's blocks inside the call, which takes ~0.14 s per
    GB where the file system discards freed blocks (ext4 ``discard``, benchmarks/README.md).
    Held open across the rename, the old file is freed only when this descriptor closes,
    and a daemon thread closes it while the process goes on (or the kernel does, at exit):
    the new file is in place either way and the old one has no name left, so nothing of it
    can be seen or left behind."""
    try:
        old = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        old = None       # no previous file (or one this cannot open): a plain rename
    try:
        os.replace(tmp, target)
    finally:
        if old is not None:
            threading.Thread(target=os.close, args=(old,), name="hpcrec-free-old", daemon=True).start()


def write_error(path, exc: OSError) -> OutputError:
    """One line for an OS error met while writing ``path``."""
    text = str(exc).strip()
    reason = exc.strerror or (text.splitlines()[0] if text else type(exc).__name__)
    return OutputError(f"cannot write {path}: {reason}")


@contextlib.contextmanager
def atomic_open(path, mode: str = "w", **kwargs):
    """``open()`` for writing, atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def _write_new(tmp: Path, data) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view[:1 << 26]):]
    finally:
        os.close(fd)


def write_bytes(path, data) -> Path:
    """Write ``data`` to ``path`` atomically with plain ``os.write`` calls (errors reported cleanly)."""
    with atomic_path(path) as tmp:
        _write_new(tmp, data)
    return Path(path)
