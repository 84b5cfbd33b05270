"""Train/test splits and folds of a rating set: seeded random hold-out,
MovieLens' predefined folds, seeded k-fold; :func:`fold_pairs` picks the folds of a
cross-validation. The one home of splitting: model selection and the course call these."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.comm import Comm, resolve
from ..core.errors import InputError
from .ratings import Ratings

MOVIELENS_FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
MOVIELENS_CV_FOLDS = MOVIELENS_FOLDS[:5]   # the five disjoint test sets (ua/ub overlap them)


def random_split(r: Ratings, test_fraction: float = 0.1, seed: int = 0) -> tuple[Ratings, Ratings]:
    """Each rating goes to the test set with probability ``test_fraction`` (seeded)."""
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(r.nnz)
    n_test = int(round(test_fraction * r.nnz))
    test = np.sort(perm[:n_test])
    mask = np.zeros(r.nnz, dtype=bool)
    mask[test] = True
    return r.subset(~mask), r.subset(mask)


def movielens_fold(folder, fold: str) -> tuple[Ratings, Ratings]:
    """MovieLens 100K's predefined split ``u1``..``u5``, ``ua`` or ``ub`` from its folder."""
    from .ratings import read_ml100k
    if fold not in MOVIELENS_FOLDS:
        raise InputError(f"unknown MovieLens fold {fold!r}: choose one of {', '.join(MOVIELENS_FOLDS)}")
    folder = Path(folder)
    return read_ml100k(folder / f"{fold}.base"), read_ml100k(folder / f"{fold}.test")


def kfold(r: Ratings, k: int = 5, seed: int = 0):
    """Yield (train, test) for a seeded k-fold split of the ratings."""
    if k < 2:
        raise InputError("k-fold needs k >= 2")
    fold = np.random.default_rng(seed).permutation(r.nnz) % k
    for f in range(k):
        yield r.subset(fold != f), r.subset(fold == f)


def fold_pairs(ratings, folds="movielens", seed: int = 0, comm: Comm | None = None):
    """Yield (name, train, test) Ratings: MovieLens u1..u5 from the folder of ``ratings``
    (the ml-100k folder or a file in it), or ``folds`` seeded random folds of ``ratings``."""
    if folds == "movielens":
        if not isinstance(ratings, (str, Path)):
            raise InputError("MovieLens folds need the ml-100k folder (or a file in it)")
        folder = Path(ratings) if Path(ratings).is_dir() else Path(ratings).parent
        missing = [f for f in MOVIELENS_CV_FOLDS if not (folder / f"{f}.base").exists()]
        if missing:
            raise InputError(f"{folder}: no MovieLens fold files {', '.join(m + '.base' for m in missing)}")
        for f in MOVIELENS_CV_FOLDS:
            yield (f, *movielens_fold(folder, f))
        return
    try:
        k = int(folds)
    except (TypeError, ValueError):
        raise InputError(f"folds must be 'movielens' or a number >= 2, got {folds!r}") from None
    from .formats import load_ratings
    data = load_ratings(ratings, resolve(comm), partition=False)
    for n, (train, test) in enumerate(kfold(data, k, seed)):
        yield f"fold{n + 1}", train, test
