"""The whole research evaluation on a table of gold signals, without Dagster (SPEC §12):
training table, folds, out-of-fold predictions on the target and on placebo labels, metrics
with day-bootstrap intervals, the shuffled K-fold contrast, grouped importance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from spymaster_assets.research import metrics as m
from spymaster_assets.research.features import CLASSES, FEATURES, feature_matrix, label_codes
from spymaster_assets.research.folds import Fold, FoldParams, fold_rows, walk_forward
from spymaster_assets.research.importance import grouped_permutation_importance
from spymaster_assets.research.models import BASE_RATE, MODELS
from spymaster_assets.research.placebo import placebo_labels
from spymaster_assets.research.walk_forward import (
    FoldPredictions,
    TrainingTable,
    predict_out_of_fold,
    shuffled_kfold,
)
from spymaster_assets.research.weights import average_uniqueness
from spymaster_assets.vocabulary import label_grid_of

TREES, TREES_NO_PHYSICS = "gradient_boosting", "gradient_boosting_no_physics"
IMPORTANCE_REPEATS = 3
IMPORTANCE_SEED = 101
# The shuffled K-fold contrast: the reference and two flexible models (what a leaky split
# claims is seen on these; the rest would only cost fits)
CONTRAST_MODELS = (BASE_RATE, "logistic", TREES)


@dataclass(frozen=True)
class ResearchParams:
    target: str = "outcome"
    target_minutes: int = 5  # the target's label window (`outcome`: LOOKFORWARD_MINUTES)
    folds: FoldParams = FoldParams()
    random_state: int = 7
    bootstrap_draws: int = m.BOOTSTRAP_DRAWS
    placebo_seed: int = 11
    kfold_splits: int = 5
    models: tuple[str, ...] = MODELS
    n_jobs: int = 1  # folds fitted side by side in this many processes (same results)


def target_minutes(target: str, lookforward_minutes: int) -> int:
    """The label window of a target column: the grid's own horizon, or LOOKFORWARD_MINUTES."""
    if target == "outcome":
        return lookforward_minutes
    _, horizons = label_grid_of([target])
    if not horizons:
        raise ValueError(f"{target!r} is not a label: pick `outcome` or an outcome_t…_h… column")
    return horizons[0]


def label_window_ends(signals: pl.DataFrame, minutes: int) -> np.ndarray:
    """Each label window's end: `minutes` after info_ts_ns, cut at its day's close."""
    from spymaster_assets.market.trading_calendar import session_windows

    closes = {d: session_windows(d).rth_close_ns for d in signals["date"].unique().to_list()}
    close = signals["date"].replace_strict(closes, return_dtype=pl.Int64).to_numpy()
    return np.minimum(signals["info_ts_ns"].to_numpy() + minutes * 60 * 10**9, close)


@dataclass
class ResearchResult:
    params: ResearchParams
    training_table: pl.DataFrame
    folds: list[Fold]
    fold_table: pl.DataFrame
    predictions: pl.DataFrame
    placebo_predictions: pl.DataFrame
    metrics: dict  # metrics.json: each model's metrics, placebo, the contrast, importance

    @property
    def importance(self) -> dict[str, float]:
        return self.metrics.get("importance", {})


def _predictions_frame(
    table: TrainingTable, folds: list[FoldPredictions], labels: np.ndarray | None = None
) -> pl.DataFrame:
    parts = []
    for fp in folds:
        for model, p in fp.probabilities.items():
            columns = {
                "event_id": table.event_ids[fp.rows],
                "date": table.days[fp.rows].astype("datetime64[D]"),
                "fold": np.full(len(fp.rows), fp.fold, np.int32),
                "model": np.full(len(fp.rows), model),
            }
            if labels is not None:
                columns["placebo_label"] = np.array(CLASSES)[labels[fp.rows]]
            columns.update({f"p_{c}": p[:, k] for k, c in enumerate(CLASSES)})
            parts.append(pl.DataFrame(columns))
    if not parts:
        schema = {"event_id": pl.String, "date": pl.Date, "fold": pl.Int32, "model": pl.String}
        if labels is not None:
            schema["placebo_label"] = pl.String
        schema.update({f"p_{c}": pl.Float64 for c in CLASSES})
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).sort("model", "date", "fold", maintain_order=True)


def _stacked(folds: list[FoldPredictions], model: str) -> tuple[np.ndarray, np.ndarray]:
    rows = np.concatenate([f.rows for f in folds]) if folds else np.zeros(0, int)
    p = np.concatenate([f.probabilities[model] for f in folds]) if folds else np.zeros((0, 3))
    return rows, p


def _metrics(table, folds, labels, params) -> dict:
    """Overall and per-fold metrics of every model, and the physics gain."""
    rows, _ = _stacked(folds, params.models[0])
    if len(rows) == 0:
        return {}
    probs = {name: _stacked(folds, name)[1] for name in params.models}
    y, days = labels[rows], table.days[rows]
    overall = m.evaluate(probs, y, days, CLASSES, BASE_RATE, params.bootstrap_draws,
                         params.random_state)  # fmt: skip
    starts = np.cumsum([0] + [len(f.rows) for f in folds])
    for i, fold in enumerate(folds):
        part = slice(starts[i], starts[i + 1])
        per = m.evaluate({k: v[part] for k, v in probs.items()}, y[part], days[part], CLASSES,
                         BASE_RATE, params.bootstrap_draws, params.random_state)  # fmt: skip
        for name in params.models:
            overall[name].setdefault("folds", {})[str(fold.fold)] = {
                k: v for k, v in per[name].items() if not isinstance(v, dict)
            }
    if TREES in probs and TREES_NO_PHYSICS in probs:
        gain = m.paired_gain(probs[TREES], probs[TREES_NO_PHYSICS], y, days,
                             params.bootstrap_draws, params.random_state)  # fmt: skip
        overall[TREES].update(
            physics_gain=gain["gain"], physics_gain_low=gain["low"], physics_gain_high=gain["high"]
        )
    return overall


def training_frame(signals: pl.DataFrame, params: ResearchParams) -> pl.DataFrame:
    """The signals in (date, info_ts_ns, event_id) order with the feature columns, the target
    and the weights."""
    if params.target not in signals.columns:
        raise ValueError(f"the signals have no label column {params.target!r}")
    ordered = signals.sort("date", "info_ts_ns", "event_id")
    ends = label_window_ends(ordered, params.target_minutes)
    weights = average_uniqueness(ordered["info_ts_ns"].to_numpy(), ends)
    return ordered.select(
        "event_id", "date", "info_ts_ns", *FEATURES, pl.col(params.target).alias("target")
    ).with_columns(label_end_ns=pl.Series(ends), weight=pl.Series(weights))


def run_research(
    signals: pl.DataFrame,
    params: ResearchParams = ResearchParams(),
    progress: Callable[[str], None] | None = None,
) -> ResearchResult:
    say = progress or (lambda _: None)
    frame = training_frame(signals, params)
    folds = walk_forward(frame["date"].unique().to_list(), params.folds)
    fold_table = pl.DataFrame(
        fold_rows(folds), schema={"fold": pl.Int32, "date": pl.Date, "role": pl.String}
    )
    tested = fold_table.filter(pl.col("role") == "test").select("date", test_fold="fold")
    frame = frame.join(tested, on="date", how="left", maintain_order="left").rename(
        {"test_fold": "fold"}
    )
    table = TrainingTable(
        features=feature_matrix(frame),
        labels=label_codes(frame["target"]),
        weights=frame["weight"].to_numpy(),
        days=frame["date"].to_numpy().astype("datetime64[D]"),
        event_ids=frame["event_id"].to_numpy(),
    )
    say(f"{len(table):,} signals over {frame['date'].n_unique()} days: {len(folds)} folds")

    def folds_done(label):
        return lambda i, n: say(f"{label}: fold {i}/{n}")

    predicted, extras = predict_out_of_fold(
        table, folds, params.models, params.random_state, progress=folds_done("walk-forward"),
        after_fit=fold_importance, n_jobs=params.n_jobs,
    )  # fmt: skip
    placebo = (
        placebo_labels(table.days, table.labels, params.placebo_seed)
        if len(folds)
        else table.labels
    )
    placebo_predicted, _ = predict_out_of_fold(
        table, folds, params.models, params.random_state, labels=placebo,
        progress=folds_done("placebo"), n_jobs=params.n_jobs,
    )  # fmt: skip
    # the shape: each model's overall metrics under its name at the top level
    metrics = {
        **_metrics(table, predicted, table.labels, params),
        "placebo": _metrics(table, placebo_predicted, placebo, params),
        "placebo_shuffled_kfold": {},
        "importance": mean_importance(extras),
        "target": params.target,
        "classes": list(CLASSES),
    }
    if folds:
        say("placebo labels under a shuffled K-fold (the leaky contrast)")
        contrast = tuple(n for n in CONTRAST_MODELS if n in params.models)
        leaky = shuffled_kfold(table, contrast, placebo, params.random_state,
                               params.kfold_splits)  # fmt: skip
        metrics["placebo_shuffled_kfold"] = m.evaluate(
            leaky, placebo, table.days, CLASSES, BASE_RATE, params.bootstrap_draws,
            params.random_state,
        )  # fmt: skip
    return ResearchResult(
        params=params,
        training_table=frame,
        folds=folds,
        fold_table=fold_table,
        predictions=_predictions_frame(table, predicted),
        placebo_predictions=_predictions_frame(table, placebo_predicted, placebo),
        metrics=metrics,
    )


def fold_importance(name, fold, fitted, X_test, y_test):
    """The trees' grouped permutation importance on one fold's test signals (None for the
    other models): run right after the fit, where the fitted model is."""
    if name != TREES or len(y_test) == 0:
        return None
    scores = grouped_permutation_importance(
        fitted, X_test, y_test, fitted.spec.features, IMPORTANCE_REPEATS,
        IMPORTANCE_SEED + fold.number,
    )  # fmt: skip
    return scores, len(y_test)


def mean_importance(per_fold: list[dict]) -> dict[str, float]:
    """Each group's importance averaged over the folds by their test signals."""
    totals: dict[str, float] = {}
    seen = 0
    for extra in per_fold:
        if extra.get(TREES) is None:
            continue
        scores, n = extra[TREES]
        for group, value in scores.items():
            totals[group] = totals.get(group, 0.0) + value * n
        seen += n
    return {g: v / seen for g, v in totals.items()} if seen else {}
