"""Databento GLBX.MDP3 daily files (trades and MBP-10 of every ES contract) with the official
client: the cost first (`metadata.get_cost`), then `timeseries.get_range` of one UTC day per
file, streamed to a temporary file, verified and renamed to the vendor's batch name."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from pathlib import Path

import requests

from spymaster_assets.fetch.files import partial_file, verify_dbn
from spymaster_assets.fetch.retry import CredentialsRefusedError, FetchError, with_retries
from spymaster_assets.market.databento_client import db
from spymaster_assets.market.dbn_format import DATASET
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.market.trading_calendar import NS_PER_DAY, utc_day_start_ns
from spymaster_assets.storage import publish

KEY_ENV = "DATABENTO_API_KEY"
GATEWAY_ENV = "SPYMASTER_DATABENTO_GATEWAY"
SYMBOLS = "ES.FUT"  # every outright and spread: bronze picks the front month by volume
STYPE_IN = "parent"


def client() -> db.Historical:
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise FetchError(f"databento: set {KEY_ENV} to your API key (databento.com, API keys)")
    gateway = os.environ.get(GATEWAY_ENV)
    return db.Historical(key, gateway=gateway) if gateway else db.Historical(key)


def _utc_day(day: dt.date) -> tuple[str, str]:
    start = utc_day_start_ns(day)
    iso = lambda ns: dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
    return iso(start), iso(start + NS_PER_DAY)


def _request(day: dt.date, schema: str) -> dict:
    start, end = _utc_day(day)
    return {"dataset": DATASET, "start": start, "end": end, "symbols": SYMBOLS,
            "schema": schema, "stype_in": STYPE_IN}  # fmt: skip


def transient(exc: BaseException) -> str | None:
    """Why a failed call is worth another try (None: it is not)."""
    status = getattr(exc, "http_status", None)
    if status == 429:
        return "rate limited (HTTP 429)"
    if status is not None and status >= 500:
        return f"server error (HTTP {status})"
    if isinstance(exc, requests.RequestException | ConnectionError | TimeoutError):
        return f"connection error ({type(exc).__name__})"
    if isinstance(exc, db.BentoError) and status is None:
        return f"download interrupted ({exc})"
    return None


def _explain(exc: BaseException, day: dt.date, schema: str) -> FetchError:
    status = getattr(exc, "http_status", None)
    what = f"databento {schema} {day}"
    if status in (401, 403):
        return CredentialsRefusedError(f"{what}: HTTP {status}, the API key was refused (check {KEY_ENV} "
                          "and the key's access to GLBX.MDP3)")  # fmt: skip
    if status == 404 or status == 422:
        message = getattr(exc, "message", None) or str(exc)
        return FetchError(f"{what}: HTTP {status}, no such data: {message}")
    return FetchError(f"{what}: {exc}")


def cost(hist: db.Historical, day: dt.date, schema: str, say: Callable[[str], None]) -> float:
    """The price in USD of one day's file, as Databento quotes it."""
    request = _request(day, schema)
    try:
        return float(with_retries(lambda: hist.metadata.get_cost(**request), transient, say,
                                  f"databento cost {schema} {day}"))  # fmt: skip
    except db.BentoError as exc:
        raise _explain(exc, day, schema) from exc


def download(
    hist: db.Historical,
    day: dt.date,
    schema: str,
    final: Path,
    say: Callable[[str], None],
    progress: Callable[[int], None],
) -> int:
    """Fetch one day's file to `final` (only once whole and verified); returns its size."""
    request = _request(day, schema)

    def attempt() -> int:
        with partial_file(final) as tmp:
            done = threading.Event()
            watcher = threading.Thread(target=_watch, args=(tmp, done, progress), daemon=True)
            watcher.start()
            try:
                hist.timeseries.get_range(**request, path=tmp)
            finally:
                done.set()
                watcher.join()
            verify_dbn(tmp, schema, day)
            size = tmp.stat().st_size
            publish(tmp, final)
            return size

    def retryable(exc: BaseException) -> str | None:
        if isinstance(exc, RawDataError):  # a body cut short: download again
            return f"incomplete download ({exc})"
        return transient(exc)

    try:
        return with_retries(attempt, retryable, say, f"databento {schema} {day}")
    except db.BentoError as exc:
        raise _explain(exc, day, schema) from exc


def _watch(path: Path, done: threading.Event, progress: Callable[[int], None]) -> None:
    """Report the growing file's size (the client streams to it without a callback)."""
    seen = 0
    while True:
        finished = done.wait(0.2)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = seen
        if size > seen:
            progress(size - seen)
            seen = size
        if finished:
            return
