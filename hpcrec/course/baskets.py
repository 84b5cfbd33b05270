"""The lecture's itemset part: retail basket analysis and FP-Growth on five transactions.

The lecture's retail basket file (315 baskets of 9 items) carries no licence, so hpcrec
does not ship it: :func:`retail_baskets` reads it from a folder when given, and otherwise
generates a seeded stand-in with the same item names, about the same item supports and the
same pairwise correlations (a Gaussian copula), so the same rules appear.
Mining runs distributed over the ranks of ``comm``; every rank gets the same tables.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.comm import Comm, resolve
from ..core.errors import InputError
from ..data import path as bundled
from ..fim import apriori, association_rules, fpgrowth
from ..io import Transactions, load_transactions

RETAIL_FILE = "retail_dataset.csv"
# Item supports and pairwise (phi) correlations of the lecture's retail_dataset.csv:
# figures measured on the file, used to shape the synthetic stand-in.
RETAIL_ITEMS = ("Bagel", "Bread", "Cheese", "Diaper", "Eggs", "Meat", "Milk", "Pencil", "Wine")
RETAIL_SUPPORT = (0.425, 0.505, 0.502, 0.406, 0.438, 0.476, 0.502, 0.362, 0.438)
RETAIL_PHI = (  # upper triangle, row by row, in RETAIL_ITEMS order
    (0.26, -0.08, 0.05, -0.14, -0.05, 0.05, 0.02, -0.06),
    (-0.06, 0.11, -0.14, -0.14, 0.10, 0.07, 0.09),
    (-0.02, 0.32, 0.34, 0.21, 0.08, 0.20),
    (-0.07, 0.00, -0.20, 0.10, 0.23),
    (0.23, 0.10, 0.03, 0.20),
    (0.02, 0.02, 0.17),
    (-0.04, 0.00),
    (0.17,),
)
RETAIL_ROWS = 315


def synthetic_retail(n_baskets: int = RETAIL_ROWS, seed: int = 0) -> list[list[str]]:
    """Seeded baskets shaped like the lecture's retail set (non-empty, same 9 items).

    A basket holds item j when a latent normal z_j exceeds the quantile of its support;
    the latent correlation sin(pi/2 * phi) gives about the target phi correlation of
    the 0/1 columns (exact for supports of 1/2).
    """
    from scipy.stats import norm
    if n_baskets <= 0:
        raise InputError(f"n_baskets must be positive, got {n_baskets}")
    m = len(RETAIL_ITEMS)
    corr = np.eye(m)
    for j, row in enumerate(RETAIL_PHI):
        corr[j, j + 1:] = corr[j + 1:, j] = np.sin(np.pi / 2 * np.asarray(row))
    w, v = np.linalg.eigh(corr)  # nearest positive definite matrix, unit diagonal
    corr = (v * np.maximum(w, 1e-6)) @ v.T
    d = np.sqrt(np.diag(corr))
    chol = np.linalg.cholesky(corr / np.outer(d, d))
    rng = np.random.default_rng([seed, 7])
    thresholds = norm.ppf(1.0 - np.asarray(RETAIL_SUPPORT))
    baskets = []
    while len(baskets) < n_baskets:  # the real file has no empty basket
        z = rng.standard_normal((n_baskets, m)) @ chol.T
        baskets += [[RETAIL_ITEMS[j] for j in np.flatnonzero(row)] for row in z > thresholds]
        baskets = [b for b in baskets if b]
    return baskets[:n_baskets]


def retail_baskets(data_dir=None, seed: int = 0) -> tuple[Transactions, str]:
    """The retail baskets (whole, on every rank) and a line saying where they came from.

    Looks for ``retail_dataset.csv`` in ``data_dir`` and ``data_dir/fim`` (the shared
    data layout); otherwise generates the synthetic stand-in.
    """
    for path in ([Path(data_dir) / RETAIL_FILE, Path(data_dir) / "fim" / RETAIL_FILE]
                 if data_dir is not None else []):
        if path.is_file():
            return load_transactions(path, partition=False), f"{path}"
    where = f"no {RETAIL_FILE} in {data_dir}: " if data_dir is not None else ""
    return (load_transactions(synthetic_retail(seed=seed), partition=False),
            f"{where}synthetic stand-in ({RETAIL_ROWS} baskets, seed {seed}; the lecture's "
            "file has no licence and is not bundled)")


def item_supports(tx: Transactions) -> pd.DataFrame:
    """Support of every single item, most frequent first."""
    counts = np.bincount(tx.rows.indices, minlength=tx.n_items)
    frame = pd.DataFrame({"item": tx.labels, "support": counts / tx.n_rows})
    return frame.sort_values(["support", "item"], ascending=[False, True], ignore_index=True)


def support_sweep(tx: Transactions, thresholds=(0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4),
                  min_confidence: float = 0.6, comm: Comm | None = None) -> pd.DataFrame:
    """Support-threshold tuning: itemsets, longest itemset and rules per threshold."""
    comm = resolve(comm)
    rows = []
    for s in thresholds:
        frequent = apriori(tx, min_support=s, use_colnames=True, comm=comm)
        rules = _rules(frequent, tx.n_total, min_confidence, comm)
        rows.append({"min_support": s, "n_itemsets": len(frequent),
                     "longest": int(frequent["itemsets"].map(len).max()) if len(frequent) else 0,
                     "n_rules": len(rules)})
    return pd.DataFrame(rows)


def _rules(frequent: pd.DataFrame, n: int, min_confidence: float, comm: Comm) -> pd.DataFrame:
    if not len(frequent):
        return pd.DataFrame(columns=["antecedents", "consequents", "support", "confidence", "lift"])
    return association_rules(frequent, num_itemsets=n, metric="confidence",
                             min_threshold=min_confidence, comm=comm)


def basket_analysis(tx: Transactions, min_support: float = 0.2, min_confidence: float = 0.6,
                    comm: Comm | None = None) -> dict:
    """Apriori itemsets at ``min_support`` and rules with confidence >= ``min_confidence``.

    Returns ``itemsets`` and ``rules`` (mlxtend's DataFrames; rules sorted by lift).
    """
    comm = resolve(comm)
    frequent = apriori(tx, min_support=min_support, use_colnames=True, comm=comm)
    rules = _rules(frequent, tx.n_total, min_confidence, comm)
    rules = rules.sort_values(["lift", "confidence"], ascending=False, ignore_index=True)
    return {"itemsets": frequent, "rules": rules}


def five_baskets(min_support: float = 0.6, comm: Comm | None = None) -> pd.DataFrame:
    """FP-Growth on the bundled five-transaction example (mlxtend's documentation set)."""
    tx = load_transactions(str(bundled("five_baskets.csv")), partition=False)
    return fpgrowth(tx, min_support=min_support, use_colnames=True, comm=resolve(comm))


def itemset_text(itemset) -> str:
    """An itemset as sorted names joined by ' & ' (how the CSV files and reports show it)."""
    return " & ".join(sorted(str(x) for x in itemset))


def printable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every frozenset column turned into :func:`itemset_text` strings."""
    out = frame.copy()
    for col in ("itemsets", "antecedents", "consequents"):
        if col in out and out[col].dtype == object:
            out[col] = out[col].map(itemset_text)
    return out
