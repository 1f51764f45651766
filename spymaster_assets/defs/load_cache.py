"""What loading the definitions needs but would be slow to compute on every load.

The code location is loaded by every process Dagster starts (webserver, daemon, each run), so
loading must stay close to `import dagster`. Three things would not: the NYSE calendar of the
partitions (exchange_calendars, pandas), the column schemas shown in the catalog (pandera) and
the code version of every asset (the source of everything it runs). They are computed once and
kept in a JSON file named by a digest of the package's source and the calendar's version, so
any edit of the code computes them afresh, and an unchanged checkout reads them back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
CACHE_DIR_ENV = "SPYMASTER_CACHE_DIR"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "spymaster"
# Packages whose data or behaviour ends up in the cached values.
VERSIONED_PACKAGES = ("exchange-calendars", "pandera", "polars", "dagster")


@cache
def source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for package in VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()[:16]


def cache_path() -> Path:
    base = Path(os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR)
    return base / "definitions" / f"{source_digest()}.json"


class LoadCache:
    """Named JSON values of one source digest; computed on a miss and saved by `save()`."""

    def __init__(self, path: Path):
        self.path = path
        self._values: dict = {}
        self._dirty = False
        with contextlib.suppress(OSError, ValueError):
            self._values = json.loads(path.read_text())

    def get(self, name: str, compute: Callable[[], object]):
        if name not in self._values:
            self._values[name] = json.loads(json.dumps(compute()))  # as it will be read back
            self._dirty = True
        return self._values[name]

    def save(self) -> None:
        """Write the file if anything was computed (whole or not at all; a read-only home is
        not an error, the next load computes again)."""
        if not self._dirty:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._values, sort_keys=True))
            os.replace(tmp, self.path)
            self._dirty = False


@cache
def load_cache() -> LoadCache:
    return LoadCache(cache_path())
