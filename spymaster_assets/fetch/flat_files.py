"""Massive (formerly Polygon) options flat files over S3 with boto3: one day's trades,
`us_options_opra/trades_v1/YYYY/MM/YYYY-MM-DD.csv.gz`, to the same path under `raw/polygon/`.
The credentials are the flat-file service's own, never the lake's AWS ones."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from spymaster_assets.fetch.files import partial_file, verify_csv_gz
from spymaster_assets.fetch.retry import CredentialsRefusedError, FetchError, with_retries
from spymaster_assets.market.errors import RawDataError
from spymaster_assets.storage import publish

ENDPOINT_ENV = "SPYMASTER_FLATFILES_ENDPOINT"
BUCKET_ENV = "SPYMASTER_FLATFILES_BUCKET"
KEY_ID_ENV = "SPYMASTER_FLATFILES_ACCESS_KEY_ID"
SECRET_ENV = "SPYMASTER_FLATFILES_SECRET_ACCESS_KEY"
DEFAULT_ENDPOINT = "https://files.massive.com"
DEFAULT_BUCKET = "flatfiles"


def object_key(day: dt.date) -> str:
    return f"us_options_opra/trades_v1/{day:%Y}/{day:%m}/{day:%Y-%m-%d}.csv.gz"


def bucket() -> str:
    return os.environ.get(BUCKET_ENV) or DEFAULT_BUCKET


def client():
    import boto3
    from botocore.config import Config

    key_id, secret = os.environ.get(KEY_ID_ENV, ""), os.environ.get(SECRET_ENV, "")
    if not key_id or not secret:
        raise FetchError(f"flatfiles: set {KEY_ID_ENV} and {SECRET_ENV} (the keys of the "
                         "Massive flat-files dashboard)")  # fmt: skip
    # A session of its own: nothing of the lake's AWS profile or environment leaks in.
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                    region_name="us-east-1")  # fmt: skip
    return session.client(
        "s3",
        endpoint_url=os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT,
        # our own retries span the whole object; botocore's only the request
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, signature_version="s3v4"),
    )


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def transient(exc: BaseException) -> str | None:
    from botocore.exceptions import (
        ConnectionClosedError,
        EndpointConnectionError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    status = _status(exc)
    if status in (429, 503) or (status is not None and status >= 500):
        return f"server busy or failing (HTTP {status})"
    streaming = (ConnectionClosedError, EndpointConnectionError, IncompleteReadError,
                 ReadTimeoutError, ResponseStreamingError, ConnectionError)  # fmt: skip
    if isinstance(exc, streaming):
        return f"connection error ({type(exc).__name__})"
    if isinstance(exc, RawDataError):
        return f"incomplete download ({exc})"
    return None


def download(
    s3, day: dt.date, final: Path, say: Callable[[str], None], progress: Callable[[int], None]
) -> int:
    """Fetch one day's flat file to `final` (only once whole and verified); its size."""
    key = object_key(day)
    where = f"s3://{bucket()}/{key}"

    def attempt() -> int:
        with partial_file(final) as tmp:
            with open(tmp, "wb") as fh:
                s3.download_fileobj(bucket(), key, fh, Callback=progress)
            verify_csv_gz(tmp, day)
            size = tmp.stat().st_size
            publish(tmp, final)
            return size

    try:
        return with_retries(attempt, transient, say, f"flatfiles {day}")
    except Exception as exc:
        status = _status(exc)
        if status in (401, 403):
            raise CredentialsRefusedError(f"flatfiles {day}: HTTP {status}, access refused to {where} (check "
                             f"{KEY_ID_ENV} and {SECRET_ENV})") from exc  # fmt: skip
        if status == 404:
            raise FetchError(f"flatfiles {day}: no such file {where}") from exc
        raise


def size_of(s3, day: dt.date) -> int | None:
    """The object's size, for the progress bar (None when it cannot be asked)."""
    try:
        return int(s3.head_object(Bucket=bucket(), Key=object_key(day))["ContentLength"])
    except Exception:  # noqa: BLE001 - the download itself reports what is wrong
        return None
