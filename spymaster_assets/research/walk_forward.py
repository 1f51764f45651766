"""Out-of-fold predictions: for every fold, every model is fitted on the fold's training days
only and predicts every signal of its test days (SPEC §12)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spymaster_assets.research.features import FeatureMatrix
from spymaster_assets.research.folds import Fold
from spymaster_assets.research.models import FittedModel, model_spec


@dataclass(frozen=True)
class TrainingTable:
    """One row per signal, in (date, info_ts_ns, event_id) order."""

    features: FeatureMatrix
    labels: np.ndarray  # class codes (features.CLASSES order)
    weights: np.ndarray  # average uniqueness
    days: np.ndarray  # datetime64[D] trading day of each row
    event_ids: np.ndarray  # str

    def __len__(self) -> int:
        return len(self.labels)

    def rows_of(self, days: Sequence[dt.date]) -> np.ndarray:
        return np.flatnonzero(np.isin(self.days, np.array(days, dtype="datetime64[D]")))


@dataclass
class FoldPredictions:
    fold: int
    rows: np.ndarray  # rows of the table the fold tests
    probabilities: dict[str, np.ndarray]  # model -> (rows, classes)


def fit_model(table: TrainingTable, name: str, rows: np.ndarray, y: np.ndarray,
              random_state: int, calibrate: bool = True) -> tuple[FittedModel, np.ndarray]:  # fmt: skip
    """Model `name` fitted on `rows` of the table (labels `y`), and the whole table's columns
    it reads."""
    spec = model_spec(name, table.features.names)
    X = table.features.columns(spec.features).values
    fitted = FittedModel(spec, random_state, calibrate).fit(
        X[rows], y[rows], table.weights[rows], table.days[rows]
    )
    return fitted, X


def _fold(table: TrainingTable, fold: Fold, models: Sequence[str], random_state: int,
          y: np.ndarray, after_fit: Callable | None) -> tuple[FoldPredictions, object]:  # fmt: skip
    """One fold: every model fitted on its training days, predicting its test days. Returns
    the predictions and what `after_fit(name, fold, fitted, X_test, y_test)` returned for each
    model (run where the fitted model is, in a worker process when folds run in parallel)."""
    from threadpoolctl import threadpool_limits

    train = table.rows_of(fold.train)
    test = table.rows_of(fold.test)
    predictions, seen = {}, {}
    if len(train) == 0 or len(test) == 0:
        return FoldPredictions(fold.number, test, predictions), seen
    # one thread per fold: folds run side by side, one per core, which keeps both cores busier
    # than the trees' own threads on a fold's few thousand signals
    with threadpool_limits(limits=1):
        for name in models:
            fitted, X = fit_model(table, name, train, y, random_state)
            predictions[name] = fitted.predict_proba(X[test])
            if after_fit is not None:
                seen[name] = after_fit(name, fold, fitted, X[test], y[test])
    return FoldPredictions(fold.number, test, predictions), seen


def predict_out_of_fold(
    table: TrainingTable,
    folds: Sequence[Fold],
    models: Sequence[str],
    random_state: int,
    labels: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
    after_fit: Callable | None = None,
    n_jobs: int = 1,
) -> tuple[list[FoldPredictions], list[dict]]:
    """Every test day's probabilities from models fitted on its fold's training days, and per
    fold what `after_fit` returned for each model. `labels` replaces the table's labels (the
    placebo run). `n_jobs` > 1 runs folds in that many worker processes (each fold is
    independent; the results are the same, in fold order)."""
    y = table.labels if labels is None else labels
    if n_jobs > 1 and len(folds) > 1:
        from joblib import Parallel, delayed

        tasks = (delayed(_fold)(table, f, models, random_state, y, after_fit) for f in folds)
        results = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(tasks)
    else:
        results = (_fold(table, f, models, random_state, y, after_fit) for f in folds)
    out, extras = [], []
    for i, (predictions, seen) in enumerate(results):
        out.append(predictions)
        extras.append(seen)
        if progress:
            progress(i + 1, len(folds))
    return out, extras


def shuffled_kfold(
    table: TrainingTable,
    models: Sequence[str],
    labels: np.ndarray,
    random_state: int,
    n_splits: int = 5,
) -> dict[str, np.ndarray]:
    """What a leaky evaluation reports: K-fold over shuffled rows, every model fitted as is on
    the other folds' rows, whatever their day (a calibration grouped by day would itself undo
    part of the leak). Never used to judge a model; it is the contrast that shows the
    walk-forward gate has teeth."""
    from sklearn.model_selection import KFold

    splits = KFold(n_splits, shuffle=True, random_state=random_state).split(labels)
    out = {name: np.zeros((len(labels), 3)) for name in models}
    for train, test in splits:
        for name in models:
            fitted, X = fit_model(table, name, train, labels, random_state, calibrate=False)
            out[name][test] = fitted.predict_proba(X[test])
    return out
