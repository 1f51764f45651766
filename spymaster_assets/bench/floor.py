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


def write_book(bronze_book: Path, repeats: int = 3) -> dict:
    """The least any run must spend writing the day's bronze book: the kept books, already
    gathered in memory, encoded by the same parquet writer and options as bronze/es_mbp10,
    chunk by chunk (the file's own row groups: one per decoded chunk), into a scratch file
    beside it. Best of `repeats` (seconds)."""
    import pyarrow.parquet as pq

    from spymaster_assets.market.bronze_es import MBP10_PARQUET

    book = pq.ParquetFile(bronze_book)
    chunks = [book.read_row_group(i) for i in range(book.num_row_groups)]
    schema = book.schema_arrow
    scratch = bronze_book.with_name(f".{bronze_book.stem}.bench-write.parquet")
    runs = []
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            with pq.ParquetWriter(scratch, schema, **MBP10_PARQUET) as writer:
                for chunk in chunks:
                    writer.write_table(chunk)
            runs.append(time.perf_counter() - started)
        written = scratch.stat().st_size
    finally:
        scratch.unlink(missing_ok=True)
    return {
        "rows": sum(c.num_rows for c in chunks),
        "columns": len(schema),
        "in_memory_bytes": sum(c.nbytes for c in chunks),
        "file_bytes": written,
        "seconds": round(min(runs), 4),
        "runs": [round(r, 4) for r in runs],
    }


def main() -> None:
    """python -m spymaster_assets.bench.floor BRONZE_BOOK: write_book as JSON (run as a child:
    the book's tables stay out of the benchmark's own process)."""
    import json
    import sys

    print(json.dumps(write_book(Path(sys.argv[1]))))


if __name__ == "__main__":
    main()
