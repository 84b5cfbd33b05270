"""The mlxtend 0.25 interface: ``apriori``, ``fpgrowth``, ``fpmax`` with the same signatures,
and ``fpclose`` (closed itemsets, not in mlxtend) with ``fpmax``'s.

Inputs: a one-hot DataFrame (dense or sparse), a list of transactions, a
:class:`~hpcrec.io.Transactions` (this rank's slice) or a path the data layer reads
(``format=`` names its format; by default it is detected).
Extra keywords: ``comm`` (default: the MPI world, or one process) and ``device``
(``cpu``, ``gpu`` or ``auto``; the GPU counts supports for apriori). Every rank
returns the same DataFrame.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.comm import resolve
from ..core.errors import InputError
from ..io import load_transactions
from .engine import mine_itemsets
from .frames import itemsets_frame


def _run(df, algorithm, min_support, use_colnames, max_len, verbose, null_values, comm, device,
         format):  # noqa: A002
    if null_values:
        raise InputError("null_values=True is not supported by hpcrec: encode missing items as False")
    comm = resolve(comm)
    if isinstance(df, (str, Path)):
        with comm.collective_errors():
            df = load_transactions(df, comm, format=format)
    if isinstance(df, pd.DataFrame) and df.size == 0:
        return pd.DataFrame({"support": pd.Series(dtype=float),
                             "itemsets": pd.Series(dtype="object")})
    res = mine_itemsets(df, min_support, algorithm, max_len, comm, device, progress=bool(verbose))
    return itemsets_frame(res, use_colnames)


def apriori(df, min_support=0.5, use_colnames=False, max_len=None, verbose=0,
            low_memory=False, n_jobs=1, *, comm=None, device="cpu", format=None) -> pd.DataFrame:  # noqa: A002
    """Frequent itemsets by Apriori (Count or Candidate Distribution over the ranks).

    ``low_memory`` and ``n_jobs`` are accepted for compatibility: counting is always
    sparse, and parallelism comes from MPI ranks.
    """
    return _run(df, "apriori", min_support, use_colnames, max_len, verbose, False, comm, device, format)


def fpgrowth(df, min_support=0.5, null_values=False, use_colnames=False, max_len=None,
             verbose=0, *, comm=None, device="cpu", format=None) -> pd.DataFrame:  # noqa: A002
    """Frequent itemsets by FP-Growth-style projection (PFP over the ranks)."""
    return _run(df, "fpgrowth", min_support, use_colnames, max_len, verbose, null_values,
                comm, device, format)


def fpmax(df, min_support=0.5, null_values=False, use_colnames=False, max_len=None,
          verbose=0, *, comm=None, device="cpu", format=None) -> pd.DataFrame:  # noqa: A002
    """Maximal frequent itemsets (no frequent proper superset); with ``max_len``, those
    of at most that length."""
    return _run(df, "fpmax", min_support, use_colnames, max_len, verbose, null_values,
                comm, device, format)


def fpclose(df, min_support=0.5, null_values=False, use_colnames=False, max_len=None,
            verbose=0, *, comm=None, device="cpu", format=None) -> pd.DataFrame:  # noqa: A002
    """Closed frequent itemsets (no proper superset with the same support); with
    ``max_len``, those of at most that length. Every frequent itemset's support is that of
    its smallest closed superset."""
    return _run(df, "fpclose", min_support, use_colnames, max_len, verbose, null_values,
                comm, device, format)
