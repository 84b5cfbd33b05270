"""hpcrec.fim.prepare: the global item counts, taken without a copy of the rows' items."""
from __future__ import annotations

import tracemalloc

import numpy as np

from hpcrec.core.comm import serial
from hpcrec.core.context import RunContext
from hpcrec.fim.control import Control
from hpcrec.fim.prepare import prepare
from hpcrec.io.transactions import Transactions
from hpcrec.kernels.csr import csr


def test_item_counts_copy_no_items():
    """1 M items (int32) in 125,000 rows of 8: the counts equal np.bincount's, and preparing
    allocates little beyond its recoded rows (5 MB): np.bincount's int64 copy of the items
    would be 8 MB."""
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 500, (125_000, 8)) + np.arange(8) * 500   # ascending, distinct
    tx = Transactions(csr(np.arange(0, rows.size + 1, 8), rows.reshape(-1).astype(np.int32),
                          None, 4000), np.arange(4000))
    comm = serial()
    control = Control(RunContext.build(comm))
    prepare(tx, 0.001, comm, control)   # Numba's kernels loaded outside the measure
    tracemalloc.start()
    try:
        prep = prepare(tx, 0.001, comm, control)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    recoded = prep.rows.indptr.nbytes + prep.rows.indices.nbytes
    assert peak < recoded + (1 << 19), (peak, recoded)
    expected = np.bincount(tx.rows.indices, minlength=4000)
    assert prep.counts.tolist() == expected[prep.order].tolist()
    assert prep.counts.tolist() == sorted(prep.counts.tolist(), reverse=True)
