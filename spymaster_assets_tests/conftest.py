"""Shared fixtures: the external real files, a generated sample day, an isolated Dagster home."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

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
