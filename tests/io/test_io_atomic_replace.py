"""The rename over a previous output (:func:`hpcrec.io.atomic._replace`): the old file is
held open across the rename and its descriptor closed by a background thread, so its
blocks are freed off the caller's path; the output stays atomic."""
from __future__ import annotations

import os

import pytest

from hpcrec.core.errors import OutputError
from hpcrec.io import atomic


class _Now:
    """A stand-in for ``threading.Thread`` that runs its target in ``start``."""

    def __init__(self, target, args=(), **kwargs):
        self.target, self.args = target, args

    def start(self):
        self.target(*self.args)


def _opened(monkeypatch) -> list[int]:
    """The descriptors that ``os.open`` returns from now on (a number again when reused)."""
    fds, real = [], os.open

    def spy(*args, **kwargs):
        fds.append(real(*args, **kwargs))
        return fds[-1]

    monkeypatch.setattr(os, "open", spy)
    return fds


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


@pytest.mark.parametrize("fails", [False, True])
def test_the_old_output_is_kept_until_the_rename_and_its_descriptor_closed(tmp_path, monkeypatch, fails):
    """Before the rename the target holds the old bytes, and the write holds the old file
    open; after it the target holds the new bytes (or, when the rename fails, still the
    old ones, with no temporary file left); either way every descriptor the write opened
    is closed (the old file's by the thread)."""
    out = tmp_path / "out.bin"
    out.write_bytes(b"old" * 1000)
    old_inode = os.stat(out).st_ino
    monkeypatch.setattr(atomic.threading, "Thread", _Now)
    real_replace = os.replace

    def replace(src, dst):
        assert out.read_bytes() == b"old" * 1000     # nothing visible before the rename
        held.update(fd for fd in fds if not _closed(fd) and os.fstat(fd).st_ino == old_inode)
        if fails:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    fds, held = _opened(monkeypatch), set()
    if fails:
        with pytest.raises(OutputError, match="cannot write"):
            atomic.write_bytes(out, b"new")
    else:
        atomic.write_bytes(out, b"new")
    monkeypatch.undo()
    assert out.read_bytes() == (b"old" * 1000 if fails else b"new")
    assert (os.stat(out).st_ino == old_inode) == fails
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    assert len(held) == 1 and all(_closed(fd) for fd in fds)


def test_a_new_output_needs_no_old_descriptor(tmp_path, monkeypatch):
    """No previous file: a plain rename, no thread started."""
    started = []
    monkeypatch.setattr(atomic.threading, "Thread", lambda *a, **k: started.append(k) or _Now(*a, **k))
    atomic.write_bytes(tmp_path / "new.bin", b"x")
    assert (tmp_path / "new.bin").read_bytes() == b"x" and started == []


def test_a_reader_of_the_old_output_keeps_reading_it(tmp_path):
    """A reader that opened the previous output reads it whole after the rename (the old
    file is freed only when the last descriptor closes, the writer's thread's included)."""
    out = tmp_path / "out.bin"
    out.write_bytes(b"a" * (1 << 20))
    with open(out, "rb") as reader:
        atomic.write_bytes(out, b"b" * 10)
        assert reader.read() == b"a" * (1 << 20)
    assert out.read_bytes() == b"b" * 10
