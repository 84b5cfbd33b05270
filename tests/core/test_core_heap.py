"""hpcrec.core.heap: glibc is asked once per process to keep freed memory, unless the user
tuned glibc's malloc (any ``MALLOC_*`` variable)."""
from __future__ import annotations

import pytest

from hpcrec.core import heap


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc()
    monkeypatch.setattr(heap, "_glibc", lambda: fake)
    monkeypatch.setattr(heap, "_applied", False)
    for name in [n for n in heap.os.environ if n.startswith("MALLOC_")]:
        monkeypatch.delenv(name)
    return fake


def test_keeps_freed_memory_once(libc):
    assert heap.keep_freed_memory()
    assert libc.calls == [(heap.M_MMAP_THRESHOLD, heap.MMAP_BELOW),
                          (heap.M_TRIM_THRESHOLD, heap.TRIM_ABOVE)]
    assert not heap.keep_freed_memory() and len(libc.calls) == 2


def test_the_users_malloc_settings_win(libc, monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert not heap.keep_freed_memory() and libc.calls == []


def test_no_glibc_no_change(monkeypatch):
    monkeypatch.setattr(heap, "_glibc", lambda: None)
    monkeypatch.setattr(heap, "_applied", False)
    assert not heap.keep_freed_memory()


def test_glibc_takes_the_settings():
    """The real C library, where it is glibc, accepts both values (mallopt returns 1)."""
    libc = heap._glibc()
    if libc is None:
        pytest.skip("not glibc")
    assert libc.mallopt(heap.M_MMAP_THRESHOLD, heap.MMAP_BELOW) == 1
    assert libc.mallopt(heap.M_TRIM_THRESHOLD, heap.TRIM_ABOVE) == 1
