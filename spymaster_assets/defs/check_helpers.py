"""Building blocks of every asset check: partitioned specs, pandera results, rule results.

Checks run inside each asset's computation, on the data it just produced (no second read of
large tables). The daily chain records each result for its trading day (defs/chain), and
every result is also summarised in the materialization metadata as `check/<name>`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import dagster as dg

from spymaster_assets.defs.partitions import trading_days

if TYPE_CHECKING:
    import pandera.polars as pa
    import polars as pl

SCHEMA = "schema"
SCHEMA_DESCRIPTION = "Pandera schema of the stored table: columns, dtypes, value rules (blocking)."


def check_spec(
    asset: dg.AssetKey,
    name: str,
    description: str,
    *,
    blocking: bool = False,
    partitioned: bool = True,
) -> dg.AssetCheckSpec:
    # partitions_def makes each result belong to the trading day it was computed for. Dagster
    # marks it "preview"; it is what records per-partition check results, so we use it.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Specifying a partitions_def on an AssetCheckSpec"
        )
        return dg.AssetCheckSpec(
            name=name,
            asset=asset,
            description=description,
            blocking=blocking,
            partitions_def=trading_days if partitioned else None,
        )


def schema_spec(asset: dg.AssetKey, *, partitioned: bool = True) -> dg.AssetCheckSpec:
    return check_spec(asset, SCHEMA, SCHEMA_DESCRIPTION, blocking=True, partitioned=partitioned)


def schema_result(asset: dg.AssetKey, errors: list[str], rows: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=SCHEMA,
        passed=not errors,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows": rows,
            "errors": len(errors),
            "first_errors": "\n".join(errors[:5]) or "none",
        },
        description="schema valid"
        if not errors
        else f"{len(errors)} schema violations: " + "; ".join(errors[:3]),
    )


def validate_schema(
    asset: dg.AssetKey, schema: pa.DataFrameSchema, frame: pl.DataFrame
) -> dg.AssetCheckResult:
    from spymaster_assets.schemas.columns import schema_errors

    return schema_result(asset, schema_errors(schema, frame), frame.height)


def rules_result(
    asset: dg.AssetKey,
    name: str,
    failures: list[str],
    *,
    severity=dg.AssetCheckSeverity.ERROR,
    **metadata,
) -> dg.AssetCheckResult:
    """A check made of several rules: passes when no rule reports a failure."""
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=not failures,
        severity=severity,
        metadata={"failures": len(failures), "details": "\n".join(failures) or "none", **metadata},
        description="all rules hold" if not failures else "; ".join(failures[:3]),
    )


def threshold_result(
    asset: dg.AssetKey, name: str, value: float, limit: float, *, at_least: bool = False, **extra
) -> dg.AssetCheckResult:
    passed = value >= limit if at_least else value <= limit
    relation = ">=" if at_least else "<="
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"value": value, "limit": limit, **extra},
        description=f"{value:g} {relation} {limit:g}"
        if passed
        else f"{value:g} not {relation} {limit:g}",
    )


def summary_metadata(results: list[dg.AssetCheckResult]) -> dict[str, str]:
    """One `check/<name>` line per result for the materialization metadata."""
    return {
        f"check/{r.check_name}": f"{'PASSED' if r.passed else 'FAILED'} ({r.severity.value}): {r.description}"
        for r in results
    }
