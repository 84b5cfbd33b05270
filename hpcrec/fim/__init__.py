"""Frequent itemsets and association rules, mlxtend-compatible, distributed over MPI.

``apriori`` (Count or, on dense data, Candidate Distribution), ``fpgrowth``, ``fpmax`` and ``fpclose`` (PFP-style)
return the DataFrames of ``mlxtend.frequent_patterns`` 0.25 (``fpclose``: closed itemsets,
in the same frame) with exact supports, identical for any number of ranks;
``association_rules`` scores rules with mlxtend's metrics. See ``docs/fim.md``.
"""
from __future__ import annotations

from ..core.lazy import lazy_names

# Loaded on first use, so that `hpcrec mine` (engine, result files) does not import pandas,
# which only the DataFrame API needs.
_HOMES = {"apriori": "api", "fpclose": "api", "fpgrowth": "api", "fpmax": "api",
          "mine_itemsets": "engine", "Itemsets": "result", "association_rules": "rules"}

__all__ = sorted(_HOMES)
__getattr__ = lazy_names(__name__, _HOMES)
