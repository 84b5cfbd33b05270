"""Input and output: text formats and HDF5 to in-memory CSR/COO, partitioned reads, atomic writes."""
from .atomic import atomic_open, atomic_path
from .formats import (describe, detect_format, kind_of, load_any, load_ratings,
                      load_transactions, write_h5)
from .ratings import Ratings
from .transactions import Transactions

__all__ = ["Ratings", "Transactions", "atomic_open", "atomic_path", "describe", "detect_format",
           "kind_of", "load_any", "load_ratings", "load_transactions", "write_h5"]
