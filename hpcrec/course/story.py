"""The whole lecture in one call: what ``hpcrec demo`` runs.

:func:`run` computes every step (mining and training collectively over the ranks, the
rest on rank 0) and returns the tables; :func:`write` puts them into an output folder as
CSV files, PNG figures and ``report.md`` (rank 0 only; all files or none).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.comm import Comm, resolve
from ..core.timing import Timer
from . import baskets, figures, movies, report


@dataclass(frozen=True)
class Settings:
    """Sizes of one run; :data:`QUICK` is for tests and first tries (less work)."""
    support_thresholds: tuple = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
    sweep_grid: tuple = movies.SWEEP_GRID
    epochs: dict = field(default_factory=lambda: {"gd": 20, "sgd": 25, "als": 10})
    tsne_items: int = 400


FULL = Settings()
QUICK = Settings(support_thresholds=(0.1, 0.2, 0.3), sweep_grid=((0.1, 1.0), (0.1, 0.1)),
                 epochs={"gd": 10, "sgd": 15, "als": 6}, tsne_items=150)

MIN_SUPPORT, MIN_CONFIDENCE = 0.2, 0.6
log = logging.getLogger("hpcrec.course")


def run(data_dir=None, download: bool = False, download_dir=None, seed: int = 0,
        settings: Settings = FULL, comm: Comm | None = None) -> dict:
    """Every step of the lecture; returns a dict of tables (complete on rank 0) and notes."""
    comm = resolve(comm)
    timer = Timer(comm)
    res: dict = {"ranks": comm.size, "seconds": timer.phases, "tables": {}, "seed": seed}
    t = res["tables"]

    def timed(name):
        if comm.is_root:
            log.info("demo: %s", name)
        return timer.phase(name)

    with timed("baskets"):
        tx, res["retail_source"] = baskets.retail_baskets(data_dir, seed)
        res["retail_baskets"] = tx.to_lists()
        t["retail_item_supports"] = baskets.item_supports(tx)
        t["retail_support_sweep"] = baskets.support_sweep(tx, settings.support_thresholds,
                                                          MIN_CONFIDENCE, comm)
        mined = baskets.basket_analysis(tx, MIN_SUPPORT, MIN_CONFIDENCE, comm)
        t["retail_itemsets"], t["retail_rules"] = mined["itemsets"], mined["rules"]
        t["five_baskets_itemsets"] = baskets.five_baskets(0.6, comm)
    with timed("load ratings"):
        r, res["ratings_source"], folder = movies.movie_ratings(data_dir, download, download_dir,
                                                                seed, comm)
        with comm.collective_errors():  # rank 0 only: the others must not wait in vain
            if comm.is_root:
                _explore(res, r, folder)
        res["ratings"] = r
    train, test = movies.split(r, seed)
    with timed("sweep"):
        t["mf_sweep"] = movies.sweep(train, settings.sweep_grid, settings.epochs["gd"], seed, comm)
        res["regularization"] = movies.best_setting(t["mf_sweep"])
    with timed("train"):
        models = movies.train_models(train, test, res["regularization"], settings.epochs, seed, comm)
        res["models"] = models
    with timed("evaluate"):
        t["mf_comparison"] = movies.compare(models, train, test, comm)
        t["mf_history"] = movies.history(models)
    res["movie"] = movies.pick_movie(r)
    with timed("embeddings"), comm.collective_errors():
        if comm.is_root:
            _embeddings(res, models, settings.tsne_items, seed)
    return res


def _explore(res: dict, r, folder) -> None:
    """Exploration tables and the sparse matrix's size (rank 0)."""
    ex = movies.explore(r, movies.user_table(folder))
    res["tables"].update({f"ml_{k}": v for k, v in ex.items()})
    m = movies.rating_matrix(r)
    res["matrix"] = {"shape": m.shape, "nnz": m.nnz,
                     "bytes_csr": m.data.nbytes + m.indices.nbytes + m.indptr.nbytes,
                     "bytes_dense": m.shape[0] * m.shape[1] * 4}


def _embeddings(res: dict, models: dict, tsne_items: int, seed: int) -> None:
    """Neighbors of the chosen movie per model, t-SNE of the two course models (rank 0)."""
    t = res["tables"]
    t["mf_neighbors"] = pd.concat([movies.neighbors(model, res["movie"][0]).assign(model=name)
                                    for name, (model, _) in models.items()], ignore_index=True)
    res["tsne"] = {name: movies.tsne_points(models[name][0], tsne_items, seed)
                   for name in report.COURSE_MODELS}
    t["mf_tsne"] = pd.concat([p.assign(model=k) for k, p in res["tsne"].items()], ignore_index=True)


def write(res: dict, out) -> list[Path]:
    """CSV tables, PNG figures, the mined baskets and ``report.md`` into ``out`` (rank 0).

    Everything is written into a staging folder first and moved in at the end, so a
    failure leaves no partial set of outputs.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".demo-", dir=out))
    try:
        names = [p.name for p in _write_all(res, stage)]
        for name in names:
            os.replace(stage / name, out / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out / name for name in names]


def _write_all(res: dict, out: Path) -> list[Path]:
    written = []
    for name, table in res["tables"].items():
        written.append(out / f"{name}.csv")
        baskets.printable(table).to_csv(written[-1], index=False)
    written.append(out / "retail_baskets.csv")
    written[-1].write_text("".join(",".join(b) + "\n" for b in res["retail_baskets"]))
    t, models = res["tables"], res["models"]
    written += [figures.support_sweep(t["retail_support_sweep"], out / "retail_support_sweep.png"),
                figures.exploration(res["ratings"], {"by_genre": t["ml_by_genre"]},
                                    out / "ml_exploration.png"),
                figures.rmse(t["mf_comparison"], out / "mf_rmse.png"),
                figures.history(t["mf_history"], out / "mf_history.png"),
                figures.norms(models, out / "mf_norms.png"),
                figures.tsne(res["tsne"], out / "mf_tsne.png")]
    written.append(out / "report.md")
    written[-1].write_text(report.markdown(res))
    return written
