"""Where files live: a local folder or an S3-compatible bucket, behind one set of functions.

The data folder is a `UPath` (universal_pathlib over fsspec): a local folder is a plain
`pathlib.Path`, `s3://bucket/prefix` an `S3Path` (s3fs, endpoint and credentials from the
standard AWS variables, e.g. AWS_ENDPOINT_URL). Every asset reads and writes through the
functions here, so the code path is the same for both; what differs is only how a file is
published whole:

- on disk, a writer fills a hidden temporary sibling and renames it over the final name;
- on an object store, a writer fills a local scratch file and uploads it as one object (S3 has
  no rename, but a PUT, or a multipart upload once completed, appears whole or not at all).

Readers that need a real file (the DBN readers map and stream it) get a local copy of an
object for the time they read it; parquet is read by polars' own object-store client.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl
    from upath import UPath

SCRATCH_DIR_ENV = "SPYMASTER_SCRATCH_DIR"


# -- paths ----------------------------------------------------------------------------------


def is_url(location: str | os.PathLike) -> bool:
    return "://" in str(location)


def data_root(location: str | os.PathLike) -> Path:
    """The data folder as a path: a `Path` for a local folder, an fsspec-backed `UPath` for a
    URL such as s3://bucket/prefix. Listings are never cached: other workers add files."""
    from upath import UPath

    if is_url(location):
        return UPath(str(location).rstrip("/"), use_listings_cache=False)
    return UPath(location)


def is_remote(path: Path | UPath) -> bool:
    return getattr(path, "protocol", "") not in ("", "file", "local")


def ensure_parent(path: Path) -> None:
    """Create the folder of `path` on disk; an object store has no folders to create."""
    if not is_remote(path):
        path.parent.mkdir(parents=True, exist_ok=True)


def scratch_dir() -> Path:
    """Local room for uploads being prepared and objects being read ($SPYMASTER_SCRATCH_DIR,
    else the system's temporary folder)."""
    base = Path(os.environ.get(SCRATCH_DIR_ENV) or tempfile.gettempdir()) / "spymaster-scratch"
    base.mkdir(parents=True, exist_ok=True)
    return base


# -- what a file is -------------------------------------------------------------------------


def file_identity(path: Path) -> list | None:
    """Size and modification time on disk, size and ETag on an object store (None when
    missing): a file replaced since it was seen does not pass for the one seen."""
    if is_remote(path):
        try:
            info = path.fs.info(path.path)
        except FileNotFoundError:
            return None
        return [int(info["size"]), str(info.get("ETag", "")).strip('"')]
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def modified_ns(path: Path) -> int:
    """When the file was last written, in ns (an object store keeps whole seconds)."""
    if is_remote(path):
        return int(path.fs.info(path.path)["LastModified"].timestamp()) * 1_000_000_000
    return path.stat().st_mtime_ns


def modified_times(folder: Path) -> dict[str, int]:
    """Every visible file under `folder`, by its path relative to it, with when it was last
    written (ns): one listing, not a request per file (a bucket holds years of days). Hidden
    names (files being written or fetched) are left out."""
    if is_remote(folder):
        try:
            found = folder.fs.find(folder.path, detail=True)
        except FileNotFoundError:
            return {}
        prefix = folder.path.rstrip("/") + "/"
        return {
            name[len(prefix) :]: int(info["LastModified"].timestamp()) * 1_000_000_000
            for name, info in found.items()
            if name.startswith(prefix) and not name.rsplit("/", 1)[-1].startswith(".")
        }
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            if not name.startswith("."):
                full = os.path.join(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    out[os.path.relpath(full, folder)] = os.stat(full).st_mtime_ns
    return out


def size(path: Path) -> int:
    return int(path.fs.info(path.path)["size"]) if is_remote(path) else path.stat().st_size


# -- writing whole files --------------------------------------------------------------------


def temporary_sibling(path: Path) -> Path:
    """A unique hidden name in the same folder (same filesystem, so the rename is atomic),
    holding this process's id; left-overs of processes that died are removed first."""
    remove_orphans(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")


def scratch_sibling(temporary: Path, role: str) -> Path:
    """A second temporary file of the same writer (e.g. a re-sorted copy): same pid, so it is
    removed as an orphan like `temporary` if the writer dies."""
    assert temporary.name.endswith(".tmp"), temporary
    return temporary.with_name(f"{temporary.name[: -len('.tmp')]}-{role}.tmp")


def _scratch_file() -> Path:
    """A local temporary file standing for an object while it is written or read."""
    folder = scratch_dir()
    remove_orphans(folder / "object")
    return folder / f".object.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"


def staging_path(final: Path) -> Path:
    """Where a writer that streams a large file puts it before `publish`: a hidden sibling
    on disk, a local scratch file for an object store."""
    if is_remote(final):
        return _scratch_file()
    ensure_parent(final)
    return temporary_sibling(final)


def publish(staged: Path, final: Path) -> None:
    """Make the finished file `staged` (from `staging_path`) appear whole as `final`."""
    if is_remote(final):
        try:
            final.fs.put_file(str(staged), final.path)
        finally:
            staged.unlink(missing_ok=True)
        return
    ensure_parent(final)
    if staged != final:
        os.replace(staged, final)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a local temporary path to write; on success it becomes `path` whole, on failure
    it is deleted and `path` keeps what it held."""
    tmp = staging_path(path)
    try:
        yield tmp
        publish(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        pass
    return True


def remove_orphans(path: Path) -> list[Path]:
    """Delete temporary siblings of `path` whose writer process no longer exists (a run killed
    while writing). Those of live processes (a concurrent run) are left alone. An object store
    has none: an upload that never completed is no object."""
    if is_remote(path):
        return []
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2 : -len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or _alive(int(parts[0])):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


# -- reading --------------------------------------------------------------------------------


@contextlib.contextmanager
def local_copy(path: Path) -> Iterator[Path]:
    """A real local file with the content of `path` for the block: the file itself on disk,
    a scratch download of the object (deleted after) on an object store; a missing object is
    a missing local file, for the reader to report. Errors about bad input name the object,
    not the scratch file."""
    if not is_remote(path):
        yield path
        return
    from spymaster_assets.market.errors import RawDataError

    tmp = _scratch_file()
    try:
        with contextlib.suppress(FileNotFoundError):
            path.fs.get_file(path.path, str(tmp))
        try:
            yield tmp
        except RawDataError as exc:
            if exc.path != str(tmp):
                raise
            raise RawDataError(str(path), exc.trading_day, exc.problem) from exc
    finally:
        tmp.unlink(missing_ok=True)


def scan_parquet(path: Path) -> pl.LazyFrame:
    """A lazy scan of a lake file (polars reads s3:// itself, with the AWS variables)."""
    import polars as pl

    return pl.scan_parquet(str(path))


def read_parquet(path: Path, columns: list[str] | None = None) -> pl.DataFrame:
    import polars as pl

    return pl.read_parquet(str(path), columns=columns)


# -- taking turns ---------------------------------------------------------------------------


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock tied to `path` (a hidden `.<name>.lock` beside it) for
    the block: runs of different processes that rebuild the same file take turns."""
    with lock_file(path.with_name(f".{path.name}.lock")):
        yield


@contextlib.contextmanager
def lock_file(lock: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the file `lock` (created if missing) for the block.
    For an object store the lock file is local (processes of one machine take turns); work
    that must not overlap across machines is kept apart by the run queue (docs/deploy.md)."""
    import fcntl

    if is_remote(lock):
        digest = hashlib.sha256(str(lock).encode()).hexdigest()[:24]
        lock = scratch_dir() / "locks" / f"{digest}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
