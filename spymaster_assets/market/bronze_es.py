"""Bronze ES tables from the day's Databento files: front-month trades and complete books.

Both keep the pre-market and regular-hours windows plus a margin (SPEC §3): from
`premarket_start - margin_before` to `rth_close + margin_after`. Rows are in (ts_event, sequence)
order, stable, so ties keep file order. The MBP-10 file is streamed chunk by chunk into a
parquet writer: memory does not grow with the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from spymaster_assets.market.book_columns import BookColumns, allocate, book_columns
from spymaster_assets.market.dbn_format import F_LAST, F_MAYBE_BAD_BOOK, PRICE_SCALE, UNDEF_PRICE
from spymaster_assets.market.dbn_reader import instrument_symbols, open_dbn
from spymaster_assets.market.dbn_stream import iter_record_chunks, read_all
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.front_month import FrontMonth, NoFrontMonthError, choose_front_month
from spymaster_assets.market.trading_calendar import SessionWindows
from spymaster_assets.schemas.bronze import ES_MBP10
from spymaster_assets.schemas.columns import empty_frame
from spymaster_assets.storage import scratch_sibling
from spymaster_assets.vocabulary import N_LEVELS, level_field

# The book is the one large table: fast lz4 pages, dictionaries only for the two code columns,
# statistics on the time columns so readers skip row groups outside their time windows (one row
# group per decoded chunk).
MBP10_PARQUET = {
    "compression": "lz4",
    "use_dictionary": ["action", "side"],
    "write_statistics": ["ts_event", "ts_recv"],
}


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
    duplicates_dropped: int  # exact copies of an earlier kept record
    sequence_gaps: int  # runs of the contract's records the vendor flagged after a channel gap
    first_ts: int | None
    last_ts: int | None


def _decreases(values: np.ndarray, previous: int | None = None) -> int:
    v = values.astype(np.int64)
    n = int(np.count_nonzero(np.diff(v) < 0))
    if previous is not None and len(v) and v[0] < previous:
        n += 1
    return n


def gap_runs(flags: np.ndarray, flagged_before: bool = False) -> int:
    """Sequence gaps the vendor saw: runs of records carrying F_MAYBE_BAD_BOOK.

    Databento sets the flag on a channel's records from an unrecoverable packet gap until the
    book is recovered, and it sees the whole channel. Raw `sequence` numbers cannot tell us
    this: a parent-symbology file holds a subset of the channel, so jumps between its records
    are normal. `flagged_before`: the previous chunk ended inside a flagged run."""
    flagged = (flags & F_MAYBE_BAD_BOOK) != 0
    if not len(flagged):
        return 0
    starts = np.count_nonzero(flagged[1:] & ~flagged[:-1])
    return int(starts + (flagged[0] and not flagged_before))


def _whole(records: np.ndarray) -> np.ndarray:
    """Each record as one opaque value (taking rows of it copies bytes, not 100 fields)."""
    return np.ascontiguousarray(records).view(np.dtype((np.void, records.dtype.itemsize)))


def first_occurrences(records: np.ndarray) -> np.ndarray:
    """Mask of the records that are not an exact copy (every byte, ts_recv included) of an
    earlier record of the array: a packet delivered twice, a file concatenated twice."""
    whole = _whole(records) if records.dtype.names else records  # fields, or already whole
    keep = np.zeros(len(whole), bool)
    if len(whole):
        keep[np.unique(whole, return_index=True)[1]] = True
    return keep


class RepeatedRecords:
    """Exact duplicates in a stream of chunks read in ts_recv order. A copy carries its
    original's ts_recv, so only records sharing a ts_recv with a neighbour (or with the last
    ts_recv of the previous chunk) can be copies: those few are compared byte by byte."""

    def __init__(self) -> None:
        self._tail = np.zeros(0, np.void)  # kept records of the last ts_recv seen so far
        self._tail_recv: int | None = None
        self.dropped = 0

    def keep(self, records: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Mask over `rows` of `records`: not a copy of an earlier record."""
        keep = np.ones(len(rows), bool)
        if len(rows) == 0:
            return keep
        recv = records["ts_recv"][rows]
        shared = np.zeros(len(rows), bool)
        same = recv[1:] == recv[:-1]
        shared[1:] |= same
        shared[:-1] |= same
        if self._tail_recv is not None:
            shared |= recv == self._tail_recv
        whole = _whole(records)
        candidates = np.flatnonzero(shared)
        if len(candidates):
            tail = self._tail if self._tail_recv is not None else whole[:0]
            first = first_occurrences(np.concatenate([tail, whole[rows[candidates]]]))
            keep[candidates] = first[len(tail) :]
        self.dropped += int(np.count_nonzero(~keep))
        last = recv[-1]
        run = len(recv) - int(np.argmax(recv[::-1] != last)) if (recv != last).any() else 0
        current = whole[rows[run:][keep[run:]]]
        if self._tail_recv == last:
            current = np.concatenate([self._tail, current])
        self._tail, self._tail_recv = current, int(last)
        return keep


def _char_column(codes: np.ndarray) -> pa.Array:
    """A one-character string column from uint8 codes, without a Python object per row.

    A byte outside ASCII (a damaged record) becomes "?": still valid UTF-8 in the file, and
    the schema check reports the value."""
    codes = np.where(codes < 128, codes, np.uint8(ord("?")))
    offsets = np.arange(len(codes) + 1, dtype=np.int32)
    return pa.StringArray.from_buffers(len(codes), pa.py_buffer(offsets), pa.py_buffer(codes))


def _prices(raw: np.ndarray) -> pl.Series:
    values = raw.astype(np.float64) / PRICE_SCALE
    return pl.Series(values).set(pl.Series(raw == UNDEF_PRICE), None)


def _in_key_order(ts_event: np.ndarray, sequence: np.ndarray) -> bool:
    """Already sorted by (ts_event, sequence), as a well-formed file nearly always is."""
    ts = ts_event.astype(np.int64)
    dts = np.diff(ts)
    return not np.any((dts < 0) | ((dts == 0) & (np.diff(sequence.astype(np.int64)) < 0)))


def _not_copies(records: np.ndarray) -> np.ndarray:
    """first_occurrences, fast for a file in ts_recv order (the vendor's): a copy carries its
    original's ts_recv, so only records that share a ts_recv are compared."""
    recv = records["ts_recv"].astype(np.int64)
    if len(recv) > 1 and np.any(np.diff(recv) < 0):
        return first_occurrences(records)
    return RepeatedRecords().keep(records, np.arange(len(records)))


def trades_frame(records: np.ndarray, es_contract: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts_event": records["ts_event"].astype(np.int64),
            "ts_recv": records["ts_recv"].astype(np.int64),
            "sequence": records["sequence"].astype(np.int64),
            "price": _prices(records["price"]),
            "size": records["size"].astype(np.int64),
            "side": pl.from_arrow(_char_column(records["side"].view(np.uint8))),
            "flags": records["flags"].astype(np.uint8),
            "instrument_id": records["instrument_id"].astype(np.int64),
        }
    ).with_columns(es_contract=pl.lit(es_contract, dtype=pl.String))


def bronze_trades(
    path: Path,
    trading_day: dt.date,
    windows: SessionWindows,
    window: BronzeWindow,
    error_share: float,
) -> TradesResult:
    """Front-month trades of the day; fails if the front month is not clearly dominant."""
    store = open_dbn(path, "trades", trading_day)
    records = read_all(path, trading_day, "trades")
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
    sequence_gaps = gap_runs(mine["flags"])
    unique = _not_copies(mine)
    mine = mine[unique]
    out_of_order_event = _decreases(mine["ts_event"])
    if not _in_key_order(mine["ts_event"], mine["sequence"]):
        mine = mine[np.lexsort((mine["sequence"], mine["ts_event"]))]  # lexsort is stable
    frame = trades_frame(mine, front.raw_symbol)
    return TradesResult(
        frame=frame,
        front_month=front,
        records_read=len(records),
        out_of_order_recv=_decreases(records["ts_recv"]),
        out_of_order_event=out_of_order_event,
        duplicates_dropped=int(np.count_nonzero(~unique)),
        sequence_gaps=sequence_gaps,
        first_ts=int(mine["ts_event"][0]) if len(mine) else None,
        last_ts=int(mine["ts_event"][-1]) if len(mine) else None,
    )


@cache
def _arrow_schema(names: tuple[str, ...]) -> pa.Schema:
    """The book table's Arrow schema: only prices may be null (an empty level, a record without
    a price); every other column is declared required, so its pages carry no null levels (a
    fifth less encoding work for the largest file of the lake)."""
    dtypes = {
        "ts_event": pa.int64(), "ts_recv": pa.int64(), "sequence": pa.int64(),
        "action": pa.string(), "side": pa.string(), "depth": pa.uint8(),
        "price": pa.float64(), "size": pa.uint32(), "flags": pa.uint8(),
    }  # fmt: skip
    fields = []
    for name in names:
        price = name == "price" or "_px_" in name
        dtype = dtypes.get(name) or (pa.float64() if price else pa.uint32())
        fields.append(pa.field(name, dtype, nullable=price))
    return pa.schema(fields)


@dataclass
class BookChunk:
    table: pa.Table
    crossed: int
    locked: int
    errors: list[str]
    columns: BookColumns


def mbp10_chunk(
    records: np.ndarray, rows: np.ndarray, buffer: BookColumns | None = None
) -> BookChunk:
    """The kept rows of one chunk as an Arrow table in the bronze schema's column order, the
    book state counts, and the schema's value rules checked on the raw integers. The columns
    are gathered into `buffer` (the table shares its memory: write it before the next chunk)."""
    c = book_columns(records, rows, buffer)
    columns: dict[str, pa.Array] = {
        "ts_event": pa.array(c.ts_event),
        "ts_recv": pa.array(c.ts_recv),
        "sequence": pa.array(c.sequence),
        "action": _char_column(c.action),
        "side": _char_column(c.side),
        "depth": pa.array(c.depth),
        "price": pa.array(c.price, mask=c.price_null),
        "size": pa.array(c.size),
        "flags": pa.array(c.flags),
    }
    for k in range(N_LEVELS):
        for j, side in enumerate(("bid", "ask")):
            col = 2 * k + j
            columns[level_field(f"{side}_px", k)] = pa.array(
                c.level_px[col], mask=c.level_null[col]
            )
        for j, side in enumerate(("bid", "ask")):
            columns[level_field(f"{side}_sz", k)] = pa.array(c.level_sz[2 * k + j])
        for j, side in enumerate(("bid", "ask")):
            columns[level_field(f"{side}_ct", k)] = pa.array(c.level_ct[2 * k + j])
    problems = {k: v for k, v in c.issues.items() if k not in ("crossed", "locked") and v}
    errors = [f"{name}: {count} rows" for name, count in problems.items()]
    table = pa.Table.from_pydict(columns, schema=_arrow_schema(tuple(columns)))
    return BookChunk(table, c.issues["crossed"], c.issues["locked"], errors, c)


@dataclass
class Mbp10Result:
    records_read: int = 0
    instrument_records: int = 0  # records of the chosen contract, any flags, any time
    dropped_not_last: int = 0  # records of the contract without F_LAST (inside the window)
    rows_written: int = 0
    crossed_books: int = 0
    locked_books: int = 0
    out_of_order_recv: int = 0
    duplicates_dropped: int = 0  # exact copies of an earlier kept book record
    sequence_gaps: int = 0  # flagged runs among the contract's records in the window (gap_runs)
    resorted: bool = False
    first_ts: int | None = None
    last_ts: int | None = None
    schema_errors: list[str] = field(default_factory=list)


def _book_state_counts(frame: pl.DataFrame) -> tuple[int, int]:
    both = frame["bid_px_00"].is_not_null() & frame["ask_px_00"].is_not_null()
    crossed = int((both & (frame["bid_px_00"] > frame["ask_px_00"])).sum())
    locked = int((both & (frame["bid_px_00"] == frame["ask_px_00"])).sum())
    return crossed, locked


def _observe_and_write(
    observe: Callable[[BookColumns], None] | None, writer: pq.ParquetWriter, books: BookChunk
) -> None:
    """The second thread's share of a chunk: the watchers (barrier physics, in compiled loops
    that release the GIL) and the parquet encoding, while the first decodes the next chunk."""
    if observe is not None:
        observe(books.columns)
    writer.write_table(books.table)


def bronze_mbp10(
    path: Path,
    trading_day: dt.date,
    instrument_id: int,
    window: BronzeWindow,
    out_path: Path,
    chunk_records: int,
    validate: Callable[[pl.DataFrame], list[str]],
    progress: Callable[[int], None] | None = None,
    observe: Callable[[BookColumns], None] | None = None,
    background_encode: bool = False,
) -> Mbp10Result:
    """Stream the day's MBP-10 file into `out_path` (parquet): chosen contract, F_LAST, window.

    `observe`, when given, sees the columns of every chunk of kept books as they are written
    (in file order; `result.resorted` says whether the file had to be re-sorted after).
    `background_encode` encodes parquet in a second thread while the next chunk is decoded:
    faster for a run alone on the machine, no faster when runs share the cores."""
    open_dbn(path, "mbp-10", trading_day)  # metadata: dataset, schema, date
    result = Mbp10Result()
    writer: pq.ParquetWriter | None = None
    last_recv: int | None = None
    last_key: tuple[int, int] | None = None
    in_order = True
    in_gap = False
    repeated = RepeatedRecords()
    # Reused column buffers (fresh memory per chunk would cost as much in page faults as the
    # gathering). Encoded in this thread by default: a run uses one core, and the daemon runs
    # two at once. In the background, a chunk's table shares its buffer while it is encoded,
    # so two buffers take turns.
    encoder = ThreadPoolExecutor(max_workers=1) if background_encode else None
    pending: Future | None = None
    buffers = [allocate(max(1, chunk_records)) for _ in range(2 if background_encode else 1)]
    turn = 0
    try:
        for chunk in iter_record_chunks(path, trading_day, "mbp-10", chunk_records):
            result.records_read += len(chunk)
            result.out_of_order_recv += _decreases(chunk["ts_recv"], last_recv)
            last_recv = int(chunk["ts_recv"][-1]) if len(chunk) else last_recv
            ours = chunk["instrument_id"] == instrument_id
            result.instrument_records += int(np.count_nonzero(ours))
            in_window = ours & window.mask(chunk["ts_event"])
            window_flags = chunk["flags"][in_window]
            result.sequence_gaps += gap_runs(window_flags, in_gap)
            if len(window_flags):
                in_gap = bool(window_flags[-1] & F_MAYBE_BAD_BOOK)
            complete = (chunk["flags"] & F_LAST) != 0
            result.dropped_not_last += int(np.count_nonzero(in_window & ~complete))
            rows = np.flatnonzero(in_window & complete)
            rows = rows[repeated.keep(chunk, rows)]
            if len(rows) == 0:
                continue
            ts = chunk["ts_event"][rows].view(np.int64)
            seq = chunk["sequence"][rows].astype(np.int64)
            if last_key is not None and (int(ts[0]), int(seq[0])) < last_key:
                in_order = False
            if not _in_key_order(ts, seq):
                in_order = False
            last_key = (int(ts[-1]), int(seq[-1]))
            books = mbp10_chunk(chunk, rows, buffers[turn])
            turn = (turn + 1) % len(buffers)
            if observe is not None and encoder is None:
                observe(books.columns)
            result.crossed_books += books.crossed
            result.locked_books += books.locked
            result.schema_errors.extend(books.errors)
            if writer is None:
                result.schema_errors.extend(validate(pl.from_arrow(books.table.slice(0, 1000))))
                writer = pq.ParquetWriter(out_path, books.table.schema, **MBP10_PARQUET)
            if pending is not None:
                pending.result()
            if encoder is None:
                writer.write_table(books.table)
            else:
                pending = encoder.submit(_observe_and_write, observe, writer, books)
            result.rows_written += len(rows)
            result.first_ts = (
                int(ts.min()) if result.first_ts is None else min(result.first_ts, int(ts.min()))
            )
            result.last_ts = (
                int(ts.max()) if result.last_ts is None else max(result.last_ts, int(ts.max()))
            )
            if progress:
                progress(result.records_read)
        if pending is not None:
            pending.result()
    finally:
        if encoder is not None:
            encoder.shutdown(wait=True)
        if writer is not None:
            writer.close()
    result.duplicates_dropped = repeated.dropped
    if writer is None:
        empty = empty_frame(ES_MBP10).to_arrow()
        pq.write_table(empty.cast(_arrow_schema(tuple(empty.column_names))), out_path,
                       **MBP10_PARQUET)  # fmt: skip
    elif not in_order:
        # Rare: ts_event not monotone in file order. Re-sort on disk, stable on file order.
        resorted = scratch_sibling(out_path, "sorted")
        try:
            # the same page compression and time statistics as the streamed file
            pl.scan_parquet(out_path).sort(
                ["ts_event", "sequence"], maintain_order=True
            ).sink_parquet(
                resorted, compression="lz4", statistics=True, row_group_size=max(1, chunk_records)
            )
            resorted.replace(out_path)
        finally:
            resorted.unlink(missing_ok=True)
        result.resorted = True
    return result
