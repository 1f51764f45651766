"""Shared fixtures: the external real files, a generated sample day, an isolated Dagster home,
an S3 server on loopback."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import pytest

from spymaster_assets import local_services
from spymaster_assets.sample.generator import generate_day

REPO_ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = REPO_ROOT.parent / "shared" / "data" / "external"
SAMPLE_DAY = dt.date(2025, 11, 20)  # a normal Thursday


@pytest.fixture(scope="session")
def external_dir() -> Path:
    if not EXTERNAL.exists():
        pytest.skip(f"external Databento files not present at {EXTERNAL}")
    return EXTERNAL


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory) -> Path:
    """A data folder with one generated demo day (read-only for tests: copy before changing)."""
    root = tmp_path_factory.mktemp("sample")
    generate_day(SAMPLE_DAY, root, profile="demo", seed=7)
    return root


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SPYMASTER_DATA_DIR", str(root))
    return root


@pytest.fixture
def one_day(sample_root, tmp_path) -> Path:
    """A writable data folder holding the sample day's raw files."""
    root = tmp_path / "data"
    shutil.copytree(sample_root / "raw", root / "raw")
    return root


S3_BUCKET = "lake"
_prefixes = itertools.count()


@pytest.fixture(scope="session")
def s3_server() -> str:
    """moto's S3 server on loopback (a real HTTP server, so step subprocesses and workers
    reach it too) with the bucket `lake`; yields its endpoint URL."""
    with local_services.s3_server(S3_BUCKET) as endpoint:
        yield endpoint


@pytest.fixture
def s3_root(s3_server, monkeypatch, tmp_path):
    """A fresh s3://lake/<prefix> data folder, the AWS variables set for this test, and local
    scratch in the test's folder (to show nothing is left there)."""
    from spymaster_assets.storage import SCRATCH_DIR_ENV, data_root

    for name, value in local_services.s3_variables(s3_server).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(SCRATCH_DIR_ENV, str(tmp_path / "scratch"))
    return data_root(f"s3://{S3_BUCKET}/t{next(_prefixes)}")


def upload_tree(local: Path, remote) -> None:
    """Copy every file under the local folder `local` to the same names under `remote`."""
    for path in sorted(local.rglob("*")):
        if path.is_file():
            remote.joinpath(*path.relative_to(local).parts).write_bytes(path.read_bytes())


def object_files(root) -> dict[str, bytes]:
    """Every file under a data folder (disk or bucket) by relative name, with its bytes."""
    return {
        "/".join(p.relative_to(root).parts): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }
