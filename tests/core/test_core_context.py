"""The run context: built once per API call or command, the environment read once, device
names checked in one place with one message, and algorithms free of environment
variables, signal handlers and device requests."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import hpcrec
import hpcrec.kernels
from hpcrec.core import context as context_mod
from hpcrec.core import device, memory
from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.core.errors import DeviceError, InputError, UnknownDevice
from hpcrec.fim import apriori, mine_itemsets
from hpcrec.knn import ItemKNN
from hpcrec.mf import ALS, BiasedSGD

ROWS = [[0, 1, 2], [0, 1], [1, 2], [0, 2], [0, 1, 2]] * 4
RATINGS = (np.repeat(np.arange(12), 5), np.tile(np.arange(5), 12) * 2 % 9,
           (np.arange(60) % 5 + 1).astype(float))
ALGORITHM_PACKAGES = ("fim", "mf", "knn", "course", "io")
LIBRARY_MODULES = ("metrics.py", "model_selection.py", "plots.py", "progress.py", "recommender.py")


@pytest.fixture
def builds(monkeypatch):
    """Count RunContext.build calls and reads of the memory budget from the environment."""
    calls = {"build": 0, "budget": 0}
    build, budget = RunContext.build.__func__, memory.budget_bytes

    def counting_build(cls, *args, **kwargs):
        calls["build"] += 1
        return build(cls, *args, **kwargs)

    def counting_budget(*args, **kwargs):
        calls["budget"] += 1
        return budget(*args, **kwargs)

    monkeypatch.setattr(RunContext, "build", classmethod(counting_build))
    monkeypatch.setattr(memory, "budget_bytes", counting_budget)
    return calls


@pytest.mark.parametrize("call", [
    lambda: apriori(ROWS, 0.3, comm=serial()),
    lambda: mine_itemsets(ROWS, 0.3, "fpgrowth", comm=serial()),
    lambda: BiasedSGD(factors=2, epochs=2).fit(RATINGS, serial()),
    lambda: ALS(factors=2, epochs=2).fit(RATINGS, serial()),
    lambda: ItemKNN(k=2).fit(RATINGS, serial()),
], ids=["apriori", "mine_itemsets", "sgd", "als", "knn"])
def test_one_context_and_one_budget_read_per_call(builds, call):
    call()
    assert builds == {"build": 1, "budget": 1}


def test_a_given_context_is_used_not_rebuilt(builds):
    ctx = RunContext.build(serial(), time_limit=None)
    res = mine_itemsets(ROWS, 0.3, "apriori", context=ctx)
    model = BiasedSGD(factors=2, epochs=2).fit(RATINGS, context=ctx)
    assert builds == {"build": 1, "budget": 1}
    assert len(res) > 0 and "count" in ctx.timer.phases and "epochs" in ctx.timer.phases
    assert model.fit_stats["seconds"] >= model.fit_stats["epoch_seconds"] > 0


def test_budget_comes_from_the_context(monkeypatch):
    """Training checks its allocations against the context's budget, read when it was built."""
    monkeypatch.setenv("HPCREC_MEMORY_LIMIT", "1K")
    ctx = RunContext.build(serial())
    monkeypatch.delenv("HPCREC_MEMORY_LIMIT")
    with pytest.raises(memory.MemoryBudgetError, match="1.0 KiB"):
        BiasedSGD(factors=2, epochs=1).fit(RATINGS, context=ctx)
    BiasedSGD(factors=2, epochs=1).fit(RATINGS, serial())   # a new context: the new budget


def test_context_resolves_the_device_and_shares_cores(monkeypatch):
    seen = []
    monkeypatch.setattr(context_mod, "share_cores", lambda comm: seen.append(comm) or 1)
    ctx = RunContext.build(serial(), "cpu", progress=True)
    assert ctx.device == "cpu" and ctx.progress and len(seen) == 1
    assert not RunContext.build(serial(), "cpu").progress


def _unknown(call):
    with pytest.raises(UnknownDevice) as info:
        call()
    return str(info.value)


def test_one_message_for_an_unknown_device_everywhere():
    want = "unknown device 'tpu': choose one of cpu, gpu, auto"
    messages = {_unknown(lambda: device.check_device("tpu")),
                _unknown(lambda: device.resolve_device("tpu", serial())),
                _unknown(lambda: RunContext.build(serial(), "tpu")),
                _unknown(lambda: apriori(ROWS, 0.3, comm=serial(), device="tpu")),
                _unknown(lambda: BiasedSGD(factors=2, epochs=1, device="tpu").fit(RATINGS, serial())),
                _unknown(lambda: ItemKNN(device="tpu"))}
    assert messages == {want}
    assert issubclass(UnknownDevice, InputError) and issubclass(UnknownDevice, DeviceError)


def _algorithm_sources():
    root = Path(hpcrec.__file__).parent
    for package in ALGORITHM_PACKAGES:
        yield from sorted((root / package).rglob("*.py"))
    yield from (root / name for name in LIBRARY_MODULES)
    yield from sorted(Path(hpcrec.kernels.__file__).parent.glob("*.py"))


def test_algorithms_read_no_environment_install_no_handlers_parse_no_device_requests():
    """A static check of fim/, mf/, knn/, course/, io/, kernels/ and the library modules
    beside them (metrics, progress, ...): no os.environ / os.getenv, no
    signal.signal, no resolve_device, and no 'auto' (a device request, only the context
    resolves it). Comparing a resolved device with 'cpu' or 'gpu' is allowed."""
    found = []
    for path in _algorithm_sources():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            bad = None
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                pair = (node.value.id, node.attr)
                if pair in {("os", "environ"), ("os", "getenv"), ("signal", "signal")}:
                    bad = ".".join(pair)
            elif isinstance(node, ast.Name) and node.id in ("resolve_device", "environ", "getenv"):
                bad = node.id
            elif isinstance(node, ast.Constant) and node.value == "auto":
                bad = "'auto'"
            if bad:
                found.append(f"{path.parent.name}/{path.name}:{node.lineno}: {bad}")
    assert found == []
