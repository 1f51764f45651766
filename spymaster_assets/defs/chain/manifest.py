"""What was last built for each asset of a trading day, so a current day is not built again.

`lake/_days/<day>.json` holds, per asset, the data version it was built at (Dagster's
logical version: the asset's code version, the configuration, and the data versions of what it
read, down to the raw files' sizes and times), the materialization recorded then and its check
results. A run that reaches an asset whose version is unchanged and whose file is still in the
lake records that materialization and those check results again for its partition instead of
computing the same bytes a second time: the raw-files sensor, a backfill and a manual
materialization can then overlap without doing a day twice. The chain writes it once per day
under the day's lock, whole (temporary file, then rename).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._serdes import deserialize_value, serialize_value

from spymaster_assets.paths import DataLayout
from spymaster_assets.storage import atomic_path, data_root, file_identity


def manifest_path(layout: DataLayout, day: dt.date) -> Path:
    return layout.root / "lake" / "_days" / f"{day}.json"


@dataclass
class Built:
    data_version: str
    materialization: dg.AssetMaterialization
    checks: list[dg.AssetCheckEvaluation]
    files: dict[str, list]  # path or URL -> storage.file_identity, as written
    run_id: str


@dataclass
class DayManifest:
    path: Path
    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DayManifest:
        try:
            entries = json.loads(path.read_text())
        except (OSError, ValueError):
            entries = {}
        return cls(path, entries if isinstance(entries, dict) else {})

    def current(self, asset: str, data_version: str) -> Built | None:
        """The asset's last build if it was at `data_version` and its files are unchanged."""
        entry = self.entries.get(asset)
        if not entry or entry.get("data_version") != data_version:
            return None
        files = entry.get("files", {})
        for name, identity in files.items():
            if file_identity(data_root(name)) != identity:
                return None
        try:
            materialization = deserialize_value(entry["materialization"], dg.AssetMaterialization)
            checks = [deserialize_value(c, dg.AssetCheckEvaluation) for c in entry["checks"]]
        except Exception:  # written by another version of the code: build again
            return None
        return Built(data_version, materialization, checks, files, entry.get("run_id", ""))

    def data_version(self, asset: str) -> str | None:
        return (self.entries.get(asset) or {}).get("data_version")

    def record(self, asset: str, built: Built) -> None:
        self.entries[asset] = {
            "data_version": built.data_version,
            "materialization": serialize_value(built.materialization),
            "checks": [serialize_value(c) for c in built.checks],
            "files": built.files,
            "run_id": built.run_id,
        }

    def forget(self, asset: str) -> None:
        self.entries.pop(asset, None)

    def save(self) -> None:
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.entries, sort_keys=True))
