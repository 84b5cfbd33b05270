"""Input and output: text formats and HDF5 to in-memory CSR/COO, partitioned reads, atomic writes,
and the result files (itemsets, rules: :mod:`hpcrec.io.results`).

The names below are loaded on first use, so importing one light module of this package
(e.g. ``hpcrec.io.atomic``) does not import pandas, h5py or the parsers.
"""
from __future__ import annotations

from ..core.lazy import lazy_names

_HOMES = {"atomic_open": "atomic", "atomic_path": "atomic", "describe": "formats",
          "detect_format": "formats", "kind_of": "formats", "load_any": "formats",
          "load_ratings": "formats", "load_transactions": "formats", "write_h5": "formats",
          "convert": "formats", "Ratings": "ratings", "Shard": "shard",
          "Transactions": "transactions"}

__all__ = sorted(_HOMES)
__getattr__ = lazy_names(__name__, _HOMES)
