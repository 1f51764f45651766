"""Temporary download names and their verification before the file is published."""

from __future__ import annotations

import contextlib
import datetime as dt
import mmap
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import zstandard

from spymaster_assets.market.dbn_reader import open_dbn
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.polygon_options import POLYGON_COLUMNS, gunzip
from spymaster_assets.market.zstd_frames import TruncatedFrameError, check_frames
from spymaster_assets.storage import is_remote, scratch_dir

PARTIAL_PREFIX = ".fetch-"  # hidden, and no vendor pattern matches it


@contextlib.contextmanager
def partial_file(final: Path) -> Iterator[Path]:
    """A fresh temporary path beside `final` (a local scratch file for an object store; the
    client refuses an existing file), removed unless the caller has published it."""
    if is_remote(final):
        tmp = scratch_dir() / f"{PARTIAL_PREFIX}{os.getpid()}-{final.name}"
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f"{PARTIAL_PREFIX}{os.getpid()}-{final.name}")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def verify_dbn(path: Path, schema: str, day: dt.date) -> None:
    """A whole zstd DBN file of GLBX.MDP3, this schema and this UTC day: every frame complete,
    every checksum right (the stream is decompressed to the end), the metadata as expected."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            check_frames(data)
        except TruncatedFrameError as exc:
            raise RawDataError(path, day, f"truncated download: {exc}") from exc
    try:
        with open(path, "rb") as fh:
            reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
            while reader.read(1 << 22):
                pass
    except zstandard.ZstdError as exc:
        raise RawDataError(path, day, f"corrupt zstd data: {exc}") from exc
    open_dbn(path, schema, day)


def verify_csv_gz(path: Path, day: dt.date) -> None:
    """A whole gzip file whose header holds the flat file's columns."""
    try:
        text = gunzip(path.read_bytes())
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise RawDataError(path, day, f"damaged gzip file: {exc}") from exc
    header = text[: text.find(b"\n")].decode(errors="replace").strip().split(",")
    missing = [c for c in POLYGON_COLUMNS if c not in header]
    if missing:
        raise RawDataError(path, day, f"not an options trades flat file: no {missing} column")


def is_valid(check, *args) -> bool:
    try:
        check(*args)
    except (RawDataError, OSError, ValueError):
        return False
    return True
