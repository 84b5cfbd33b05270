"""Benchmarks and scaling studies: measurement records, workloads, study driver, reports, projections.

``record`` builds and appends one record per measurement; ``workloads`` says what a
measurement runs; ``study`` runs a strong/weak scaling study locally (mpiexec) or renders
and submits SLURM jobscripts; ``report`` turns records into tables and plots; ``model``
projects measured scaling to larger machines with an alpha-beta communication model.
"""
