"""hpcrec: frequent itemsets, association rules and recommenders, distributed over MPI.

Sub-packages: ``core`` (the run context: ranks and collectives, CPU/GPU, memory budget,
stop request, timer, errors), ``io`` (formats and HDF5), ``fim`` (itemset mining), ``mf``
(factorization), ``knn`` (neighborhood models), ``bench`` (timing and scaling studies),
``cli``. Kernels are in ``hpcrec.kernels``.
"""
__version__ = "0.1.0"
