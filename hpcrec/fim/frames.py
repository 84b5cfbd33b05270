"""mlxtend-shaped DataFrames from :class:`~hpcrec.fim.result.Itemsets` and back."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .result import Itemsets


def _python(values: np.ndarray) -> list:
    """Labels as plain Python objects (ints stay ints), so frozensets hash like mlxtend's."""
    return values.tolist()


def itemsets_frame(res: Itemsets, use_colnames: bool = False) -> pd.DataFrame:
    """``support`` and ``itemsets`` (frozensets of column indices, or of labels)."""
    names = _python(np.asarray(res.labels)) if use_colnames else None
    flat = res.items.tolist()
    ptr = res.ptr.tolist()
    if names is None:
        sets = [frozenset(flat[ptr[x]:ptr[x + 1]]) for x in range(len(res))]
    else:
        sets = [frozenset(names[i] for i in flat[ptr[x]:ptr[x + 1]]) for x in range(len(res))]
    frame = pd.DataFrame({"support": res.support,
                          "itemsets": pd.Series(sets, dtype="object")})
    frame.attrs.update({"n_transactions": res.n_transactions, "partial": res.partial,
                        "levels": res.levels})
    return frame


def ordered(itemset) -> tuple:
    """The items of a set in a deterministic order (sorted; mixed types by type name, then text)."""
    try:
        return tuple(sorted(itemset))
    except TypeError:
        return tuple(sorted(itemset, key=lambda x: (type(x).__name__, str(x))))
