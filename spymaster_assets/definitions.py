"""Root of the code location: everything under `defs/` is loaded by Dagster's defs folder loader."""

import warnings
from pathlib import Path

import dagster as dg

from spymaster_assets.defs.code_versions import code_version


def _with_code_versions(loaded: dg.Definitions) -> dg.Definitions:
    """Each asset's code version is a hash of the code it runs (see defs/code_versions.py)."""
    versions = {
        key: code_version(asset.op.compute_fn.decorated_fn)
        for asset in loaded.assets or []
        if isinstance(asset, dg.AssetsDefinition) and asset.is_executable
        for key in asset.keys
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)  # map_asset_specs
        return loaded.map_asset_specs(
            func=lambda spec: spec.replace_attributes(code_version=versions[spec.key])
        )


defs = _with_code_versions(
    dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent)
)
