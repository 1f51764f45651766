"""Write DBN files the way Databento ships them: metadata, records, zstd with a checksum.

Records are numpy structured arrays in the official layouts (`dbn_format`), written as raw
bytes after the metadata that `databento_dbn.Metadata.encode()` produces, so the result is
byte-compatible with what the official client reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import databento_dbn
import numpy as np
import zstandard

from spymaster_assets.market.dbn_format import DATASET, PARENT_SYMBOL, SCHEMA_DTYPES
from spymaster_assets.storage import atomic_path


@dataclass(frozen=True)
class _Interval:
    start_date: dt.date
    end_date: dt.date
    symbol: str


@dataclass(frozen=True)
class _Mapping:
    raw_symbol: str
    intervals: list[_Interval]


def encode_metadata(
    *,
    schema: str,
    start_ns: int,
    end_ns: int,
    day: dt.date,
    mappings: Mapping[str, int] | None,
    dataset: str = DATASET,
    parent_symbol: str = PARENT_SYMBOL,
) -> bytes:
    """Metadata of a parent-symbology daily file: raw symbol -> instrument id for `day`."""
    symbol_mappings = [
        _Mapping(raw, [_Interval(day, day + dt.timedelta(days=1), str(iid))])
        for raw, iid in sorted((mappings or {}).items())
    ]
    meta = databento_dbn.Metadata(
        dataset=dataset,
        start=start_ns,
        end=end_ns,
        stype_in=databento_dbn.SType.PARENT,
        stype_out=databento_dbn.SType.INSTRUMENT_ID,
        schema=databento_dbn.Schema.from_str(schema),
        symbols=[parent_symbol],
        partial=[],
        not_found=[],
        mappings=symbol_mappings,
    )
    return bytes(meta.encode())


def write_dbn(
    path: Path,
    *,
    schema: str,
    day: dt.date,
    start_ns: int,
    end_ns: int,
    mappings: Mapping[str, int] | None,
    record_chunks: Iterable[np.ndarray],
    compress: bool | None = None,
    level: int = 3,
    dataset: str = DATASET,
) -> int:
    """Write a DBN file (zstd with checksum when the name ends in .zst); returns records written.

    The file appears under its final name only once it is complete.
    """
    dtype = SCHEMA_DTYPES[schema]
    compress = path.name.endswith(".zst") if compress is None else compress
    header = encode_metadata(
        schema=schema,
        start_ns=start_ns,
        end_ns=end_ns,
        day=day,
        mappings=mappings,
        dataset=dataset,
    )
    written = 0
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        if compress:
            cctx = zstandard.ZstdCompressor(level=level, write_checksum=True, threads=-1)
            sink = cctx.stream_writer(raw, closefd=False)
        else:
            sink = raw
        sink.write(header)
        for chunk in record_chunks:
            if chunk.dtype != dtype:
                raise TypeError(f"{schema} records must have dtype {dtype}, got {chunk.dtype}")
            sink.write(np.ascontiguousarray(chunk).data)
            written += len(chunk)
        if compress:
            sink.close()
    return written
