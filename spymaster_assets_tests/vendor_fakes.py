"""Loopback stand-ins for the vendors' remote services, speaking their real protocols.

`FakeDatabento`: an HTTPS server (certificates from trustme; the client trusts them through
REQUESTS_CA_BUNDLE) answering the calls the official client makes for `spymaster fetch`
(`POST /v0/metadata.get_cost`, `POST /v0/timeseries.get_range`), serving generated days'
files and recording every request. Faults can be queued per file: a body cut mid-transfer,
HTTP 429 or 500. `flatfiles_bucket`: moto's S3 server holding the options flat files.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import ssl
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from spymaster_assets.paths import DataLayout

PRICES = {"trades": 0.75, "mbp-10": 4.5}  # USD per day's file


@dataclass
class FakeDatabento:
    vendor: DataLayout  # where the "vendor" keeps its files (generated days)
    key: str
    requests: list[dict] = field(default_factory=list)
    faults: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    url: str = ""

    def serve(self, tmp: Path) -> contextlib.AbstractContextManager:
        return _serving(self, tmp)

    def file_for(self, form: dict) -> Path:
        day = dt.date.fromisoformat(form["start"][:10])
        return self.vendor.dbn_path(form["schema"], day)


@contextlib.contextmanager
def _serving(fake: FakeDatabento, tmp: Path) -> Iterator[Path]:
    """Serve until the block ends; yields the CA bundle the client must trust."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    bundle = tmp / "fake-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield bundle
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDatabento
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, status: int, body: bytes, kind="application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        auth = self.headers.get("Authorization", "")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
        self.fake.requests.append({"path": self.path, **form})
        if user != self.fake.key:
            return self._reply(401, json.dumps({"detail": "Authentication failed."}).encode())
        if self.path == "/v0/metadata.get_cost":
            return self._reply(200, json.dumps(PRICES[form["schema"]]).encode())
        if self.path != "/v0/timeseries.get_range":
            return self._reply(404, json.dumps({"detail": f"no route {self.path}"}).encode())
        path = self.fake.file_for(form)
        queued = self.fake.faults[(form["schema"], form["start"][:10])]
        fault = queued.pop(0) if queued else None
        if fault == "429":
            return self._reply(429, json.dumps({"detail": "Too many requests."}).encode())
        if fault == "500":
            return self._reply(500, json.dumps({"detail": "Internal error."}).encode())
        if not path.exists():
            return self._reply(422, json.dumps({"detail": "No data for the range."}).encode())
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault == "cut":  # half the body, then the connection drops
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@contextlib.contextmanager
def flatfiles_bucket(vendor: DataLayout, days: list[dt.date]) -> Iterator[str]:
    """moto's S3 server on loopback with bucket `flatfiles` holding the days' options files at
    the vendor's keys; yields its endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="vendor", aws_secret_access_key="vendor")  # fmt: skip
        s3.create_bucket(Bucket="flatfiles")
        for day in days:
            key = f"us_options_opra/trades_v1/{day:%Y}/{day:%m}/{day:%Y-%m-%d}.csv.gz"
            s3.put_object(Bucket="flatfiles", Key=key, Body=vendor.options_path(day).read_bytes())
        yield endpoint
    finally:
        server.stop()
