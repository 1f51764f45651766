"""`spymaster research` as a user runs it: generated days materialized through the instance,
then the research step (SPEC §12) with its files, metrics, report and leakage checks."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl
import pytest

from spymaster_assets.research.features import CLASSES
from spymaster_assets.research.models import MODELS

from .test_cli import spymaster

START, END = "2025-10-01", "2025-10-20"  # 14 trading days
FOLD_ARGS = ("--min-train-days", "8", "--test-block-days", "2")


def generated_days(root, world: str):
    """The days of `world` generated and materialized through the instance in `root`."""
    home, data = root / "home", root / "data"
    home.mkdir()
    for args in (
        ("sample-data", "--start", START, "--end", END, "--world", world),
        ("materialize", "--start", START, "--end", END),
    ):
        done = spymaster(*args, "--data-dir", str(data), home=home)
        assert done.returncode == 0, done.stderr[-3000:]
    return home, data


@pytest.fixture(scope="module")
def research_run(tmp_path_factory):
    """The planted world (the default), as `make demo` makes it."""
    home, data = generated_days(tmp_path_factory.mktemp("research"), "planted")
    done = spymaster("research", *FOLD_ARGS, "--data-dir", str(data), home=home)
    return home, data, done


@pytest.fixture(scope="module")
def null_world_run(tmp_path_factory):
    """The same days in the null world (SPEC §12): the touch bar's book and tape say nothing."""
    home, data = generated_days(tmp_path_factory.mktemp("null_world"), "null")
    done = spymaster("research", *FOLD_ARGS, "--data-dir", str(data), home=home)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((data / "lake" / "research" / "metrics.json").read_text())


def test_in_the_planted_world_the_physics_add_skill_and_the_barrier_leads(research_run):
    """The sample days are of the planted world (the default): the touch bar's book decides the
    reaction, so the trees with physics beat the trees without, and the barrier group matters
    most."""
    _, data, _ = research_run
    metrics = json.loads((data / "lake" / "research" / "metrics.json").read_text())
    trees = metrics["gradient_boosting"]
    assert trees["physics_gain_low"] > 0, trees
    importance = metrics["importance"]
    assert max(importance, key=importance.get) in {"barrier", "tape"}, importance


def test_in_the_null_world_the_physics_add_nothing(null_world_run):
    trees = null_world_run["gradient_boosting"]
    assert trees["physics_gain_low"] <= 0 <= trees["physics_gain_high"], trees
    assert abs(trees["physics_gain"]) < 0.01, trees


def test_research_prints_every_model_and_writes_its_files(research_run):
    _, data, done = research_run
    assert done.returncode == 0, done.stderr[-3000:]
    for name in MODELS:
        assert f"\n{name} " in done.stdout, done.stdout
    assert "physics gain" in done.stdout and "research ok" in done.stdout
    # progress while it runs: one line per fold, on the target and on the placebo labels
    output = done.stdout + done.stderr
    assert "walk-forward: fold 3/3" in output and "placebo: fold 3/3" in output
    folder = data / "lake" / "research"
    names = {p.name for p in folder.iterdir()}
    assert {"folds.parquet", "training_table.parquet", "predictions.parquet",
            "placebo_predictions.parquet", "metrics.json", "report.md", "importance.png",
            *(f"reliability_{c}.png" for c in CLASSES)} <= names  # fmt: skip
    assert not [n for n in names if n.startswith(".")], names  # no temporary file left


def test_metrics_hold_every_model_fold_placebo_and_the_leaky_contrast(research_run):
    _, data, _ = research_run
    metrics = json.loads((data / "lake" / "research" / "metrics.json").read_text())
    folds = pl.read_parquet(data / "lake" / "research" / "folds.parquet")
    n_folds = folds["fold"].n_unique()
    assert n_folds == 3  # 14 days: 8 to train, 1 embargo, then blocks of 2, 2 and 1
    for name in MODELS:
        m = metrics[name]
        for key in ("log_loss", "d2_log_loss", "d2_log_loss_low", "d2_log_loss_high", "auc_ovr",
                    "brier_skill", f"precision_top10_{CLASSES[0]}"):  # fmt: skip
            assert key in m, (name, key)
        assert m["d2_log_loss_low"] <= m["d2_log_loss"] <= m["d2_log_loss_high"]
        assert set(m["folds"]) == {str(f) for f in range(n_folds)}
        placebo = metrics["placebo"][name]
        assert abs(placebo["d2_log_loss"]) <= 0.01
    assert metrics["base_rate"]["d2_log_loss"] == 0
    trees = metrics["gradient_boosting"]
    assert trees["physics_gain_low"] <= trees["physics_gain"] <= trees["physics_gain_high"]
    assert set(metrics["placebo_shuffled_kfold"]) == {"base_rate", "logistic",
                                                      "gradient_boosting"}  # fmt: skip
    assert set(metrics["importance"]) == {"level", "barrier", "tape", "fuel", "approach"}
    report = (data / "lake" / "research" / "report.md").read_text()
    assert "## Leakage gate: placebo labels" in report and "Gate: passed." in report


def test_predictions_are_of_test_days_only_from_their_own_fold(research_run):
    _, data, _ = research_run
    folder = data / "lake" / "research"
    folds = pl.read_parquet(folder / "folds.parquet")
    predictions = pl.read_parquet(folder / "predictions.parquet")
    training = pl.read_parquet(folder / "training_table.parquet")
    roles = predictions.join(folds, on=["fold", "date"], how="left")
    assert roles["role"].to_list() == ["test"] * predictions.height
    tested = training.filter(pl.col("fold").is_not_null())
    assert predictions.height == tested.height * len(MODELS)
    for fold, mine in folds.group_by("fold"):
        test_start = mine.filter(pl.col("role") == "test")["date"].min()
        trained = mine.filter(pl.col("role") == "train")["date"]
        assert trained.max() < test_start, fold
    assert training["weight"].is_between(0, 1, closed="right").all()


def test_the_leakage_checks_are_recorded_on_the_research_assets(research_run, monkeypatch):
    home, _, _ = research_run
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the repo's dagster.yaml reads it
    with dg.DagsterInstance.from_config(str(home)) as instance:
        checks = {
            ("research/folds", "walk_forward"), ("research/predictions", "walk_forward"),
            ("research/evaluation", "placebo"), ("research/training_table", "schema"),
            ("research/predictions", "schema"),
        }  # fmt: skip
        for asset, name in checks:
            key = dg.AssetCheckKey(dg.AssetKey(asset.split("/")), name)
            record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
            execution = record[key]
            evaluation = execution.event.dagster_event.event_specific_data
            assert evaluation.passed, (asset, name, evaluation.description)


def test_research_names_what_is_missing_when_it_cannot_run(research_run):
    home, data, _ = research_run
    done = spymaster("research", "--min-train-days", "30", "--data-dir", str(data), home=home)
    assert done.returncode == 1
    assert "14 trading days of gold signals" in done.stderr and "at least 32" in done.stderr
    done = spymaster("research", *FOLD_ARGS, "--target", "outcome_t999_h99", "--data-dir",
                     str(data), home=home)  # fmt: skip
    assert done.returncode == 1 and "no label column 'outcome_t999_h99'" in done.stderr


def test_the_summary_folds_many_days_into_one_line_per_asset(research_run):
    home, data, _ = research_run
    done = spymaster("summary", "--data-dir", str(data), home=home)
    assert done.returncode == 0, done.stderr
    assert f"rows per asset over 14 trading days ({START} to {END})" in done.stdout
    line = next(x for x in done.stdout.splitlines() if x.startswith("gold/signals "))
    signals = pl.read_parquet(data / "lake" / "gold" / "research" / "signals_vectorized.parquet")
    per_day = sorted(signals.group_by("date").len()["len"].to_list())
    assert line.split() == ["gold/signals", "14", f"{per_day[0]:,}", f"{per_day[7]:,}",
                            f"{per_day[-1]:,}"]  # fmt: skip
