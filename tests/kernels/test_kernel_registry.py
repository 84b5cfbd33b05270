"""The kernel seam: one lookup per (family, device), every implementation honours its
family's protocol, and kernels/ imports nothing from hpcrec (checked on the source).

GPU implementations run where CI can run them: Numba-CUDA ones on the simulator
(``NUMBA_ENABLE_CUDASIM=1``, set by scripts/test.sh), CuPy ones with NumPy as the array
module (``xp``, for ALS inside its ``GpuSolve`` options); the registered objects are also checked by signature.
"""
from __future__ import annotations

import ast
import inspect
import itertools
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from hpcrec import kernels
from hpcrec.core.errors import DeviceError
from hpcrec.kernels import protocols as proto
from hpcrec.kernels.csr import Csr, csr
from hpcrec.kernels.mf_als_cuda import GpuSolve

KERNELS_DIR = Path(kernels.__file__).parent
GPU_FAMILIES = {"support", "sgd", "als", "knn"}   # those with a GPU implementation today


def simulated_cuda() -> bool:
    try:
        from numba import config, cuda
        return bool(config.ENABLE_CUDASIM) or cuda.is_available()
    except Exception:  # noqa: BLE001 - no numba-cuda
        return False


needs_cuda = pytest.mark.skipif(not simulated_cuda(), reason="no CUDA device and NUMBA_ENABLE_CUDASIM unset")


def tiny_rows(seed=0, n=60, m=6):
    rng = np.random.default_rng(seed)
    X = rng.random((n, m)) < rng.uniform(0.3, 0.8, size=m)
    ptr = np.concatenate(([0], np.cumsum(X.sum(1)))).astype(np.int64)
    return X, csr(ptr, np.nonzero(X)[1].astype(np.int32), None, m)


# -- the lookup -----------------------------------------------------------------------------------

@pytest.mark.parametrize("family", kernels.FAMILIES)
@pytest.mark.parametrize("device", kernels.DEVICES)
def test_every_family_and_device_is_registered_or_said_missing(family, device):
    if device == "cpu" or family in GPU_FAMILIES:
        if device == "gpu" and family == "support" and not simulated_cuda():
            pytest.skip("the GPU support counter imports Numba-CUDA")
        assert kernels.has(family, device) and kernels.get(family, device) is not None
    else:
        assert not kernels.has(family, device)
        with pytest.raises(kernels.KernelMissing, match=f"no gpu kernel for {family}"):
            kernels.get(family, device)
        with pytest.raises(DeviceError, match=f"no gpu kernel for {family}"):
            from hpcrec.core.device import kernel
            kernel(family, device)


def test_table_holds_exactly_the_families_and_devices():
    assert {f for f, _ in kernels.TABLE} == set(kernels.FAMILIES)
    assert {d for _, d in kernels.TABLE} == set(kernels.DEVICES)
    assert {f for f, d in kernels.TABLE if d == "gpu"} == GPU_FAMILIES


@pytest.mark.parametrize("family,device,match", [
    ("sorting", "cpu", "unknown kernel family"), ("sgd", "auto", "resolved device"),
    ("sgd", "tpu", "resolved device")])
def test_unknown_names_are_rejected(family, device, match):
    with pytest.raises(ValueError, match=match):
        kernels.get(family, device)


# -- protocols honoured -----------------------------------------------------------------------

def same_parameters(impl, protocol_call) -> None:
    """``impl`` takes the protocol's parameters, in order (extra ones only with defaults)."""
    want = [p for p in inspect.signature(protocol_call).parameters if p != "self"]
    params = list(inspect.signature(impl).parameters.values())
    assert [p.name for p in params[:len(want)]] == want, (impl, want)
    assert all(p.default is not p.empty for p in params[len(want):]), impl


def support_devices():
    return ["cpu"] + (["gpu"] if simulated_cuda() else [])


@pytest.mark.parametrize("device", support_devices())
@pytest.mark.parametrize("dense", [False, True])
def test_support_counters_count_exactly(device, dense, monkeypatch):
    if device == "gpu":
        import hpcrec.kernels.support_cuda as sc
        monkeypatch.setattr(sc, "THREADS", 4)   # tiny blocks: the simulator runs each thread
    X, rows = tiny_rows(1)
    m = X.shape[1]
    checked = []
    counter = kernels.get("support", device)(rows, m, dense, lambda n, what: checked.append(what))
    assert isinstance(counter, proto.SupportCounter)
    if dense or device == "gpu":
        assert any("bitsets" in w for w in checked)   # the memory budget is asked first
    pairs = np.array(list(itertools.combinations(range(m), 2)), np.int32)
    out = np.zeros(len(pairs), np.int64)
    counter.count_pairs(out)
    want = [int(X[:, list(p)].all(1).sum()) for p in pairs]
    assert out.tolist() == want
    counter.keep_pairs(pairs, out)
    left = np.repeat(np.arange(len(pairs)), m)
    last = np.tile(np.arange(m, dtype=np.int32), len(pairs))
    valid = last > pairs[left, 1]
    left, last = left[valid], last[valid]
    counts = counter.count(pairs, left, last)
    assert counts.dtype == np.int64
    assert counts.tolist() == [int(X[:, [*pairs[a], b]].all(1).sum()) for a, b in zip(left, last)]
    counter.keep(counts >= 10)
    counter.next_level()


def test_projected_miner_finds_every_frequent_itemset():
    from hpcrec.kernels import order
    from hpcrec.kernels import projected as P
    X, rows = tiny_rows(2, n=50, m=5)
    miner = kernels.get("projected", "cpu")
    assert isinstance(miner, proto.ProjectedMiner)
    store = miner.empty_store(5)
    assert isinstance(store, proto.Store)
    # recoded rows: items sorted ascending in each row, as the miner expects
    status, store = miner.mine_range(rows, np.ones(5, np.bool_), 0, 5,
                                     proto.MineOptions(5, 8, 0, 10**6, P.FREQUENT), store)
    assert status == P.OK
    n = int(store.tops[0])   # FREQUENT stores canonical records (identity recode)
    items, ptr, counts = np.empty(int(store.tops[1]), np.int32), np.empty(n + 1, np.int64), \
        np.empty(n, np.int64)
    order.decode(store.records[:n], miner.record_layout(store), items, ptr, counts)
    got = {frozenset(items[ptr[x]:ptr[x + 1]].tolist()): int(counts[x]) for x in range(n)}
    want = {frozenset(c): int(X[:, list(c)].all(1).sum())
            for k in range(1, 6) for c in itertools.combinations(range(5), k)}
    assert got == {s: c for s, c in want.items() if c >= 8}


def sgd_problem():
    rng = np.random.default_rng(3)
    u = np.repeat(np.arange(6), 5).astype(np.int32)
    i = rng.integers(0, 5, 30).astype(np.int32)
    r = rng.integers(1, 6, 30).astype(np.float32)
    factors = proto.Factors(*(a.astype(np.float32) for a in (
        rng.normal(0, .1, (6, 3)), rng.normal(0, .1, (5, 3)), np.zeros(6), np.zeros(5))))
    return proto.BlockedRatings(u, i, r, np.array([0, 30])), factors


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_sgd_epochs_update_in_place_and_return_the_sse(device):
    impl = kernels.get("sgd", device)
    same_parameters(impl, proto.SgdEpoch.__call__)
    if device == "gpu" and not simulated_cuda():
        pytest.skip("the GPU SGD epoch needs Numba-CUDA or its simulator")
    ratings, factors = sgd_problem()
    before = [a.copy() for a in factors]
    rates = proto.SgdRates(3.0, 0.05, 0.05, 0.02, 0.01)
    sse = impl(ratings, np.zeros((1, 1), np.int64), factors, rates)
    assert isinstance(sse, float) and sse > 0
    assert all(not np.array_equal(a, b) for a, b in zip(factors, before))   # updated in place
    ref, ref_factors = sgd_problem()
    cpu_sse = kernels.get("sgd", "cpu")(ref, np.zeros((1, 1), np.int64), ref_factors, rates)
    assert sse == pytest.approx(cpu_sse, rel=0.05)   # the GPU visits in its own order


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_als_half_steps_solve_in_place(device):
    impl = kernels.get("als", device)
    same_parameters(impl, proto.AlsHalfStep.__call__)
    if device == "gpu":
        impl = partial(impl, options=GpuSolve(np))   # the CuPy code, run with NumPy
    rng = np.random.default_rng(4)
    mask = rng.random((5, 7)) < 0.5
    rows_, cols = np.nonzero(mask)
    ptr = np.concatenate(([0], np.cumsum(mask.sum(1)))).astype(np.int64)
    rows = csr(ptr, cols.astype(np.int32), rng.integers(1, 6, len(cols)).astype(np.float64), 7)
    X, xb = rng.normal(0, 1, (7, 3)), rng.normal(0, .3, 7)
    Y, yb = np.zeros((5, 3)), np.zeros(5)
    problem = proto.RowProblem(np.array([0.0, 1.0, 0.0, -3.0, 1.0]), np.zeros((3, 3)), True,
                               0.3, 0.1, True, 0)
    assert impl(rows, X, xb, problem, Y, yb) is None
    ref_Y, ref_yb = np.zeros((5, 3)), np.zeros(5)
    kernels.get("als", "cpu")(rows, X, xb, problem, ref_Y, ref_yb)
    assert np.abs(Y).sum() > 0
    np.testing.assert_allclose(Y, ref_Y, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(yb, ref_yb, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_similarity_rows_give_top_lists_on_the_host(device):
    from hpcrec.kernels.knn import COSINE
    from hpcrec.knn.similarity import from_coo
    rng = np.random.default_rng(5)
    mask = rng.random((8, 9)) < 0.5
    xs, ys = np.nonzero(mask)
    vals = rng.integers(1, 6, len(xs)).astype(np.float64)
    x, y = from_coo(xs, ys, vals, 8, 9), from_coo(ys, xs, vals, 9, 8)
    assert isinstance(x, Csr) and x.shape == (8, 9)
    impl = kernels.get("knn", device)
    if device == "gpu":
        impl = partial(impl, xp=np)   # the CuPy code, run with NumPy/SciPy
    rows = impl(x, y, COSINE)
    assert isinstance(rows, proto.SimilarityRows) and rows.block_rows(3) >= 1
    idx, sim, count = rows.top(0, 8, 1, 100.0, 3)
    assert (idx.shape, sim.shape, count.shape) == ((8, 3), (8, 3), (8,))
    assert (idx.dtype, sim.dtype, count.dtype) == (np.int32, np.float64, np.int64)
    assert all(isinstance(a, np.ndarray) for a in (idx, sim, count))
    ref = kernels.get("knn", "cpu")(x, y, COSINE).top(0, 8, 1, 100.0, 3)
    for a, b in zip((idx, sim, count), ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# -- kernels/ stands alone ----------------------------------------------------------------------

def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(relative level, module) of every import statement of a source file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or ""))
    return out


@pytest.mark.parametrize("path", sorted(KERNELS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_kernels_import_nothing_from_hpcrec(path):
    for level, module in imported_modules(path):
        assert level <= 1, f"{path.name} imports from outside kernels/: {'.' * level}{module}"
        assert level == 1 or module.split(".")[0] != "hpcrec", \
            f"{path.name} imports {module}"
        if level == 1 and module:   # a sibling module of kernels/
            assert (KERNELS_DIR / f"{module.split('.')[0]}.py").exists(), module


def test_the_import_analysis_sees_outside_imports(tmp_path):
    """The check above can fail: it finds both spellings of an import from hpcrec."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..backend import to_host\nimport hpcrec.comm\n")
    assert imported_modules(bad) == [(2, "backend"), (0, "hpcrec.comm")]


MAX_PARAMETERS = 8   # more travel as a pack (kernels/protocols.py) or a Csr


def wide_functions(path: Path) -> list[str]:
    """``name (n)`` of every function (nested ones and lambdas included) of a source file
    with more than MAX_PARAMETERS, ``*args`` and ``**kwargs`` counted as one each."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            n = (len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg)
                 + bool(a.kwarg))
            if n > MAX_PARAMETERS:
                out.append(f"{getattr(node, 'name', 'lambda')} ({n})")
    return out


@pytest.mark.parametrize("path", sorted(KERNELS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_kernel_signatures_take_packs_not_long_lists(path):
    assert wide_functions(path) == []


def test_the_signature_analysis_counts_every_kind_of_parameter(tmp_path):
    src = tmp_path / "wide.py"
    src.write_text("def f(a, b, /, c, d, e, *, f, g, h, i):\n    pass\n"
                   "def g(a, b, c, d, e, f, g, h):\n    pass\n"
                   "def h(a, b, c, d, e, f, g, *args, **kw):\n    return lambda *a, **k: 0\n")
    assert wide_functions(src) == ["f (9)", "h (9)"]
