"""The Dagster UI path end to end, as a user drives it.

dagster-webserver and dagster-daemon run on 127.0.0.1 with a temporary DAGSTER_HOME and data
folder. Through the GraphQL API, with the same calls the UI makes: one partition is
materialized ("Materialize" on the asset graph), two trading days across a weekend are
backfilled (the daily_chain job's "Backfill"), the raw-files sensor picks up a day dropped into
the folder, and the automation keeps the combined file current. Headless Chromium then opens the
pages a user would look at and saves screenshots.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from spymaster_assets.definitions import defs
from spymaster_assets.paths import DataLayout
from spymaster_assets.sample.generator import generate_day

from .dagster_services import (
    LOCATION,
    REPOSITORY,
    GraphQL,
    daemon,
    new_instance,
    sensor,
    stop_sensor,
    wait_until,
)
from .dagster_services import webserver as start_webserver

THURSDAY, FRIDAY, MONDAY, TUESDAY = (
    dt.date(2025, 11, 20),
    dt.date(2025, 11, 21),
    dt.date(2025, 11, 24),
    dt.date(2025, 11, 25),
)
DAYS = [str(THURSDAY), str(FRIDAY), str(MONDAY)]
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
CHROMIUM = Path(os.environ.get("SPYMASTER_CHROMIUM", "/usr/bin/chromium"))
# What a root Chromium needs on a machine with no screen and a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

graph = defs.resolve_asset_graph()
DAILY = sorted(k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None)
ASSET_SELECTION = [{"path": list(k.path)} for k in DAILY]


@dataclass
class Instance:
    base: str
    gql: GraphQL
    home: Path
    data: Path
    runs: dict = field(default_factory=dict)


def run_status(gql: GraphQL, run_id: str) -> str:
    return gql("query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", id=run_id)[
        "runOrError"
    ]["status"]


def runs(gql: GraphQL, tags: dict[str, str]) -> list[dict]:
    return gql(
        "query($f: RunsFilter) { runsOrError(filter: $f) { ... on Runs { results { runId status "
        "jobName startTime endTime tags { key value } } } } }",
        f={"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    )["runsOrError"]["results"]


def partition_of(run: dict) -> str | None:
    """The run's partition, or its range of partitions as `first..last`."""
    tags = {t["key"]: t["value"] for t in run["tags"]}
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start = tags.get("dagster/asset_partition_range_start")
    return start and f"{start}..{tags['dagster/asset_partition_range_end']}"


def materialize_partition(gql: GraphQL, partition: str) -> str:
    """What the UI's "Materialize" on the asset graph launches for one partition."""
    launched = gql(
        "mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename "
        "... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
        p={
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": "__ASSET_JOB",
                "assetSelection": ASSET_SELECTION,
            },
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def backfill_daily_chain(gql: GraphQL, partitions: list[str]) -> str:
    """What the UI's "Backfill" on the daily_chain job's partitions launches."""
    launched = gql(
        "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { "
        "__typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } "
        "} }",
        p={
            "selector": {
                "partitionSetName": "daily_chain_partition_set",
                "repositorySelector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": REPOSITORY,
                },
            },
            "assetSelection": ASSET_SELECTION,
            "partitionNames": partitions,
            "fromFailure": False,
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def backfill_status(gql: GraphQL, backfill_id: str) -> str:
    return gql(
        "query($id: String!) { partitionBackfillOrError(backfillId: $id) { "
        "... on PartitionBackfill { status } } }",
        id=backfill_id,
    )["partitionBackfillOrError"]["status"]


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    data = tmp_path_factory.mktemp("data")
    new_instance(home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "SPYMASTER_DATA_DIR": str(data)}
    with daemon(home, env), start_webserver(home, env) as (base, gql):
        ui = Instance(base, gql, home, data)
        # The sensor would process the days below by itself; this test clicks instead (and
        # turns the sensor back on for its own test).
        raw_sensor = sensor(gql, "raw_files_sensor")
        assert raw_sensor["sensorState"]["status"] == "RUNNING", "running by default"
        stop_sensor(gql, "raw_files_sensor")
        for day in (THURSDAY, FRIDAY, MONDAY):
            generate_day(day, data, profile="demo", seed=11)

        run_id = materialize_partition(gql, str(THURSDAY))
        wait_until("the partition run", lambda: run_status(gql, run_id) in TERMINAL, 300)
        ui.runs["partition"] = run_id

        backfill_id = backfill_daily_chain(gql, [str(FRIDAY), str(MONDAY)])

        def backfill_done():
            status = backfill_status(gql, backfill_id)
            done = runs(gql, {"dagster/backfill": backfill_id})
            finished = done and all(r["status"] in TERMINAL for r in done)
            return status != "REQUESTED" and finished and status

        ui.runs["backfill_status"] = wait_until(
            "the backfill", backfill_done, 600, home / "daemon.log"
        )
        ui.runs["backfill"] = backfill_id
        yield ui


def test_one_partition_and_a_backfill_across_a_weekend_succeed(instance):
    gql = instance.gql
    assert run_status(gql, instance.runs["partition"]) == "SUCCESS"
    assert instance.runs["backfill_status"] == "COMPLETED_SUCCESS"
    backfill_runs = runs(gql, {"dagster/backfill": instance.runs["backfill"]})
    # Friday and Monday are consecutive sessions: one run covers both, day after day.
    assert [partition_of(r) for r in backfill_runs] == [f"{FRIDAY}..{MONDAY}"]
    assert {r["status"] for r in backfill_runs} == {"SUCCESS"}
    assert {r["jobName"] for r in backfill_runs} == {"daily_chain"}
    layout = DataLayout(instance.data)
    for day in DAYS:
        assert layout.lake_path("gold", "signals", day).exists()


def test_every_asset_is_materialized_for_each_partition(instance):
    for key in DAILY:
        found = instance.gql(
            "query($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) { "
            "... on Asset { assetMaterializations(partitions: $p) { partition } } } }",
            k={"path": list(key.path)},
            p=DAYS,
        )["assetOrError"]["assetMaterializations"]
        assert {m["partition"] for m in found} == set(DAYS), key.to_user_string()


def test_every_check_has_a_result_for_each_partition(instance):
    """Per partition, as the UI lists them; and summarised in each materialization's metadata."""
    nodes = instance.gql(
        "{ assetNodes { assetKey { path } isPartitioned "
        "assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"
    )["assetNodes"]
    checked = 0
    for node in (n for n in nodes if n["isPartitioned"]):
        path = node["assetKey"]["path"]
        names = [c["name"] for c in node["assetChecksOrError"]["checks"]]
        for day in DAYS:
            for name in names:
                executions = instance.gql(
                    "query($k: AssetKeyInput!, $c: String!, $p: String) { assetCheckExecutions("
                    "assetKey: $k, checkName: $c, partition: $p, limit: 5) { status partition "
                    "evaluation { success partition } } }",
                    k={"path": path},
                    c=name,
                    p=day,
                )["assetCheckExecutions"]
                assert executions, f"{'/'.join(path)}:{name} has no result for {day}"
                latest = executions[0]
                assert latest["partition"] == day and latest["evaluation"]["partition"] == day
                assert latest["status"] in ("SUCCEEDED", "FAILED")
                checked += 1
            summary = instance.gql(
                "query($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) { "
                "... on Asset { assetMaterializations(partitions: $p, limit: 1) { "
                "metadataEntries { label ... on TextMetadataEntry { text } } } } } }",
                k={"path": path},
                p=[day],
            )["assetOrError"]["assetMaterializations"][0]["metadataEntries"]
            labels = {e["label"]: e.get("text") for e in summary}
            for name in names:
                assert labels[f"check/{name}"].split(" ")[0] in ("PASSED", "FAILED")
    assert checked >= 3 * 20


def test_the_combined_file_follows_the_daily_gold(instance):
    def combined_days():
        found = instance.gql(
            '{ assetOrError(assetKey: {path: ["gold", "signals_vectorized"]}) { '
            "... on Asset { assetMaterializations(limit: 1) { "
            "metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }"
        )["assetOrError"]["assetMaterializations"]
        days = {e["label"]: e.get("intValue") for e in found[0]["metadataEntries"]} if found else {}
        return days.get("days") == len(DAYS)

    wait_until("gold/signals_vectorized over the three days", combined_days, 240)


def test_new_raw_files_are_processed_without_anyone_clicking(instance):
    gql = instance.gql
    started = gql(
        "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename "
        "... on Sensor { sensorState { status } } } }",
        s={
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "sensorName": "raw_files_sensor",
        },
    )["startSensor"]
    assert started["sensorState"]["status"] == "RUNNING", started
    generate_day(TUESDAY, instance.data, profile="demo", seed=11)

    def sensor_run_done():
        found = runs(gql, {"dagster/sensor_name": "raw_files_sensor"})
        return found if found and all(r["status"] in TERMINAL for r in found) else None

    found = wait_until("the sensor's run", sensor_run_done, 300, instance.home / "daemon.log")
    assert [partition_of(r) for r in found] == [str(TUESDAY)], "exactly the new day"
    assert found[0]["status"] == "SUCCESS"
    assert DataLayout(instance.data).lake_path("gold", "signals", str(TUESDAY)).exists()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make browser)"
    )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url: str):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(url, wait_until="networkidle", timeout=120_000)
    # A new instance greets its first visitor with a newsletter dialog; a user clicks Skip.
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=3000)
        skip.click()
    except PlaywrightTimeout:
        pass  # no dialog this time
    return page


def test_the_ui_shows_lineage_partitions_checks_and_charts(instance, browser, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    lineage = open_page(
        browser, f"{instance.base}/locations/{REPOSITORY}@{LOCATION}/asset-groups/silver/lineage"
    )
    for name in ("ohlcv_1m", "levels", "touches", "barrier_physics", "outcome_labels"):
        lineage.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    text = lineage.inner_text("body")
    for neighbour in ("es_trades", "spy_option_trades", "signals"):
        assert neighbour in text, "the lineage shows the bronze inputs and the gold output"
    lineage.screenshot(path=shots / "silver_lineage.png")

    partition = open_page(
        browser, f"{instance.base}/assets/silver/levels?view=partitions&partition={MONDAY}"
    )
    partition.get_by_text("check/causality").first.wait_for(timeout=60_000)
    text = partition.inner_text("body")
    assert "PASSED (ERROR): all rules hold" in text
    assert int(re.search(r"Materialized \((\d+)\)", text).group(1)) >= len(DAYS)
    partition.screenshot(path=shots / "levels_partition.png")

    checks = open_page(browser, f"{instance.base}/assets/silver/levels?view=checks")
    checks.get_by_text("This is a blocking asset check.").wait_for(timeout=60_000)
    text = checks.inner_text("body")
    assert "causality" in text and "Passed" in text and "Partition" in text
    checks.screenshot(path=shots / "levels_checks.png")

    charts = open_page(
        browser, f"{instance.base}/assets/gold/day_charts?view=partitions&partition={MONDAY}"
    )
    charts.get_by_text("[Show Markdown]").first.click()
    image = charts.locator("img[src^='data:image/png']").first
    image.wait_for(timeout=60_000)
    width, height = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert width > 600 and height > 300, "the day's chart is drawn in the UI"
    charts.screenshot(path=shots / "day_chart.png")

    keep = os.environ.get("SPYMASTER_SCREENSHOTS")
    if keep:  # e.g. to look at them after CI
        shutil.copytree(shots, keep, dirs_exist_ok=True)
    assert sorted(p.name for p in shots.iterdir()) == [
        "day_chart.png",
        "levels_checks.png",
        "levels_partition.png",
        "silver_lineage.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in shots.iterdir())


RESEARCH = sorted(k for k in graph.get_all_asset_keys() if k.path[0] == "research")


def test_the_research_evaluation_shows_its_report_in_the_ui(instance, browser, tmp_path):
    """The research step launched as the launchpad would (its config changed for the four
    days, after the combined file takes in Tuesday), then its evaluation page: the headline
    table, the physics gain and the pictures. Two test days are too few for the placebo gate to
    mean much, so the run may fail that check; the page shows the evaluation either way."""
    config = {"min_train_days": 2, "embargo_days": 0, "test_block_days": 1,
              "start": str(THURSDAY), "end": str(TUESDAY), "bootstrap_draws": 200}  # fmt: skip
    selection = [dg.AssetKey(["gold", "signals_vectorized"]), *RESEARCH]
    launched = instance.gql(
        "mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename "
        "... on LaunchRunSuccess { run { runId } } ... on PythonError { message } "
        "... on RunConfigValidationInvalid { errors { message } } } }",
        p={
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": "__ASSET_JOB",
                "assetSelection": [{"path": list(k.path)} for k in selection],
            },
            "runConfigData": {"ops": {"research": {"config": config}}},
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    wait_until("the research run", lambda: run_status(instance.gql, run_id) in TERMINAL, 600)
    folds = pl.read_parquet(DataLayout(instance.data).root / "lake" / "research" / "folds.parquet")
    assert folds.filter(pl.col("role") == "test")["date"].to_list() == [MONDAY, TUESDAY]

    page = open_page(browser, f"{instance.base}/assets/research/evaluation")
    page.get_by_text("physics_gain").first.wait_for(timeout=60_000)
    text = page.inner_text("body")
    for entry in ("headline", "importance", "report", "metrics", "reliability_BREAK"):
        assert entry in text, entry
    page.screenshot(path=tmp_path / "research_evaluation.png", full_page=True)
    if os.environ.get("SPYMASTER_SCREENSHOTS"):
        shutil.copytree(tmp_path, os.environ["SPYMASTER_SCREENSHOTS"], dirs_exist_ok=True)
    for model in ("base_rate", "logistic", "gradient_boosting_no_physics"):
        assert model in text, f"the headline table is shown: {model}"
    shown = page.get_by_text("[Show Markdown]")  # the importance and reliability pictures
    assert shown.count() >= 4, text
    shown.first.click()
    image = page.get_by_role("dialog").locator("img[src^='data:image/png']").first
    image.wait_for(timeout=60_000)
    width, height = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert width > 300 and height > 200, "the research picture is drawn in the UI"
    page.screenshot(path=tmp_path / "research_picture.png")


def test_a_date_range_backfill_clicked_in_the_ui_runs_exactly_those_days(
    instance, browser, tmp_path
):
    """Jobs → daily_chain → Materialize all… → Show all partitions → a range → Launch backfill."""
    page = open_page(browser, f"{instance.base}/locations/{REPOSITORY}@{LOCATION}/jobs/daily_chain")
    page.get_by_text("Materialize all…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Show all partitions").click()  # the dialog opens on the last 90 days
    selection = dialog.locator("input[type=text]").first
    selection.fill(f"[{THURSDAY}...{FRIDAY}]")
    selection.press("Enter")
    dialog.get_by_text("2 partitions").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "backfill_dialog.png")
    dialog.get_by_role("button", name="Launch backfill").click()
    toast = page.get_by_text(re.compile(r"Created backfill \w+"))
    toast.wait_for(timeout=60_000)
    backfill_id = re.search(r"Created backfill (\w+)", toast.inner_text()).group(1)

    def finished():
        done = runs(instance.gql, {"dagster/backfill": backfill_id})
        over = done and all(r["status"] in TERMINAL for r in done)
        return over and backfill_status(instance.gql, backfill_id) != "REQUESTED" and done

    done = wait_until("the UI backfill", finished, 600, instance.home / "daemon.log")
    assert backfill_status(instance.gql, backfill_id) == "COMPLETED_SUCCESS"
    assert [partition_of(r) for r in done] == [f"{THURSDAY}..{FRIDAY}"], "one run, both days"
    assert {r["status"] for r in done} == {"SUCCESS"}
    assert {r["jobName"] for r in done} == {"daily_chain"}
