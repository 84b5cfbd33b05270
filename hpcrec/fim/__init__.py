"""Frequent itemsets and association rules, mlxtend-compatible, distributed over MPI.

``apriori`` (Count Distribution), ``fpgrowth``, ``fpmax`` and ``fpclose`` (PFP-style)
return the DataFrames of ``mlxtend.frequent_patterns`` 0.25 (``fpclose``: closed itemsets,
in the same frame) with exact supports, identical for any number of ranks;
``association_rules`` scores rules with mlxtend's metrics. See ``docs/fim.md``.
"""
from .api import apriori, fpclose, fpgrowth, fpmax
from .engine import mine_itemsets
from .result import Itemsets
from .rules import association_rules

__all__ = ["Itemsets", "apriori", "association_rules", "fpclose", "fpgrowth", "fpmax",
           "mine_itemsets"]
