"""Where a zstd file's frames end, read from their headers alone (RFC 8878), to tell a cut file.

The fast way to decompress into a reused buffer, `ZstdDecompressor.stream_reader().readinto()`,
returns short data without complaint when a file is cut mid-frame. Walking the frame and block
headers (a few bytes every 128 KiB of compressed data) tells whether every frame is whole,
before a single byte is decompressed. The headers are read from a memory map of the file:
seeking a buffered file to each one cost a system call per block (0.3 s for a day's MBP-10). Damage inside a block is still reported by the
decompressor itself.
"""

from __future__ import annotations

ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MASK = 0xFFFFFFF0
SKIPPABLE_MAGIC = 0x184D2A50
_DICT_ID_BYTES = (0, 1, 2, 4)
_FCS_BYTES = (0, 2, 4, 8)


class TruncatedFrameError(ValueError):
    pass


class NotZstdError(ValueError):
    pass


def _int(data, at: int, n: int, what: str) -> int:
    if at + n > len(data):
        raise TruncatedFrameError(f"the file ends inside {what}")
    return int.from_bytes(data[at : at + n], "little")


def check_frames(data) -> int:
    """Walk every frame of `data` (bytes, or a memory map of the file: only the headers are
    touched); the number of frames. Raises TruncatedFrameError when a frame is cut,
    NotZstdError on bytes that are not a frame."""
    size = len(data)
    at = 0
    frames = 0
    while at < size:
        magic = _int(data, at, 4, "a frame's magic number")
        at += 4
        if magic & SKIPPABLE_MASK == SKIPPABLE_MAGIC:
            at += 4 + _int(data, at, 4, "a skippable frame's size")
            if at > size:
                raise TruncatedFrameError("the file ends inside a skippable frame")
            continue
        if magic != ZSTD_MAGIC:
            raise NotZstdError(f"bytes at offset {at - 4} are not a zstd frame")
        descriptor = _int(data, at, 1, "a frame header")
        single_segment = bool(descriptor & 0x20)
        header = (
            (0 if single_segment else 1)
            + _DICT_ID_BYTES[descriptor & 0x03]
            + (_FCS_BYTES[descriptor >> 6] or (1 if single_segment else 0))
        )
        at += 1 + header
        if at > size:
            raise TruncatedFrameError("the file ends inside a frame header")
        while True:
            block = _int(data, at, 3, "a block header")
            last, kind, length = block & 1, (block >> 1) & 3, block >> 3
            if kind == 3:
                raise NotZstdError(f"reserved block type at offset {at}")
            at += 3 + (1 if kind == 1 else length)
            if at > size:
                raise TruncatedFrameError("the file ends inside a block")
            if last:
                break
        if descriptor & 0x04:
            _int(data, at, 4, "a frame checksum")
            at += 4
        frames += 1
    return frames
