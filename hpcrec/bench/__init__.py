"""Benchmarks and scaling studies: measurement records, workloads, study driver, reports, projections.

``record`` builds and appends one record per measurement; ``workloads`` says what a
measurement runs; ``point`` runs one measurement under a launcher; ``study`` parses a
strong/weak scaling study and builds its points' commands, which ``local`` runs here
(mpiexec) and ``slurm`` renders into jobscripts and submits; ``report`` turns records into tables and plots; ``model``
projects measured scaling to larger machines with an alpha-beta communication model.
"""
