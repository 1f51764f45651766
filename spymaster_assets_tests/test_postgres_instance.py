"""The instance on a real PostgreSQL (deploy/dagster-postgres.yaml, SPYMASTER_PG_URL): runs,
materializations and per-partition check results land in the database, not in sqlite files."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy

from spymaster_assets.local_services import postgres
from spymaster_assets.paths import DataLayout

from .conftest import SAMPLE_DAY
from .test_cli import spymaster


@pytest.fixture(scope="module")
def pg_url():
    with postgres() as url:
        yield url


def test_a_day_materialized_through_a_postgres_instance(pg_url, one_day, tmp_path, monkeypatch):
    monkeypatch.setenv("SPYMASTER_PG_URL", pg_url)
    home = tmp_path / "home"
    done = spymaster("materialize", "--date", str(SAMPLE_DAY), "--data-dir", str(one_day),
                     home=home)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "postgres_url" in (home / "dagster.yaml").read_text()
    assert not list(home.rglob("*.db")), "no sqlite storage beside the database"
    assert DataLayout(one_day).lake_path("gold", "signals", str(SAMPLE_DAY)).exists()

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags.get("dagster/partition", "combined") for r in runs) == [
            str(SAMPLE_DAY), "combined"]  # fmt: skip
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        key = dg.AssetKey(["silver", "levels"])
        assert str(SAMPLE_DAY) in instance.get_materialized_partitions(key)
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(key, "causality"), limit=5
        )
        assert [(r.partition, r.status.value) for r in history] == [(str(SAMPLE_DAY), "SUCCEEDED")]
    with sqlalchemy.create_engine(pg_url).connect() as db:
        assert db.execute(sqlalchemy.text("select count(*) from runs")).scalar() == 2
        events = db.execute(sqlalchemy.text("select count(*) from event_logs")).scalar()
        assert events > 100


def test_back_on_sqlite_when_the_url_is_gone(pg_url, one_day, tmp_path, monkeypatch):
    """The same home switches back to the shipped sqlite settings without the variable."""
    home = tmp_path / "home"
    light = ("materialize", "--date", str(SAMPLE_DAY), "--select", "bronze/spy_option_trades",
             "--data-dir", str(one_day))  # fmt: skip
    monkeypatch.setenv("SPYMASTER_PG_URL", pg_url)
    assert spymaster(*light, home=home).returncode == 0
    assert "postgres_url" in (home / "dagster.yaml").read_text()
    monkeypatch.delenv("SPYMASTER_PG_URL")
    done = spymaster(*light, "--force", home=home)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sqlite" in (home / "dagster.yaml").read_text() and list(home.rglob("*.db"))
