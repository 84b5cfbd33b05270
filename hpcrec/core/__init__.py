"""What every part of hpcrec shares: the run context and the services it holds.

``comm`` (ranks, collectives, abort-on-error; the only mpi4py importer), ``device``
(``cpu``/``gpu``/``auto`` → a resolved device, the array module, CPU threads per rank),
``gpu_mpi`` (device buffers and MPI), ``memory`` (the one memory budget), ``stop`` (the
one stop request: signals, time limit, agreed across ranks), ``timing`` (the one timer),
``errors`` (every error class), ``lazy`` (package names loaded on first use),
``partition`` (rows of a sparse matrix owned by ranks, entries sent to their owners) and
``context`` (:class:`~hpcrec.core.context.RunContext`, built once per API call or command
and passed down). Knows nothing of itemsets or ratings.
"""
