"""Fuzzing: damaged DBN bytes and CSV rows end in a clear `RawDataError` or in good data.

Whatever the damage, reading a raw file either succeeds with data that passes its schema or
raises `RawDataError` naming the file and the trading day; never another exception, never a
hang (each example runs under an alarm).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import re
import signal
import tempfile
from pathlib import Path

import polars as pl
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spymaster_assets.market.bronze_es import BronzeWindow, bronze_mbp10, bronze_trades
from spymaster_assets.market.dbn_format import F_LAST
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.polygon_options import POLYGON_COLUMNS, bronze_option_trades
from spymaster_assets.market.trading_calendar import session_windows
from spymaster_assets.schemas import bronze as schemas
from spymaster_assets.schemas.columns import schema_errors

from . import dbn_factory as make
from .conftest import SAMPLE_DAY

WINDOWS = session_windows(SAMPLE_DAY)
WINDOW = BronzeWindow.for_day(WINDOWS, 600, 60)
FRONT, OTHER = 101, 202
MAPPINGS = {"ESZ5": FRONT, "ESH6": OTHER}
SECOND = 10**9
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class HangError(Exception):
    pass


@contextlib.contextmanager
def alarm(seconds: float):
    """Fail an example that runs longer than `seconds` instead of hanging the suite."""

    def ring(*_):
        raise HangError(f"no answer in {seconds}s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def clean_files(folder: Path) -> dict[str, bytes]:
    """A small valid day: two outrights' trades and books, as .dbn.zst and .dbn bytes."""
    t0 = WINDOWS.rth_open_ns
    trades = make.trades(
        [(FRONT if i % 5 else OTHER, t0 + i * SECOND, 6800 + (i % 7) * 0.25, 1 + i % 3, "AB"[i % 2])
         for i in range(300)]
    )  # fmt: skip
    books = make.books(
        [(FRONT if i % 4 else OTHER, t0 + i * SECOND, 6800.0, 6800.25, F_LAST if i % 3 else 0)
         for i in range(200)]
    )  # fmt: skip
    out = {}
    for schema, records in (("trades", trades), ("mbp-10", books)):
        path = make.write_day_file(folder / f"{schema}.dbn.zst", schema, SAMPLE_DAY, records,
                                   MAPPINGS)  # fmt: skip
        out[f"{schema}.dbn.zst"] = path.read_bytes()
        out[f"{schema}.dbn"] = zstandard.ZstdDecompressor().decompressobj().decompress(
            out[f"{schema}.dbn.zst"])  # fmt: skip
    return out


@functools.cache
def clean(name: str) -> bytes:
    """(Not a fixture: hypothesis would print 30 kB of bytes with every failing example.)"""
    with tempfile.TemporaryDirectory() as folder:
        return clean_files(Path(folder))[name]


@st.composite
def damage(draw, data: bytes) -> bytes:
    """Flipped bytes, a cut, inserted or deleted spans, anywhere in the file."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "overwrite"]))
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if not out:
            break
        if kind == "flip":
            out[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del out[at : at + draw(st.integers(1, 64))]
        else:
            chunk = draw(st.binary(min_size=1, max_size=16))
            out[at : at + len(chunk)] = chunk
    return bytes(out)


def assert_clear(exc: RawDataError, path: Path) -> None:
    message = str(exc)
    assert str(path) in message and str(SAMPLE_DAY) in message and exc.problem, message


def read_es(schema: str, path: Path, out: Path):
    if schema == "trades":
        result = bronze_trades(path, SAMPLE_DAY, WINDOWS, WINDOW, 0.5)
        errors = schema_errors(schemas.ES_TRADES, result.frame)
        # damaged values (prices off the grid, ...) are the schema check's business: it is
        # a blocking check in the asset, so such data stops there with a report
        return result, errors
    result = bronze_mbp10(path, SAMPLE_DAY, FRONT, WINDOW, out, 7,
                          lambda f: schema_errors(schemas.ES_MBP10, f))  # fmt: skip
    return result, result.schema_errors


@pytest.mark.parametrize("name", ["trades.dbn.zst", "trades.dbn", "mbp-10.dbn.zst", "mbp-10.dbn"])
@FUZZ
@given(data=st.data())
def test_damaged_dbn_bytes_give_a_clear_error_or_checked_data(tmp_path, name, data):
    damaged = data.draw(damage(clean(name)))
    path = tmp_path / name
    path.write_bytes(damaged)
    schema = name.split(".")[0]
    with alarm(30):
        try:
            result, errors = read_es(schema, path, tmp_path / "out.parquet")
        except RawDataError as exc:
            assert_clear(exc, path)
            return
    # read without complaint: what was written is a whole, sorted table of at most the file's
    # records (damaged values are for `errors`, the blocking schema check)
    assert isinstance(errors, list)
    if schema == "trades":
        table, kept = result.frame, result.frame.height
        assert table["instrument_id"].n_unique() <= 1
    else:
        table, kept = pl.read_parquet(tmp_path / "out.parquet"), result.rows_written
    assert table.height == kept <= result.records_read
    assert table["ts_event"].is_sorted()


def test_damage_is_not_always_silent(tmp_path):
    """The fuzz above must see errors: a cut compressed file is reported as truncated."""
    path = tmp_path / "trades.dbn.zst"
    path.write_bytes(clean("trades.dbn.zst")[:-9])
    with pytest.raises(RawDataError, match="truncated|corrupt"):
        read_es("trades", path, tmp_path / "out.parquet")


# ---- Polygon CSV rows -------------------------------------------------------------------------

GOOD_ROW = "O:SPY251120C00{strike}000,12,0,{exchange},{price},{ts},{size}"
TS0 = WINDOWS.rth_open_ns


def good_rows(n: int) -> list[str]:
    return [
        GOOD_ROW.format(strike=650 + i % 50, exchange=300 + i % 10, price=f"{1 + i % 9}.25",
                        ts=TS0 + i * SECOND, size=1 + i % 4)
        for i in range(n)
    ]  # fmt: skip


NOT_A_NUMBER = st.text(min_size=1, max_size=8).filter(
    lambda s: not s.strip().lstrip("+-").replace(".", "", 1).isdigit()
)
ROW_DAMAGE = st.one_of(
    st.tuples(st.just("field"), st.integers(0, 6), st.text(max_size=12)),
    st.tuples(st.just("drop"), st.integers(0, 6), st.just("")),
    st.tuples(st.just("extra"), st.integers(0, 6), st.text(max_size=6)),
    st.tuples(st.just("line"), st.just(0), st.text(max_size=40)),
    st.tuples(st.just("quote"), st.integers(0, 6), st.just('"')),
)


def damage_row(row: str, how: tuple) -> str:
    kind, col, text = how
    text = text.replace("\n", " ").replace("\r", " ")  # a line break makes two rows, not one
    fields = row.split(",")
    if kind == "field":
        fields[col] = text
    elif kind == "drop":
        del fields[col]
    elif kind == "extra":
        fields.insert(col, text)
    elif kind == "line":
        return text
    else:
        fields[col] = text + fields[col]
    return ",".join(fields)


def write_csv(path: Path, rows: list[str], header: str = ",".join(POLYGON_COLUMNS)) -> Path:
    path.write_bytes(gzip.compress(("\n".join([header, *rows]) + "\n").encode(), mtime=0))
    return path


@FUZZ
@given(
    damaged=st.dictionaries(st.integers(0, 199), ROW_DAMAGE, max_size=30),
    tolerance=st.sampled_from([0.0, 0.05, 1.0]),
)
def test_damaged_csv_rows_are_counted_or_refused_never_crash(tmp_path, damaged, tolerance):
    rows = good_rows(200)
    for i, how in damaged.items():
        rows[i] = damage_row(rows[i], how)
    path = write_csv(tmp_path / "options.csv.gz", rows)
    with alarm(30):
        try:
            result = bronze_option_trades(path, SAMPLE_DAY, tolerance)
        except RawDataError as exc:
            assert_clear(exc, path)
            # row damage costs the file only above the tolerance, or when a stray quote
            # leaves the rest of the file inside one quoted field
            quoted = any('"' in rows[i] for i in damaged)
            assert quoted or tolerance < 1.0, exc.problem
            return
    assert schema_errors(schemas.SPY_OPTION_TRADES, result.frame) == []
    if any('"' in rows[i] for i in damaged):
        return
    blank = sum(1 for i in damaged if re.fullmatch(r",*", rows[i]))
    assert result.rows_read == 200 - blank  # empty lines are not rows
    # untouched rows are all kept; a damaged row is counted bad, or filtered (not SPY 0DTE),
    # or kept because the damage left a valid row (a digit for a digit)
    assert result.frame.height >= 200 - len(damaged)
    assert result.bad_rows <= len(damaged) - blank


@FUZZ
@given(
    bad=st.sets(st.integers(0, 199), max_size=20),
    column=st.sampled_from(["correction", "exchange", "price", "sip_timestamp", "size"]),
    junk=NOT_A_NUMBER,
)
def test_unparsable_numbers_are_counted_exactly(tmp_path, bad, column, junk):
    junk = junk.replace(",", ";").replace('"', "'").replace("\n", " ").replace("\r", " ")
    col = POLYGON_COLUMNS.index(column)
    rows = good_rows(200)
    for i in bad:
        rows[i] = damage_row(rows[i], ("field", col, junk))
    path = write_csv(tmp_path / "options.csv.gz", rows)
    tolerance = 0.05
    with alarm(30):
        if len(bad) / 200 > tolerance:
            with pytest.raises(RawDataError, match="unparsable") as info:
                bronze_option_trades(path, SAMPLE_DAY, tolerance)
            assert_clear(info.value, path)
            assert f"{len(bad)} of 200 rows" in info.value.problem
            return
        result = bronze_option_trades(path, SAMPLE_DAY, tolerance)
    assert result.bad_rows == len(bad)
    assert result.frame.height == 200 - len(bad)


@FUZZ
@given(data=st.data())
def test_damaged_gzip_bytes_give_a_clear_error_or_checked_data(tmp_path, data):
    path = write_csv(tmp_path / "options.csv.gz", good_rows(200))
    damaged = data.draw(damage(path.read_bytes()))
    path.write_bytes(damaged)
    with alarm(30):
        try:
            result = bronze_option_trades(path, SAMPLE_DAY, 0.05)
        except RawDataError as exc:
            assert_clear(exc, path)
            return
    assert schema_errors(schemas.SPY_OPTION_TRADES, result.frame) == []


@pytest.mark.parametrize("body", ["", "\n", "\n\n  \n"])
def test_a_header_without_rows_is_a_day_without_trades(tmp_path, body):
    path = tmp_path / "options.csv.gz"
    path.write_bytes(gzip.compress((",".join(POLYGON_COLUMNS) + "\n" + body).encode()))
    result = bronze_option_trades(path, SAMPLE_DAY, 0.0)
    assert result.rows_read == 0 and result.bad_rows == 0 and result.frame.height == 0
    assert schema_errors(schemas.SPY_OPTION_TRADES, result.frame) == []


@pytest.mark.parametrize(
    "ticker",
    [
        "O:SPY２５１１２０C00650000",  # full-width digits: a regex \d would take them
        "O:SPY251120C0065000",  # a digit short
        "O:SPY251120X00650000",  # neither call nor put
        "O:SPYG251120C00650000",  # another root sharing the prefix
    ],
)
def test_a_ticker_off_the_occ_layout_is_another_underlying(tmp_path, ticker):
    rows = good_rows(3)
    rows[1] = ticker + rows[1][rows[1].index(",") :]
    result = bronze_option_trades(write_csv(tmp_path / "options.csv.gz", rows), SAMPLE_DAY, 0.0)
    assert result.bad_rows == 0 and result.other_underlyings == 1
    assert result.frame["ticker"].to_list() == [rows[0].split(",")[0], rows[2].split(",")[0]]
    assert result.frame["strike"].to_list() == [650.0, 652.0]
