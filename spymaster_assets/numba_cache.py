"""Numba's on-disk cache, in a folder named by the source of every kernel module.

Numba checks a cached kernel against its own file only. `option_flow_kernel` inlines
`black_scholes.implied_vol` from another module: after a change to the solver, the cached
kernel would go on running the old one, silently. So the cache folder is keyed by a hash of
every module that defines kernels; any change to any of them starts a fresh cache.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DEFAULT_BASE = Path.home() / ".cache" / "spymaster" / "numba"


def kernel_modules(package: Path = PACKAGE) -> list[Path]:
    """Every module of the package that compiles kernels."""
    return sorted(p for p in package.rglob("*.py") if "@njit" in p.read_text(encoding="utf-8"))


def sources_digest(package: Path = PACKAGE) -> str:
    digest = hashlib.sha256()
    for path in kernel_modules(package):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir(package: Path = PACKAGE) -> Path:
    base = Path(os.environ.get("SPYMASTER_NUMBA_CACHE_DIR", DEFAULT_BASE))
    return base / sources_digest(package)


def configure() -> Path:
    """Point Numba's cache at this source's folder (before any kernel is decorated)."""
    folder = cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = str(folder)  # read when numba is first imported
    if "numba" in sys.modules:  # already imported: its config is read at decoration time
        from numba.core import config

        config.CACHE_DIR = str(folder)
    return folder
