"""hpcrec: frequent itemsets, association rules and recommenders, distributed over MPI.

Sub-packages: ``comm`` (ranks, collectives), ``backend`` (CPU/GPU), ``io`` (formats and
HDF5), ``fim`` (itemset mining), ``mf`` (factorization), ``knn`` (neighborhood models),
``bench`` (timing and scaling studies), ``cli``. Kernels are in ``hpcrec.kernels``.
"""
__version__ = "0.1.0"
