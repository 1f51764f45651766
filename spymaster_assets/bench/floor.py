"""The decompression floor: the least any reader of a .dbn.zst file must spend."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

STREAM_BUFFER = 1 << 24  # python-zstandard: one reused 16 MiB output buffer


def decompress_to_nothing(path: Path) -> tuple[float, str]:
    """Seconds to decompress `path` and throw the bytes away, and the tool that did it: the
    `zstd` command line when present (single-threaded, as decompression always is), else
    python-zstandard streaming into a reused buffer."""
    zstd = shutil.which("zstd")
    if zstd:
        started = time.perf_counter()
        subprocess.run([zstd, "-d", "-c", "-q", str(path)], stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started, "zstd CLI"
    import zstandard

    buffer = bytearray(STREAM_BUFFER)
    started = time.perf_counter()
    with open(path, "rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 20)
        while reader.readinto(buffer):
            pass
    return time.perf_counter() - started, "python-zstandard"


def decoded_bytes(path: Path) -> int:
    """Decompressed size (streamed; nothing kept)."""
    import zstandard

    total = 0
    buffer = bytearray(STREAM_BUFFER)
    with open(path, "rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 20)
        while n := reader.readinto(buffer):
            total += n
    return total
