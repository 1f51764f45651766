"""Bronze SPY 0DTE option trades from a Polygon/Massive `trades_v1` flat file (CSV.gz).

Keeps tickers whose root is exactly SPY and whose expiry is the trading date, drops corrected
or cancelled prints (`correction != 0`) and zero-size prints. Unparsable rows are counted and
reported; above `bad_row_tolerance` (a fraction of all rows) the file is refused.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from spymaster_assets.market.errors import RawDataError

POLYGON_COLUMNS = [
    "ticker",
    "conditions",
    "correction",
    "exchange",
    "price",
    "sip_timestamp",
    "size",
]
SPY_TICKER = r"^O:SPY[0-9]{6}[CP][0-9]{8}$"  # ASCII digits: an OCC ticker, fixed width


@dataclass
class OptionsResult:
    frame: pl.DataFrame
    rows_read: int
    bad_rows: int
    bad_row_examples: list[str]
    other_underlyings: int
    other_expiries: int
    corrected: int
    zero_size: int


EXTRA_FIELDS = "__extra_fields__"


def gunzip(raw: bytes) -> bytes:
    """Every member of a gzip file, in one pass (a damaged or cut file raises)."""
    parts = []
    while raw:
        inflater = zlib.decompressobj(wbits=31)
        parts.append(inflater.decompress(raw))
        if not inflater.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        raw = inflater.unused_data.lstrip(b"\0")  # members may be padded with zeros
    return b"".join(parts) if len(parts) != 1 else parts[0]


def _read_text_frame(path: Path, trading_day: dt.date) -> pl.DataFrame:
    """Every row as strings in the vendor's columns, plus EXTRA_FIELDS (non-null when a row has
    more fields than the header): a ragged row is a bad row to count, not a broken file."""
    try:
        data = gunzip(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise RawDataError(path, trading_day, f"unreadable gzip: {exc}") from exc
    if not data or data.isspace():
        raise RawDataError(path, trading_day, "empty CSV (no header)")
    header_line, _, body = data.partition(b"\n")
    try:
        header = pl.read_csv(header_line.rstrip(b"\r") + b"\n", infer_schema=False).columns
        if len(set(header)) != len(header):
            raise RawDataError(path, trading_day, f"malformed CSV: repeated columns in {header}")
        missing = [c for c in POLYGON_COLUMNS if c not in header]
        if missing:
            raise RawDataError(path, trading_day, f"missing columns {missing}; found {header}")
        columns = {**dict.fromkeys(header, pl.String), EXTRA_FIELDS: pl.String}
        if not body or body.isspace():  # a header and no rows: a valid day without trades
            return pl.DataFrame(schema=columns).select(*POLYGON_COLUMNS, EXTRA_FIELDS)
        frame = pl.read_csv(
            data,
            has_header=False,
            skip_rows=1,
            schema=columns,
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError as exc:
        raise RawDataError(path, trading_day, f"malformed CSV: {exc}") from exc
    # blank lines carry nothing: not rows, not bad rows
    blank = pl.all_horizontal(pl.all().is_null())
    return frame.filter(~blank).select(*POLYGON_COLUMNS, EXTRA_FIELDS)


def bronze_option_trades(
    path: Path, trading_day: dt.date, bad_row_tolerance: float
) -> OptionsResult:
    path = Path(path)
    if not path.exists():
        raise RawDataError(
            path, trading_day, "missing raw file: no Polygon options trades file for this day"
        )
    raw = _read_text_frame(path, trading_day)
    parsed = raw.with_columns(
        correction_n=pl.col("correction").cast(pl.Int64, strict=False),
        exchange_n=pl.col("exchange").cast(pl.Int64, strict=False),
        price_n=pl.col("price").cast(pl.Float64, strict=False),
        ts_n=pl.col("sip_timestamp").cast(pl.Int64, strict=False),
        size_n=pl.col("size").cast(pl.Int64, strict=False),
    )
    bad = (
        pl.col(EXTRA_FIELDS).is_not_null()
        | pl.col("ticker").is_null()
        | pl.col("correction_n").is_null()
        | pl.col("exchange_n").is_null()
        | pl.col("price_n").is_null()
        | pl.col("ts_n").is_null()
        | pl.col("size_n").is_null()
        | ~pl.col("price_n").is_finite()
        | (pl.col("price_n") < 0)
        | (pl.col("size_n") < 0)
        | (pl.col("ts_n") <= 0)
    )
    parsed = parsed.with_columns(bad=bad)
    bad_rows = parsed.filter("bad")
    n_bad = bad_rows.height
    rows = raw.height
    examples = [
        ",".join(str(v) for v in r) for r in bad_rows.head(3).select(POLYGON_COLUMNS).rows()
    ]
    if rows and n_bad / rows > bad_row_tolerance:
        raise RawDataError(
            path,
            trading_day,
            f"{n_bad} of {rows} rows unparsable ({n_bad / rows:.2%} > tolerance "
            f"{bad_row_tolerance:.2%}); first: {examples}",
        )
    # Only the parsed columns travel on: every filter below copies what it keeps.
    good = parsed.filter(~pl.col("bad")).select(
        "ticker", "conditions", "correction_n", "exchange_n", "price_n", "ts_n", "size_n"
    )
    # Most of a real OPRA day is other underlyings: a cheap prefix test before the regex. The
    # regex fixes the ticker's layout, so its fields are plain slices.
    spy = good.filter(
        pl.col("ticker").str.starts_with("O:SPY") & pl.col("ticker").str.contains(SPY_TICKER)
    )
    zero_dte = spy.filter(
        pl.col("ticker").str.slice(5, 6).str.to_date("%y%m%d", strict=False) == trading_day
    )
    corrected = zero_dte.filter(pl.col("correction_n") != 0).height
    zero_size = zero_dte.filter((pl.col("correction_n") == 0) & (pl.col("size_n") == 0)).height
    kept = zero_dte.filter((pl.col("correction_n") == 0) & (pl.col("size_n") > 0))
    frame = kept.select(
        ts_ns=pl.col("ts_n"),
        ticker=pl.col("ticker"),
        expiration=pl.lit(trading_day, dtype=pl.Date),
        right=pl.col("ticker").str.slice(11, 1),
        strike=pl.col("ticker").str.slice(12, 8).cast(pl.Int64) / 1000.0,
        price=pl.col("price_n"),
        size=pl.col("size_n"),
        exchange=pl.col("exchange_n"),
        conditions=pl.col("conditions"),
    ).sort("ts_ns", maintain_order=True)
    return OptionsResult(
        frame=frame,
        rows_read=rows,
        bad_rows=n_bad,
        bad_row_examples=examples,
        other_underlyings=good.height - spy.height,
        other_expiries=spy.height - zero_dte.height,
        corrected=corrected,
        zero_size=zero_size,
    )
