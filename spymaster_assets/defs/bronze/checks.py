"""Bronze asset checks: the pandera schema (blocking) and data-quality checks (WARN).

They are evaluated inside each asset's step, on the data the step just produced, so the large
MBP-10 table is validated chunk by chunk while it streams instead of being read back. Each
result is also summarised in the materialization metadata, where backfills cannot lose it.
"""

import dagster as dg
import pandera.errors
import pandera.polars as pa
import polars as pl

from spymaster_assets.defs.partitions import trading_days

ES_TRADES = dg.AssetKey(["bronze", "es_trades"])
ES_MBP10 = dg.AssetKey(["bronze", "es_mbp10"])
SPY_OPTION_TRADES = dg.AssetKey(["bronze", "spy_option_trades"])

SCHEMA = "schema"
FRONT_MONTH_SHARE = "front_month_share"
TIMESTAMP_ORDER = "timestamp_order"
CROSSED_BOOKS = "crossed_books"
BAD_ROWS = "bad_rows"

_DESCRIPTIONS = {
    SCHEMA: "Pandera schema of the stored table: columns, dtypes, value rules (blocking).",
    FRONT_MONTH_SHARE: "The chosen contract carries at least the configured share of outright RTH volume.",
    TIMESTAMP_ORDER: "The raw file is in ts_recv order, as Databento ships it.",
    CROSSED_BOOKS: "Complete (F_LAST) books of the chosen contract are not crossed.",
    BAD_ROWS: "No unparsable rows in the options flat file (some are tolerated, and counted).",
}


def spec(asset: dg.AssetKey, name: str) -> dg.AssetCheckSpec:
    # partitions_def makes each result belong to the trading day it was computed for.
    return dg.AssetCheckSpec(
        name=name,
        asset=asset,
        description=_DESCRIPTIONS[name],
        blocking=(name == SCHEMA),
        partitions_def=trading_days,
    )


ES_TRADES_CHECKS = [spec(ES_TRADES, n) for n in (SCHEMA, FRONT_MONTH_SHARE, TIMESTAMP_ORDER)]
ES_MBP10_CHECKS = [spec(ES_MBP10, n) for n in (SCHEMA, CROSSED_BOOKS, TIMESTAMP_ORDER)]
SPY_OPTION_TRADES_CHECKS = [spec(SPY_OPTION_TRADES, n) for n in (SCHEMA, BAD_ROWS)]


def schema_errors(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[str]:
    """Every schema violation of a collected frame, one line each (empty when valid)."""
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        lines = []
        for row in cases.head(20).iter_rows(named=True):
            lines.append(
                f"{row.get('column')}: {row.get('check')} failed (e.g. {row.get('failure_case')})"
            )
        return lines or [str(exc)[:500]]
    except pandera.errors.SchemaError as exc:
        return [str(exc)[:500]]
    return []


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
