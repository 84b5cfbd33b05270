"""The lecture's recommender part on MovieLens 100K (or a synthetic set of the same shape).

Steps, each a function returning data: load the ratings (:func:`movie_ratings`), explore
them (:func:`explore`), build the sparse rating matrix (:func:`rating_matrix`), train the
course's observed-only model and its regularized variant by gradient descent, tune the
regularization (:func:`sweep`), compare with biased SGD and ALS (:func:`train_models`,
:func:`compare`), and look at the item embeddings: nearest neighbors by dot product and
cosine (:func:`neighbors`), norms of popular and rare movies (:func:`norm_groups`),
genre structure (:func:`genre_agreement`) and a 2-D t-SNE view (:func:`tsne_points`).

Training and evaluation are collective over the ranks of ``comm`` (every rank passes the
whole rating set, each trains on its share); the rest is local and cheap.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.comm import Comm, resolve
from ..core.errors import InputError
from ..core.timing import Timer
from ..io import Ratings, splits, synthetic
from ..io.download import download as fetch_dataset
from ..io.ratings import read_ml100k
from ..metrics import evaluate
from ..mf import ALS, BiasedSGD, CourseGD
from ..plots import item_popularity as popularity  # the notebook's name
from ..plots import tsne_2d

ML100K = "ml-100k"

# The course's two gradient-descent models (Google's recommendation-systems colab) with its
# embedding sizes, initialisations and coefficients, trained here by mini-batch GD: far
# fewer passes than the colab's full-batch steps to the same error on ml-100k-sized data.
# Batches of 10,000 with lr 20 reach the test error of 5,000 with lr 10 (measured on the
# synthetic set) with half the collectives per epoch, which matters on oversubscribed cores.
OBSERVED_ONLY = {"factors": 30, "lr": 20.0, "init_std": 0.5, "batch_size": 10_000}
REGULARIZED = {"factors": 35, "lr": 20.0, "init_std": 0.05, "reg": 0.1, "gravity": 1.0,
               "batch_size": 10_000}
SWEEP_GRID = ((0.1, 1.0), (0.1, 0.3), (0.1, 0.1), (0.3, 0.1), (0.03, 0.1), (0.1, 0.03))


def movie_ratings(data_dir=None, download: bool = False, download_dir=None, seed: int = 0,
                  comm: Comm | None = None) -> tuple[Ratings, str, Path | None]:
    """The whole rating set on every rank, a line naming its source, and its folder.

    Order: ``data_dir/ml-100k`` (or ``data_dir`` itself holding ``u.data``); with
    ``download``, GroupLens' ml-100k (checksummed) into ``download_dir`` (default
    ``data_dir``, else ``./data``), fetched by rank 0; otherwise a seeded synthetic set
    shaped like ml-100k (943 users x 1682 items, 100,000 ratings, planted genres).
    """
    comm = resolve(comm)
    notes = []
    folder = _local_ml100k(data_dir) if data_dir is not None else None
    if data_dir is not None and folder is None:
        notes.append(f"no {ML100K} in {data_dir}")
    if folder is None and download:
        target = Path(download_dir or data_dir or "data")
        got = None
        with comm.collective_errors():
            if comm.is_root:
                try:
                    got = (str(fetch_dataset("movielens-100k", target)), "")
                except InputError as exc:  # offline or refused: fall back, saying why
                    got = (None, str(exc))
        path, why = comm.bcast_obj(got)
        folder = Path(path) if path else None
        if why:
            notes.append(f"download failed: {why}")
    if folder is not None:
        with comm.collective_errors():
            r = read_ml100k(folder / "u.data")
        return r, f"MovieLens 100K from {folder}", folder
    r = synthetic.ratings(seed=seed)
    notes.append(f"synthetic ratings shaped like ml-100k (943 x 1682, 100,000 ratings, planted "
                 f"genres, seed {seed}): pass --data-dir or --download for MovieLens 100K")
    return r, "; ".join(notes), None


def _local_ml100k(data_dir) -> Path | None:
    for folder in (Path(data_dir) / ML100K, Path(data_dir)):
        if (folder / "u.data").is_file():
            return folder
    return None


def user_table(folder) -> pd.DataFrame | None:
    """ml-100k's ``u.user`` (user, age, gender, occupation, zip), or None where absent."""
    if folder is None or not (Path(folder) / "u.user").is_file():
        return None
    return pd.read_csv(Path(folder) / "u.user", sep="|", header=None, encoding="latin-1",
                       names=["user", "age", "gender", "occupation", "zip"])


def _genre_lists(r: Ratings) -> list[list[str]]:
    genres = r.item_genres if r.item_genres is not None else np.full(r.n_items, "")
    return [[g for g in str(x).split("|") if g] or ["(none)"] for x in genres]


def explore(r: Ratings, users: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The lecture's first look at the data, as tables.

    ``summary`` (sizes, density, mean rating), ``rating_counts`` (ratings per value),
    ``activity`` (distribution of ratings per user and per movie), ``top_movies``,
    ``by_genre`` (movies, ratings, mean rating; a movie counts in each of its genres) and,
    with the user table, ``by_occupation``.
    """
    frame = pd.DataFrame({"user": r.user, "item": r.item, "rating": r.rating})
    per_user = np.bincount(r.user, minlength=r.n_users)
    per_item = np.bincount(r.item, minlength=r.n_items)
    out = {"summary": pd.DataFrame([{
        "users": r.n_users, "movies": r.n_items, "ratings": r.nnz,
        "density": r.nnz / (r.n_users * r.n_items), "mean_rating": float(r.rating.mean()),
        "movies_never_rated": int((per_item == 0).sum())}])}
    out["rating_counts"] = (frame["rating"].value_counts().sort_index()
                            .rename_axis("rating").reset_index(name="ratings"))
    out["activity"] = pd.DataFrame({"ratings_per_user": pd.Series(per_user).describe(),
                                    "ratings_per_movie": pd.Series(per_item).describe()}
                                   ).rename_axis("statistic").reset_index()
    titles = r.item_titles if r.item_titles is not None else r.item_ids.astype(str)
    stats = frame.groupby("item")["rating"].agg(["size", "mean"])
    top = stats.sort_values("size", ascending=False).head(10)
    out["top_movies"] = pd.DataFrame({"title": np.asarray(titles)[top.index], "ratings": top["size"].to_numpy(),
                                      "mean_rating": top["mean"].to_numpy().round(3)})
    genres = pd.DataFrame({"item": np.arange(r.n_items), "genre": _genre_lists(r)}).explode("genre")
    g = frame.merge(genres, on="item")
    by_genre = g.groupby("genre").agg(ratings=("rating", "size"), mean_rating=("rating", "mean"))
    by_genre["movies"] = genres.groupby("genre")["item"].nunique()
    out["by_genre"] = by_genre.sort_values("ratings", ascending=False).reset_index()[
        ["genre", "movies", "ratings", "mean_rating"]]
    if users is not None:
        occ = pd.DataFrame({"user": r.user_ids[r.user], "rating": r.rating}).merge(
            users[["user", "occupation"]], on="user")
        by_occ = occ.groupby("occupation").agg(users=("user", "nunique"), ratings=("rating", "size"),
                                               mean_rating=("rating", "mean"))
        out["by_occupation"] = by_occ.sort_values("ratings", ascending=False).reset_index()
    return out


def rating_matrix(r: Ratings):
    """The users x movies rating matrix as scipy.sparse CSR (float32; zero = not rated)."""
    import scipy.sparse as sp
    return sp.csr_matrix((r.rating, (r.user, r.item)), shape=(r.n_users, r.n_items), dtype=np.float32)


def split(r: Ratings, seed: int = 0, test_fraction: float = 0.1) -> tuple[Ratings, Ratings]:
    """The lecture's random hold-out (90 % train, 10 % test), seeded."""
    return splits.random_split(r, test_fraction, seed=seed)


def course_model(epochs: int, regularized: bool = False, seed: int = 0, **overrides) -> CourseGD:
    """The course's observed-only model, or with ``regularized`` its L2 + gravity variant."""
    params = {**(REGULARIZED if regularized else OBSERVED_ONLY), **overrides}
    return CourseGD(epochs=epochs, seed=seed, **params)


def sweep(train: Ratings, grid=SWEEP_GRID, epochs: int = 20, seed: int = 0,
          comm: Comm | None = None) -> pd.DataFrame:
    """Hyper-parameter tuning of the regularized model on a validation split of ``train``.

    One row per (reg, gravity): train and validation RMSE, genre agreement of the
    embeddings and fit seconds; the test set is never looked at.
    """
    comm = resolve(comm)
    fit_part, valid = split(train, seed=seed + 1)
    rows = []
    for reg, gravity in grid:
        model, seconds = _fit(course_model(epochs, True, seed, reg=reg, gravity=gravity),
                              fit_part, valid, comm)
        share, _ = genre_agreement(model)
        rows.append({"reg": reg, "gravity": gravity,
                     "train_rmse": evaluate(model, fit_part, comm=comm)["rmse"],
                     "valid_rmse": evaluate(model, valid, comm=comm)["rmse"],
                     "genre_agreement": share, "seconds": seconds})
    return pd.DataFrame(rows)


def best_setting(sweep_table: pd.DataFrame) -> dict:
    """(reg, gravity) with the lowest validation RMSE."""
    row = sweep_table.loc[sweep_table["valid_rmse"].idxmin()]
    return {"reg": float(row["reg"]), "gravity": float(row["gravity"])}


def _fit(model, train, test, comm):
    with Timer(comm).phase("fit") as span:
        model.fit(train, comm, test=test)
    return model, span.seconds


def train_models(train: Ratings, test: Ratings, regularization: dict | None = None,
                 epochs: dict | None = None, seed: int = 0, comm: Comm | None = None) -> dict:
    """The four models of the comparison, fitted on the same split (test RMSE per epoch in
    their history): ``observed-only GD``, ``regularized GD`` (``regularization`` =
    {reg, gravity}, default the lecture's), ``biased SGD`` and ``ALS``."""
    comm = resolve(comm)
    e = {"gd": 20, "sgd": 25, "als": 10, **(epochs or {})}
    models = {
        "observed-only GD": course_model(e["gd"], False, seed),
        "regularized GD": course_model(e["gd"], True, seed, **(regularization or {})),
        "biased SGD": BiasedSGD(factors=64, epochs=e["sgd"], seed=seed),
        "ALS": ALS(factors=32, epochs=e["als"], seed=seed),
    }
    return {name: _fit(m, train, test, comm) for name, m in models.items()}


def norm_groups(model, fraction: float = 0.1) -> dict:
    """Mean embedding norm of the most rated and of the least rated ``fraction`` of items."""
    norms, pop = model.embedding_norms(), popularity(model)
    order = np.argsort(-pop, kind="stable")
    n = max(1, int(round(fraction * len(order))))
    return {"popular_norm": float(norms[order[:n]].mean()), "rare_norm": float(norms[order[-n:]].mean()),
            "popular_min_ratings": int(pop[order[n - 1]]), "rare_max_ratings": int(pop[order[-n]])}


def genre_agreement(model, top: int = 400, k: int = 10) -> tuple[float, float]:
    """Share of the ``k`` cosine-nearest neighbors (among the ``top`` most rated items)
    sharing a genre with the item, and that share for random pairs (chance level)."""
    keep = np.argsort(-popularity(model), kind="stable")[:top]
    if model.item_genres is None or len(keep) <= k:
        return float("nan"), float("nan")
    Q = model.Q[keep].astype(np.float64)
    Q /= np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-12)
    sim = Q @ Q.T
    np.fill_diagonal(sim, -np.inf)
    nn = np.argpartition(-sim, k, axis=1)[:, :k]
    sets = [frozenset(str(g).split("|")) - {""} for g in np.asarray(model.item_genres)[keep]]
    share = np.array([[bool(sets[a] & sets[b]) for b in row] for a, row in enumerate(nn)]).mean()
    pairs = np.array([[bool(a & b) for b in sets] for a in sets])
    np.fill_diagonal(pairs, False)
    return float(share), float(pairs.sum() / (len(sets) * (len(sets) - 1)))


def compare(models: dict, train: Ratings, test: Ratings, comm: Comm | None = None) -> pd.DataFrame:
    """One row per model: train/test RMSE, fit seconds, norms of popular/rare items, genre
    agreement of the embeddings (collective: every rank calls it)."""
    comm = resolve(comm)
    rows = []
    for name, (model, seconds) in models.items():
        share, chance = genre_agreement(model)
        rows.append({"model": name, "train_rmse": evaluate(model, train, comm=comm)["rmse"],
                     "test_rmse": evaluate(model, test, comm=comm)["rmse"], "fit_s": seconds,
                     **norm_groups(model), "genre_agreement": share, "genre_chance": chance})
    return pd.DataFrame(rows)


def pick_movie(r: Ratings, title: str = "Aladdin") -> tuple[int, str]:
    """Raw id and title of the movie whose title is ``title (year)``, else of the most
    rated movie (synthetic data has no Aladdin)."""
    titles = np.asarray(r.item_titles if r.item_titles is not None else r.item_ids.astype(str), dtype=object)
    hits = [j for j, t in enumerate(titles) if str(t).startswith(f"{title} (")]
    j = hits[0] if hits else int(np.argmax(np.bincount(r.item, minlength=r.n_items)))
    return r.item_ids[j].item(), str(titles[j])


def neighbors(model, item, k: int = 6, measures=("dot", "cosine")) -> pd.DataFrame:
    """The ``k`` nearest movies of raw item id ``item`` by each measure, with their
    genres and training ratings (dot favours popular movies, cosine does not)."""
    pop = popularity(model)
    rows = []
    for measure in measures:
        ids, scores = model.similar_items(item, k, measure)
        idx = model.item_index(ids)
        for rank, (j, s) in enumerate(zip(idx, scores), 1):
            rows.append({"measure": measure, "rank": rank, "item": ids[rank - 1].item(),
                         "title": _text(model.item_titles, j), "genres": _text(model.item_genres, j),
                         "score": float(s), "ratings": int(pop[j])})
    return pd.DataFrame(rows)


def _text(table, j) -> str:
    return "" if table is None else str(table[j])


def tsne_points(model, top: int = 400, seed: int = 0) -> pd.DataFrame:
    """2-D t-SNE (:func:`hpcrec.plots.tsne_2d`) of the item vectors of the ``top`` most
    rated movies: x, y, first genre, title, ratings."""
    pop = popularity(model)
    keep = np.argsort(-pop, kind="stable")[:max(3, min(top, len(pop)))]
    xy = tsne_2d(model.Q[keep], seed)
    genres = [str(_text(model.item_genres, j)).split("|")[0] or "(none)" for j in keep]
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "genre": genres,
                         "title": [_text(model.item_titles, j) for j in keep], "ratings": pop[keep]})


def history(models: dict) -> pd.DataFrame:
    """Train and test RMSE per epoch of every model (long format)."""
    rows = [{"model": name, "epoch": h["epoch"], "train_rmse": h["train_rmse"],
             "test_rmse": h.get("test_rmse", np.nan)}
            for name, (model, _) in models.items() for h in model.history]
    return pd.DataFrame(rows)
