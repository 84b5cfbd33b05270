"""NumPy's huge-page advice: off on a guest that reports its free pages to the host
(read from a private copy of the virtio sysfs tree), as HPCREC_HUGEPAGES says otherwise."""
from __future__ import annotations

import pytest

from hpcrec.core import pages
from hpcrec.core.errors import InputError

REPORTING = "011001" + "0" * 58   # stats queue, deflate on OOM, free page reporting
NO_REPORTING = "011000" + "0" * 58


def _devices(root, *devices):
    """A virtio devices folder: one subfolder per (device id, features) pair."""
    for n, (device, features) in enumerate(devices):
        d = root / f"virtio{n}"
        d.mkdir(parents=True)
        (d / "device").write_text(device + "\n")
        (d / "features").write_text(features + "\n")
    return str(root)


@pytest.mark.parametrize("devices, reports", [
    ((("0x0005", REPORTING),), True),
    ((("0x0002", REPORTING), ("0x0005", NO_REPORTING)), False),   # a disk with bit 5: not a balloon
    ((("0x0001", NO_REPORTING), ("0x0005", REPORTING)), True),
    ((("0x0005", "01100"),), False),                                # too short to hold bit 5
    ((), False),
])
def test_free_page_reporting_is_read_from_the_balloon_features(tmp_path, devices, reports):
    assert pages.reports_free_pages(_devices(tmp_path / "virtio", *devices)) is reports


def test_missing_or_unreadable_sysfs_means_no_reporting(tmp_path):
    assert pages.reports_free_pages(str(tmp_path / "absent")) is False
    root = tmp_path / "virtio"
    (root / "virtio0").mkdir(parents=True)   # no device file
    assert pages.reports_free_pages(str(root)) is False


@pytest.mark.parametrize("env, reports, want", [
    ({}, True, False),                                      # auto on a reporting guest: off
    ({}, False, None),                                      # auto elsewhere: NumPy's own
    ({"HPCREC_HUGEPAGES": "auto", "NUMPY_MADVISE_HUGEPAGE": "1"}, True, None),  # the user's NumPy choice
    ({"HPCREC_HUGEPAGES": "ON"}, True, True),
    ({"HPCREC_HUGEPAGES": "off"}, False, False),
])
def test_the_choice_follows_the_variable_then_the_machine(tmp_path, env, reports, want):
    devices = _devices(tmp_path / "virtio", ("0x0005", REPORTING if reports else NO_REPORTING))
    assert pages.wanted(env, devices) is want


def test_a_bad_value_is_an_input_error():
    with pytest.raises(InputError, match="HPCREC_HUGEPAGES='sometimes'"):
        pages.wanted({"HPCREC_HUGEPAGES": "sometimes"})


@pytest.mark.parametrize("value", ["on", "off"])
def test_apply_sets_numpys_switch_once_per_process(monkeypatch, value):
    switch = pages._setter()
    if switch is None:
        pytest.skip("this NumPy has no huge-page switch")
    before = switch(True)   # what NumPy had; restored below
    pages.apply.cache_clear()
    monkeypatch.setenv("HPCREC_HUGEPAGES", value)
    try:
        assert pages.apply() is (value == "on")
        assert switch(value == "on") is (value == "on")   # the switch held the value set
        monkeypatch.setenv("HPCREC_HUGEPAGES", "on" if value == "off" else "off")
        assert pages.apply() is (value == "on")            # read once: the first choice stays
    finally:
        pages.apply.cache_clear()
        switch(before)


def test_the_cli_rejects_a_bad_value_in_one_line(run_cli, tmp_path):
    rc, _, err = run_cli("generate", "transactions", "--rows", "10", "-o", str(tmp_path / "t.h5"),
                         env={"HPCREC_HUGEPAGES": "maybe"})
    assert rc == 2
    assert "HPCREC_HUGEPAGES='maybe'" in err and "Traceback" not in err


def test_every_run_context_applies_it(monkeypatch):
    from hpcrec.core.comm import serial
    from hpcrec.core.context import RunContext
    calls = []
    monkeypatch.setattr(pages, "apply", lambda: calls.append(1))
    RunContext.build(serial())
    assert calls == [1]
