"""The protocol of every kernel family and the parameter packs they take.

A family's implementations (CPU and, where written, GPU) honour one protocol below;
:func:`hpcrec.kernels.get` finds them. Sparse inputs are :class:`~hpcrec.kernels.csr.Csr`.
"Who allocates" is said per protocol: results a kernel returns are allocated by it;
arrays it updates in place belong to the caller. Packs are NamedTuples, so Numba kernels
take them as one argument each. Inside a parallel loop (``prange``) a pack may be read
but not written through: Numba silently loses writes to arrays reached through a tuple
there (numba issue 5872), so an array a parallel loop writes is an argument of its own.
"""
from __future__ import annotations

from typing import Callable, Iterator, NamedTuple, Protocol, runtime_checkable

import numpy as np

from .csr import Csr

MemoryCheck = Callable[[int, str], None]
"""``check(nbytes, what)``: raises when ``nbytes`` more would exceed the memory budget."""


# -- support counting (apriori) ---------------------------------------------------------------

@runtime_checkable
class SupportCounter(Protocol):
    """Local support counts of candidate itemsets on one rank's rows (items ``0..m-1``).

    Level 2 first (:meth:`count_pairs`, then :meth:`keep_pairs` with the frequent pairs),
    then per level, block by block of parents, :meth:`count` and :meth:`keep` with the
    frequent candidates' mask, and :meth:`next_level` when the level is done.
    """

    def count_pairs(self, out: np.ndarray) -> None:
        """Add the count of every item pair a < b to ``out`` (caller-allocated, zeroed,
        length m (m - 1) / 2, row-major upper-triangle order)."""

    def keep_pairs(self, pairs: np.ndarray, counts: np.ndarray) -> None:
        """The frequent pairs ((n, 2) items) and their local counts: the next parents."""

    def count(self, parents: np.ndarray, left: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Counts (int64, allocated here) of candidates ``parents[left[c]] + {last[c]}``,
        grouped by ``left``; ``parents`` are the last level's frequent itemsets, sorted."""

    def keep(self, mask: np.ndarray) -> None:
        """Which candidates of the last :meth:`count` are frequent (the next parents, after
        those of the level's earlier blocks)."""

    def next_level(self) -> None:
        """The level is done: the sets kept since the last call become the parents."""


class SupportCounterFactory(Protocol):
    def __call__(self, rows: Csr, m: int, dense: bool, check: MemoryCheck) -> SupportCounter:
        """A counter over ``rows`` (recoded, sorted); ``dense``: the rows fill a large
        share of the (row, item) slots (the CPU then counts with bitsets)."""


# -- projected FP mining (fpgrowth, fpmax, fpclose) ---------------------------------------------

class MineOptions(NamedTuple):
    """What :func:`mine_range` reports: ``mode`` (FREQUENT, MAXIMAL, CLOSED) sets of at
    least ``minc`` rows over items ``0..m-1``, at most ``max_len`` items (<= 0: any), and
    it stops beyond ``limit`` sets. ``reserve``: FP-Max's and FP-Close's store grows into
    reserved address space (``projected.RESERVE`` times its rows), for callers that know
    untouched pages cost nothing there (``hpcrec.core.memory.untouched_is_free``)."""
    m: int
    minc: int
    max_len: int
    limit: int
    mode: int
    reserve: bool = False


class Store(NamedTuple):
    """The result store a miner fills across calls (see ``projected.empty_store``): items
    of the sets back to back, their meta records (``projected.META``: fields len, count,
    start, key - the tid-set key), FP-Max's item -> set links and their ``head``, (sets,
    items) stored in ``tops``, ``aux`` (the FP-Close table or FP-Max's set masks), and the
    search's per-item ``scratch`` (kept between calls). FREQUENT stores no items or meta
    records: each set is one canonical record (``records``: key words, then the count,
    :mod:`hpcrec.kernels.order`) of its items mapped through ``recode``, in the record
    ``form`` (bits, head, per); tops[1] counts its items. Arrays grow, so a call returns
    the store."""
    items: np.ndarray
    meta: np.ndarray
    links: np.ndarray
    head: np.ndarray
    tops: np.ndarray
    aux: np.ndarray
    scratch: np.ndarray
    records: np.ndarray
    recode: np.ndarray
    form: np.ndarray


@runtime_checkable
class ProjectedMiner(Protocol):
    def empty_store(self, m: int, recode: np.ndarray | None = None, width: int = 0) -> Store:
        """A store for sets over ``m`` items (allocated here); FREQUENT's records map the
        items through ``recode`` (default: none) and hold lengths up to ``m``; with
        ``width``, in the mask layout (``recode``: each item's bit below ``width``)."""

    def mine_range(self, rows: Csr, owned: np.ndarray, lo: int, hi: int, options: MineOptions,
                   store: Store) -> tuple[int, Store]:
        """Search the owned items in [lo, hi) of the conditional transactions ``rows``,
        largest first, adding to ``store``; returns (status OK or TOO_MANY, the store)."""

    def mine_ranges(self, rows: Csr, owned: np.ndarray, cuts: np.ndarray, options: MineOptions,
                    store: Store) -> Iterator[tuple[int, Store]]:
        """:meth:`mine_range` over [cuts[0], cuts[-1]) from one build of the conditional
        databases, yielding (status, the store) after each range [cuts[b], cuts[b + 1]),
        highest first; a caller stops between ranges by leaving the loop."""

    def record_layout(self, store: Store) -> tuple[int, int, int, int]:
        """FREQUENT: the (bits, head, per, words) layout of the store's records."""

    def add_sets(self, store: Store, flat: np.ndarray, lengths: np.ndarray,
                 counts: np.ndarray) -> Store:
        """FREQUENT: sets found elsewhere (flat items, lengths, counts) appended to
        ``store``; returns the store (grown)."""


# -- text parsing -----------------------------------------------------------------------------

class LabelArrays(NamedTuple):
    """A rank's hash table of distinct byte-string labels (``textparse.basket_labels``):
    ``slots`` of label numbers (-1 empty, a power-of-two size), each label's (start, end,
    hash, value) in ``keys``, its bytes in ``arena``; ``used`` = (labels, arena bytes)."""
    slots: np.ndarray
    keys: np.ndarray
    arena: np.ndarray
    used: np.ndarray


# -- matrix factorization by SGD --------------------------------------------------------------

class BlockedRatings(NamedTuple):
    """Ratings grouped by block: block b is ``block_ptr[b]:block_ptr[b + 1]`` of the arrays."""
    user: np.ndarray      # int32
    item: np.ndarray      # int32
    rating: np.ndarray    # float32
    block_ptr: np.ndarray


class Factors(NamedTuple):
    """A model's user and item vectors and biases, updated in place by the kernels."""
    P: np.ndarray
    Q: np.ndarray
    bu: np.ndarray
    bi: np.ndarray


class SgdRates(NamedTuple):
    """Global mean, learning rates and regularization of one SGD epoch."""
    mu: float
    lr: float
    lr_bias: float
    reg: float
    reg_bias: float


class SgdEpoch(Protocol):
    def __call__(self, ratings: BlockedRatings, rounds: np.ndarray, factors: Factors,
                 rates: SgdRates) -> float:
        """One pass over the blocks of ``rounds`` ((n_rounds, width) block ids, -1 padding,
        a row's blocks pairwise independent), updating ``factors`` in place; returns the
        sum of the squared errors measured before each step."""


# -- alternating least squares ------------------------------------------------------------------

class RowProblem(NamedTuple):
    """The least-squares problem every row of a half-step solves (see ``mf_als``):
    ``coef = (g, a0, a1, b0, b1)``, ``gram`` the other side's Gram matrix (read when
    g != 0), ridge ``reg`` / ``reg_bias`` (times the row's count when ``weighted``), the
    row's bias solved for when ``fit_bias``; ``cg_steps`` 0: exact (Cholesky)."""
    coef: np.ndarray
    gram: np.ndarray
    fit_bias: bool
    reg: float
    reg_bias: float
    weighted: bool
    cg_steps: int


class Side(NamedTuple):
    """One side of the factorization: its rows' vectors and biases."""
    vectors: np.ndarray
    bias: np.ndarray


class AlsHalfStep(Protocol):
    def __call__(self, rows: Csr, X: np.ndarray, x_bias: np.ndarray, problem: RowProblem,
                 Y: np.ndarray, y_bias: np.ndarray) -> None:
        """Solve every row of ``Y`` (and ``y_bias``) in place given the other side ``X``;
        ``rows`` (values in ``data``) holds exactly Y's rows, columns index X's rows."""


# -- k-NN similarities ----------------------------------------------------------------------------

@runtime_checkable
class SimilarityRows(Protocol):
    """Top-K neighbor lists of blocks of rows of an x-major rating matrix."""

    def block_rows(self, keep: int) -> int:
        """Rows per call of :meth:`top` that keep its scratch and results in the budget."""

    def top(self, lo: int, hi: int, min_support: int, shrinkage: float, keep: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(idx int32, sim float64) of shape (hi-lo, keep), best first, -1 / 0 past a row's
        count of positive similarities, and that count (int64); on the host, allocated here."""


class SimilarityRowsFactory(Protocol):
    def __call__(self, x: Csr, y: Csr, measure: int) -> SimilarityRows:
        """For ``x`` (x-major ratings) and ``y`` (the same, y-major), measure code of
        ``hpcrec.kernels.knn`` (COSINE, MSD, PEARSON, PEARSON_BASELINE)."""
