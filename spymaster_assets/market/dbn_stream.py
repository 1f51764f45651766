"""Stream a DBN file's records in chunks decoded into one reused buffer.

The official client (`DBNStore.to_ndarray`) is used to read and check the metadata
(`dbn_reader.open_dbn`); the records themselves are fixed-size structs, so they are read here
straight from the zstd stream into a reused bytearray and viewed as a numpy record array: no
per-record Python object, no copy of the whole file, memory bounded by the chunk size. Every
chunk is checked: each record's length and type must be those of the schema, and a file that
ends inside a record is truncated. Tests compare the records with `DBNStore.to_ndarray()`.
"""

from __future__ import annotations

import datetime as dt
import mmap
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import zstandard

from spymaster_assets.market.dbn_format import SCHEMA_DTYPES, SCHEMA_RTYPES
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.zstd_frames import NotZstdError, TruncatedFrameError, check_frames

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
READ_SIZE = 1 << 17  # compressed bytes per read


def _open_stream(path: Path, trading_day: dt.date) -> tuple[BinaryIO, BinaryIO]:
    """The raw file and a stream of its decompressed bytes (`readinto` fills our buffer
    directly). A zstd file cut inside a frame is refused before decompressing anything."""
    raw = open(path, "rb")  # noqa: SIM115 (closed by the caller)
    magic = raw.read(4)
    raw.seek(0)
    if magic != ZSTD_MAGIC:
        return raw, raw
    try:
        with mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as data:
            check_frames(data)
    except TruncatedFrameError as exc:
        raw.close()
        raise RawDataError(
            path, trading_day, f"truncated file: the zstd stream ends mid-frame ({exc})"
        ) from exc
    except NotZstdError as exc:
        raw.close()
        raise RawDataError(path, trading_day, f"corrupt zstd data: {exc}") from exc
    raw.seek(0)
    reader = zstandard.ZstdDecompressor().stream_reader(
        raw, read_size=READ_SIZE, read_across_frames=True
    )
    return raw, reader


def _read_exact(stream: BinaryIO, view: memoryview) -> int:
    """Fill `view` from the stream; fewer bytes only at the end of the data."""
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def iter_record_chunks(
    path: Path, trading_day: dt.date, schema: str, chunk_records: int
) -> Iterator[np.ndarray]:
    """The file's records as structured arrays of at most `chunk_records` rows.

    Each array is a view of one reused buffer, valid until the next one is produced: take
    (copy) what you keep before asking for the next chunk.
    """
    dtype = SCHEMA_DTYPES[schema]
    rtype = SCHEMA_RTYPES[schema]
    size = dtype.itemsize
    expected_head = (size // 4) | (rtype << 8)
    buffer = bytearray(max(1, chunk_records) * size)
    view = memoryview(buffer)
    raw, stream = _open_stream(path, trading_day)
    try:
        try:
            header = stream.read(8)
            if len(header) < 8 or header[:3] != b"DBN":
                raise RawDataError(path, trading_day, "not a DBN stream (bad magic bytes)")
            (metadata_length,) = struct.unpack("<I", header[4:8])
            skipped = _read_exact(stream, memoryview(bytearray(metadata_length)))
            if skipped < metadata_length:
                raise RawDataError(path, trading_day, "truncated file: metadata cut short")
            while True:
                got = _read_exact(stream, view)
                if got == 0:
                    return
                n, partial = divmod(got, size)
                records = np.frombuffer(buffer, dtype=dtype, count=n)
                # each record opens with its length (in 4-byte words) and its rtype: both bytes
                # at once, as one little-endian uint16 per record
                heads = np.frombuffer(buffer, np.uint16, count=n * size // 2)[:: size // 2]
                if n and np.any(heads != expected_head):
                    raise RawDataError(
                        path,
                        trading_day,
                        f"corrupt DBN data: a record that is not a {schema} record "
                        f"(length or rtype) within records {n} of this chunk",
                    )
                if partial:
                    raise RawDataError(
                        path,
                        trading_day,
                        f"truncated file: it ends {partial} bytes into a {size}-byte record",
                    )
                yield records
                if got < len(view):
                    return
        except zstandard.ZstdError as exc:
            raise RawDataError(path, trading_day, f"corrupt zstd data: {exc}") from exc
    finally:
        raw.close()


def read_all(path: Path, trading_day: dt.date, schema: str) -> np.ndarray:
    """Every record of a (small) file, copied out of the stream's buffer."""
    parts = [c.copy() for c in iter_record_chunks(path, trading_day, schema, 1 << 20)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=SCHEMA_DTYPES[schema])
