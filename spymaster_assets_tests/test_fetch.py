"""`spymaster fetch` against loopback servers that speak the vendors' protocols: Databento's
historical HTTPS API (the official client) and S3 for the Massive flat files (moto)."""

from __future__ import annotations

import datetime as dt

import pytest

from spymaster_assets.paths import DataLayout
from spymaster_assets.sample.generator import generate_day

from .test_cli import spymaster
from .vendor_fakes import PRICES, FakeDatabento, flatfiles_bucket

# Wednesday before Thanksgiving to the Monday after: the holiday and the weekend are skipped.
START, END = "2025-11-26", "2025-12-01"
DAYS = [dt.date(2025, 11, 26), dt.date(2025, 11, 28), dt.date(2025, 12, 1)]
KEY = "db-TESTKEY0123456789abcdefXYZ"
FLAT_SECRET = "flatfiles-secret-0123456789"


@pytest.fixture(scope="module")
def vendors(tmp_path_factory):
    root = tmp_path_factory.mktemp("vendor")
    for day in DAYS:
        generate_day(day, root, profile="demo", seed=5)
    vendor = DataLayout(root)
    fake = FakeDatabento(vendor, KEY)
    with fake.serve(root) as bundle, flatfiles_bucket(vendor, DAYS) as endpoint:
        yield vendor, fake, bundle, endpoint


@pytest.fixture
def env(vendors, monkeypatch, tmp_path):
    vendor, fake, bundle, endpoint = vendors
    fake.requests.clear()
    fake.faults.clear()
    for name, value in {
        "DATABENTO_API_KEY": KEY,
        "SPYMASTER_DATABENTO_GATEWAY": fake.url,
        "REQUESTS_CA_BUNDLE": str(bundle),
        "SPYMASTER_FLATFILES_ENDPOINT": endpoint,
        "SPYMASTER_FLATFILES_ACCESS_KEY_ID": "flat-id",
        "SPYMASTER_FLATFILES_SECRET_ACCESS_KEY": FLAT_SECRET,
        "SPYMASTER_FETCH_BACKOFF_S": "0.05",
    }.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "data"
    return vendor, fake, data, tmp_path / "home"


def fetch(data, home, *args):
    home.mkdir(exist_ok=True)
    return spymaster("fetch", "--start", START, "--end", END, "--data-dir", str(data), *args,
                     home=home)  # fmt: skip


def files(layout: DataLayout) -> dict[str, bytes]:
    return {
        p.relative_to(layout.root).as_posix(): p.read_bytes()
        for p in sorted((layout.root / "raw").rglob("*"))
        if p.is_file()
    }


def assert_no_secret(done):
    for secret in (KEY, FLAT_SECRET):
        assert secret not in done.stdout + done.stderr


def test_a_range_is_priced_fetched_whole_and_skipped_when_present(env):
    vendor, fake, data, home = env
    done = fetch(data, home, "--max-cost", "100")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped, no NYSE session: 2025-11-27, 2025-11-29, 2025-11-30" in done.stdout
    day_cost = PRICES["trades"] + PRICES["mbp-10"]
    assert f"databento 2025-12-01: trades $0.75, mbp-10 $4.50  (day ${day_cost:,.2f})" in (
        done.stdout
    )
    assert f"databento estimate: ${3 * day_cost:,.2f} for 6 files" in done.stdout
    assert "fetched 9 files" in done.stdout and "failed 0" in done.stdout
    assert files(DataLayout(data)) == files(vendor)  # byte for byte, nothing else left behind
    ranges = [r for r in fake.requests if r["path"] == "/v0/timeseries.get_range"]
    assert len(ranges) == 6
    for r in ranges:
        assert (r["dataset"], r["symbols"], r["stype_in"]) == ("GLBX.MDP3", "ES.FUT", "parent")
        day = dt.date.fromisoformat(r["start"][:10])
        assert day in DAYS and r["schema"] in ("trades", "mbp-10")
        assert r["start"] == f"{day}T00:00:00" and r["end"] == f"{day + dt.timedelta(1)}T00:00:00"
    assert_no_secret(done)
    for path in data.rglob("*"):  # nor in any file written
        assert not path.is_file() or KEY.encode() not in path.read_bytes(), path

    fake.requests.clear()
    again = fetch(data, home, "--max-cost", "100")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "fetched 0 files" in again.stdout and "skipped 9 present" in again.stdout
    assert fake.requests == []  # nothing asked, nothing paid


def test_a_cost_above_the_limit_downloads_nothing(env):
    _, fake, data, home = env
    done = fetch(data, home, "--max-cost", "10")
    assert done.returncode == 1
    assert "refused: the estimate $15.75 is above --max-cost $10.00" in done.stdout
    assert not (data / "raw").exists() or not any((data / "raw").rglob("*.*"))
    assert not [r for r in fake.requests if r["path"] == "/v0/timeseries.get_range"]
    estimate = fetch(data, home, "--source", "databento")  # no limit: the estimate alone
    assert estimate.returncode == 0 and "estimate only" in estimate.stdout
    dry = fetch(data, home, "--dry-run", "--max-cost", "100")
    assert dry.returncode == 0 and "dry run: nothing fetched" in dry.stdout
    assert "flatfiles 2025-12-01: would fetch" in dry.stdout
    assert not (data / "raw").exists() or not any((data / "raw").rglob("*.*"))
    assert not [r for r in fake.requests if r["path"] == "/v0/timeseries.get_range"]


def test_a_cut_body_a_429_and_a_500_are_retried_and_leave_no_partial_file(env):
    vendor, fake, data, home = env
    fake.faults[("trades", "2025-11-26")] = ["cut", "cut"]
    fake.faults[("mbp-10", "2025-11-28")] = ["429", "500"]
    done = fetch(data, home, "--source", "databento", "--max-cost", "100")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rate limited (HTTP 429)" in done.stdout and "server error (HTTP 500)" in done.stdout
    assert "attempt 3 of 5" in done.stdout
    fetched = files(DataLayout(data))
    assert fetched == {k: v for k, v in files(vendor).items() if "/databento/" in k}
    assert not [p for p in (data / "raw").rglob(".*")], "no temporary file left"
    assert_no_secret(done)


def test_a_refused_key_names_the_service_and_day_and_never_shows_the_key(env, monkeypatch):
    _, _, data, home = env
    monkeypatch.setenv("DATABENTO_API_KEY", "db-WRONGKEY9876543210")
    done = fetch(data, home, "--source", "databento", "--max-cost", "100")
    assert done.returncode == 1
    assert "databento trades 2025-11-26: HTTP 401, the API key was refused" in done.stderr
    assert "db-WRONGKEY9876543210" not in done.stdout + done.stderr
    assert not (data / "raw").exists() or not any((data / "raw").rglob("*.*"))


def test_a_damaged_file_is_fetched_again_and_a_missing_one_is_named(env):
    vendor, _, data, home = env
    layout = DataLayout(data)
    target = layout.options_path(DAYS[0])
    target.parent.mkdir(parents=True)
    target.write_bytes(vendor.options_path(DAYS[0]).read_bytes()[:500])  # cut short
    done = fetch(data, home, "--source", "flatfiles")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is damaged, fetched again" in done.stdout
    assert target.read_bytes() == vendor.options_path(DAYS[0]).read_bytes()
    missing = spymaster("fetch", "--start", "2025-12-02", "--source", "flatfiles", "--data-dir",
                        str(data), home=home)  # fmt: skip
    assert missing.returncode == 1
    assert (
        "flatfiles 2025-12-02: no such file "
        "s3://flatfiles/us_options_opra/trades_v1/2025/12/2025-12-02.csv.gz"
    ) in missing.stdout
    assert_no_secret(done)
    assert_no_secret(missing)
    no_data = spymaster("fetch", "--start", "2025-12-02", "--source", "databento", "--max-cost",
                        "100", "--data-dir", str(data), home=home)  # fmt: skip
    assert no_data.returncode == 1
    assert "databento trades 2025-12-02: HTTP 422, no such data" in no_data.stdout + no_data.stderr


def test_a_bucket_as_the_data_folder(env, s3_root, tmp_path):
    """--data-dir s3://…: the same files as objects, a cut body retried without leaving an
    object or a scratch file behind, present objects verified and skipped, a damaged one
    fetched again."""
    vendor, fake, _, home = env
    fake.faults[("trades", "2025-11-26")] = ["cut"]
    done = fetch(s3_root, home, "--max-cost", "100")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fetched 9 files" in done.stdout and "attempt 2 of 5" in done.stdout
    assert files(DataLayout(s3_root)) == files(vendor)  # nothing else, nothing hidden
    assert not [p for p in (tmp_path / "scratch").rglob("*") if p.is_file()]
    damaged = DataLayout(s3_root).options_path(DAYS[1])
    damaged.write_bytes(b"not gzip")
    again = fetch(s3_root, home, "--max-cost", "100")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{damaged} is damaged, fetched again" in again.stdout
    assert "fetched 1 files" in again.stdout and "skipped 8 present" in again.stdout
    assert files(DataLayout(s3_root)) == files(vendor)
    assert_no_secret(done)


def test_fetched_days_materialize_to_gold(env):
    _, _, data, home = env
    done = fetch(data, home, "--max-cost", "100")
    assert done.returncode == 0, done.stdout + done.stderr
    built = spymaster("materialize", "--date", str(DAYS[-1]), "--data-dir", str(data), home=home)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert DataLayout(data).lake_path("gold", "signals", str(DAYS[-1])).exists()


def test_the_sensor_does_not_see_a_file_being_fetched(vendors, tmp_path):
    """A day's files under their temporary names are not a day for the raw-files sensor;
    renamed into place, they are."""
    from spymaster_assets.defs.automation.sensors import days_to_process
    from spymaster_assets.fetch.files import partial_file

    vendor, *_ = vendors
    layout = DataLayout(tmp_path / "data")
    day = DAYS[0]
    finals = [layout.dbn_path("trades", day), layout.dbn_path("mbp-10", day),
              layout.options_path(day)]  # fmt: skip
    sources = [vendor.dbn_path("trades", day), vendor.dbn_path("mbp-10", day),
               vendor.options_path(day)]  # fmt: skip
    for n, (final, source) in enumerate(zip(finals, sources, strict=True)):
        with partial_file(final) as tmp:
            tmp.write_bytes(source.read_bytes())
            assert days_to_process(layout) == []  # the last file is not there yet
            assert n > 0 or layout.raw_days() == []  # nor is any: not even a day
            tmp.rename(final)
    assert layout.raw_days() == [day]
    assert [d for d, _ in days_to_process(layout)] == [str(day)]
