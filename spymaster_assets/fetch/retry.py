"""Retries with exponential backoff for transient vendor errors."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
BACKOFF_ENV = "SPYMASTER_FETCH_BACKOFF_S"  # first wait; tests make it short
ATTEMPTS = 5


class FetchError(RuntimeError):
    """A download that cannot succeed by trying again: names the service, the day, the file."""


class CredentialsRefusedError(FetchError):
    """HTTP 401/403: every other file of the service would be refused too."""


def backoff_seconds() -> float:
    return float(os.environ.get(BACKOFF_ENV, "2.0"))


def with_retries(
    attempt: Callable[[], T],
    transient: Callable[[BaseException], str | None],
    say: Callable[[str], None],
    what: str,
) -> T:
    """Run `attempt` until it succeeds; `transient(exc)` names a retryable failure (None: not
    retryable, re-raised). Waits double from backoff_seconds(); gives up after ATTEMPTS."""
    wait = backoff_seconds()
    for n in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except Exception as exc:  # noqa: BLE001 - classified just below
            reason = transient(exc)
            if reason is None:
                raise
            if n == ATTEMPTS:
                raise FetchError(f"{what}: gave up after {ATTEMPTS} attempts ({reason})") from exc
            say(f"{what}: {reason}; attempt {n + 1} of {ATTEMPTS} in {wait:.1f}s")
            time.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")
