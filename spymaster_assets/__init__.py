from spymaster_assets.numba_cache import configure as _configure_numba_cache

_configure_numba_cache()
