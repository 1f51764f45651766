"""Whether an asset-day is current: built at the data version the chain would compute now.

An asset's data version is Dagster's logical version of its code version, the configuration,
the data versions of the same-day assets it reads and the raw files it reads (size and time).
The chain computes it before each asset: a current asset-day (same version, files unchanged in
the lake, `manifest.DayManifest.current`) is recorded again instead of built. `spymaster
backfill` asks the same question of whole days and leaves the current ones out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
from dagster._core.definitions.data_version import DataVersion, compute_logical_data_version

from spymaster_assets.defs.chain.manifest import Built, DayManifest, manifest_path
from spymaster_assets.defs.daily import DailyAsset
from spymaster_assets.paths import DataLayout
from spymaster_assets.storage import file_identity

CONFIGURATION_KEY = dg.AssetKey(["spymaster", "configuration"])


def earlier_trading_days(day: dt.date, n: int) -> list[dt.date]:
    from spymaster_assets.market.trading_calendar import trading_days

    return trading_days(day - dt.timedelta(days=3 * n + 7), day)[-n - 1 : -1]


def configuration_version(settings: dg.ConfigurableResource) -> str:
    return hashlib.sha256(
        json.dumps(settings.model_dump(), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]


def raw_file_versions(
    asset: DailyAsset, layout: DataLayout, day: dt.date
) -> dict[dg.AssetKey, DataVersion]:
    """The raw files the asset reads for `day` (silver/levels: the earlier days' trades too),
    each as a version made of its size and modification time (ETag on an object store)."""
    paths: list[Path] = [layout.raw_path(source, day) for source in asset.raw]
    if asset.earlier_days:  # silver/levels: the earlier days' trades (SMA_200)
        paths += [
            layout.existing_dbn_path("trades", prior)
            for prior in earlier_trading_days(day, asset.earlier_days)
        ]
    versions = {}
    for path in paths:
        identity = file_identity(path)
        text = ":".join(str(part) for part in identity) if identity else "missing"
        versions[dg.AssetKey(["raw", path.name])] = DataVersion(text)
    return versions


def data_version(
    code_version: str,
    upstream: Mapping[dg.AssetKey, DataVersion],
    raw: Mapping[dg.AssetKey, DataVersion],
    configuration: str,
) -> str:
    inputs = {**upstream, **raw, CONFIGURATION_KEY: DataVersion(configuration)}
    return compute_logical_data_version(code_version, inputs).value


def current_builds(
    day: dt.date,
    assets: Sequence[DailyAsset],
    code_versions: Mapping[dg.AssetKey, str],
    layout: DataLayout,
    configuration: str,
) -> list[Built] | None:
    """The last builds of `assets` (in dependency order) for `day` when every one is current and
    passed its blocking checks (a run would record the day again and fail nothing), else None."""
    manifest = DayManifest.load(manifest_path(layout, day))
    versions: dict[dg.AssetKey, str] = {}
    builds = []
    for asset in assets:
        upstream = {}
        for key in asset.upstream:
            version = versions.get(key) or manifest.data_version(key.to_user_string())
            if version is None:
                return None
            upstream[key] = DataVersion(version)
        version = data_version(
            code_versions.get(asset.key) or "",
            upstream,
            raw_file_versions(asset, layout, day),
            configuration,
        )
        built = manifest.current(asset.name, version)
        if built is None:
            return None
        for check in built.checks:
            if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR:
                return None
        versions[asset.key] = version
        builds.append(built)
    return builds
