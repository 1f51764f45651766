"""Hand-made Databento records for tests: build exactly the rows a rule needs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from spymaster_assets.market.dbn_format import (
    F_LAST,
    MBP10_DTYPE,
    PRICE_SCALE,
    PUBLISHER_GLBX,
    RTYPE_MBP10,
    RTYPE_TRADES,
    TRADE_DTYPE,
    UNDEF_PRICE,
)
from spymaster_assets.market.dbn_writer import write_dbn
from spymaster_assets.market.trading_calendar import session_windows
from spymaster_assets.vocabulary import N_LEVELS, level_field


def trades(rows: list[tuple]) -> np.ndarray:
    """rows: (instrument_id, ts_event, price, size, side[, sequence])."""
    out = np.zeros(len(rows), dtype=TRADE_DTYPE)
    for i, row in enumerate(rows):
        iid, ts, price, size, side, *seq = row
        out[i]["length"] = TRADE_DTYPE.itemsize // 4
        out[i]["rtype"] = RTYPE_TRADES
        out[i]["publisher_id"] = PUBLISHER_GLBX
        out[i]["instrument_id"] = iid
        out[i]["ts_event"] = ts
        out[i]["ts_recv"] = ts + 10_000
        out[i]["price"] = round(price * PRICE_SCALE)
        out[i]["size"] = size
        out[i]["action"] = b"T"
        out[i]["side"] = side.encode()
        out[i]["flags"] = F_LAST
        out[i]["sequence"] = seq[0] if seq else i + 1
    return out


def books(rows: list[tuple]) -> np.ndarray:
    """rows: (instrument_id, ts_event, best_bid, best_ask, flags[, size]); ten levels each side."""
    out = np.zeros(len(rows), dtype=MBP10_DTYPE)
    for i, row in enumerate(rows):
        iid, ts, bid, ask, flags, *size = row
        sz = size[0] if size else 10
        out[i]["length"] = MBP10_DTYPE.itemsize // 4
        out[i]["rtype"] = RTYPE_MBP10
        out[i]["publisher_id"] = PUBLISHER_GLBX
        out[i]["instrument_id"] = iid
        out[i]["ts_event"] = ts
        out[i]["ts_recv"] = ts + 10_000
        out[i]["price"] = round(bid * PRICE_SCALE)
        out[i]["size"] = sz
        out[i]["action"] = b"A"
        out[i]["side"] = b"B"
        out[i]["flags"] = flags
        out[i]["sequence"] = i + 1
        for k in range(N_LEVELS):
            out[i][level_field("bid_px", k)] = round((bid - 0.25 * k) * PRICE_SCALE)
            out[i][level_field("ask_px", k)] = round((ask + 0.25 * k) * PRICE_SCALE)
            out[i][level_field("bid_sz", k)] = sz
            out[i][level_field("ask_sz", k)] = sz
            out[i][level_field("bid_ct", k)] = 1
            out[i][level_field("ask_ct", k)] = 1
        if len(size) > 1 and size[1] == "empty_tail":
            out[i][level_field("ask_px", N_LEVELS - 1)] = UNDEF_PRICE
            out[i][level_field("ask_sz", N_LEVELS - 1)] = 0
    return out


def write_day_file(
    path: Path,
    schema: str,
    day: dt.date,
    records: np.ndarray,
    mappings: dict[str, int] | None,
    **kwargs,
) -> Path:
    windows = session_windows(day)
    write_dbn(
        path,
        schema=schema,
        day=day,
        start_ns=windows.utc_day_start_ns,
        end_ns=windows.utc_day_end_ns,
        mappings=mappings,
        record_chunks=[records],
        **kwargs,
    )
    return path


def read_day_file(path: Path) -> tuple[np.ndarray, dict[str, int]]:
    """A day file's records (file order) and its symbol -> instrument id mappings."""
    import databento as db

    store = db.DBNStore.from_file(path)
    mappings = {raw: int(spans[0]["symbol"]) for raw, spans in store.mappings.items()}
    return store.to_ndarray(), mappings


def edit_day_file(path: Path, schema: str, day: dt.date, edit) -> np.ndarray:
    """Rewrite a day file in place with `edit(records)` (returns the new records); returns them."""
    records, mappings = read_day_file(path)
    edited = edit(records.copy())
    write_day_file(path, schema, day, edited, mappings)
    return edited
