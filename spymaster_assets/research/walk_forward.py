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


def predict_out_of_fold(
    table: TrainingTable,
    folds: Sequence[Fold],
    models: Sequence[str],
    random_state: int,
    labels: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
    after_fit: Callable | None = None,
) -> list[FoldPredictions]:
    """Every test day's probabilities from models fitted on its fold's training days. `labels`
    replaces the table's labels (the placebo run); `after_fit(name, fold, fitted, X_test,
    y_test)` sees every fitted model with its test rows."""
    y = table.labels if labels is None else labels
    out = []
    for i, fold in enumerate(folds):
        train = table.rows_of(fold.train)
        test = table.rows_of(fold.test)
        predictions = {}
        for name in models:
            spec = model_spec(name, table.features.names)
            X = table.features.columns(spec.features).values
            if len(train) == 0 or len(test) == 0:
                continue
            fitted = FittedModel(spec, random_state).fit(
                X[train], y[train], table.weights[train], table.days[train]
            )
            predictions[name] = fitted.predict_proba(X[test])
            if after_fit is not None:
                after_fit(name, fold, fitted, X[test], y[test])
        out.append(FoldPredictions(fold.number, test, predictions))
        if progress:
            progress(i + 1, len(folds))
    return out


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
            spec = model_spec(name, table.features.names)
            X = table.features.columns(spec.features).values
            fitted = FittedModel(spec, random_state, calibrate=False).fit(
                X[train], labels[train], table.weights[train], table.days[train]
            )
            out[name][test] = fitted.predict_proba(X[test])
    return out
