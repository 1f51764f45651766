"""Physics of a touch (SPEC §6) as Numba kernels over numpy arrays: barrier, tape, fuel.

No Dagster here: assets reach these kernels through the `NumbaKernels` resource.
"""
