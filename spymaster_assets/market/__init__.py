"""Market-data code with no Dagster imports: calendars, vendor formats, Numba kernels."""
