"""The course's figures as PNG files, each drawn from a table the steps return.

Every function takes the data (DataFrames from :mod:`hpcrec.course.baskets` and
:mod:`hpcrec.course.movies`) and a path, writes the PNG atomically and returns the path.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..plots import item_popularity, pyplot, save_png


def support_sweep(table: pd.DataFrame, path) -> Path:
    """Itemsets and rules against the minimum support (log scale)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(table["min_support"], table["n_itemsets"], "o-", label="frequent itemsets")
    ax.plot(table["min_support"], table["n_rules"], "s-", label="rules (confidence >= 0.6)")
    ax.set_yscale("symlog")
    ax.set_xlabel("minimum support")
    ax.set_ylabel("count")
    ax.set_title("Support-threshold tuning")
    ax.legend()
    return save_png(fig, path)


def exploration(r, tables: dict, path) -> Path:
    """Ratings per user, ratings per movie (both log-binned) and mean rating by genre."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, counts, what in ((axes[0], np.bincount(r.user, minlength=r.n_users), "user"),
                             (axes[1], np.bincount(r.item, minlength=r.n_items), "movie")):
        ax.hist(counts, bins=np.unique(np.geomspace(1, max(counts.max(), 2), 30).round()))
        ax.set_xscale("log")
        ax.set_xlabel(f"ratings per {what}")
        ax.set_ylabel(f"{what}s")
    g = tables["by_genre"].sort_values("mean_rating")
    axes[2].barh(g["genre"], g["mean_rating"])
    axes[2].set_xlabel("mean rating")
    axes[2].set_xlim(max(0.0, g["mean_rating"].min() - 0.5), g["mean_rating"].max() + 0.1)
    axes[2].tick_params(axis="y", labelsize=7)
    fig.suptitle("Who rates what")
    return save_png(fig, path)


def rmse(table: pd.DataFrame, path) -> Path:
    """Train and test RMSE per model (grouped bars)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["train_rmse"], 0.4, label="train")
    ax.bar(x + 0.2, table["test_rmse"], 0.4, label="test")
    ax.set_xticks(x, table["model"])
    ax.set_ylabel("RMSE")
    ax.set_title("Models on the same split")
    ax.legend()
    return save_png(fig, path)


def history(table: pd.DataFrame, path) -> Path:
    """Test RMSE per epoch of every model."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, part in table.groupby("model", sort=False):
        ax.plot(part["epoch"], part["test_rmse"], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test RMSE")
    ax.set_ylim(top=min(3.0, float(table["test_rmse"].max()) + 0.1))
    ax.legend()
    return save_png(fig, path)


def norms(models: dict, path) -> Path:
    """Embedding norm against the item's number of ratings, one panel per model."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(models), figsize=(4 * len(models), 3.5), squeeze=False)
    for ax, (name, (model, _)) in zip(axes[0], models.items()):
        ax.scatter(item_popularity(model), model.embedding_norms(), s=3, alpha=0.4)
        ax.set_xscale("symlog")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("ratings of the movie")
    axes[0][0].set_ylabel("embedding norm")
    return save_png(fig, path)


def tsne(points: dict, path, n_genres: int = 8) -> Path:
    """Side-by-side t-SNE views (name -> :func:`~hpcrec.course.movies.tsne_points` frame),
    coloured by the most common first genres (the rest grey)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(points), figsize=(6 * len(points), 5), squeeze=False)
    for ax, (name, df) in zip(axes[0], points.items()):
        common = df["genre"].value_counts().index[:n_genres]
        rest = ~df["genre"].isin(common)
        ax.scatter(df.loc[rest, "x"], df.loc[rest, "y"], s=6, c="lightgrey", label="other")
        for g in common:
            m = df["genre"] == g
            ax.scatter(df.loc[m, "x"], df.loc[m, "y"], s=8, label=g)
        ax.set_title(f"{name}: t-SNE of item embeddings", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][-1].legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1, 0.5))
    return save_png(fig, path)
