"""Which cached benchmark days are still what the generator would write today.

A cached day is reused only when its raw files exist and its stamp names the same profile,
seed, volume and generator source: a day generated before a change to `sample/` would
measure yesterday's market (other book flows, other signals) under today's code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from pathlib import Path

from spymaster_assets.paths import DataLayout


@cache
def generator_fingerprint() -> str:
    """A hash of the generator's source files (spymaster_assets/sample/*.py)."""
    import spymaster_assets.sample as sample

    digest = hashlib.sha256()
    for path in sorted(Path(sample.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _stamp(folder: Path, day: dt.date) -> Path:
    return folder / "raw" / f".generated-{day}"


def _description(profile: str, seed: int, volume: float) -> str:
    return f"{profile} seed={seed} volume={volume:g} generator={generator_fingerprint()}\n"


def is_current(folder: Path, day: dt.date, profile: str, seed: int, volume: float) -> bool:
    """The day's raw files exist and were written by this generator with these settings."""
    if not all(p.exists() for p in DataLayout(folder).raw_paths(day)):
        return False
    stamp = _stamp(folder, day)
    return stamp.exists() and stamp.read_text() == _description(profile, seed, volume)


def mark(folder: Path, day: dt.date, profile: str, seed: int, volume: float) -> None:
    """Record that the day's raw files were just generated with these settings."""
    stamp = _stamp(folder, day)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(_description(profile, seed, volume))
