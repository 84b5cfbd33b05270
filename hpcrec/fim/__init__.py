"""Frequent itemsets and association rules, mlxtend-compatible, distributed over MPI.

``apriori`` (Count Distribution), ``fpgrowth``, ``fpmax`` and ``fpclose`` (PFP-style)
return the DataFrames of ``mlxtend.frequent_patterns`` 0.25 (``fpclose``: closed itemsets,
in the same frame) with exact supports, identical for any number of ranks;
``association_rules`` scores rules with mlxtend's metrics. See ``docs/fim.md``.

Names load on first use (PEP 562): mining through :func:`mine_itemsets` (the CLI, the
benchmarks) does not import pandas, and ``hpcrec.fim.result`` does not import Numba.
"""
from __future__ import annotations

import importlib

_HOMES = {"apriori": "api", "fpclose": "api", "fpgrowth": "api", "fpmax": "api",
          "association_rules": "rules", "mine_itemsets": "engine", "Itemsets": "result"}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
