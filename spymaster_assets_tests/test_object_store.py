"""The data folder on S3-compatible storage (moto's server on loopback): the same commands, the
same bytes as on disk, whole objects only, and nothing left in the local scratch."""

from __future__ import annotations

import datetime as dt

from spymaster_assets.defs.automation.sensors import days_to_process
from spymaster_assets.paths import DataLayout

from .conftest import SAMPLE_DAY, object_files, upload_tree
from .test_cli import spymaster


def lake_objects(root) -> dict[str, bytes]:
    """Every asset file of the lake; the per-day bookkeeping (_days/, which names its files by
    their full path and version) and local lock files left out."""
    return {
        name: data
        for name, data in object_files(root).items()
        if name.startswith("lake/") and "/_days/" not in name and not name.endswith(".lock")
    }


def test_a_day_in_a_bucket_is_byte_identical_to_the_same_day_on_disk(
    sample_root, one_day, s3_root, tmp_path
):
    upload_tree(sample_root / "raw", s3_root / "raw")
    layout = DataLayout(s3_root)
    assert days_to_process(layout) == [(str(SAMPLE_DAY), days_to_process(layout)[0][1])]

    bucket = spymaster("materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(s3_root),
                       home=tmp_path / "home-bucket")  # fmt: skip
    assert bucket.returncode == 0, bucket.stdout[-3000:] + bucket.stderr[-3000:]
    assert f"data: {s3_root}" in bucket.stdout
    assert bucket.stdout.rstrip().endswith("checks: every check passed"), bucket.stdout
    disk = spymaster("materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day),
                     home=tmp_path / "home-disk")  # fmt: skip
    assert disk.returncode == 0, disk.stderr[-3000:]

    remote, local = lake_objects(s3_root), lake_objects(one_day)
    assert len(local) == 16  # 13 day tables, 2 charts, the combined research file
    assert sorted(remote) == sorted(local)
    different = [name for name in local if remote[name] != local[name]]
    assert not different, different
    hidden = [n for n in object_files(s3_root) if n.rsplit("/", 1)[-1].startswith(".")]
    assert not hidden, hidden
    assert not [p for p in (tmp_path / "scratch").rglob("*") if p.suffix != ".lock" and p.is_file()]
    assert days_to_process(layout) == []  # gold is newer than the raw files: nothing to do

    again = spymaster("materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(s3_root),
                      home=tmp_path / "home-bucket")  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{SAMPLE_DAY} current (not rebuilt)" in again.stdout
    assert lake_objects(s3_root) == remote

    summary = spymaster("summary", "--data-dir", str(s3_root), home=tmp_path / "home-bucket")
    assert summary.returncode == 0, summary.stderr[-3000:]
    combined = f"{s3_root}/lake/gold/research/signals_vectorized.parquet"
    assert f"combined research file: {combined}" in summary.stdout
    validate = spymaster("validate", "--data-dir", str(s3_root), home=tmp_path / "home-bucket")
    assert validate.returncode == 0 and "validation passed" in validate.stdout, validate.stderr


def test_sample_data_writes_to_a_bucket(s3_root, tmp_path):
    day = dt.date(2025, 11, 21)
    done = spymaster("sample-data", "--start", str(day), "--volume", "0.05", "--data-dir",
                     str(s3_root), home=tmp_path / "home")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    layout = DataLayout(s3_root)
    assert layout.raw_days() == [day]
    assert all(p.exists() for p in layout.raw_paths(day))
    skipped = spymaster("sample-data", "--start", str(day), "--data-dir", str(s3_root),
                        home=tmp_path / "home")  # fmt: skip
    assert "raw files already present, skipped" in skipped.stdout
