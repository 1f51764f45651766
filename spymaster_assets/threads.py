"""How many threads a run uses: one per run by default, so the daemon's two runs at once use
the two cores without fighting over them.

Polars' thread pool is sized when polars is first imported; the definitions never import it,
so a run's process picks this up in its first step. `SPYMASTER_THREADS_PER_RUN` above 1 gives a
run alone on the machine polars' pool and a background parquet encoder for the book (a single
day then finishes sooner; two runs at once are no faster, measured in docs/performance.md).
"""

from __future__ import annotations

import os

THREADS_ENV = "SPYMASTER_THREADS_PER_RUN"


def threads_per_run() -> int:
    value = os.environ.get(THREADS_ENV, "1")
    return max(1, int(value)) if value.isdigit() else 1


def configure() -> None:
    """Size polars' pool for this process (effective if polars is not imported yet)."""
    os.environ.setdefault("POLARS_MAX_THREADS", str(threads_per_run()))
