"""Open and stream Databento DBN files with the official client, refusing anything dubious.

Accepts DBN versions 1-3, compressed (`.dbn.zst`) or not. Refuses, with a `RawDataError` that
names the file and the trading day: a missing file, the legacy DBZ format, a file of another
dataset or schema, a mixed-schema file, a file for another date, and a truncated or corrupt
file (the client only warns about truncation; here it is an error).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import databento_dbn
import numpy as np
import zstandard

from spymaster_assets.market.databento_client import BentoWarning, db
from spymaster_assets.market.dbn_format import DATASET
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.trading_calendar import NS_PER_DAY, utc_day_start_ns

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DBN_MAGIC = b"DBN"
SUPPORTED_VERSIONS = (1, 2, 3)


def _is_legacy_dbz(head: bytes) -> bool:
    # DBZ starts with a zstd skippable frame (magic 0x184D2A5?) whose payload begins with "DBZ".
    return (
        len(head) >= 11
        and head[1:4] == b"\x2a\x4d\x18"
        and head[0] & 0xF0 == 0x50
        and head[8:11] == b"DBZ"
    )


def _check_format(path: Path, trading_day: dt.date) -> None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if _is_legacy_dbz(head):
        raise RawDataError(
            path,
            trading_day,
            "legacy DBZ file (pre-DBN format): only DBN v1-v3 is read; convert it with "
            "Databento's `dbn` tool or download the DBN encoding",
        )
    if head[:4] == ZSTD_MAGIC:
        with open(path, "rb") as fh:
            try:
                inner = zstandard.ZstdDecompressor().stream_reader(fh).read(3)
            except zstandard.ZstdError as exc:
                raise RawDataError(path, trading_day, f"corrupt zstd data: {exc}") from exc
        if len(inner) < len(DBN_MAGIC):
            # zstandard's reader returns short data, without an error, for a cut frame
            raise RawDataError(
                path, trading_day, "truncated file: the zstd stream ends before the DBN header"
            )
        if inner != DBN_MAGIC:
            raise RawDataError(path, trading_day, "zstd file that does not hold DBN data")
        return
    if head[:3] != DBN_MAGIC:
        raise RawDataError(path, trading_day, "not a DBN file (bad magic bytes)")


def open_dbn(path: Path, schema: str, trading_day: dt.date, dataset: str = DATASET) -> db.DBNStore:
    """Open a daily DBN file after checking format, dataset, schema and date."""
    path = Path(path)
    if not path.exists():
        raise RawDataError(
            path, trading_day, f"missing raw file: no Databento {schema} file for this day"
        )
    if path.stat().st_size == 0:
        raise RawDataError(path, trading_day, "empty file")
    _check_format(path, trading_day)
    try:
        store = db.DBNStore.from_file(path)
        meta = store.metadata
    except (databento_dbn.DBNError, zstandard.ZstdError, ValueError, OSError) as exc:
        raise RawDataError(path, trading_day, f"corrupt DBN metadata: {exc}") from exc
    if meta.version not in SUPPORTED_VERSIONS:
        raise RawDataError(path, trading_day, f"unsupported DBN version {meta.version}")
    if meta.dataset != dataset:
        raise RawDataError(
            path, trading_day, f"wrong dataset {meta.dataset!r}, expected {dataset!r}"
        )
    if meta.schema is None:
        raise RawDataError(
            path,
            trading_day,
            f"mixed-schema file (several schemas in one file), expected {schema!r} only",
        )
    if str(meta.schema) != schema:
        raise RawDataError(
            path, trading_day, f"wrong schema {str(meta.schema)!r}, expected {schema!r}"
        )
    # integer ns: a damaged header can hold any 64-bit value, far outside datetime's range
    start = int(meta.start)
    end = int(meta.end) if meta.end else start + NS_PER_DAY
    day_start = utc_day_start_ns(trading_day)
    if not (start <= day_start < end or day_start <= start < day_start + NS_PER_DAY):
        raise RawDataError(
            path,
            trading_day,
            f"file covers {_utc(start)} to {_utc(end)} UTC, not this trading day",
        )
    return store


def _utc(ns: int) -> str:
    try:
        return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError, OSError):
        return f"{ns} ns since the epoch"


def iter_records(
    store: db.DBNStore, path: Path, trading_day: dt.date, chunk_records: int
) -> Iterator[np.ndarray]:
    """Yield the file's records as structured arrays of at most `chunk_records` rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", BentoWarning)
        try:
            yield from store.to_ndarray(count=chunk_records)
        except BentoWarning as exc:
            raise RawDataError(path, trading_day, f"truncated file: {exc}") from exc
        except (databento_dbn.DBNError, zstandard.ZstdError, ValueError) as exc:
            raise RawDataError(path, trading_day, f"corrupt DBN data: {exc}") from exc


def read_all_records(store: db.DBNStore, path: Path, trading_day: dt.date) -> np.ndarray:
    parts = list(iter_records(store, path, trading_day, 1_000_000))
    if not parts:
        return np.zeros(0, dtype=store.to_ndarray().dtype)
    return np.concatenate(parts)


def instrument_symbols(store: db.DBNStore, trading_day: dt.date) -> dict[int, str]:
    """instrument_id -> raw symbol from the file's symbol mappings, for this day."""
    out: dict[int, str] = {}
    for raw_symbol, intervals in (store.metadata.mappings or {}).items():
        for iv in intervals:
            if iv["start_date"] <= trading_day < iv["end_date"] and str(iv["symbol"]).isdigit():
                out[int(iv["symbol"])] = raw_symbol
    return out
