import os

from spymaster_assets.numba_cache import configure as _configure_numba_cache

_configure_numba_cache()
# One core per run: the daemon runs two at once on a 2-core machine, and polars' own thread
# pool in each made them fight for the cores (two runs together took about a third longer than
# with one thread each) while a run alone gained nothing from it. Read when polars is first imported,
# which the definitions never do: a run's first step does. SPYMASTER_THREADS_PER_RUN sets it.
os.environ.setdefault("POLARS_MAX_THREADS", os.environ.get("SPYMASTER_THREADS_PER_RUN", "1"))
