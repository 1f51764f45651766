"""What the research step writes under lake/research/ (each file whole: temporary, then
rename), its materializations, and the check results recomputed from the stored files.

The definitions loader imports every module under defs/: the numeric libraries load inside the
functions, when the step runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from spymaster_assets.defs.gold.charts import embed_png
from spymaster_assets.defs.research import checks
from spymaster_assets.defs.resources import write_parquet
from spymaster_assets.storage import atomic_path, read_parquet

if TYPE_CHECKING:
    import polars as pl

    from spymaster_assets.research.folds import Fold
    from spymaster_assets.research.pipeline import ResearchResult


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _clean(value):
    """JSON without NaN (null instead): metrics.json is read by other tools too."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _table_meta(path: Path, frame: pl.DataFrame) -> dict:
    return {"path": dg.MetadataValue.path(str(path)), "dagster/row_count": frame.height}


def write_outputs(result: ResearchResult, folder: Path) -> list[dg.MaterializeResult]:
    from spymaster_assets.research.features import CLASSES
    from spymaster_assets.research.report import (
        headline_rows,
        importance_png,
        markdown,
        reliability_png,
    )

    tables = {
        checks.FOLDS: ("folds.parquet", result.fold_table),
        checks.TRAINING_TABLE: ("training_table.parquet", result.training_table),
        checks.PREDICTIONS: ("predictions.parquet", result.predictions),
        checks.PLACEBO_PREDICTIONS: ("placebo_predictions.parquet", result.placebo_predictions),
    }
    for name, frame in tables.values():
        write_parquet(frame, folder / name)
    labels = result.training_table.select("event_id", "target")
    pictures = {f"reliability_{c}.png": reliability_png(result.predictions, labels, c)
                for c in CLASSES}  # fmt: skip
    if result.importance:
        pictures["importance.png"] = importance_png(result.importance)
    for name, png in pictures.items():
        _write_bytes(folder / name, png)
    metrics = _clean(result.metrics)
    _write_bytes(folder / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True).encode())
    report = markdown(result.metrics, result.fold_table, list(pictures))
    _write_bytes(folder / "report.md", report.encode())

    headline = (
        "| model | log loss | D² log loss [95 %] | AUC |\n|---|---:|---:|---:|\n"
        + "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in headline_rows(result.metrics))
    )
    trees = result.metrics.get("gradient_boosting", {})
    out = [
        dg.MaterializeResult(
            asset_key=key,
            metadata={
                **_table_meta(folder / name, frame),
                **({"folds": len(result.folds)} if key == checks.FOLDS else {}),
                **({"target": result.params.target} if key == checks.TRAINING_TABLE else {}),
            },
        )
        for key, (name, frame) in tables.items()
    ]
    out.append(
        dg.MaterializeResult(
            asset_key=checks.EVALUATION,
            metadata={
                "report": dg.MetadataValue.path(str(folder / "report.md")),
                "metrics": dg.MetadataValue.path(str(folder / "metrics.json")),
                "target": result.params.target,
                "headline": dg.MetadataValue.md(headline),
                "physics_gain": dg.MetadataValue.float(float(trees.get("physics_gain", math.nan))),
                "importance": dg.MetadataValue.json(result.importance),
                **{
                    name.removesuffix(".png"): embed_png(png, name)
                    for name, png in pictures.items()
                },
            },
        )
    )
    return out


def stored_folds(folder: Path) -> tuple[list[Fold], pl.DataFrame]:
    import polars as pl

    from spymaster_assets.research.folds import EMBARGO, TEST, TRAIN, Fold

    table = read_parquet(folder / "folds.parquet")
    folds = []
    for number in sorted(table["fold"].unique().to_list()):
        mine = table.filter(pl.col("fold") == number)

        def days(role, mine=mine):
            return tuple(mine.filter(pl.col("role") == role)["date"].sort().to_list())

        folds.append(Fold(number, days(TRAIN), days(EMBARGO), days(TEST)))
    return folds, table


def prediction_problems(predictions: pl.DataFrame, fold_table: pl.DataFrame,
                        training: pl.DataFrame, models) -> list[str]:  # fmt: skip
    """Predictions only of test days of their own fold, and every test signal predicted by
    every model exactly once."""
    import polars as pl

    from spymaster_assets.research.folds import TEST

    problems = []
    tests = fold_table.filter(pl.col("role") == TEST).select("fold", "date")
    outside = predictions.join(tests, on=["fold", "date"], how="anti")
    if outside.height:
        first = outside.row(0, named=True)
        problems.append(
            f"{outside.height} predictions of days their fold does not test, e.g. "
            f"{first['model']} fold {first['fold']} on {first['date']}"
        )
    expected = training.join(tests, on="date", how="inner").select("event_id")
    for model in models:
        mine = predictions.filter(pl.col("model") == model)
        if mine["event_id"].n_unique() != mine.height:
            problems.append(f"{model}: a signal predicted twice")
        missing = expected.join(mine.select("event_id"), on="event_id", how="anti").height
        if missing:
            problems.append(f"{model}: {missing} test signals without a prediction")
    return problems


def schema_results(result: ResearchResult) -> list[dg.AssetCheckResult]:
    """Each stored table against its pandera schema (schemas/research.py)."""
    from spymaster_assets.defs import check_helpers as ch
    from spymaster_assets.schemas import research as schemas

    return [
        ch.validate_schema(checks.FOLDS, schemas.FOLDS, result.fold_table),
        ch.validate_schema(checks.TRAINING_TABLE, schemas.TRAINING_TABLE, result.training_table),
        ch.validate_schema(checks.PREDICTIONS, schemas.PREDICTIONS, result.predictions),
        ch.validate_schema(
            checks.PLACEBO_PREDICTIONS, schemas.PLACEBO_PREDICTIONS, result.placebo_predictions
        ),
    ]


def check_results(result: ResearchResult, folder: Path) -> list[dg.AssetCheckResult]:

    from spymaster_assets.research.folds import leaks, session_ordinal
    from spymaster_assets.research.report import placebo_failures

    folds, fold_table = stored_folds(folder)
    params = result.params.folds
    fold_leaks = leaks(folds, params, session_ordinal())
    predictions = read_parquet(folder / "predictions.parquet")
    training = read_parquet(folder / "training_table.parquet", ["event_id", "date"])
    predicted = prediction_problems(predictions, fold_table, training, result.params.models)
    stored = json.loads((folder / "metrics.json").read_text())
    placebo = placebo_failures(stored)

    def result_of(key, name, problems, **metadata):
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=name,
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"problems": "\n".join(problems[:10]) or "none", **metadata},
            description="all rules hold" if not problems else "; ".join(problems[:3]),
        )

    shuffled = stored.get("placebo_shuffled_kfold", {})
    return [
        *schema_results(result),
        result_of(checks.FOLDS, checks.WALK_FORWARD, fold_leaks, folds=len(folds)),
        result_of(checks.PREDICTIONS, checks.WALK_FORWARD, predicted, rows=predictions.height),
        result_of(
            checks.EVALUATION,
            checks.PLACEBO,
            placebo,
            walk_forward_d2=dg.MetadataValue.json(
                {k: v["d2_log_loss"] for k, v in stored.get("placebo", {}).items()}
            ),
            shuffled_kfold_d2=dg.MetadataValue.json(
                {k: v["d2_log_loss"] for k, v in shuffled.items()}
            ),
        ),
    ]
