"""Write-to-temporary-then-rename, so a crash never leaves half a file under a final name."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


def file_identity(path: Path) -> list[int] | None:
    """Size and modification time (None when missing): a file replaced since it was seen (by
    another writer, or a build cut short) does not pass for the one seen."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


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
    while writing). Those of live processes (a concurrent run) are left alone."""
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2 : -len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or _alive(int(parts[0])):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path; on success rename it over `path`, on failure delete it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock tied to `path` (a hidden `.<name>.lock` beside it) for
    the block: runs of different processes that rebuild the same file take turns."""
    with lock_file(path.with_name(f".{path.name}.lock")):
        yield


@contextlib.contextmanager
def lock_file(lock: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the file `lock` (created if missing) for the block."""
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
