"""Memory-based collaborative filtering: item- and user-based k-NN with baselines.

Sparse top-K similarities (cosine, MSD, Pearson, Pearson-baseline) computed in Numba and
distributed over MPI by rows; prediction as Surprise's KNNBaseline / KNNWithMeans / KNNBasic.
"""
from .model import KNN, ItemKNN, UserKNN
from .similarity import MEASURES

__all__ = ["KNN", "ItemKNN", "UserKNN", "MEASURES"]
