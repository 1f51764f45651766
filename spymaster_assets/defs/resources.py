"""Resources shared by every asset: the configuration, the lake and its IO manager."""

import datetime as dt
import os
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import polars as pl

from spymaster_assets.defs.kernels import NumbaKernels
from spymaster_assets.market.atomic import atomic_path
from spymaster_assets.market.atomic import temporary_sibling as _temporary_sibling
from spymaster_assets.paths import DataLayout, default_data_dir
from spymaster_assets.settings import SpymasterConfig

# Fixed writer settings: the same frame always gives the same bytes.
PARQUET_WRITE = {"compression": "zstd", "compression_level": 3, "statistics": True}


class StagedParquet(NamedTuple):
    """A parquet file an asset already wrote next to its final path; the IO manager renames it."""

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
        final = self.asset_path(asset_key, partition)
        final.parent.mkdir(parents=True, exist_ok=True)
        return _temporary_sibling(final)


def trading_day_of(context: dg.AssetExecutionContext) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


LAKE_PATH = "spymaster/lake_path"  # asset metadata: a path under lake/ for unpartitioned assets
PARTITIONS_AS_DICT = "spymaster/partitions_as_dict"  # input metadata: load {partition: frame}
# silver/levels reads the bars of this many earlier trading days (SMA_200 needs 200 two-minute
# closes: about one session; three days cover early closes).
SMA_HISTORY_DAYS = 3


class LakeIOManager(dg.ConfigurableIOManager):
    """Parquet per asset and partition at lake/<layer>/<name>/<YYYY-MM-DD>.parquet.

    Writes go to a temporary sibling and are renamed into place, so a failed or killed run
    leaves the previous file (or none), never half a file. Inputs load as polars LazyFrames so
    downstream assets read only the columns and rows they need.
    """

    lake: LakeResource

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
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
            with atomic_path(final) as tmp:
                obj.write_parquet(tmp, **PARQUET_WRITE)
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

    def load_input(self, context: dg.InputContext) -> pl.LazyFrame | dict[str, pl.LazyFrame]:
        upstream = context.upstream_output
        key = upstream.asset_key if upstream is not None else context.asset_key
        if (context.definition_metadata or {}).get(PARTITIONS_AS_DICT):
            # A window of partitions (e.g. earlier trading days): the ones that exist, by key.
            keys = context.asset_partition_keys if context.has_asset_partitions else []
            paths = {k: self.lake.asset_path(key, k) for k in keys}
            return {k: pl.scan_parquet(p) for k, p in sorted(paths.items()) if p.exists()}
        partition = context.asset_partition_key if context.has_asset_partitions else None
        path = self.lake.asset_path(key, partition)
        if not path.exists():
            raise FileNotFoundError(self._missing_message(key, partition, path))
        return pl.scan_parquet(path)

    def _missing_message(self, key: dg.AssetKey, partition: str | None, path: Path) -> str:
        message = (
            f"{key.to_user_string()} has no data for {partition or 'its only partition'} "
            f"(expected {path}); materialize it first"
        )
        if partition and not any(
            p.exists() for p in self.lake.layout.raw_paths(dt.date.fromisoformat(partition))
        ):
            message += (
                f". There are no raw files for {partition} in {self.lake.layout.root / 'raw'}: "
                "a backfill launched from the asset graph also targets silver/levels and what "
                f"follows for up to {SMA_HISTORY_DAYS} trading days after its range (their "
                "SMA_200 reads the refreshed bars), and those days fail like this when they have "
                "no data. Backfill from the daily_chain job or with `spymaster backfill` to run "
                "exactly the chosen days (docs/operations.md)."
            )
        return message


def make_resources(data_dir: str | os.PathLike, settings: SpymasterConfig | None = None) -> dict:
    """Every resource the assets need, for a data folder (tests use it with their own folders)."""
    lake = LakeResource(data_dir=str(data_dir))
    return {
        "settings": settings or SpymasterConfig(),
        "kernels": NumbaKernels(),
        "lake": lake,
        "io_manager": LakeIOManager(lake=lake),
    }


@dg.definitions
def resources() -> dg.Definitions:
    # Every run (UI "Materialize", asset backfills, jobs) runs its steps in one process: a
    # process per step would pay ~4 s of imports and kernel loading for each of the 14 steps.
    return dg.Definitions(
        resources=make_resources(default_data_dir()), executor=dg.in_process_executor
    )
