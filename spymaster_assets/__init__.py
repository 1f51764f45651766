from spymaster_assets import threads as _threads
from spymaster_assets.numba_cache import configure as _configure_numba_cache

_configure_numba_cache()
_threads.configure()  # one core per run by default (spymaster_assets/threads.py)
