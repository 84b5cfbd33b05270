"""Association rules with mlxtend 0.25's signature, columns, formulas and thresholds.

Every split of every frequent itemset into antecedent -> consequent is scored with the
metric; rules scoring ``>= min_threshold`` are kept. The metric formulas are written as
mlxtend evaluates them (same operation order), so values agree to the last bit. Under MPI
each rank scores a contiguous share of the itemsets and the shares are gathered in rank
order, so the rules and their order do not depend on the number of ranks.
"""
from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from ..core.comm import Comm, resolve
from ..core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

METRICS = ["antecedent support", "consequent support", "support", "confidence", "lift",
           "representativity", "leverage", "conviction", "zhangs_metric", "jaccard",
           "certainty", "kulczynski"]


class MissingSupportError(InputError, KeyError):
    """An antecedent or consequent of a rule is not among the given itemsets."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def metric_values(name: str, sAC, sA, sC, n) -> np.ndarray:
    """One metric for arrays of rule supports (mlxtend's formulas without null values)."""
    def confidence():
        return (sAC * n) / (sA * n)
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "antecedent support":
            return sA
        if name == "consequent support":
            return sC
        if name == "support":
            return sAC
        if name == "confidence":
            return confidence()
        if name == "lift":
            return confidence() / sC
        if name == "representativity":
            return np.full(len(sAC), n / n if n else np.nan)
        if name == "leverage":
            return sAC - sA * sC
        if name == "conviction":
            conf = confidence()
            out = np.full(len(conf), np.inf)
            low = conf < 1.0
            out[low] = (1.0 - sC[low]) / (1.0 - conf[low])
            return out
        if name == "zhangs_metric":
            denominator = np.maximum(sAC * (1 - sA), sA * (sC - sAC))
            return np.where(denominator == 0, 0, (sAC - sA * sC) / denominator)
        if name == "jaccard":
            return sAC / (sA + sC - sAC)
        if name == "certainty":
            denominator = 1 - sC
            return np.where(denominator == 0, 0, (confidence() - sC) / denominator)
        if name == "kulczynski":
            return ((sAC * n) / (sA * n) + (sAC * n) / (sC * n)) / 2
    raise InputError(f"Metric must be 'confidence' or 'lift', got '{name}'")


def _splits(itemsets: list[tuple], supports, lookup, support_only: bool):
    """All (antecedent, consequent, sAC, sA, sC) of the given itemsets, in mlxtend's order."""
    ants, cons, s_ac, s_a, s_c = [], [], [], [], []
    for items, s in zip(itemsets, supports):
        whole = frozenset(items)
        for size in range(len(items) - 1, 0, -1):
            for combo in combinations(items, size):
                a = frozenset(combo)
                c = whole - a
                if support_only:
                    sa = sc = np.nan
                else:
                    try:
                        sa, sc = lookup[a], lookup[c]
                    except KeyError as exc:
                        raise MissingSupportError(
                            f"{exc}You are likely getting this error because the DataFrame is "
                            "missing  antecedent and/or consequent  information. You can try "
                            "using the  `support_only=True` option") from None
                ants.append(combo)
                cons.append(tuple(x for x in items if x not in a))
                s_ac.append(s)
                s_a.append(sa)
                s_c.append(sc)
    return ants, cons, np.array(s_ac, float), np.array(s_a, float), np.array(s_c, float)


def rules_table(itemsets: list[tuple], supports: np.ndarray, num_itemsets: int = 1,
                metric: str = "confidence", min_threshold: float = 0.8,
                support_only: bool = False, return_metrics=METRICS,
                comm: Comm | None = None) -> tuple[list, list, dict]:
    """Rules of ordered itemsets: (antecedent tuples, consequent tuples, {metric: array}).

    Items keep the order given, so the output order is fixed by the input order.
    """
    comm = resolve(comm)
    if support_only:
        metric = "support"
    elif metric not in METRICS:
        raise InputError(f"Metric must be 'confidence' or 'lift', got '{metric}'")
    unknown = [m for m in return_metrics if m not in METRICS]
    if unknown:
        raise InputError(f"unknown metric(s) in return_metrics: {unknown}")
    supports = np.asarray(supports, dtype=float)
    lookup = {frozenset(s): v for s, v in zip(itemsets, supports.tolist())}
    lo, hi = comm.chunk(len(itemsets))
    with comm.collective_errors():
        ants, cons, sAC, sA, sC = _splits(itemsets[lo:hi], supports[lo:hi], lookup, support_only)
        keep = metric_values(metric, sAC, sA, sC, num_itemsets) >= min_threshold
        idx = np.flatnonzero(keep)
        part = ([ants[i] for i in idx], [cons[i] for i in idx], sAC[idx], sA[idx], sC[idx])
    parts = comm.allgather_obj(part) if comm.size > 1 else [part]
    ants = [a for p in parts for a in p[0]]
    cons = [c for p in parts for c in p[1]]
    sAC, sA, sC = (np.concatenate([p[k] for p in parts]) for k in (2, 3, 4))
    if support_only:
        values = {m: (sAC if m == "support" else np.full(len(sAC), np.nan)) for m in return_metrics}
    else:
        values = {m: metric_values(m, sAC, sA, sC, num_itemsets) for m in return_metrics}
    return ants, cons, values


def association_rules(df: pd.DataFrame, num_itemsets: int | None = 1, df_orig=None,
                      null_values=False, metric="confidence", min_threshold=0.8,
                      support_only=False, return_metrics: list = METRICS, *,
                      comm: Comm | None = None) -> pd.DataFrame:
    """Rules from a frequent-itemset DataFrame (``support``, ``itemsets``), as mlxtend.

    Columns: ``antecedents``, ``consequents`` (frozensets), then ``return_metrics``.
    """
    import pandas as pd  # here, not above: `hpcrec rules` (rules_table) runs without pandas

    from .frames import ordered
    if null_values:
        raise InputError("null_values=True is not supported by hpcrec: encode missing items as False")
    if not isinstance(df, pd.DataFrame):
        raise InputError("expected a DataFrame with the columns 'support' and 'itemsets'")
    if not df.shape[0]:
        raise InputError("The input DataFrame `df` containing the frequent itemsets is empty.")
    if not all(col in df.columns for col in ["support", "itemsets"]):
        raise InputError("Dataframe needs to contain the columns 'support' and 'itemsets'")
    itemsets = [ordered(int(i) if isinstance(i, np.integer) else i for i in s)
                for s in df["itemsets"]]
    ants, cons, values = rules_table(itemsets, df["support"].to_numpy(dtype=float),
                                     num_itemsets if num_itemsets is not None else 1, metric,
                                     min_threshold, support_only, list(return_metrics), comm)
    if not ants:
        return pd.DataFrame(columns=["antecedents", "consequents"] + list(return_metrics))
    frame = pd.DataFrame({"antecedents": pd.Series([frozenset(a) for a in ants], dtype="object"),
                          "consequents": pd.Series([frozenset(c) for c in cons], dtype="object")})
    for name, column in values.items():
        frame[name] = column
    return frame
