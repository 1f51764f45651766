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
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import zstandard

from spymaster_assets.market.dbn_format import SCHEMA_DTYPES, SCHEMA_RTYPES
from spymaster_assets.market.errors import RawDataError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
READ_SIZE = 1 << 18  # compressed bytes per read: outputs of a few MB stay in cache


class _ZstdFrames:
    """readinto() over a zstd file of one or more frames; a file ending mid-frame is an error.

    (zstandard's stream_reader returns short data without complaint when a file is cut.)
    """

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame = self._decompressor.decompressobj()
        self._pending = memoryview(b"")
        self.truncated = False

    def _refill(self) -> bool:
        while True:
            compressed = self._raw.read(READ_SIZE)
            if not compressed:
                self.truncated = not self._frame.eof
                return False
            out = self._frame.decompress(compressed)
            while self._frame.eof and self._frame.unused_data:  # the next frame starts here
                rest = self._frame.unused_data
                self._frame = self._decompressor.decompressobj()
                out += self._frame.decompress(rest)
            if out:
                self._pending = memoryview(out)
                return True

    def readinto(self, view: memoryview) -> int:
        if not self._pending and not self._refill():
            return 0
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def read(self, n: int) -> bytes:
        out = bytearray(n)
        return bytes(out[: _read_exact(self, memoryview(out))])


def _open_stream(path: Path) -> tuple[BinaryIO, BinaryIO]:
    raw = open(path, "rb")  # noqa: SIM115 (closed by the caller)
    magic = raw.read(4)
    raw.seek(0)
    return raw, (_ZstdFrames(raw) if magic == ZSTD_MAGIC else raw)


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
    buffer = bytearray(max(1, chunk_records) * size)
    view = memoryview(buffer)
    raw, stream = _open_stream(path)
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
                if got < len(view) and getattr(stream, "truncated", False):
                    raise RawDataError(
                        path, trading_day, "truncated file: the zstd stream ends mid-frame"
                    )
                if got == 0:
                    return
                n, partial = divmod(got, size)
                records = np.frombuffer(buffer, dtype=dtype, count=n)
                if n and (
                    np.any(records["length"] != size // 4) or np.any(records["rtype"] != rtype)
                ):
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
