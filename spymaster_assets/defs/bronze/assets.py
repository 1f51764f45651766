"""Bronze: the day's raw vendor files as clean, typed, front-month-only parquet tables."""

import time

import dagster as dg
import polars as pl

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.bronze import checks
from spymaster_assets.defs.column_schema import column_schema
from spymaster_assets.defs.daily_assets import iso
from spymaster_assets.defs.partitions import trading_days
from spymaster_assets.defs.resources import LakeResource, StagedParquet, trading_day_of
from spymaster_assets.market.bronze_es import BronzeWindow, bronze_mbp10, bronze_trades
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.polygon_options import bronze_option_trades
from spymaster_assets.market.trading_calendar import SessionWindows, session_windows
from spymaster_assets.schemas import bronze as schemas
from spymaster_assets.settings import SpymasterConfig


def _window(settings: SpymasterConfig, windows: SessionWindows) -> BronzeWindow:
    return BronzeWindow.for_day(windows, settings.bronze_margin_before_s, settings.barrier_window_s)


def _fail(exc: RawDataError) -> dg.Failure:
    return dg.Failure(
        description=str(exc),
        metadata={"file": exc.path, "trading_day": exc.trading_day, "problem": exc.problem},
    )


def _source_metadata(path, extra: dict) -> dict:
    return {
        "source_file": dg.MetadataValue.path(str(path)),
        "source_bytes": path.stat().st_size,
        **extra,
    }


@dg.asset(
    key=checks.ES_TRADES,
    partitions_def=trading_days,
    metadata={"dagster/column_schema": column_schema(schemas.ES_TRADES)},
    group_name="bronze",
    kinds={"polars", "parquet", "databento"},
    check_specs=checks.ES_TRADES_CHECKS,
    description=(
        "Front-month ES trades of the trading day from the Databento GLBX.MDP3 trades file "
        "(ES.FUT parent symbology). The contract is the outright with the largest RTH volume; "
        "spreads and other expiries are dropped. Pre-market and RTH plus margins, sorted by "
        "(ts_event, sequence). Prices in ES points, sizes in contracts, times in UTC ns."
    ),
)
def es_trades(context: dg.AssetExecutionContext, settings: SpymasterConfig, lake: LakeResource):
    day = trading_day_of(context)
    windows = session_windows(day)
    path = lake.layout.existing_dbn_path("trades", day)
    try:
        result = bronze_trades(
            path, day, windows, _window(settings, windows), settings.front_month_error_share
        )
    except RawDataError as exc:
        raise _fail(exc) from exc
    front = result.front_month
    results = [
        ch.validate_schema(checks.ES_TRADES, schemas.ES_TRADES, result.frame),
        ch.threshold_result(
            checks.ES_TRADES,
            checks.FRONT_MONTH_SHARE,
            round(front.volume_share, 4),
            settings.front_month_warn_share,
            at_least=True,
            contract=front.raw_symbol,
        ),
        ch.threshold_result(
            checks.ES_TRADES,
            checks.TIMESTAMP_ORDER,
            result.out_of_order_recv,
            settings.max_out_of_order,
        ),
        ch.threshold_result(
            checks.ES_TRADES,
            checks.DUPLICATES,
            result.duplicates_dropped,
            settings.max_duplicates,
        ),
        ch.threshold_result(
            checks.ES_TRADES,
            checks.SEQUENCE_GAPS,
            result.sequence_gaps,
            settings.max_sequence_gaps,
        ),
    ]
    context.log.info(
        f"{day}: front month {front.raw_symbol} ({front.volume_share:.1%} of RTH outright volume), "
        f"{result.frame.height:,} of {result.records_read:,} trades kept"
    )
    yield dg.Output(
        result.frame,
        metadata={
            **_source_metadata(path, {"records_read": result.records_read}),
            "records_kept": result.frame.height,
            "es_contract": front.raw_symbol,
            "front_month_share": round(front.volume_share, 4),
            "front_month_method": front.method,
            "outright_rth_volumes": dg.MetadataValue.json(front.volumes),
            "out_of_order_ts_recv": result.out_of_order_recv,
            "out_of_order_ts_event": result.out_of_order_event,
            "duplicates_dropped": result.duplicates_dropped,
            "sequence_gaps": result.sequence_gaps,
            "first_ts_event": iso(result.first_ts),
            "last_ts_event": iso(result.last_ts),
            **ch.summary_metadata(results),
        },
    )
    yield from results


@dg.asset(
    key=checks.ES_MBP10,
    partitions_def=trading_days,
    metadata={"dagster/column_schema": column_schema(schemas.ES_MBP10)},
    group_name="bronze",
    kinds={"polars", "parquet", "databento"},
    deps=[checks.ES_TRADES],
    check_specs=checks.ES_MBP10_CHECKS,
    description=(
        "Complete MBP-10 books (last record of each event, F_LAST) of the day's front-month "
        "contract, from the Databento GLBX.MDP3 mbp-10 file, streamed in chunks. Pre-market "
        "and RTH plus max(W_b, WEAK_LOOKBACK) before and W_b after. Prices in ES points (null "
        "for an empty level), sizes in contracts, times in UTC ns."
    ),
)
def es_mbp10(context: dg.AssetExecutionContext, settings: SpymasterConfig, lake: LakeResource):
    day = trading_day_of(context)
    windows = session_windows(day)
    trades_path = lake.asset_path(checks.ES_TRADES, context.partition_key)
    front = pl.read_parquet(trades_path, columns=["instrument_id", "es_contract"], n_rows=1)
    if front.height == 0:
        raise dg.Failure(
            f"{trades_path} (trading day {day}): no front-month trades, cannot pick the book"
        )
    instrument_id, contract = front.row(0)
    path = lake.layout.existing_dbn_path("mbp-10", day)
    staging = lake.staging_path(checks.ES_MBP10, context.partition_key)
    started = time.perf_counter()

    def progress(records: int) -> None:
        context.log.debug(
            f"{day}: {records:,} MBP-10 records decoded ({time.perf_counter() - started:.1f}s)"
        )

    try:
        result = bronze_mbp10(
            path,
            day,
            instrument_id,
            _window(settings, windows),
            staging,
            settings.mbp_chunk_records,
            lambda frame: ch.schema_errors(schemas.ES_MBP10, frame),
            progress,
        )
    except RawDataError as exc:
        staging.unlink(missing_ok=True)
        raise _fail(exc) from exc
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    results = [
        ch.schema_result(checks.ES_MBP10, result.schema_errors, result.rows_written),
        ch.threshold_result(
            checks.ES_MBP10,
            checks.CROSSED_BOOKS,
            result.crossed_books,
            settings.max_crossed_books,
            locked_books=result.locked_books,
        ),
        ch.threshold_result(
            checks.ES_MBP10,
            checks.TIMESTAMP_ORDER,
            result.out_of_order_recv,
            settings.max_out_of_order,
        ),
        ch.threshold_result(
            checks.ES_MBP10,
            checks.DUPLICATES,
            result.duplicates_dropped,
            settings.max_duplicates,
        ),
        ch.threshold_result(
            checks.ES_MBP10,
            checks.SEQUENCE_GAPS,
            result.sequence_gaps,
            settings.max_sequence_gaps,
        ),
    ]
    context.log.info(
        f"{day}: {result.rows_written:,} complete {contract} books kept of {result.records_read:,} "
        f"MBP-10 records in {time.perf_counter() - started:.1f}s"
    )
    yield dg.Output(
        StagedParquet(staging, result.rows_written),
        metadata={
            **_source_metadata(path, {"records_read": result.records_read}),
            "records_kept": result.rows_written,
            "es_contract": contract,
            "contract_records": result.instrument_records,
            "dropped_without_f_last": result.dropped_not_last,
            "crossed_books": result.crossed_books,
            "locked_books": result.locked_books,
            "out_of_order_ts_recv": result.out_of_order_recv,
            "duplicates_dropped": result.duplicates_dropped,
            "sequence_gaps": result.sequence_gaps,
            "resorted_on_ts_event": result.resorted,
            "first_ts_event": iso(result.first_ts),
            "last_ts_event": iso(result.last_ts),
            **ch.summary_metadata(results),
        },
    )
    yield from results


@dg.asset(
    key=checks.SPY_OPTION_TRADES,
    partitions_def=trading_days,
    metadata={"dagster/column_schema": column_schema(schemas.SPY_OPTION_TRADES)},
    group_name="bronze",
    kinds={"polars", "parquet", "polygon"},
    check_specs=checks.SPY_OPTION_TRADES_CHECKS,
    description=(
        "SPY 0DTE option trades of the trading day from the Polygon/Massive trades_v1 flat "
        "file: root exactly SPY, expiring on the trading date, corrected/cancelled and "
        "zero-size prints dropped. Sorted by SIP time (UTC ns)."
    ),
)
def spy_option_trades(
    context: dg.AssetExecutionContext, settings: SpymasterConfig, lake: LakeResource
):
    day = trading_day_of(context)
    path = lake.layout.options_path(day)
    try:
        result = bronze_option_trades(path, day, settings.csv_bad_row_tolerance)
    except RawDataError as exc:
        raise _fail(exc) from exc
    frame = result.frame
    results = [
        ch.validate_schema(checks.SPY_OPTION_TRADES, schemas.SPY_OPTION_TRADES, frame),
        ch.threshold_result(
            checks.SPY_OPTION_TRADES,
            checks.BAD_ROWS,
            result.bad_rows,
            0,
            examples="\n".join(result.bad_row_examples) or "none",
        ),
    ]
    ts = frame["ts_ns"]
    yield dg.Output(
        frame,
        metadata={
            **_source_metadata(path, {"records_read": result.rows_read}),
            "records_kept": frame.height,
            "bad_rows": result.bad_rows,
            "other_underlyings_dropped": result.other_underlyings,
            "other_expiries_dropped": result.other_expiries,
            "corrected_dropped": result.corrected,
            "zero_size_dropped": result.zero_size,
            "strikes": frame["strike"].n_unique(),
            "first_ts": iso(ts.min() if frame.height else None),
            "last_ts": iso(ts.max() if frame.height else None),
            **ch.summary_metadata(results),
        },
    )
    yield from results
