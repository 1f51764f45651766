"""The research layer (SPEC §12): one step builds the fold table, the training table, the
out-of-fold predictions on the target and on placebo labels, and the evaluation, from every
materialized day of gold signals (the combined file). Not partitioned: each materialization
evaluates the whole data set as it stands (or the run's date range), walking forward through
its days; lineage shows each table.
"""

import datetime as dt
import os

import dagster as dg
from pydantic import Field

from spymaster_assets.defs.column_schema import column_schema
from spymaster_assets.defs.gold.assets import RESEARCH_FILE
from spymaster_assets.defs.gold.checks import SIGNALS_VECTORIZED
from spymaster_assets.defs.research import checks
from spymaster_assets.defs.resources import LakeResource
from spymaster_assets.settings import SpymasterConfig

RESEARCH_DIR = "research"


class ResearchConfig(dg.Config):
    """SPEC §12's parameters for one evaluation (changeable per run in the launchpad)."""

    target: str = Field("outcome", description="Label column to learn: outcome or outcome_t…_h….")
    start: str | None = Field(None, description="First trading day (YYYY-MM-DD); all if unset.")
    end: str | None = Field(None, description="Last trading day (YYYY-MM-DD); all if unset.")
    test_block_days: int = Field(5, description="TEST_BLOCK_DAYS: trading days per test block.")
    embargo_days: int = Field(1, description="EMBARGO_DAYS: sessions between training and test.")
    min_train_days: int = Field(10, description="MIN_TRAIN_DAYS before the first test block.")
    random_state: int = Field(7, description="Seed of the models, bootstrap and placebo.")
    bootstrap_draws: int = Field(1000, description="Day-bootstrap draws of every interval.")
    processes: int = Field(
        0, description="Folds fitted side by side in this many processes; 0: one per core."
    )


def _spec(key: dg.AssetKey, deps, description: str, kinds) -> dg.AssetSpec:
    metadata = {}
    if key in checks.TABLES:  # the catalog shows the columns of every stored table
        metadata["dagster/column_schema"] = column_schema(key.to_user_string())
    return dg.AssetSpec(key, deps=deps, description=description, group_name="research",
                        kinds=set(kinds), metadata=metadata)  # fmt: skip


def _specs() -> list[dg.AssetSpec]:
    """The five assets of the step (a function: the definitions loader would take a module-level
    list of specs for definitions of their own)."""
    return [
        _spec(checks.FOLDS, [SIGNALS_VECTORIZED],
              "lake/research/folds.parquet: (fold, date, role) with role train, embargo or test: "
              "walk-forward test blocks of consecutive trading days, training days at least "
              "EMBARGO_DAYS sessions before each block.", {"polars", "parquet"}),
        _spec(checks.TRAINING_TABLE, [SIGNALS_VECTORIZED, checks.FOLDS],
              "lake/research/training_table.parquet: one row per signal with the features known at "
              "info_ts_ns, the target, its label window end, the average-uniqueness weight and the "
              "fold that tests its day.", {"polars", "parquet"}),
        _spec(checks.PREDICTIONS, [checks.TRAINING_TABLE, checks.FOLDS],
              "lake/research/predictions.parquet: out-of-fold class probabilities (p_<CLASS>) of "
              "every model for every signal of every test day.", {"scikitlearn", "parquet"}),
        _spec(checks.PLACEBO_PREDICTIONS, [checks.TRAINING_TABLE, checks.FOLDS],
              "lake/research/placebo_predictions.parquet: the same walk-forward on placebo labels "
              "(placebo_label), the leakage gate's input.", {"scikitlearn", "parquet"}),
        _spec(checks.EVALUATION, [checks.PREDICTIONS, checks.PLACEBO_PREDICTIONS],
              "lake/research/metrics.json, report.md and PNGs: every SPEC §12 metric per model and "
              "per fold with day-bootstrap intervals, physics gain, grouped importance, the placebo "
              "gate and its shuffled K-fold contrast.", {"matplotlib", "markdown"}),
    ]  # fmt: skip


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def load_signals(lake: LakeResource, config: ResearchConfig):
    import polars as pl

    from spymaster_assets.storage import read_parquet

    path = lake.asset_path(SIGNALS_VECTORIZED, None, RESEARCH_FILE)
    if not path.exists():
        raise dg.Failure(
            f"research needs gold/signals_vectorized ({path}): materialize trading days first"
        )
    frame = read_parquet(path)
    start, end = _day(config.start), _day(config.end)
    if start:
        frame = frame.filter(pl.col("date") >= start)
    if end:
        frame = frame.filter(pl.col("date") <= end)
    return frame


@dg.multi_asset(name="research", specs=_specs(), check_specs=checks.CHECKS, can_subset=False)
def research(
    context: dg.AssetExecutionContext,
    config: ResearchConfig,
    settings: SpymasterConfig,
    lake: LakeResource,
):
    from spymaster_assets.defs.research.outputs import check_results, write_outputs
    from spymaster_assets.research.folds import FoldParams
    from spymaster_assets.research.pipeline import ResearchParams, run_research, target_minutes

    signals = load_signals(lake, config)
    params = ResearchParams(
        target=config.target,
        target_minutes=target_minutes(config.target, settings.lookforward_minutes),
        folds=FoldParams(config.test_block_days, config.embargo_days, config.min_train_days),
        random_state=config.random_state,
        bootstrap_draws=config.bootstrap_draws,
        n_jobs=config.processes or os.cpu_count() or 1,
    )
    days = signals["date"].n_unique() if signals.height else 0
    needed = config.min_train_days + config.embargo_days + 1
    if days < needed:
        raise dg.Failure(
            f"research: {days} trading days of gold signals in the range, but a walk-forward "
            f"fold needs at least {needed} (MIN_TRAIN_DAYS {config.min_train_days} + "
            f"EMBARGO_DAYS {config.embargo_days} + one test day): materialize more days or "
            "lower min_train_days in the run config"
        )
    result = run_research(signals, params, progress=context.log.info)
    folder = lake.layout.root / "lake" / RESEARCH_DIR
    materializations = write_outputs(result, folder)
    yield from materializations
    yield from check_results(result, folder)
