"""Where raw vendor files and lake outputs live under the data folder (SPEC §3)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "SPYMASTER_DATA_DIR"
DBN_SCHEMAS = ("trades", "mbp-10")


def default_data_dir() -> str:
    """$SPYMASTER_DATA_DIR (a folder or s3://bucket/prefix), else ./data."""
    return os.environ.get(DATA_DIR_ENV) or "data"


@dataclass(frozen=True)
class DataLayout:
    """Paths under `root`: a `Path`, or a `UPath` of an object store (storage.data_root)."""

    root: Path

    @property
    def databento_dir(self) -> Path:
        return self.root / "raw" / "databento" / "glbx-mdp3"

    @property
    def polygon_dir(self) -> Path:
        return self.root / "raw" / "polygon" / "us_options_opra" / "trades_v1"

    def dbn_path(self, schema: str, day: dt.date, compressed: bool = True) -> Path:
        name = f"glbx-mdp3-{day:%Y%m%d}.{schema}.dbn" + (".zst" if compressed else "")
        return self.databento_dir / schema / name

    def existing_dbn_path(self, schema: str, day: dt.date) -> Path:
        """The day's file: `.dbn.zst` if present, else plain `.dbn`, else the expected `.zst`."""
        zst = self.dbn_path(schema, day)
        plain = self.dbn_path(schema, day, compressed=False)
        return plain if not zst.exists() and plain.exists() else zst

    def options_path(self, day: dt.date) -> Path:
        return self.polygon_dir / f"{day:%Y}" / f"{day:%m}" / f"{day:%Y-%m-%d}.csv.gz"

    def raw_path(self, source: str, day: dt.date) -> Path:
        """The day's raw file of a source: "trades", "mbp-10" (Databento) or "options"."""
        return (
            self.options_path(day) if source == "options" else self.existing_dbn_path(source, day)
        )

    def raw_paths(self, day: dt.date) -> list[Path]:
        return [self.existing_dbn_path(s, day) for s in DBN_SCHEMAS] + [self.options_path(day)]

    def lake_dir(self, layer: str, name: str) -> Path:
        return self.root / "lake" / layer / name

    def lake_path(self, layer: str, name: str, partition: str | None) -> Path:
        folder = self.lake_dir(layer, name)
        return folder / f"{partition}.parquet" if partition else folder.with_suffix(".parquet")

    def relative(self, path: Path) -> str:
        """`path` relative to the data folder, as `modified_times` names it."""
        return str(path)[len(str(self.root)) :].lstrip("/")

    def raw_files(self) -> dict[str, int]:
        """Every raw file, relative to the data folder, with its modification time (ns)."""
        from spymaster_assets.storage import modified_times

        return {f"raw/{k}": v for k, v in modified_times(self.root / "raw").items()}

    def raw_times(self, day: dt.date, raw_files: dict[str, int]) -> list[int | None]:
        """When each of the day's three raw files was written, from a `raw_files()` listing
        (None: missing); a DBN file as `.dbn.zst`, else plain `.dbn`, like existing_dbn_path."""
        times = [
            raw_files.get(self.relative(self.dbn_path(s, day)))
            or raw_files.get(self.relative(self.dbn_path(s, day, compressed=False)))
            for s in DBN_SCHEMAS
        ]
        return [*times, raw_files.get(self.relative(self.options_path(day)))]

    def raw_days(self, raw_files: dict[str, int] | None = None) -> list[dt.date]:
        """Every date for which at least one raw file is present."""
        days: set[dt.date] = set()
        for name in raw_files if raw_files is not None else self.raw_files():
            base = name.rsplit("/", 1)[-1]
            try:
                if base.startswith("glbx-mdp3-") and ".dbn" in base:
                    days.add(dt.datetime.strptime(base[10:18], "%Y%m%d").date())
                elif base.endswith(".csv.gz") and name.startswith("raw/polygon/"):
                    days.add(dt.date.fromisoformat(base[:10]))
            except ValueError:
                continue
        return sorted(days)
