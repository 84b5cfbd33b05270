"""Seeded synthetic data with realistic skew, in memory or streamed to HDF5 in chunks.

* Transactions follow the spirit of IBM's Quest generator (Agrawal & Srikant, VLDB 1994):
  ``n_patterns`` potential itemsets of mean length ``avg_pattern_len`` drawn from a
  power-law item popularity, consecutive patterns sharing items, each with a weight and a
  corruption level; a transaction of mean length ``avg_len`` is a union of weighted patterns
  with items dropped by corruption. ``T10I4D100K`` is ``avg_len=10, avg_pattern_len=4,
  n_transactions=100_000``. With ``long_tail``, the number of patterns per transaction
  is Zipf-distributed instead of Poisson (same mean): a few very long transactions among
  many short ones, as in click streams such as kosarak.
* Dense records (:class:`DenseRecords`) are one-hot encodings of correlated categorical
  records, the dense end of itemset mining (survey, census or product-attribute tables,
  chess / mushroom / connect in the FIMI collection): each record has exactly one value
  of each of ``n_attributes`` attributes (2..``max_values`` values each), so its length is
  the number of attributes and the density is ``n_attributes / n_items``. Records belong
  to latent clusters; a cluster prefers one value per attribute, taken with a
  per-attribute fidelity, else a value from the attribute's skewed base distribution.
* Ratings have planted low-rank structure: items belong to genres, item vectors sit near
  their genre's centroid, users prefer a few genres; user activity and item popularity
  are power-law; ratings 1..5 from global mean + biases + dot product + noise.

Chunk ``k`` is generated from the seed sequence ``(seed, k)``, so files larger than memory
are written chunk by chunk, and the result does not depend on memory.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ..core.errors import InputError
from ..kernels.csr import Csr, csr
from ..progress import progress
from . import hdf5
from .atomic import atomic_path
from .ratings import Ratings
from .transactions import Transactions, _csr, item_dtype

GENRES = ("Action", "Comedy", "Drama", "Romance", "Thriller", "Sci-Fi", "Animation",
          "Children's", "Horror", "Documentary", "War", "Western", "Musical", "Mystery",
          "Crime", "Adventure", "Fantasy", "Film-Noir")


def _powerlaw_weights(n: int, exponent: float, rng) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return rng.permutation(w / w.sum())


class QuestPatterns:
    """The pattern table shared by every chunk of one synthetic transaction set."""

    def __init__(self, n_items: int, avg_pattern_len: float, n_patterns: int, seed: int):
        rng = np.random.default_rng([seed, 1 << 20])
        pop = _powerlaw_weights(n_items, 1.0, rng)
        lens = np.maximum(1, rng.poisson(avg_pattern_len, n_patterns))
        items, prev = [], np.zeros(0, dtype=np.int64)
        for length in lens:  # consecutive patterns share about half their items
            n_shared = min(len(prev), length, int(rng.exponential(0.5) * length))
            shared = rng.choice(prev, n_shared, replace=False) if n_shared else prev[:0]
            fresh = rng.choice(n_items, length - n_shared, p=pop)
            prev = np.unique(np.concatenate((shared, fresh)))
            items.append(prev)
        self.ptr = np.concatenate(([0], np.cumsum([len(p) for p in items]))).astype(np.int64)
        self.items = np.concatenate(items).astype(np.int64)
        w = rng.exponential(1.0, n_patterns)
        self.weights = w / w.sum()
        self.corruption = np.clip(rng.normal(0.5, 0.1, n_patterns), 0.0, 1.0)
        self.n_items = n_items

    def transactions(self, n: int, avg_len: float, rng, long_tail: bool = False) -> Csr:
        """Rows of ``n`` transactions of mean length about ``avg_len``."""
        kept_per_pattern = float(np.diff(self.ptr) @ self.weights) * (1 - self.corruption @ self.weights)
        mean = max(avg_len / kept_per_pattern, 1e-9)
        if long_tail:  # Zipf(2.2) capped at 2000 has mean ~3.6: rescale to the same mean
            z = np.minimum(rng.zipf(ZIPF_LENGTH, n), 2000)
            k = np.maximum(1, np.rint(z * (mean / ZIPF_MEAN))).astype(np.int64)
        else:
            k = np.maximum(1, rng.poisson(mean, n))
        pats = rng.choice(len(self.weights), int(k.sum()), p=self.weights)
        plen = self.ptr[pats + 1] - self.ptr[pats]
        start = np.repeat(self.ptr[pats], plen)
        offs = np.arange(int(plen.sum())) - np.repeat(np.cumsum(plen) - plen, plen)
        items = self.items[start + offs]
        keep = rng.random(len(items)) >= np.repeat(self.corruption[pats], plen)
        rows = np.repeat(np.repeat(np.arange(n), k), plen)
        return _csr(rows[keep], items[keep], n)


ZIPF_LENGTH = 2.2
ZIPF_MEAN = 3.62  # mean of min(Zipf(2.2), 2000)


class DenseRecords:
    """The attribute table shared by every chunk of one dense (one-hot) record set."""

    def __init__(self, n_attributes: int, max_values: int, n_clusters: int, seed: int):
        _check_positive(n_attributes=n_attributes, n_clusters=n_clusters)
        if max_values < 2:
            raise InputError(f"max_values must be at least 2, got {max_values}")
        rng = np.random.default_rng([seed, 1 << 23])
        self.values = rng.integers(2, max_values + 1, n_attributes)
        self.offset = np.concatenate(([0], np.cumsum(self.values)[:-1]))
        # skewed base distribution per attribute (values ordered by probability)
        base = [np.sort(rng.dirichlet(np.full(v, 0.5)))[::-1] for v in self.values]
        self.cum = np.zeros((n_attributes, max_values))
        for a, p in enumerate(base):
            self.cum[a, :len(p)] = np.cumsum(p)
            self.cum[a, len(p) - 1:] = 1.0
        self.cluster_weights = rng.dirichlet(np.full(n_clusters, 2.0))
        self.preferred = np.array([[rng.choice(v, p=p) for v, p in zip(self.values, base)]
                                   for _ in range(n_clusters)], dtype=np.int64)
        self.fidelity = rng.beta(4.0, 1.0, n_attributes)  # mean 0.8: strong correlations
        self.n_items = int(self.values.sum())

    def transactions(self, n: int, rng) -> Csr:
        """Rows of ``n`` records, one item per attribute, sorted."""
        a = len(self.values)
        cluster = rng.choice(len(self.cluster_weights), n, p=self.cluster_weights)
        u = rng.random((n, a))
        other = (u[:, :, None] >= self.cum[None, :, :]).sum(axis=2)
        keep = rng.random((n, a)) < self.fidelity
        value = np.where(keep, self.preferred[cluster], np.minimum(other, self.values - 1))
        indices = (self.offset + value).astype(np.int32).reshape(-1)
        return csr(np.arange(n + 1, dtype=np.int64) * a, indices)


def transactions(n_transactions: int = 100_000, n_items: int = 1000, avg_len: float = 10.0,
                 avg_pattern_len: float = 4.0, n_patterns: int = 2000, seed: int = 0,
                 long_tail: bool = False) -> Transactions:
    """A Quest-like transaction set in memory (labels are the integer item ids)."""
    gen = _QuestChunks(n_items, avg_len, avg_pattern_len, n_patterns, seed, long_tail)
    return _in_memory(gen, n_transactions, seed)


def dense_transactions(n_transactions: int = 10_000, n_attributes: int = 30,
                       max_values: int = 4, n_clusters: int = 8, seed: int = 0) -> Transactions:
    """One-hot correlated categorical records in memory (labels are the item ids)."""
    return _in_memory(_DenseChunks(n_attributes, max_values, n_clusters, seed), n_transactions,
                      seed)


class _QuestChunks:
    def __init__(self, n_items, avg_len, avg_pattern_len, n_patterns, seed, long_tail=False):
        _check_positive(n_items=n_items, avg_len=avg_len, avg_pattern_len=avg_pattern_len,
                        n_patterns=n_patterns)
        self.model = QuestPatterns(n_items, avg_pattern_len, n_patterns, seed)
        self.n_items, self.avg_len, self.long_tail = n_items, avg_len, long_tail

    def chunk(self, n, rng):
        return self.model.transactions(n, self.avg_len, rng, self.long_tail)


class _DenseChunks:
    def __init__(self, n_attributes, max_values, n_clusters, seed):
        self.model = DenseRecords(n_attributes, max_values, n_clusters, seed)
        self.n_items = self.model.n_items

    def chunk(self, n, rng):
        return self.model.transactions(n, rng)


def _tx_chunk_iter(gen, n, seed, chunk=200_000):
    """Chunk k of ``n`` transactions from the seed sequence (seed, k)."""
    _check_positive(n=n)
    for k, start in enumerate(range(0, n, chunk)):
        yield gen.chunk(min(chunk, n - start), np.random.default_rng([seed, k]))


def _in_memory(gen, n, seed) -> Transactions:
    ptrs, idx, offset = [np.zeros(1, np.int64)], [], 0
    for rows in _tx_chunk_iter(gen, n, seed):
        ptrs.append(rows.indptr[1:] + offset)
        idx.append(rows.indices)
        offset += len(rows.indices)
    return Transactions(csr(np.concatenate(ptrs), np.concatenate(idx) if idx else np.zeros(0, np.int32)),
                        np.arange(gen.n_items, dtype=np.int64))


def ratings(n_users: int = 943, n_items: int = 1682, n_ratings: int = 100_000, rank: int = 8,
            n_genres: int = 18, noise: float = 0.7, seed: int = 0) -> Ratings:
    """Ratings with planted genre structure in memory (shaped like ml-100k by default)."""
    model = _RatingModel(n_users, n_items, n_ratings, rank, n_genres, noise, seed)
    parts = list(model.chunks())
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("user", "item", "rating", "timestamp")}
    return model.wrap(cat)


class _RatingModel:
    def __init__(self, n_users, n_items, n_ratings, rank, n_genres, noise, seed):
        _check_positive(n_users=n_users, n_items=n_items, n_ratings=n_ratings, rank=rank,
                        n_genres=n_genres)
        if n_ratings > n_users * n_items // 2:
            raise InputError("n_ratings must be at most half of n_users * n_items")
        self.n_users, self.n_items, self.n_ratings = n_users, n_items, n_ratings
        self.noise, self.seed = noise, seed
        rng = np.random.default_rng([seed, 1 << 21])
        n_genres = min(n_genres, len(GENRES))
        self.genre = rng.integers(0, n_genres, n_items)
        centroids = rng.normal(0, 1.0, (n_genres, rank))
        self.V = centroids[self.genre] + rng.normal(0, 0.3, (n_items, rank))
        self.item_pop = _powerlaw_weights(n_items, 0.9, rng)
        self.bi = 0.4 * rng.standard_normal(n_items) + 0.3 * np.log(self.item_pop * n_items)
        self.activity = rng.lognormal(0.0, 1.0, n_users)
        self.activity /= self.activity.sum()
        self.bu = 0.4 * rng.standard_normal(n_users)
        self.U_pref = rng.dirichlet(np.full(n_genres, 0.3), n_users) @ centroids * 0.5
        self.genre_names = np.array(GENRES[:n_genres], dtype=object)

    def chunks(self, users_per_chunk: int = 100_000):
        """Disjoint user ranges, so (user, item) pairs are unique across chunks too."""
        counts = np.random.default_rng([self.seed, 1 << 22]).multinomial(self.n_ratings, self.activity)
        counts = _cap_counts(counts, self.n_items // 3, self.n_ratings)
        for k, lo in enumerate(range(0, self.n_users, users_per_chunk)):
            hi = min(self.n_users, lo + users_per_chunk)
            rng = np.random.default_rng([self.seed, k])
            users, items = self._distinct_pairs(lo, counts[lo:hi], rng)
            mu = 3.5
            score = mu + self.bu[users] + self.bi[items] + np.einsum(
                "ij,ij->i", self.U_pref[users], self.V[items]) + rng.normal(0, self.noise, len(users))
            rating = np.clip(np.round(score), 1, 5).astype(np.float32)
            ts = 874_724_710 + rng.integers(0, 20_000_000, len(users))
            yield {"user": users.astype(np.int32), "item": items.astype(np.int32),
                   "rating": rating, "timestamp": ts.astype(np.int64)}

    def _distinct_pairs(self, lo: int, want: np.ndarray, rng):
        """For users lo.., ``want[u - lo]`` distinct items each, drawn by popularity.

        Drawing with replacement and dropping repeats, in rounds for the users still
        short: exact but for users who want nearly every item (a handful of rounds left).
        """
        users = np.zeros(0, np.int64)
        items = np.zeros(0, np.int64)
        short = want.copy()
        for _ in range(12):
            if not short.any():
                break
            u = np.repeat(np.arange(lo, lo + len(want)), 2 * short + 2 * (short > 0))
            users = np.concatenate((users, u))
            items = np.concatenate((items, rng.choice(self.n_items, len(u), p=self.item_pop)))
            _, first = np.unique(users * self.n_items + items, return_index=True)
            first.sort()  # keep the earliest draw of each pair: rounds only add
            users, items = users[first], items[first]
            order = np.argsort(users, kind="stable")
            users, items = users[order], items[order]
            start = np.searchsorted(users, users, side="left")
            keep = (np.arange(len(users)) - start) < want[users - lo]
            users, items = users[keep], items[keep]
            short = want - np.bincount(users - lo, minlength=len(want))
        return users, items

    def item_meta(self):
        genres = self.genre_names[self.genre]
        titles = np.array([f"Item {i + 1} ({g})" for i, g in enumerate(genres)], dtype=object)
        return titles, genres

    def wrap(self, cols) -> Ratings:
        titles, genres = self.item_meta()
        r = Ratings(cols["user"], cols["item"], cols["rating"], cols["timestamp"],
                    np.arange(1, self.n_users + 1, dtype=np.int64),
                    np.arange(1, self.n_items + 1, dtype=np.int64), titles, genres)
        r.meta["source"] = f"synthetic(seed={self.seed})"
        return r


def _cap_counts(counts: np.ndarray, cap: int, total: int) -> np.ndarray:
    """Per-user counts in [1, cap] summing to ``total`` (excess moved to uncapped users)."""
    counts = np.clip(counts, 1, cap).astype(np.int64)
    for _ in range(100):
        deficit = total - counts.sum()
        room = counts < cap if deficit > 0 else counts > 1
        if deficit == 0 or not room.any():
            break
        idx = np.flatnonzero(room)
        step = np.full(len(idx), abs(deficit) // len(idx))
        step[: abs(deficit) % len(idx)] += 1
        counts[idx] = np.clip(counts[idx] + np.sign(deficit) * step, 1, cap)
    return counts


def _check_positive(**values):
    for name, v in values.items():
        if not v > 0:
            raise InputError(f"{name} must be positive, got {v}")


def write_transactions_h5(path, n_transactions: int, seed: int = 0, n_items: int = 1000,
                          avg_len: float = 10.0, avg_pattern_len: float = 4.0,
                          n_patterns: int = 2000, long_tail: bool = False) -> Path:
    """Stream a Quest-like transaction set to HDF5 chunk by chunk (memory: one chunk)."""
    return _write_chunks(path, _QuestChunks(n_items, avg_len, avg_pattern_len, n_patterns, seed,
                                            long_tail), n_transactions, seed)


def write_dense_h5(path, n_transactions: int, seed: int = 0, n_attributes: int = 30,
                   max_values: int = 4, n_clusters: int = 8) -> Path:
    """Stream one-hot correlated categorical records to HDF5 chunk by chunk."""
    return _write_chunks(path, _DenseChunks(n_attributes, max_values, n_clusters, seed),
                         n_transactions, seed)


def _write_chunks(path, gen, n_transactions: int, seed: int) -> Path:
    path = Path(path)
    n_items = gen.n_items
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as fh:
        _header(fh, "transactions", seed)
        indptr = fh.create_dataset("indptr", (1,), np.int64, maxshape=(None,), chunks=(1 << 16,))
        indices = fh.create_dataset("indices", (0,), item_dtype(n_items), maxshape=(None,),
                                    chunks=(1 << 18,))
        rows = nnz = 0
        with progress(f"generating {path}", total=n_transactions, unit="rows") as bar:
            for chunk in _tx_chunk_iter(gen, n_transactions, seed):
                p, ix = chunk.indptr, chunk.indices
                indptr.resize((rows + len(p),))
                indptr[rows + 1:] = p[1:] + nnz
                indices.resize((nnz + len(ix),))
                indices[nnz:] = ix
                rows += len(p) - 1
                nnz += len(ix)
                bar.update(len(p) - 1)
        fh.create_dataset("item_labels", data=np.arange(n_items, dtype=np.int64))
        fh.attrs["n_transactions"], fh.attrs["n_items"] = rows, n_items
    return path


def write_ratings_h5(path, n_users: int, n_items: int, n_ratings: int, seed: int = 0,
                     rank: int = 8, n_genres: int = 18, noise: float = 0.7) -> Path:
    """Stream a planted-structure rating set to HDF5 in user chunks (memory: one chunk)."""
    model = _RatingModel(n_users, n_items, n_ratings, rank, n_genres, noise, seed)
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as fh:
        _header(fh, "ratings", seed)
        ds = {k: fh.create_dataset(k, (0,), dt, maxshape=(None,), chunks=(1 << 18,))
              for k, dt in (("user", np.int32), ("item", np.int32), ("rating", np.float32),
                            ("timestamp", np.int64))}
        n = 0
        with progress(f"generating {path}", total=n_ratings, unit="ratings") as bar:
            for part in model.chunks():
                m = len(part["rating"])
                for k, d in ds.items():
                    d.resize((n + m,))
                    d[n:] = part[k]
                n += m
                bar.update(m)
        titles, genres = model.item_meta()
        fh.create_dataset("user_ids", data=np.arange(1, n_users + 1, dtype=np.int64))
        fh.create_dataset("item_ids", data=np.arange(1, n_items + 1, dtype=np.int64))
        fh.create_dataset("item_title", data=np.array(titles, dtype=hdf5.string_dtype()))
        fh.create_dataset("item_genres", data=np.array(genres, dtype=hdf5.string_dtype()))
        fh.attrs.update({"n_ratings": n, "n_users": n_users, "n_items": n_items,
                         "source": f"synthetic(seed={seed})"})
    return path


def _header(fh, kind: str, seed: int) -> None:
    from .. import __version__
    fh.attrs["hpcrec_kind"] = kind
    fh.attrs["hpcrec_format_version"] = hdf5.FORMAT_VERSION
    fh.attrs["created_by"] = f"hpcrec {__version__}"
    fh.attrs["synthetic_seed"] = seed
