"""Matrix-factorization recommenders, distributed over MPI.

* :class:`BiasedSGD` — biased MF trained by SGD (DSGD across ranks, block-parallel threads):
  the accurate model for explicit ratings.
* :class:`ALS` — explicit ALS with biases (ALS-WR regularization), rank-count invariant.
* :class:`WALS` — ALS for implicit feedback (Hu-Koren-Volinsky confidence 1 + alpha r, ALS-WR, Gram trick).
* :class:`CourseGD` — the course's model (MSE + regularization + gravity) by full-batch or
  mini-batch gradient descent on NumPy or CuPy.

All share :class:`FactorModel` (prediction, cold-start rule, ``similar_items``,
``embedding_norms``, history, checkpoints). See docs/mf.md.
"""
from ..core.errors import TrainingInterrupted
from .als import ALS, WALS
from .base import FactorModel
from .course import CourseGD
from .sgd import BiasedSGD

__all__ = ["ALS", "BiasedSGD", "CourseGD", "FactorModel", "TrainingInterrupted", "WALS"]
