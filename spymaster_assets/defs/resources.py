"""Resources shared by every asset: the configuration, the kernels, the lake and its IO manager.

Nothing heavy is imported here: polars and the kernels load when a step first needs them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import dagster as dg

from spymaster_assets.defs.kernels import NumbaKernels
from spymaster_assets.paths import DataLayout
from spymaster_assets.settings import SpymasterConfig

if TYPE_CHECKING:
    import polars as pl

# Fixed writer settings: the same frame always gives the same bytes.
# zstd level 1: a third faster to write than level 3 on the day's larger tables (trades,
# option flow) for files about a quarter larger; reading is as fast.
PARQUET_WRITE = {"compression": "zstd", "compression_level": 1, "statistics": True}
LAKE_PATH = "spymaster/lake_path"  # asset metadata: a path under lake/ for unpartitioned assets


class StagedParquet(NamedTuple):
    """A parquet file an asset already wrote next to its final path, renamed into place after."""

    path: Path
    rows: int


class LakeResource(dg.ConfigurableResource):
    """The data folder: raw vendor files in, lake parquet files out."""

    data_dir: str

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.data_dir))

    def asset_path(
        self, asset_key: dg.AssetKey, partition: str | None, relative: str | None = None
    ) -> Path:
        """lake/<layer>/<name>/<partition>.parquet, or lake/<relative> when the asset says so."""
        if relative:
            return self.layout.root / "lake" / relative
        layer, *rest = asset_key.path
        return self.layout.lake_path(layer, rest[-1], partition)

    def staging_path(self, asset_key: dg.AssetKey, partition: str | None) -> Path:
        from spymaster_assets.market.atomic import temporary_sibling

        final = self.asset_path(asset_key, partition)
        final.parent.mkdir(parents=True, exist_ok=True)
        return temporary_sibling(final)


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write a table whole or not at all (temporary sibling, then rename)."""
    from spymaster_assets.market.atomic import atomic_path

    with atomic_path(path) as tmp:
        frame.write_parquet(tmp, **PARQUET_WRITE)


class LakeIOManager(dg.ConfigurableIOManager):
    """Parquet for the assets that Dagster stores (the combined research file): written to a
    temporary sibling and renamed, so a failed run leaves the previous file, never half a file.
    The trading-day assets are written by the daily chain itself (defs/chain)."""

    lake: LakeResource

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        import polars as pl

        if obj is None:
            return
        partition = context.partition_key if context.has_partition_key else None
        relative = (context.definition_metadata or {}).get(LAKE_PATH)
        final = self.lake.asset_path(context.asset_key, partition, relative)
        if isinstance(obj, StagedParquet):
            final.parent.mkdir(parents=True, exist_ok=True)
            if obj.path != final:
                os.replace(obj.path, final)
            rows = obj.rows
        elif isinstance(obj, pl.DataFrame):
            write_parquet(obj, final)
            rows = obj.height
        else:
            raise TypeError(f"LakeIOManager cannot store {type(obj).__name__}")
        context.add_output_metadata(
            {
                "path": dg.MetadataValue.path(str(final)),
                "dagster/row_count": rows,
                "bytes": final.stat().st_size,
            }
        )

    def load_input(self, context: dg.InputContext) -> pl.LazyFrame:
        import polars as pl

        upstream = context.upstream_output
        key = upstream.asset_key if upstream is not None else context.asset_key
        partition = context.asset_partition_key if context.has_asset_partitions else None
        path = self.lake.asset_path(key, partition)
        if not path.exists():
            raise FileNotFoundError(
                f"{key.to_user_string()} has no data for {partition or 'its only partition'} "
                f"(expected {path}); materialize it first"
            )
        return pl.scan_parquet(path)


def make_resources(data_dir: str | os.PathLike, settings: SpymasterConfig | None = None) -> dict:
    """Every resource the assets need, for a data folder (tests use it with their own folders)."""
    lake = LakeResource(data_dir=str(data_dir))
    return {
        "settings": settings or SpymasterConfig(),
        "kernels": NumbaKernels(),
        "lake": lake,
        "io_manager": LakeIOManager(lake=lake),
    }
