"""Plotting for every part of hpcrec: matplotlib set up once (Agg backend, a clear error when
it is missing), atomic PNG files, and the one t-SNE projection (one thread, see
:func:`tsne_2d`). ``hpcrec.course`` and ``hpcrec.bench.report`` draw their figures with these.

The model views of ``hpcrec plot``, as PNG files:

* ``history.png`` — train and test RMSE per epoch;
* ``norms.png`` — histogram of item embedding norms, and norm against popularity
  (ratings per item in training): dot-product scores favour long vectors;
* ``tsne.png`` — 2-D t-SNE of the item vectors of the most rated items, coloured by their
  first genre (needs scikit-learn: the ``plot`` extra).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .core.errors import InputError
from .io.atomic import atomic_path


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no display needed)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plotting needs matplotlib (pip install hpcrec[plot])") from None
    return plt


def save_png(fig, path, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG atomically, close it, return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return path


def tsne_2d(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE (scikit-learn) of the rows of ``X``, seeded.

    Runs on one thread: its OpenMP threads were measured 10x slower on a busy node (and
    under MPI the other ranks' cores are taken).
    """
    try:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise InputError("the t-SNE view needs scikit-learn (pip install hpcrec[plot])") from None
    with threadpool_limits(1):
        return TSNE(n_components=2, perplexity=min(30.0, (len(X) - 1) / 3), init="pca",
                    random_state=seed).fit_transform(np.asarray(X, dtype=np.float64))


def plot_history(model, path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = [h["epoch"] for h in model.history]
    for key, label in (("train_rmse", "train"), ("test_rmse", "test")):
        values = [h.get(key) for h in model.history]
        if any(v is not None for v in values):
            ax.plot(epochs, values, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("RMSE")
    ax.set_title(f"{model.name}: error per epoch")
    ax.legend()
    return save_png(fig, path)


def item_popularity(model) -> np.ndarray:
    """Ratings per item in the model's training data."""
    return np.bincount(model.seen_items, minlength=len(model.item_ids))


def plot_norms(model, path) -> Path:
    plt = pyplot()
    norms, pop = model.embedding_norms(), item_popularity(model)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.hist(norms, bins=50)
    a.set_xlabel("item embedding norm")
    a.set_ylabel("items")
    b.scatter(pop, norms, s=4, alpha=0.5)
    b.set_xscale("symlog")
    b.set_xlabel("ratings of the item (training)")
    b.set_ylabel("embedding norm")
    fig.suptitle(f"{model.name}: item embedding norms")
    return save_png(fig, path)


def plot_tsne(model, path, max_items: int = 600, seed: int = 0) -> Path:
    plt = pyplot()
    pop = item_popularity(model)
    keep = np.argsort(-pop, kind="stable")[:max(2, min(max_items, len(pop)))]
    xy = tsne_2d(model.Q[keep], seed)
    genres = (np.array([str(g).split("|")[0] or "unknown" for g in model.item_genres[keep]])
              if model.item_genres is not None else np.full(len(keep), "unknown"))
    fig, ax = plt.subplots(figsize=(8, 6))
    for g in sorted(set(genres)):
        m = genres == g
        ax.scatter(xy[m, 0], xy[m, 1], s=8, label=g)
    ax.legend(fontsize=6, markerscale=2, ncol=2)
    ax.set_title(f"{model.name}: t-SNE of the {len(keep)} most rated items, by first genre")
    return save_png(fig, path)


def plot_all(model, folder, max_items: int = 600) -> list[Path]:
    """All three views into ``folder`` (created if missing); returns the paths."""
    from .mf.base import FactorModel  # (plots serve course and bench too: mf only when needed)
    if not isinstance(model, FactorModel):
        raise InputError(f"model {model.name} has no item embeddings to plot")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [plot_history(model, folder / "history.png"), plot_norms(model, folder / "norms.png"),
            plot_tsne(model, folder / "tsne.png", max_items, model.seed)]
