"""Bronze ES tables from the day's Databento files: front-month trades and complete books.

Both keep the pre-market and regular-hours windows plus a margin (SPEC §3): from
`premarket_start - margin_before` to `rth_close + margin_after`. Rows are in (ts_event, sequence)
order, stable, so ties keep file order. The MBP-10 file is streamed chunk by chunk into a
parquet writer: memory does not grow with the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from spymaster_assets.market.dbn_format import (
    BOOK_KINDS,
    F_LAST,
    N_LEVELS,
    PRICE_SCALE,
    UNDEF_PRICE,
    level_field,
)
from spymaster_assets.market.dbn_reader import (
    instrument_symbols,
    iter_records,
    open_dbn,
    read_all_records,
)
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.front_month import FrontMonth, NoFrontMonthError, choose_front_month
from spymaster_assets.market.trading_calendar import SessionWindows
from spymaster_assets.schemas.bronze import ES_MBP10
from spymaster_assets.schemas.columns import empty_frame

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}


@dataclass(frozen=True)
class BronzeWindow:
    start_ns: int
    end_ns: int

    @classmethod
    def for_day(cls, windows: SessionWindows, before_s: float, after_s: float) -> BronzeWindow:
        return cls(
            windows.premarket_start_ns - int(before_s * 1e9),
            windows.rth_close_ns + int(after_s * 1e9),
        )

    def mask(self, ts_event: np.ndarray) -> np.ndarray:
        return (ts_event >= self.start_ns) & (ts_event < self.end_ns)


@dataclass
class TradesResult:
    frame: pl.DataFrame
    front_month: FrontMonth
    records_read: int
    out_of_order_recv: int  # ts_recv decreases in file order (files are sorted by ts_recv)
    out_of_order_event: int  # ts_event decreases among kept rows in file order
    first_ts: int | None
    last_ts: int | None


def _decreases(values: np.ndarray, previous: int | None = None) -> int:
    v = values.astype(np.int64)
    n = int(np.count_nonzero(np.diff(v) < 0))
    if previous is not None and len(v) and v[0] < previous:
        n += 1
    return n


def _prices(raw: np.ndarray) -> pl.Series:
    values = raw.astype(np.float64) / PRICE_SCALE
    return pl.Series(values).set(pl.Series(raw == UNDEF_PRICE), None)


def trades_frame(records: np.ndarray, es_contract: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts_event": records["ts_event"].astype(np.int64),
            "ts_recv": records["ts_recv"].astype(np.int64),
            "sequence": records["sequence"].astype(np.int64),
            "price": _prices(records["price"]),
            "size": records["size"].astype(np.int64),
            "side": records["side"].astype("U1"),
            "flags": records["flags"].astype(np.uint8),
            "instrument_id": records["instrument_id"].astype(np.int64),
            "es_contract": np.full(len(records), es_contract),
        }
    )


def bronze_trades(
    path: Path,
    trading_day: dt.date,
    windows: SessionWindows,
    window: BronzeWindow,
    error_share: float,
) -> TradesResult:
    """Front-month trades of the day; fails if the front month is not clearly dominant."""
    store = open_dbn(path, "trades", trading_day)
    records = read_all_records(store, path, trading_day)
    try:
        front = choose_front_month(
            records["instrument_id"],
            records["price"],
            records["size"],
            records["ts_event"],
            windows.rth_open_ns,
            windows.rth_close_ns,
            instrument_symbols(store, trading_day),
        )
    except NoFrontMonthError as exc:
        raise RawDataError(path, trading_day, str(exc)) from exc
    if front.volume_share < error_share:
        raise RawDataError(
            path,
            trading_day,
            f"front month {front.raw_symbol} has only {front.volume_share:.1%} of outright RTH "
            f"volume (< {error_share:.0%}): the data is not what it claims to be; volumes "
            f"{front.volumes}",
        )
    mine = records[
        (records["instrument_id"] == front.instrument_id) & window.mask(records["ts_event"])
    ]
    out_of_order_event = _decreases(mine["ts_event"])
    mine = mine[np.lexsort((mine["sequence"], mine["ts_event"]))]  # lexsort is stable
    frame = trades_frame(mine, front.raw_symbol)
    return TradesResult(
        frame=frame,
        front_month=front,
        records_read=len(records),
        out_of_order_recv=_decreases(records["ts_recv"]),
        out_of_order_event=out_of_order_event,
        first_ts=int(mine["ts_event"][0]) if len(mine) else None,
        last_ts=int(mine["ts_event"][-1]) if len(mine) else None,
    )


def mbp10_frame(records: np.ndarray) -> pl.DataFrame:
    columns: dict[str, object] = {
        "ts_event": records["ts_event"].astype(np.int64),
        "ts_recv": records["ts_recv"].astype(np.int64),
        "sequence": records["sequence"].astype(np.int64),
        "action": records["action"].astype("U1"),
        "side": records["side"].astype("U1"),
        "depth": records["depth"].astype(np.uint8),
        "price": _prices(records["price"]),
        "size": records["size"].astype(np.uint32),
        "flags": records["flags"].astype(np.uint8),
    }
    for k in range(N_LEVELS):
        for kind in BOOK_KINDS:
            name = level_field(kind, k)
            columns[name] = (
                _prices(records[name]) if kind.endswith("_px") else records[name].astype(np.uint32)
            )
    return pl.DataFrame(columns)


@dataclass
class Mbp10Result:
    records_read: int = 0
    instrument_records: int = 0  # records of the chosen contract, any flags, any time
    dropped_not_last: int = 0  # records of the contract without F_LAST (inside the window)
    rows_written: int = 0
    crossed_books: int = 0
    locked_books: int = 0
    out_of_order_recv: int = 0
    resorted: bool = False
    first_ts: int | None = None
    last_ts: int | None = None
    schema_errors: list[str] = field(default_factory=list)


def _book_state_counts(frame: pl.DataFrame) -> tuple[int, int]:
    both = frame["bid_px_00"].is_not_null() & frame["ask_px_00"].is_not_null()
    crossed = int((both & (frame["bid_px_00"] > frame["ask_px_00"])).sum())
    locked = int((both & (frame["bid_px_00"] == frame["ask_px_00"])).sum())
    return crossed, locked


def bronze_mbp10(
    path: Path,
    trading_day: dt.date,
    instrument_id: int,
    window: BronzeWindow,
    out_path: Path,
    chunk_records: int,
    validate: Callable[[pl.DataFrame], list[str]],
    progress: Callable[[int], None] | None = None,
) -> Mbp10Result:
    """Stream the day's MBP-10 file into `out_path` (parquet): chosen contract, F_LAST, window."""
    store = open_dbn(path, "mbp-10", trading_day)
    result = Mbp10Result()
    writer: pq.ParquetWriter | None = None
    last_recv: int | None = None
    last_key: tuple[int, int] | None = None
    in_order = True
    try:
        for chunk in iter_records(store, path, trading_day, chunk_records):
            result.records_read += len(chunk)
            result.out_of_order_recv += _decreases(chunk["ts_recv"], last_recv)
            last_recv = int(chunk["ts_recv"][-1]) if len(chunk) else last_recv
            ours = chunk["instrument_id"] == instrument_id
            result.instrument_records += int(ours.sum())
            in_window = ours & window.mask(chunk["ts_event"])
            complete = (chunk["flags"] & F_LAST) != 0
            result.dropped_not_last += int((in_window & ~complete).sum())
            kept = chunk[in_window & complete]
            if len(kept) == 0:
                continue
            ts, seq = kept["ts_event"].astype(np.int64), kept["sequence"].astype(np.int64)
            if last_key is not None and (int(ts[0]), int(seq[0])) < last_key:
                in_order = False
            if np.any((np.diff(ts) < 0) | ((np.diff(ts) == 0) & (np.diff(seq) < 0))):
                in_order = False
            last_key = (int(ts[-1]), int(seq[-1]))
            frame = mbp10_frame(kept)
            crossed, locked = _book_state_counts(frame)
            result.crossed_books += crossed
            result.locked_books += locked
            result.schema_errors.extend(validate(frame))
            table = frame.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(out_path, table.schema, **PARQUET_OPTIONS)
            writer.write_table(table)
            result.rows_written += len(kept)
            result.first_ts = (
                int(ts.min()) if result.first_ts is None else min(result.first_ts, int(ts.min()))
            )
            result.last_ts = (
                int(ts.max()) if result.last_ts is None else max(result.last_ts, int(ts.max()))
            )
            if progress:
                progress(result.records_read)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(empty_frame(ES_MBP10).to_arrow(), out_path, **PARQUET_OPTIONS)
    elif not in_order:
        # Rare: ts_event not monotone in file order. Re-sort on disk, stable on file order.
        resorted = out_path.with_name(out_path.name + ".sorted")
        pl.scan_parquet(out_path).sort(["ts_event", "sequence"], maintain_order=True).sink_parquet(
            resorted, compression="zstd"
        )
        resorted.replace(out_path)
        result.resorted = True
    return result
