"""Compute kernels of hpcrec, installed as ``hpcrec.kernels``.

One module per operation family; each offers the same operation for the CPU (Numba) and,
where written, for the GPU (Numba-CUDA / CuPy), behind one interface. Kernels neither
touch files nor talk MPI.
"""
