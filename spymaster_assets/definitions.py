"""Root of the code location: every definition of the modules under `defs/`, with the shared
resources and the in-process executor (Celery workers when SPYMASTER_CELERY_BROKER is set).

Loading stays close to `import dagster` (every Dagster process loads it): the heavy libraries
load inside the steps, the code versions, column schemas and calendar come from the load cache
(defs/load_cache.py) unless the source changed, and the modules are loaded with Dagster's
`load_definitions_from_package_module` (the components loader `load_from_defs_folder` would add
a third of a second of plugin discovery and pyproject parsing to every process).
"""

import warnings

import dagster as dg

from spymaster_assets.defs.kernels import NumbaKernels
from spymaster_assets.defs.load_cache import load_cache
from spymaster_assets.settings import SpymasterConfig

# Dagster itself calls its deprecated InitResourceContext.dagster_run for nested resources.
warnings.filterwarnings(
    "ignore", message=".*InitResourceContext.dagster_run", category=DeprecationWarning
)


# What trading-day assets are handed and call by attribute (see defs/code_versions.py).
CODE_SERVICES = (NumbaKernels, SpymasterConfig)


def asset_functions(loaded: dg.Definitions) -> dict[str, tuple]:
    """The functions each asset runs: a trading-day asset's own inside the daily chain, the
    op's function otherwise."""
    from spymaster_assets.defs.chain.assets import DAILY_ASSETS

    functions: dict[str, tuple] = {a.name: a.functions for a in DAILY_ASSETS}
    for asset in loaded.assets or []:
        if isinstance(asset, dg.AssetsDefinition) and asset.is_executable:
            for key in asset.keys:
                functions.setdefault(key.to_user_string(), (asset.op.compute_fn.decorated_fn,))
    return functions


def _code_versions(loaded: dg.Definitions) -> dict[str, str]:
    from spymaster_assets.defs.code_versions import code_version

    return {name: code_version(fns, CODE_SERVICES) for name, fns in asset_functions(loaded).items()}


def _with_code_versions(loaded: dg.Definitions) -> dg.Definitions:
    """Each asset's code version is a hash of the code it runs (see defs/code_versions.py)."""
    versions = load_cache().get("code_versions", lambda: _code_versions(loaded))
    load_cache().save()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)  # map_asset_specs
        return loaded.map_asset_specs(
            func=lambda spec: spec.replace_attributes(
                code_version=versions[spec.key.to_user_string()]
            )
        )


def _load() -> dg.Definitions:
    from spymaster_assets import defs as defs_package
    from spymaster_assets.cluster import step_executor
    from spymaster_assets.defs.resources import make_resources
    from spymaster_assets.paths import default_data_dir

    # Every run executes in one process: the daily chain is one step per run anyway, and a
    # process per step would pay the imports and the kernels again. With a Celery broker
    # configured, the steps go to the workers instead (cluster.py).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)  # a stable loader in 1.13
        return dg.load_definitions_from_package_module(
            defs_package,
            resources=make_resources(default_data_dir()),
            executor=step_executor() or dg.in_process_executor,
        )


defs = _with_code_versions(_load())
