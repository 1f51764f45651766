"""Bronze: the day's raw vendor files as clean, typed, front-month-only parquet tables."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import dagster as dg

from spymaster_assets.defs import check_helpers as ch
from spymaster_assets.defs.bronze import checks
from spymaster_assets.defs.daily import Day, DayOutput, daily_asset, iso
from spymaster_assets.defs.resources import StagedParquet
from spymaster_assets.defs.silver.checks import TOUCHES

if TYPE_CHECKING:
    import polars as pl

    from spymaster_assets.market.bronze_es import BronzeWindow


PROGRESS_EVERY_S = 5.0


def bronze_window(day: Day) -> BronzeWindow:
    from spymaster_assets.market.bronze_es import BronzeWindow

    settings = day.settings
    return BronzeWindow.for_day(
        day.windows, settings.bronze_margin_before_s, settings.barrier_window_s
    )


def _source_metadata(path, extra: dict) -> dict:
    from spymaster_assets.storage import size

    return {
        "source_file": dg.MetadataValue.path(str(path)),
        "source_bytes": size(path),
        **extra,
    }


@daily_asset(
    checks.ES_TRADES,
    group="bronze",
    kinds={"polars", "parquet", "databento"},
    raw=("trades",),
    checks=checks.ES_TRADES_CHECKS,
    description=(
        "Front-month ES trades of the trading day from the Databento GLBX.MDP3 trades file "
        "(ES.FUT parent symbology). The contract is the outright with the largest RTH volume; "
        "spreads and other expiries are dropped. Pre-market and RTH plus margins, sorted by "
        "(ts_event, sequence). Prices in ES points, sizes in contracts, times in UTC ns."
    ),
)
def es_trades(day: Day) -> DayOutput:
    from spymaster_assets.market.bronze_es import bronze_trades
    from spymaster_assets.schemas import bronze as schemas
    from spymaster_assets.storage import local_copy

    settings = day.settings
    path = day.lake.layout.existing_dbn_path("trades", day.day)
    with local_copy(path) as local:
        result = bronze_trades(
            local, day.day, day.windows, bronze_window(day), settings.front_month_error_share
        )
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
            checks.ES_TRADES, checks.DUPLICATES, result.duplicates_dropped, settings.max_duplicates
        ),
        ch.threshold_result(
            checks.ES_TRADES,
            checks.SEQUENCE_GAPS,
            result.sequence_gaps,
            settings.max_sequence_gaps,
        ),
    ]
    day.log.info(
        f"{day.day}: front month {front.raw_symbol} ({front.volume_share:.1%} of RTH outright "
        f"volume), {result.frame.height:,} of {result.records_read:,} trades kept"
    )
    return DayOutput(
        frame=result.frame,
        checks=results,
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
        },
    )


@daily_asset(
    checks.ES_MBP10,
    group="bronze",
    kinds={"polars", "parquet", "databento"},
    inputs={"es_trades": checks.ES_TRADES},
    raw=("mbp-10",),
    # after the touches, so barrier physics can read the books of this run as they stream by
    after=(TOUCHES,),
    checks=checks.ES_MBP10_CHECKS,
    description=(
        "Complete MBP-10 books (last record of each event, F_LAST) of the day's front-month "
        "contract, from the Databento GLBX.MDP3 mbp-10 file, streamed in chunks. Pre-market "
        "and RTH plus max(W_b, WEAK_LOOKBACK) before and W_b after. Prices in ES points (null "
        "for an empty level), sizes in contracts, times in UTC ns."
    ),
)
def es_mbp10(day: Day, es_trades: pl.LazyFrame) -> DayOutput:
    from spymaster_assets.market.bronze_es import bronze_mbp10
    from spymaster_assets.schemas import bronze as schemas
    from spymaster_assets.schemas.columns import schema_errors
    from spymaster_assets.threads import threads_per_run

    settings = day.settings
    front = es_trades.select("instrument_id", "es_contract").head(1).collect()
    if front.height == 0:
        raise dg.Failure(
            f"bronze/es_trades (trading day {day.day}): no front-month trades, cannot pick the book"
        )
    instrument_id, contract = front.row(0)
    path = day.lake.layout.existing_dbn_path("mbp-10", day.day)
    staging = day.lake.staging_path(checks.ES_MBP10, day.partition_key)
    started = time.perf_counter()
    next_report = [started + PROGRESS_EVERY_S]

    def progress(records: int) -> None:
        # Every log line is an event in the instance's storage: a few per file, not one a chunk.
        now = time.perf_counter()
        if now >= next_report[0]:
            next_report[0] = now + PROGRESS_EVERY_S
            day.log.debug(f"{day.day}: {records:,} MBP-10 records decoded ({now - started:.1f}s)")

    def observe(columns) -> None:  # assets of this run that read the book as it streams by
        for watcher in day.watchers:
            watcher.observe(columns.ts_event, columns.level_px, columns.level_null,
                            columns.level_sz, columns.side_depth)  # fmt: skip

    from spymaster_assets.storage import local_copy

    try:
        with local_copy(path) as local:
            result = bronze_mbp10(
                local,
                day.day,
                instrument_id,
                bronze_window(day),
                staging,
                settings.mbp_chunk_records,
                lambda frame: schema_errors(schemas.ES_MBP10, frame),
                progress,
                observe if day.watchers else None,
                background_encode=threads_per_run() > 1,
            )
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
            checks.ES_MBP10, checks.DUPLICATES, result.duplicates_dropped, settings.max_duplicates
        ),
        ch.threshold_result(
            checks.ES_MBP10,
            checks.SEQUENCE_GAPS,
            result.sequence_gaps,
            settings.max_sequence_gaps,
        ),
    ]
    day.log.info(
        f"{day.day}: {result.rows_written:,} complete {contract} books kept of "
        f"{result.records_read:,} MBP-10 records in {time.perf_counter() - started:.1f}s"
    )
    return DayOutput(
        staged=StagedParquet(staging, result.rows_written),
        checks=results,
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
        },
    )


@daily_asset(
    checks.SPY_OPTION_TRADES,
    group="bronze",
    kinds={"polars", "parquet", "polygon"},
    raw=("options",),
    checks=checks.SPY_OPTION_TRADES_CHECKS,
    description=(
        "SPY 0DTE option trades of the trading day from the Polygon/Massive trades_v1 flat "
        "file: root exactly SPY, expiring on the trading date, corrected/cancelled and "
        "zero-size prints dropped. Sorted by SIP time (UTC ns)."
    ),
)
def spy_option_trades(day: Day) -> DayOutput:
    from spymaster_assets.market.polygon_options import bronze_option_trades
    from spymaster_assets.schemas import bronze as schemas
    from spymaster_assets.storage import local_copy

    path = day.lake.layout.options_path(day.day)
    with local_copy(path) as local:
        result = bronze_option_trades(local, day.day, day.settings.csv_bad_row_tolerance)
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
    return DayOutput(
        frame=frame,
        checks=results,
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
        },
    )
