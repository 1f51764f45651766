"""The whole fetch of a range: plan (skip what is present and valid), price the Databento
files, refuse above the cost limit, download with progress bars, summarize."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spymaster_assets.fetch import databento_files, flat_files
from spymaster_assets.fetch.files import is_valid, verify_csv_gz, verify_dbn
from spymaster_assets.fetch.retry import CredentialsRefusedError, FetchError
from spymaster_assets.paths import DBN_SCHEMAS, DataLayout
from spymaster_assets.storage import local_copy


@dataclass(frozen=True)
class Wanted:
    source: str  # "databento" or "flatfiles"
    day: dt.date
    schema: str | None  # Databento schema; None for the options flat file
    path: Path

    @property
    def name(self) -> str:
        return f"{self.source} {self.schema + ' ' if self.schema else ''}{self.day}"


@dataclass
class Summary:
    fetched: list[Wanted] = field(default_factory=list)
    skipped: list[Wanted] = field(default_factory=list)
    failed: list[tuple[Wanted, str]] = field(default_factory=list)
    fetched_bytes: int = 0
    cost: float = 0.0


def plan(layout: DataLayout, days: list[dt.date], source: str, say) -> tuple[list, list]:
    """(to fetch, already present and valid). A damaged file present is fetched again."""
    wanted = []
    for day in days:
        if source in ("databento", "all"):
            wanted += [Wanted("databento", day, s, layout.dbn_path(s, day)) for s in DBN_SCHEMAS]
        if source in ("flatfiles", "all"):
            wanted.append(Wanted("flatfiles", day, None, layout.options_path(day)))
    todo, present = [], []
    for w in wanted:
        if not w.path.exists():
            todo.append(w)
            continue
        with local_copy(w.path) as local:
            valid = (is_valid(verify_dbn, local, w.schema, w.day) if w.schema
                     else is_valid(verify_csv_gz, local, w.day))  # fmt: skip
        if valid:
            present.append(w)
        else:
            say(f"{w.name}: {w.path} is damaged, fetched again")
            todo.append(w)
    return todo, present


def fetch(
    layout: DataLayout,
    days: list[dt.date],
    source: str,
    max_cost: float | None,
    dry_run: bool,
    say: Callable[[str], None],
) -> tuple[int, Summary]:
    """Exit code and summary of fetching `days` from `source` into `layout`."""
    summary = Summary()
    todo, summary.skipped = plan(layout, days, source, say)
    for w in summary.skipped:
        say(f"{w.name}: present and valid, skipped")
    bento = [w for w in todo if w.source == "databento"]
    flats = [w for w in todo if w.source == "flatfiles"]
    hist = None
    if bento:
        hist = databento_files.client()
        prices = {w: databento_files.cost(hist, w.day, w.schema, say) for w in bento}
        total = sum(prices.values())
        for day in sorted({w.day for w in bento}):
            parts = [f"{w.schema} ${prices[w]:,.2f}" for w in bento if w.day == day]
            day_cost = sum(prices[w] for w in bento if w.day == day)
            say(f"databento {day}: {', '.join(parts)}  (day ${day_cost:,.2f})")
        say(f"databento estimate: ${total:,.2f} for {len(bento)} files")
        if max_cost is not None and total > max_cost:
            say(f"refused: the estimate ${total:,.2f} is above --max-cost ${max_cost:,.2f}; "
                "nothing was downloaded")  # fmt: skip
            return 1, summary
        if dry_run or max_cost is None:
            say("databento: estimate only (pass --max-cost USD to download up to that cost)")
            bento = []
        else:
            summary.cost = total
    if dry_run:
        for w in flats:
            say(f"{w.name}: would fetch {flat_files.object_key(w.day)}")
        return 0, summary
    _download(bento, flats, hist, summary, say)
    return (1 if summary.failed else 0), summary


def _download(bento, flats, hist, summary: Summary, echo) -> None:
    from tqdm import tqdm

    s3 = flat_files.client() if flats else None
    items = bento + flats

    def say(message: str) -> None:  # lines above the bars, not through them
        with tqdm.external_write_mode(file=sys.stderr):
            echo(message)

    with tqdm(total=len(items), unit="file", desc="fetch", file=sys.stderr) as files:
        refused: set[str] = set()
        for w in items:
            if w.source in refused:
                summary.failed.append((w, "skipped after the credentials were refused"))
                files.update(1)
                continue
            total = flat_files.size_of(s3, w.day) if w.source == "flatfiles" else None
            with tqdm(total=total, unit="B", unit_scale=True, leave=False, desc=w.name,
                      file=sys.stderr) as bar:  # fmt: skip
                try:
                    if w.source == "databento":
                        size = databento_files.download(hist, w.day, w.schema, w.path, say,
                                                        bar.update)  # fmt: skip
                    else:
                        size = flat_files.download(s3, w.day, w.path, say, bar.update)
                except FetchError as exc:
                    say(f"error: {exc}")
                    summary.failed.append((w, str(exc)))
                    if isinstance(exc, CredentialsRefusedError):
                        refused.add(w.source)
                else:
                    summary.fetched.append(w)
                    summary.fetched_bytes += size
                    say(f"{w.name}: {size:,} bytes -> {w.path}")
            files.update(1)
