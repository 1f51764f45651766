"""`spymaster`: generate sample data, materialize assets through the Dagster instance, summarise."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

import click

from spymaster_assets.paths import DATA_DIR_ENV, DataLayout, default_data_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE_DAYS = ("2025-11-20", "2025-11-25")  # Thu..Tue: spans a weekend, includes a Monday


def _data_dir_option(fn):
    return click.option(
        "--data-dir",
        default=None,
        help=f"Data folder (raw/ and lake/): a local folder or s3://bucket/prefix (endpoint and "
        f"keys from the AWS variables). Default: ${DATA_DIR_ENV}, else ./data.",
    )(fn)


def _use_data_dir(data_dir: str | None) -> Path:
    """The data folder (a local one resolved to an absolute path), exported so the Dagster
    definitions, and every process they start, see the same one."""
    from spymaster_assets.storage import data_root, is_url

    location = data_dir or default_data_dir()
    root = data_root(location if is_url(location) else Path(location).resolve())
    os.environ[DATA_DIR_ENV] = str(root)
    return root


def _local_data_dir(data_dir: str | None, command: str) -> Path:
    """The data folder of a command that needs it on this machine's disk."""
    from spymaster_assets.storage import is_url

    location = data_dir or default_data_dir()
    if is_url(location):
        raise click.UsageError(
            f"{command} keeps its sample days on local disk: give it a folder, not {location}"
        )
    return _use_data_dir(location)


PG_URL_ENV = "SPYMASTER_PG_URL"


def instance_config() -> Path:
    """The instance settings to use: PostgreSQL when SPYMASTER_PG_URL is set, else sqlite."""
    if os.environ.get(PG_URL_ENV):
        return REPO_ROOT / "deploy" / "dagster-postgres.yaml"
    return REPO_ROOT / "dagster.yaml"


def dagster_home() -> Path:
    """$DAGSTER_HOME (default .dagster_home/) holding the instance settings to use (see
    instance_config); exported for the Dagster code that runs in this process."""
    home = Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    source = instance_config()
    if source.exists():
        # a newer shipped file, or a switch between sqlite and PostgreSQL (your own edits of
        # the home's copy stay until then)
        stale = not config.exists() or config.stat().st_mtime < source.stat().st_mtime
        on_pg = lambda path: "postgres_url" in path.read_text()  # noqa: E731
        if stale or on_pg(config) != on_pg(source):
            shutil.copyfile(source, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _parse_day(text: str, *, must_trade: bool = True) -> dt.date:
    from spymaster_assets.market.trading_calendar import NotATradingDayError, parse_trading_day

    try:
        return parse_trading_day(text) if must_trade else dt.date.fromisoformat(text)
    except (NotATradingDayError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc


def _days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    from spymaster_assets.market.trading_calendar import trading_days

    if end < start:
        raise click.BadParameter(f"--end {end} is before --start {start}")
    days = trading_days(start, end)
    if not days:
        raise click.BadParameter(f"no NYSE trading day between {start} and {end}")
    return days


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Spymaster: ES futures + SPY 0DTE options -> level-touch research signals (Dagster)."""


@main.command("sample-data")
@click.option("--start", required=True, help="First trading day, YYYY-MM-DD.")
@click.option("--end", default=None, help="Last trading day (inclusive). Default: --start.")
@click.option("--profile", type=click.Choice(["demo", "full"]), default="demo", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--reaction-strength",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Chance that a touch of a whole SPY dollar is followed by a reaction (bounce or break) [0.45]; the null world has as many, at random moments.",
)
@click.option(
    "--world",
    type=click.Choice(["planted", "null"]),
    default="planted",
    show_default=True,
    help="Known-truth world (docs/sample-data.md): planted, the touch bar's book and tape "
    "decide whether and which way price reacts; null, they say nothing about it.",
)
@click.option(
    "--volume",
    type=click.FloatRange(0.01, 10.0),
    default=1.0,
    show_default=True,
    help="Scale the profile's book events and option trades (the benchmark uses 0.25 to 2).",
)
@click.option("--force", is_flag=True, help="Regenerate days whose files already exist.")
@_data_dir_option
def sample_data(
    start: str,
    end: str | None,
    profile: str,
    seed: int,
    reaction_strength: float | None,
    world: str,
    volume: float,
    force: bool,
    data_dir: str | None,
) -> None:
    """Write sample Databento (trades, mbp-10) and Polygon options files for trading days."""
    from dataclasses import replace

    from spymaster_assets.sample.generator import MarketShape, generate_day

    shape = MarketShape(world=world)
    if reaction_strength is not None:
        shape = replace(shape, reaction_prob=reaction_strength)
    root = _use_data_dir(data_dir)
    first = _parse_day(start, must_trade=end is None)
    days = _days_between(first, _parse_day(end, must_trade=False)) if end else [first]
    layout = DataLayout(root)
    for day in days:
        if not force and all(p.exists() for p in layout.raw_paths(day)):
            click.echo(f"{day}: raw files already present, skipped (use --force to regenerate)")
            continue
        generated = generate_day(
            day, root, profile=profile, seed=seed, shape=shape, progress=click.echo, volume=volume
        )
        counts = ", ".join(f"{k} {v:,}" for k, v in generated.records.items())
        click.echo(f"{day}: wrote {counts} records in {generated.seconds:.1f}s")
    click.echo(f"raw files under {layout.root / 'raw'}")


@main.command("fetch")
@click.option("--start", required=True, help="First trading day, YYYY-MM-DD.")
@click.option("--end", default=None, help="Last trading day (inclusive). Default: --start.")
@click.option("--source", type=click.Choice(["databento", "flatfiles", "all"]), default="all",
              show_default=True, help="Databento ES futures files, Massive options flat files, or both.")  # fmt: skip
@click.option("--max-cost", type=click.FloatRange(min=0), default=None,
              help="Download Databento files only if their estimate is at most this many USD; "
              "without it the estimate is printed and nothing is bought.")  # fmt: skip
@click.option(
    "--dry-run", is_flag=True, help="Print what would be fetched and its cost; fetch nothing."
)
@_data_dir_option
def fetch(start, end, source, max_cost, dry_run, data_dir) -> None:
    """Download vendor files for trading days (docs/real-data.md): Databento trades and MBP-10
    of ES.FUT (DATABENTO_API_KEY) and Massive options trades flat files
    (SPYMASTER_FLATFILES_ACCESS_KEY_ID / _SECRET_ACCESS_KEY), each verified before it appears."""
    from spymaster_assets.fetch.retry import FetchError
    from spymaster_assets.fetch.run import fetch as fetch_range
    from spymaster_assets.market.trading_calendar import is_trading_day

    root = _use_data_dir(data_dir)
    first = _parse_day(start, must_trade=False)
    last = _parse_day(end, must_trade=False) if end else first
    if last < first:
        raise click.BadParameter(f"--end {last} is before --start {first}")
    every = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    closed = [d for d in every if not is_trading_day(d)]
    if closed:
        click.echo(f"skipped, no NYSE session: {', '.join(str(d) for d in closed)}")
    days = [d for d in every if is_trading_day(d)]
    if not days:
        raise click.UsageError(f"no NYSE trading day between {first} and {last}")
    started = time.perf_counter()
    try:
        code, summary = fetch_range(DataLayout(root), days, source, max_cost, dry_run, click.echo)
    except FetchError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if dry_run:
        click.echo(f"dry run: nothing fetched ({len(summary.skipped)} files already present)")
        sys.exit(code)
    mb = summary.fetched_bytes / 1e6
    click.echo(f"fetched {len(summary.fetched)} files ({mb:,.1f} MB), skipped "
               f"{len(summary.skipped)} present, failed {len(summary.failed)}; databento cost "
               f"${summary.cost:,.2f}; {time.perf_counter() - started:.0f}s")  # fmt: skip
    sys.exit(code)


def _partitions_to_run(
    date: str | None, start: str | None, end: str | None, all_: bool, layout: DataLayout
) -> list[dt.date]:
    from spymaster_assets.market.trading_calendar import is_trading_day

    chosen = sum(x is not None for x in (date, start)) + int(all_)
    if chosen != 1 or (start is None) != (end is None):
        raise click.UsageError("give exactly one of --date D, --start D --end D, or --all")
    if date:
        return [_parse_day(date)]
    if start:
        return _days_between(_parse_day(start, must_trade=False), _parse_day(end, must_trade=False))
    days = [d for d in layout.raw_days() if is_trading_day(d)]
    if not days:
        raise click.UsageError(f"--all: no raw files under {layout.root / 'raw'}")
    return days


def _resolve_selection(select: str | None):
    """(definitions, asset graph, selected asset keys) for a --select value; without one, every
    asset but the research step's (`spymaster research` runs it)."""
    import dagster as dg

    from spymaster_assets.definitions import defs
    from spymaster_assets.selection import SelectionError, parse_selection

    graph = defs.resolve_asset_graph()
    try:
        selection = parse_selection(select, set(graph.get_all_asset_keys()))
    except SelectionError as exc:
        raise click.BadParameter(str(exc), param_hint="--select") from exc
    if not select:
        selection = selection - dg.AssetSelection.groups("research")
    return defs, graph, selection.resolve(graph)


def _by_day(failures) -> dict[str, list[str]]:
    """Failed checks by partition ("-": an unpartitioned asset), without the day, run order."""
    out: dict[str, list[str]] = {}
    for failure in failures:
        out.setdefault(failure.day, []).append(failure.what())
    return out


def _run_errors(result) -> list[str]:
    """The run's failure lines: the daily chain's are `YYYY-MM-DD asset: message`, one a line."""
    from spymaster_assets.backfill import step_failure_message

    errors = []
    for event in result.all_events:
        if event.is_step_failure:
            errors.extend(step_failure_message(event.step_failure_data).splitlines())
        elif event.is_run_failure and not errors:
            errors.append(event.message or "run failed")
    return errors


def _run_tags(days: list[dt.date], force: bool) -> dict[str, str]:
    """One partition, or a range of consecutive trading days (Dagster's ranged run)."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
        PARTITION_NAME_TAG,
    )

    from spymaster_assets.defs.chain.runner import FORCE_TAG

    tags = {"spymaster/launched_by": "cli", **({FORCE_TAG: "true"} if force else {})}
    if len(days) == 1:
        return {**tags, PARTITION_NAME_TAG: str(days[0])}
    return {
        **tags,
        ASSET_PARTITION_RANGE_START_TAG: str(days[0]),
        ASSET_PARTITION_RANGE_END_TAG: str(days[-1]),
    }


QUIET_RUN_CONFIG = {
    "loggers": {
        "console": {"config": {"log_level": os.environ.get("SPYMASTER_LOG_LEVEL", "WARNING")}}
    }
}
# The step's own progress lines (INFO; Dagster's events are DEBUG): for a step that runs long
PROGRESS_RUN_CONFIG = {
    "loggers": {"console": {"config": {"log_level": os.environ.get("SPYMASTER_LOG_LEVEL", "INFO")}}}
}


def _execute(job, instance, run_config=QUIET_RUN_CONFIG, **options):
    """Run `job` here, in this process; with a Celery broker configured, its steps on the
    workers (this process only orchestrates)."""
    from spymaster_assets.cluster import broker_url

    if not broker_url():
        return job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config, **options
        )
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    repository = ReconstructableRepository.for_module(
        "spymaster_assets.definitions", "defs", working_directory=None
    )
    return dg.execute_job(
        repository.get_reconstructable_job(job.name),
        instance,
        raise_on_error=False,
        run_config=run_config,
        **options,
    )


@main.command()
@click.option("--date", default=None, help="One trading day, YYYY-MM-DD.")
@click.option("--start", default=None, help="First trading day of a range.")
@click.option("--end", default=None, help="Last trading day of a range (inclusive).")
@click.option("--all", "all_", is_flag=True, help="Every trading day that has raw data.")
@click.option(
    "--select",
    default=None,
    help="Asset keys, e.g. 'bronze/es_trades,silver/ohlcv_1m' ('+'/'*' allowed).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Rebuild current days too (by default a day whose code, configuration and raw files "
    "are unchanged since it was built is recorded again, not rebuilt).",
)
@_data_dir_option
def materialize(date, start, end, all_, select, force, data_dir) -> None:
    """Materialize assets for trading days through the Dagster instance in $DAGSTER_HOME.

    Consecutive days run together, SPYMASTER_DAYS_PER_RUN at a time (default 10), in one
    process; each day is still recorded, checked and reported on its own partition. A day that
    is current (same code, configuration and raw files as when it was built) is not built again
    unless --force."""
    root = _use_data_dir(data_dir)
    home = dagster_home()
    days = _partitions_to_run(date, start, end, all_, DataLayout(root))

    import dagster as dg

    from spymaster_assets import failed_checks as fc
    from spymaster_assets.defs.chain.assets import days_per_run
    from spymaster_assets.market.trading_calendar import consecutive_sessions

    defs, graph, keys = _resolve_selection(select)
    # Daily assets run in ranges of days; the combined (unpartitioned) ones once, after.
    daily = sorted(k for k in keys if graph.get(k).partitions_def is not None)
    combined = sorted(k for k in keys if graph.get(k).partitions_def is None)
    job = defs.resolve_implicit_global_asset_job_def()
    chunks = consecutive_sessions(days, days_per_run()) if daily else []
    click.echo(
        f"data: {root}   dagster home: {home}   assets: {len(keys)}   days: {len(days)}   "
        f"runs: {len(chunks) + bool(combined)}"
    )
    failed: list[str] = []
    failed_checks: list[fc.FailedCheck] = []
    done = 0
    with dg.DagsterInstance.get() as instance:
        for chunk in chunks:
            if len(chunk) > 1:
                click.echo(f"running {chunk[0]}..{chunk[-1]} ({len(chunk)} trading days)")
            result = _execute(job, instance, asset_selection=daily, tags=_run_tags(chunk, force))
            found = fc.from_events(result.all_events)
            failed_checks += found
            checks = _by_day(found)
            errors = _run_errors(result) if not result.success else []
            for day in chunk:
                done += 1
                key = str(day)
                mats = [
                    e.event_specific_data.materialization
                    for e in result.get_asset_materialization_events()
                    if e.event_specific_data.materialization.partition == key
                ]
                rows = {m.asset_key.to_user_string(): m.metadata.get("dagster/row_count")
                        for m in mats}  # fmt: skip
                seconds = sum(float(m.metadata["seconds"].value) for m in mats
                              if "seconds" in m.metadata)  # fmt: skip
                mine = [e for e in errors if e.startswith(f"{key} ")]
                if not result.success and not mine and len(mats) < len(daily):
                    mine = errors or ["run failed"]
                summary = ", ".join(
                    f"{k} {v.value:,}" if v is not None else k for k, v in sorted(rows.items())
                )
                reused = sum("reused_from_run" in m.metadata for m in mats)
                status = (
                    "FAILED"
                    if mine
                    else "current (not rebuilt)"
                    if reused == len(mats) and mats
                    else "ok"
                )
                click.echo(f"[{done}/{len(days)}] {key} {status} in {seconds:.1f}s  {summary}")
                for line in checks.get(key, []):
                    click.echo(f"    check failed: {line}")
                for line in mine:
                    click.echo(f"    error: {line}", err=True)
                if mine:
                    failed.append(key)
        if combined:
            started = time.perf_counter()
            result = _execute(
                job, instance, asset_selection=combined, tags={"spymaster/launched_by": "cli"}
            )
            rows = {
                m.asset_key.to_user_string(): m.metadata.get("dagster/row_count")
                for m in (
                    e.event_specific_data.materialization
                    for e in result.get_asset_materialization_events()
                )
            }
            summary = ", ".join(f"{k} {v.value:,}" for k, v in sorted(rows.items()) if v)
            status = "ok" if result.success else "FAILED"
            click.echo(f"combined {status} in {time.perf_counter() - started:.1f}s  {summary}")
            found = fc.from_events(result.all_events)
            for failure in found:
                click.echo(f"    check failed: {failure.what()}")
            failed_checks += found
            if not result.success:
                failed.append("combined")
                for line in _run_errors(result):
                    click.echo(f"    error: {line}", err=True)
    fc.report(sorted(failed_checks), click.echo)
    if failed:
        total = len(days) + bool(combined)
        click.echo(f"{len(failed)} of {total} failed: {', '.join(failed)}", err=True)
        sys.exit(1)


@main.command()
@click.option("--start", default=None, help="First trading day to evaluate (default: the first).")
@click.option("--end", default=None, help="Last trading day to evaluate (default: the last).")
@click.option(
    "--target",
    default="outcome",
    show_default=True,
    help="Label to learn: outcome or a label-grid column such as outcome_t050_h05.",
)
@click.option("--test-block-days", default=5, show_default=True, help="TEST_BLOCK_DAYS.")
@click.option("--embargo-days", default=1, show_default=True, help="EMBARGO_DAYS.")
@click.option("--min-train-days", default=10, show_default=True, help="MIN_TRAIN_DAYS.")
@_data_dir_option
def research(start, end, target, test_block_days, embargo_days, min_train_days,
             data_dir) -> None:  # fmt: skip
    """Evaluate the baseline models on the materialized gold signals, walking forward over
    trading days (SPEC §12), through the Dagster instance in $DAGSTER_HOME: writes
    lake/research/ (folds, training table, predictions, metrics.json, report.md, pictures) and
    prints the headline table. Exits non-zero when a leakage gate (a blocking check) fails."""
    import json

    root = _use_data_dir(data_dir)
    dagster_home()
    for text in (start, end):
        if text:
            _parse_day(text, must_trade=False)

    import dagster as dg

    from spymaster_assets import failed_checks as fc
    from spymaster_assets.defs.research.assets import RESEARCH_DIR
    from spymaster_assets.research.report import headline_rows

    defs, graph, _ = _resolve_selection(None)
    keys = sorted(k for k in graph.get_all_asset_keys() if k.path[0] == "research")
    config = {
        "target": target, "start": start, "end": end, "test_block_days": test_block_days,
        "embargo_days": embargo_days, "min_train_days": min_train_days,
    }  # fmt: skip
    click.echo(f"data: {root}   target: {target}   days: {start or 'first'}..{end or 'last'}")
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = _execute(
            defs.resolve_implicit_global_asset_job_def(),
            instance,
            asset_selection=keys,
            tags={"spymaster/launched_by": "cli"},
            run_config={**PROGRESS_RUN_CONFIG, "ops": {"research": {"config": config}}},
        )
    folder = root / "lake" / RESEARCH_DIR
    metrics_file = folder / "metrics.json"
    made = {e.asset_key for e in result.get_asset_materialization_events()}
    if made and metrics_file.exists():  # this run wrote it (a failed gate still writes it)
        metrics = json.loads(metrics_file.read_text())
        rows = [("model", "log loss", "D² log loss [95 %]", "AUC"), *headline_rows(metrics)]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        click.echo("")
        for row in rows:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        trees = metrics.get("gradient_boosting", {})
        if trees.get("physics_gain") is not None:
            click.echo(
                f"\nphysics gain {trees['physics_gain']:+.4f} "
                f"[{trees['physics_gain_low']:+.4f}, {trees['physics_gain_high']:+.4f}]"
            )
        click.echo(f"report: {folder / 'report.md'}")
    failures = fc.from_events(result.all_events)
    for failure in failures:
        click.echo(f"check failed: {failure.what()}", err=True)
    if not result.success:
        for line in _run_errors(result):
            click.echo(f"error: {line}", err=True)
        click.echo(f"research FAILED in {time.perf_counter() - started:.0f}s", err=True)
        sys.exit(1)
    click.echo(f"research ok in {time.perf_counter() - started:.0f}s")


def _scales(text: str) -> tuple[float, ...]:
    try:
        scales = tuple(sorted({float(x) for x in text.split(",") if x.strip()}))
    except ValueError as exc:
        raise click.BadParameter(f"--scales: {exc}") from exc
    if 1.0 not in scales or any(s <= 0 for s in scales):
        raise click.BadParameter("--scales: positive numbers that include 1, e.g. 0.25,0.5,1,2")
    return scales


@main.command()
@click.option("--day", default="2025-11-20", show_default=True, help="The sample day to run.")
@click.option(
    "--scales", default="0.25,0.5,1,2", show_default=True, help="Volumes to run the chain at."
)
@click.option(
    "--profile",
    type=click.Choice(["full", "demo"]),
    default="full",
    show_default=True,
    help="Sample profile of the day (the targets are stated for full; demo is a quick check).",
)
@click.option("--no-baseline", is_flag=True, help="Skip the naive DBNStore.to_df() baseline.")
@click.option("--no-research", is_flag=True, help="Skip the research step on a year of signals.")
@click.option(
    "--research-days",
    default=252,
    show_default=True,
    help="Trading days of the research step's data set (a year: 252).",
)
@click.option("--no-dagster-path", is_flag=True, help="Skip `spymaster materialize --date`.")
@click.option(
    "--results-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO_ROOT / "bench" / "results",
    show_default=True,
)
@click.option("--write-docs", is_flag=True, help="Also write the markdown to docs/performance.md.")
@click.option(
    "--backfill-days",
    type=click.IntRange(0, 500),
    default=0,
    show_default=True,
    help="Also backfill this many full-size days through `dagster dev` (0: skip).",
)
@click.option(
    "--days-per-run",
    type=click.IntRange(1, 500),
    default=None,
    help="Days per run of that backfill [half of --backfill-days: one run per core].",
)
@click.option(
    "--backfill-repeats",
    type=click.IntRange(1, 10),
    default=2,
    show_default=True,
    help="Times each way (two runs at once, one at a time), interleaved; the fastest counts.",
)
@_data_dir_option
def bench(
    day,
    scales,
    profile,
    no_baseline,
    no_research,
    research_days,
    no_dagster_path,
    results_dir,
    write_docs,
    backfill_days,
    days_per_run,
    backfill_repeats,
    data_dir,
) -> None:
    """Time the per-day chain on a sample day against the decompression floor.

    The sample days (one per volume) are generated once under DATA_DIR/bench/ and reused."""
    from spymaster_assets.bench.report import markdown, write_report
    from spymaster_assets.bench.run import BenchOptions, run_bench

    options = BenchOptions(
        data_dir=_local_data_dir(data_dir, "bench"),
        day=_parse_day(day),
        scales=_scales(scales),
        profile=profile,
        baseline=not no_baseline,
        research=not no_research,
        research_days=research_days,
        dagster_path=not no_dagster_path,
        results_dir=results_dir,
        docs_path=REPO_ROOT / "docs" / "performance.md" if write_docs else None,
        backfill_days=backfill_days,
        days_per_run=days_per_run,
        backfill_repeats=backfill_repeats,
    )
    report = run_bench(options, say=lambda line: click.echo(line))
    paths = write_report(report, options.results_dir, options.docs_path)
    click.echo("")
    click.echo(markdown(report))
    click.echo("written: " + ", ".join(str(p) for p in paths))


@main.command("bench-cluster")
@click.option("--days", "k", type=click.IntRange(2, 60), default=6, show_default=True,
              help="Full-size days to backfill (the first days of the backfill benchmark).")  # fmt: skip
@click.option("--profile", type=click.Choice(["demo", "full"]), default="full", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--write-docs", is_flag=True, help="Update its section of docs/performance.md.")
@_data_dir_option
def bench_cluster(k: int, profile: str, seed: int, write_docs: bool, data_dir) -> None:
    """The backfill on 1 and then 2 Celery workers, all on this machine (PostgreSQL, Redis and
    an S3 server on loopback): throughput, and throughput per worker (docs/performance.md)."""
    from spymaster_assets.bench.cluster import run_cluster_bench
    from spymaster_assets.bench.report import write_cluster_report

    for name in ("SPYMASTER_CELERY_BROKER", PG_URL_ENV):
        os.environ.pop(name, None)  # the benchmark starts its own
    result = run_cluster_bench(_local_data_dir(data_dir, "bench-cluster"), k, profile, seed,
                               click.echo)  # fmt: skip
    docs = REPO_ROOT / "docs" / "performance.md" if write_docs else None
    section = write_cluster_report(result, REPO_ROOT / "bench" / "results", docs)
    click.echo("\n" + section)


@main.command()
@click.option("--start", required=True, help="First trading day, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last trading day (inclusive).")
@click.option(
    "--select", default=None, help="Asset keys as for materialize. Default: the daily chain."
)
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="Seconds to wait.")
@click.option(
    "--force",
    is_flag=True,
    help="Submit and rebuild current days too (by default they are left out).",
)
@_data_dir_option
def backfill(
    start: str, end: str, select: str | None, timeout: float, force: bool, data_dir: str | None
) -> None:
    """Submit a Dagster backfill of trading days to the instance; the daemon runs it.

    First it waits for runs already on these days (the raw-files sensor's, say), then leaves
    out the days that are current: every selected asset built by a run of this instance with
    the same code, default configuration and raw files, its file unchanged in the lake. Their
    materializations and check results are already recorded per partition; --force rebuilds
    them. The runs read and write the data folder of the daemon (the environment `make ui` was
    started with); --data-dir names the folder checked for raw files and current days before
    submitting (the same by default). Progress is printed per partition; the exit code is 1 if
    any partition fails.
    """
    dagster_home()
    layout = DataLayout(_use_data_dir(data_dir))
    first, last = _parse_day(start, must_trade=False), _parse_day(end, must_trade=False)
    days = [str(d) for d in _days_between(first, last)]
    for day in _days_between(first, last):
        missing = [p.name for p in layout.raw_paths(day) if not p.exists()]
        if missing:
            click.echo(
                f"warning: {day} has no {', '.join(missing)} under {layout.root / 'raw'}", err=True
            )

    import dagster as dg

    from spymaster_assets import backfill as bf
    from spymaster_assets import failed_checks as fc

    defs, graph, keys = _resolve_selection(select)
    daily = sorted(k for k in keys if graph.get(k).partitions_def is not None)
    wanted = set(daily)
    check_keys = [k for k in graph.asset_check_keys if k.asset_key in wanted]
    range_days = list(days)
    with dg.DagsterInstance.get() as instance:
        try:
            bf.require_backfill_daemon(instance)
        except bf.NoDaemonError as exc:
            raise click.ClickException(str(exc)) from exc
        started = time.monotonic()
        if not force:
            try:
                bf.wait_for_runs_on(instance, days, click.echo, timeout)
            except TimeoutError as exc:
                raise click.ClickException(str(exc)) from exc
            current = bf.current_days(instance, graph, daily, days, layout.root)
            if current:
                click.echo(
                    f"{len(current)} of {len(days)} trading days are current (built by earlier "
                    "runs with the same code, configuration and raw files; their results are "
                    "recorded): left out, --force rebuilds them"
                )
            left_out = set(current)
            days = [d for d in days if d not in left_out]
            if not days:
                click.echo("nothing to backfill: every trading day is current")
                fc.report(fc.latest_failures(instance, check_keys, range_days), click.echo)
                return
            timeout = max(1.0, timeout - (time.monotonic() - started))
        backfill_id = bf.submit(
            instance, graph, days, daily, f"spymaster {days[0]}..{days[-1]}", force=force
        )
        click.echo(
            f"backfill {backfill_id}: {len(days)} trading days x {len(daily)} assets submitted"
        )

        def show(state: bf.Progress) -> None:
            total = len(days) * len(daily)
            done = sum(state.assets_done.values())
            width = 30
            filled = width * done // total
            cells = "  ".join(
                f"{k} {n}/{len(daily)}{' FAILED' if state.failed[k] else ''}"
                for k, n in state.assets_done.items()
            )
            click.echo(
                f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} asset partitions, "
                f"{state.runs} runs, {state.status.value}  {cells}"
            )

        try:
            final = bf.follow(instance, backfill_id, days, daily, show, timeout)
        except TimeoutError as exc:
            raise click.ClickException(str(exc)) from exc
        # every day of the range, those left out as current included
        fc.report(fc.latest_failures(instance, check_keys, range_days), click.echo)
    for line in final.errors:
        click.echo(f"    error: {line}", err=True)
    if not final.succeeded:
        failed = [k for k, bad in final.failed.items() if bad] or days
        click.echo(
            f"backfill {backfill_id} {final.status.value}: failed partitions {', '.join(failed)}",
            err=True,
        )
        sys.exit(1)
    click.echo(f"backfill {backfill_id} succeeded: {len(days)} trading days")


@main.command()
@click.option(
    "--date",
    default=None,
    help="Validate one day's gold/signals file instead of the combined file.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Print outcome counts per day, level kind, barrier state and fuel effect, and the class "
    "mix of every label-grid pair.",
)
@_data_dir_option
def validate(date: str | None, verbose: bool, data_dir: str | None) -> None:
    """Check the gold signals: schema, ids, windows, bands, directions, labels, null rules."""
    import polars as pl

    from spymaster_assets.settings import SpymasterConfig
    from spymaster_assets.signals.validation import markdown_table, validate_signals
    from spymaster_assets.storage import read_parquet

    layout = DataLayout(_use_data_dir(data_dir))
    if date:
        path = layout.lake_path("gold", "signals", str(_parse_day(date)))
    else:
        path = layout.root / "lake" / "gold" / "research" / "signals_vectorized.parquet"
    if not path.exists():
        raise click.ClickException(f"{path} does not exist: run `spymaster materialize` first")
    frame = read_parquet(path)
    days = frame["date"].unique().sort().to_list() if frame.height else []
    bar_files = [layout.lake_path("silver", "ohlcv_1m", str(d)) for d in days]
    missing_bars = [str(p) for p in bar_files if not p.exists()]
    bar_opens = (
        pl.concat([read_parquet(p, ["ts_ns", "open"]) for p in bar_files if p.exists()])
        if bar_files
        else None
    )
    settings = SpymasterConfig()
    report = validate_signals(
        frame,
        monitor_band=settings.monitor_band,
        outcome_threshold=settings.outcome_threshold,
        lookforward_minutes=settings.lookforward_minutes,
        bar_opens=None if missing_bars else bar_opens,
    )
    click.echo(f"{path}: {report.rows:,} signals over {len(days)} trading days")
    if missing_bars:
        click.echo(f"  (direction rule skipped: no bars for {len(missing_bars)} days)")
    if verbose and report.by_day is not None:
        click.echo("\noutcomes per trading day\n" + markdown_table(report.by_day))
        click.echo("\noutcomes per level kind\n" + markdown_table(report.by_kind))
        click.echo("\noutcomes per barrier state\n" + markdown_table(report.by_barrier))
        click.echo("\noutcomes per fuel effect\n" + markdown_table(report.by_fuel))
        click.echo(
            "\nlabel grid: class mix per threshold x horizon\n" + markdown_table(report.by_grid)
        )
    if report.ok:
        click.echo("validation passed")
        return
    for line in report.errors:
        click.echo(f"  FAIL {line}", err=True)
    click.echo(f"validation failed: {len(report.errors)} rules broken", err=True)
    sys.exit(1)


SUMMARY_DAY_COLUMNS = 8  # more days than this: one line per asset with its rows per day


@main.command()
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Steps this worker runs at once (one process each).")  # fmt: skip
@click.option("--name", default=None, help="Worker name (default: spymaster-<random>@<host>).")
@_data_dir_option
def worker(concurrency: int, name: str | None, data_dir: str | None) -> None:
    """Run the steps of every run on this machine, as a Celery worker (docs/deploy.md).

    Needs the cluster's settings: SPYMASTER_CELERY_BROKER (redis://…), SPYMASTER_PG_URL (the
    instance) and the data folder in a bucket (--data-dir s3://… or SPYMASTER_DATA_DIR), the
    same as the daemon's. Nothing else is shared: run it from any folder, on any machine."""
    import uuid

    from spymaster_assets.cluster import BROKER_ENV, QUEUE, broker_url, redacted
    from spymaster_assets.storage import is_url

    if not broker_url():
        raise click.UsageError(f"{BROKER_ENV} is not set: the broker the runs send steps to")
    if not os.environ.get(PG_URL_ENV):
        raise click.UsageError(
            f"{PG_URL_ENV} is not set: workers record their steps in the instance's PostgreSQL"
        )
    location = data_dir or default_data_dir()
    if not is_url(location):
        raise click.UsageError(
            f"the data folder {location!r} is local: workers share only a bucket "
            "(--data-dir s3://bucket/prefix, or SPYMASTER_DATA_DIR)"
        )
    root = _use_data_dir(location)
    dagster_home()
    name = name or f"spymaster-{uuid.uuid4().hex[:6]}"
    click.echo(
        f"worker {name}: {concurrency} at once, data {root}, broker {redacted(broker_url())}"
    )
    command = ["celery", "-A", "spymaster_assets.celery_app", "worker", "--loglevel", "INFO",
               "-Q", QUEUE, "-n", f"{name}@%h", "--concurrency", str(concurrency),
               "--prefetch-multiplier", "1", "--without-gossip", "--without-mingle"]  # fmt: skip
    sys.stdout.flush()
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    os.execv(celery, [celery, *command[1:]])  # the worker is this process: signals reach it


@main.command()
@_data_dir_option
def summary(data_dir: str | None) -> None:
    """Rows per asset and day in the lake, where the files are, and how to open the UI."""
    import polars as pl

    from spymaster_assets.storage import scan_parquet

    root = _use_data_dir(data_dir)
    lake = root / "lake"
    files = sorted(lake.glob("*/*/*.parquet")) if lake.exists() else []
    if not files:
        click.echo(f"no lake files under {lake} yet: run `spymaster materialize --all`")
        return
    table: dict[str, dict[str, int]] = {}
    combined: dict[Path, int] = {}
    for f in files:
        rows = scan_parquet(f).select(pl.len()).collect().item()
        try:
            dt.date.fromisoformat(f.stem)
        except ValueError:
            combined[f] = rows
            continue
        table.setdefault(f"{f.parent.parent.name}/{f.parent.name}", {})[f.stem] = rows
    days = sorted({d for per_day in table.values() for d in per_day})
    width = max((len(a) for a in table), default=10)
    if len(days) <= SUMMARY_DAY_COLUMNS:
        click.echo("rows per asset and trading day")
        click.echo(" " * width + "  " + "  ".join(f"{d:>10}" for d in days))
        for asset, per_day in sorted(table.items()):
            cells = "  ".join(f"{per_day[d]:>10,}" if d in per_day else f"{'-':>10}" for d in days)
            click.echo(f"{asset:<{width}}  {cells}")
    else:  # too many days for a column each: each asset's days and rows per day
        click.echo(f"rows per asset over {len(days)} trading days ({days[0]} to {days[-1]})")
        click.echo(f"{'':<{width}}  {'days':>5}  {'min/day':>10}  {'median':>10}  {'max/day':>10}")
        for asset, per_day in sorted(table.items()):
            rows = sorted(per_day.values())
            click.echo(f"{asset:<{width}}  {len(rows):>5}  {rows[0]:>10,}  "
                       f"{rows[len(rows) // 2]:>10,}  {rows[-1]:>10,}")  # fmt: skip
    for path, rows in combined.items():
        outcomes = ""
        if "outcome" in scan_parquet(path).collect_schema().names():
            counts = scan_parquet(path).group_by("outcome").len().sort("outcome").collect()
            outcomes = " (" + ", ".join(f"{o} {n:,}" for o, n in counts.iter_rows()) + ")"
        click.echo(f"\ncombined research file: {path}: {rows:,} signals{outcomes}")
    click.echo(f"\nlake files: {lake}/<layer>/<asset>/<YYYY-MM-DD>.parquet")
    click.echo(f"raw files:  {root / 'raw'}")
    click.echo("open the Dagster UI: make ui, then http://127.0.0.1:3000")


if __name__ == "__main__":
    main()
