"""Where a zstd file's frames end, read from their headers alone (RFC 8878), to tell a cut file.

The fast way to decompress into a reused buffer, `ZstdDecompressor.stream_reader().readinto()`,
returns short data without complaint when a file is cut mid-frame. Walking the frame and block
headers (a few bytes every 128 KiB of compressed data) tells whether every frame is whole,
before a single byte is decompressed. Damage inside a block is still reported by the
decompressor itself.
"""

from __future__ import annotations

from typing import BinaryIO

ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MASK = 0xFFFFFFF0
SKIPPABLE_MAGIC = 0x184D2A50
_DICT_ID_BYTES = (0, 1, 2, 4)
_FCS_BYTES = (0, 2, 4, 8)


class TruncatedFrameError(ValueError):
    pass


class NotZstdError(ValueError):
    pass


def _take(fh: BinaryIO, n: int, what: str) -> bytes:
    data = fh.read(n)
    if len(data) < n:
        raise TruncatedFrameError(f"the file ends inside {what}")
    return data


def check_frames(fh: BinaryIO, size: int) -> int:
    """Walk every frame of the file (from the current position to `size`); the number of
    frames. Raises TruncatedFrameError when a frame is cut, NotZstdError on bytes that are not a frame."""
    frames = 0
    while fh.tell() < size:
        magic = int.from_bytes(_take(fh, 4, "a frame's magic number"), "little")
        if magic & SKIPPABLE_MASK == SKIPPABLE_MAGIC:
            length = int.from_bytes(_take(fh, 4, "a skippable frame's size"), "little")
            fh.seek(length, 1)
            if fh.tell() > size:
                raise TruncatedFrameError("the file ends inside a skippable frame")
            continue
        if magic != ZSTD_MAGIC:
            raise NotZstdError(f"bytes at offset {fh.tell() - 4} are not a zstd frame")
        descriptor = _take(fh, 1, "a frame header")[0]
        single_segment = bool(descriptor & 0x20)
        header = (
            (0 if single_segment else 1)
            + _DICT_ID_BYTES[descriptor & 0x03]
            + (_FCS_BYTES[descriptor >> 6] or (1 if single_segment else 0))
        )
        _take(fh, header, "a frame header")
        while True:
            block = int.from_bytes(_take(fh, 3, "a block header"), "little")
            last, kind, length = block & 1, (block >> 1) & 3, block >> 3
            if kind == 3:
                raise NotZstdError(f"reserved block type at offset {fh.tell() - 3}")
            fh.seek(1 if kind == 1 else length, 1)
            if fh.tell() > size:
                raise TruncatedFrameError("the file ends inside a block")
            if last:
                break
        if descriptor & 0x04:
            _take(fh, 4, "a frame checksum")
        frames += 1
    return frames
