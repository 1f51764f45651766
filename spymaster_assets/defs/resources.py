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
    """The data folder, a local folder or s3://bucket/prefix: raw vendor files in, lake
    parquet files out."""

    data_dir: str

    @property
    def layout(self) -> DataLayout:
        from spymaster_assets.storage import data_root

        return DataLayout(data_root(self.data_dir))

    def asset_path(
        self, asset_key: dg.AssetKey, partition: str | None, relative: str | None = None
    ) -> Path:
        """lake/<layer>/<name>/<partition>.parquet, or lake/<relative> when the asset says so."""
        if relative:
            return self.layout.root / "lake" / relative
        layer, *rest = asset_key.path
        return self.layout.lake_path(layer, rest[-1], partition)

    def staging_path(self, asset_key: dg.AssetKey, partition: str | None) -> Path:
        """A local file to stream a large table into, published by the IO manager after."""
        from spymaster_assets.storage import staging_path

        return staging_path(self.asset_path(asset_key, partition))


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write a table whole or not at all (temporary sibling, then rename)."""
    from spymaster_assets.storage import atomic_path

    with atomic_path(path) as tmp:
        frame.write_parquet(tmp, **PARQUET_WRITE)


class LakeIOManager(dg.ConfigurableIOManager):
    """Parquet for the assets that Dagster stores (the combined research file): written to a
    temporary sibling and renamed, so a failed run leaves the previous file, never half a file.
    The trading-day assets are written by the daily chain itself (defs/chain)."""

    lake: LakeResource

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        import polars as pl

        from spymaster_assets.storage import publish, size

        if obj is None:
            return
        partition = context.partition_key if context.has_partition_key else None
        relative = (context.definition_metadata or {}).get(LAKE_PATH)
        final = self.lake.asset_path(context.asset_key, partition, relative)
        if isinstance(obj, StagedParquet):
            if obj.path != final:
                publish(obj.path, final)
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
                "bytes": size(final),
            }
        )

    def load_input(self, context: dg.InputContext) -> pl.LazyFrame:
        from spymaster_assets.storage import scan_parquet

        upstream = context.upstream_output
        key = upstream.asset_key if upstream is not None else context.asset_key
        partition = context.asset_partition_key if context.has_asset_partitions else None
        path = self.lake.asset_path(key, partition)
        if not path.exists():
            raise FileNotFoundError(
                f"{key.to_user_string()} has no data for {partition or 'its only partition'} "
                f"(expected {path}); materialize it first"
            )
        return scan_parquet(path)


def make_resources(data_dir: str | os.PathLike, settings: SpymasterConfig | None = None) -> dict:
    """Every resource the assets need, for a data folder (tests use it with their own folders)."""
    lake = LakeResource(data_dir=str(data_dir))
    return {
        "settings": settings or SpymasterConfig(),
        "kernels": NumbaKernels(),
        "lake": lake,
        "io_manager": LakeIOManager(lake=lake),
    }
