"""The model's view of a gold signal: features known at `info_ts_ns`, grouped as SPEC §12 names
them, as one float matrix (categories as integer codes, missing values NaN).

Never a feature: a label or anything after `info_ts_ns`, `event_id`, a timestamp or the date.
The absolute prices `spot` and `level_price` are features as SPEC §12 has it (known at info
time); they also say which day and hour a signal is from, which is exactly what lets a shuffled
split over overlapping signals memorise labels (the placebo contrast shows it) and what the
walk-forward folds take away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from spymaster_assets.vocabulary import (  # noqa: F401 (re-exported)
    CATEGORICAL,
    CATEGORIES,
    CLASSES,
    FEATURE_GROUPS,
    FEATURES,
    PHYSICS_GROUPS,
    group_of,
)


@dataclass(frozen=True)
class FeatureMatrix:
    values: np.ndarray  # (signals, features) float64, NaN where gold is null
    names: tuple[str, ...]

    def columns(self, names) -> FeatureMatrix:
        index = [self.names.index(n) for n in names]
        return FeatureMatrix(self.values[:, index], tuple(names))

    def categorical_mask(self) -> np.ndarray:
        return np.array([n in CATEGORICAL for n in self.names])


def feature_matrix(signals: pl.DataFrame, names=FEATURES) -> FeatureMatrix:
    exprs = []
    for name in names:
        column = pl.col(name)
        if name in CATEGORIES:
            codes = {v: i for i, v in enumerate(CATEGORIES[name])}
            column = column.replace_strict(codes, default=None, return_dtype=pl.Float64)
        exprs.append(column.cast(pl.Float64).alias(name))
    values = signals.select(exprs).to_numpy().astype(np.float64, copy=False)
    return FeatureMatrix(np.ascontiguousarray(values), tuple(names))


def label_codes(labels: pl.Series) -> np.ndarray:
    """Class index of every label in CLASSES order; an unknown label is an error."""
    unknown = labels.filter(~labels.is_in(list(CLASSES)) | labels.is_null()).unique().to_list()
    if unknown:
        raise ValueError(f"labels outside {CLASSES}: {unknown}")
    codes = {c: i for i, c in enumerate(CLASSES)}
    return labels.replace_strict(codes, return_dtype=pl.Int64).to_numpy()
