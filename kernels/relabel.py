"""The labels a mining result uses, and its items renumbered into them, in two linear passes
(without the GIL: the renumbering runs block by block in a writer thread, the flags while
the writer threads take the other datasets).

An itemset file stores only the labels its itemsets use (ascending) and the items as
positions in that list. ``np.bincount`` then a gather did this in 4.7 s on 64 M items under
load (a cast of every item to int64 first); these loops read the items once each.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def used(items, n_labels):
    """Boolean flags: which of ``n_labels`` labels occur in ``items``."""
    flags = np.zeros(n_labels, np.bool_)
    for x in items:
        flags[x] = True
    return flags


@njit(cache=True, nogil=True)
def renumber(items, index, out):
    """``out[i] = index[items[i]]`` (int32)."""
    for i in range(len(items)):
        out[i] = index[items[i]]
