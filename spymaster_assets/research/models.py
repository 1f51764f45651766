"""The baseline models of SPEC §12, each a small scikit-learn classifier (fit / predict_proba,
explicit random_state), and the fitting recipe every walk-forward fold uses.

Probabilities are calibrated inside the training days only (FittedModel). The base rates are
frequencies already and are not calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from spymaster_assets.research.features import CATEGORICAL, FEATURE_GROUPS, PHYSICS_GROUPS

MODELS = (
    "base_rate",
    "conditional_base_rate",
    "logistic",
    "gradient_boosting",
    "gradient_boosting_no_physics",
)
BASE_RATE = "base_rate"
TIME_BUCKET_MINUTES = 30  # the conditional base rate's time-of-day buckets
PRIOR_STRENGTH = 100.0  # weighted signals of the base rate mixed into every group
CALIBRATION_SPLITS = 2  # day groups: each half fits a model the other half holds out


class BaseRate(ClassifierMixin, BaseEstimator):
    """Class frequencies of the training signals (weighted, one pseudo-signal per class so no
    class has probability 0): the no-skill reference every D² is measured against."""

    def __init__(self, n_classes: int = 3):
        self.n_classes = n_classes

    def fit(self, X, y, sample_weight=None):
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        counts = np.bincount(np.asarray(y), weights=w, minlength=self.n_classes) + 1.0
        self.classes_ = np.arange(self.n_classes)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return np.argmax(self.predict_proba(X), axis=1)


class ConditionalBaseRate(ClassifierMixin, BaseEstimator):
    """Class frequencies per (level kind, direction, time-of-day bucket), shrunk toward the
    base rate by `prior_strength` weighted signals: a group seen rarely says little."""

    def __init__(self, group_columns=(0, 1, 2), n_classes: int = 3,
                 bucket_minutes: int = TIME_BUCKET_MINUTES,
                 prior_strength: float = PRIOR_STRENGTH):  # fmt: skip
        self.group_columns = group_columns
        self.n_classes = n_classes
        self.bucket_minutes = bucket_minutes
        self.prior_strength = prior_strength

    def _keys(self, X) -> list[tuple]:
        kind, direction, minutes = (np.asarray(X)[:, c] for c in self.group_columns)
        bucket = np.floor(minutes / self.bucket_minutes)
        return list(zip(kind.tolist(), direction.tolist(), bucket.tolist(), strict=True))

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        base = BaseRate(self.n_classes).fit(X, y, w).prior_
        sums: dict[tuple, np.ndarray] = {}
        for key, label, weight in zip(self._keys(X), y.tolist(), w.tolist(), strict=True):
            sums.setdefault(key, np.zeros(self.n_classes))[label] += weight
        k = self.prior_strength
        self.classes_ = np.arange(self.n_classes)
        self.base_ = base
        self.table_ = {key: (s + k * base) / (s.sum() + k) for key, s in sums.items()}
        return self

    def predict_proba(self, X):
        return np.array([self.table_.get(key, self.base_) for key in self._keys(X)]).reshape(
            len(X), self.n_classes
        )

    def predict(self, X):
        return np.argmax(self.predict_proba(X), axis=1)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    features: tuple[str, ...]  # the columns of the feature matrix it reads
    calibrated: bool


def model_spec(name: str, features: tuple[str, ...]) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; models: {', '.join(MODELS)}")
    if name in (BASE_RATE, "conditional_base_rate"):
        return ModelSpec(name, ("level_kind", "direction", "bars_since_open"), False)
    if name == "gradient_boosting_no_physics":
        physics = {c for g in PHYSICS_GROUPS for c in FEATURE_GROUPS[g]}
        return ModelSpec(name, tuple(f for f in features if f not in physics), True)
    return ModelSpec(name, features, True)


class WeightedLogistic(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression on one-hot categories and standardised numbers (missing
    numbers imputed by the median, with an indicator): a pipeline that takes sample_weight in
    fit, as the calibration hands it."""

    def __init__(self, categorical: tuple[int, ...] = (), C: float = 0.05):
        self.categorical = categorical
        self.C = C

    def fit(self, X, y, sample_weight=None):
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        categorical = list(self.categorical)
        numeric = [i for i in range(X.shape[1]) if i not in categorical]
        numbers = Pipeline([
            ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                     keep_empty_features=True)),
            ("scale", StandardScaler()),
        ])  # fmt: skip
        prepare = ColumnTransformer(
            [("categories", OneHotEncoder(handle_unknown="ignore"), categorical),
             ("numbers", numbers, numeric)],
            sparse_threshold=0.0,
        )  # fmt: skip
        self.pipeline_ = Pipeline(
            [("prepare", prepare), ("model", LogisticRegression(C=self.C, max_iter=2000))]
        ).fit(X, y, model__sample_weight=sample_weight)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X):
        return self.pipeline_.predict_proba(X)

    def predict(self, X):
        return self.pipeline_.predict(X)


def make_estimator(spec: ModelSpec, random_state: int):
    """An unfitted estimator reading the columns of `spec.features`, in that order."""
    categorical = [i for i, f in enumerate(spec.features) if f in CATEGORICAL]
    if spec.name == BASE_RATE:
        return BaseRate()
    if spec.name == "conditional_base_rate":
        return ConditionalBaseRate(group_columns=(0, 1, 2))
    if spec.name == "logistic":
        return WeightedLogistic(categorical=tuple(categorical))
    return QuantizedBoosting(categorical=tuple(categorical), random_state=random_state)


class QuantizedBoosting(ClassifierMixin, BaseEstimator):
    """scikit-learn's HistGradientBoostingClassifier on numeric columns cut at their training
    quantiles first (at most `bins` values each; categories as they are). The trees bin their
    inputs anyway; handing them few distinct values skips the weighted percentile search the
    booster runs per bin when fitted with sample weights (95 % of a fit's time on a day's
    signals), and the cuts come from the training rows only, as the booster's own would."""

    def __init__(self, categorical: tuple[int, ...] = (), random_state: int = 0, bins: int = 255):
        self.categorical = categorical
        self.random_state = random_state
        self.bins = bins

    def _cut(self, X):
        out = np.array(X, dtype=np.float64, copy=True)
        for j, edges in self.edges_.items():
            column = out[:, j]
            known = ~np.isnan(column)
            column[known] = np.searchsorted(edges, column[known], side="right")
        return out

    def fit(self, X, y, sample_weight=None):
        from sklearn.ensemble import HistGradientBoostingClassifier

        X = np.asarray(X, dtype=np.float64)
        levels = np.linspace(0, 1, self.bins + 1)[1:-1]
        self.edges_ = {}
        for j in range(X.shape[1]):
            if j in self.categorical:
                continue
            values = X[:, j][~np.isnan(X[:, j])]
            self.edges_[j] = np.unique(np.quantile(values, levels)) if len(values) else np.zeros(0)
        mask = np.zeros(X.shape[1], bool)
        mask[list(self.categorical)] = True
        self.model_ = HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=60,
            max_leaf_nodes=15,
            min_samples_leaf=10,
            l2_regularization=1.0,
            categorical_features=mask,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(self._cut(X), y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(self._cut(X))

    def predict(self, X):
        return self.model_.predict(self._cut(X))


def probabilities(model, X, n_classes: int = 3) -> np.ndarray:
    """predict_proba with a column for every class (a class absent from the training days
    gets probability 0 before calibration; rows sum to 1)."""
    p = model.predict_proba(X)
    if p.shape[1] == n_classes:
        return p
    full = np.zeros((len(X), n_classes))
    full[:, np.asarray(model.classes_, int)] = p
    return full


def shrinkage(p_model: np.ndarray, prior: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """The weight a in [0, 1] of the model in a·p_model + (1 − a)·prior that minimises the
    weighted log loss of held-out predictions: 0 for a model that learned nothing (its
    probabilities are then the base rate's), near 1 for a sharp, well-calibrated one."""
    from scipy.optimize import minimize_scalar

    pm, pb = p_model[np.arange(len(y)), y], prior[y]

    def loss(a: float) -> float:
        return float(-(w * np.log(np.clip(a * pm + (1 - a) * pb, 1e-15, 1.0))).sum())

    best = minimize_scalar(loss, bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-4})
    # the bounded search never probes the ends themselves
    return min((0.0, float(best.x), 1.0), key=loss)


class FittedModel:
    """One model of one fold, fitted and calibrated on the fold's training days only.

    The training days are split in `CALIBRATION_SPLITS` groups of whole days; on each group,
    a model fitted on the other groups predicts (held out, as a test day would be). Those
    held-out predictions set the model's weight against the training days' base rate
    (`shrinkage`), and a test signal gets the models' mean probability, shrunk by that weight.
    A model that learned nothing comes out as the base rate itself, not worse (a temperature or
    a sigmoid fitted on a few days would add noise of its own); a model that learned something
    keeps it, with its over-confidence tempered."""

    def __init__(self, spec: ModelSpec, random_state: int, calibrate: bool = True):
        self.spec = spec
        self.random_state = random_state
        self.calibrate = calibrate  # False: fitted as is (the naive contrast)

    def fit(self, X, y, w, days) -> FittedModel:
        """X: the spec's columns; days: each row's trading day (the calibration's groups)."""
        from sklearn.model_selection import GroupKFold

        unique = np.unique(days)
        if not (self.calibrate and self.spec.calibrated) or len(unique) < 2:
            self.models = [make_estimator(self.spec, self.random_state).fit(X, y, w)]
            self.weight, self.base = 1.0, None
            return self
        self.base = BaseRate().fit(X, y, w).prior_
        held_out = np.zeros((len(y), 3))
        self.models = []
        splits = GroupKFold(min(CALIBRATION_SPLITS, len(unique))).split(X, y, groups=days)
        for train, test in splits:
            model = make_estimator(self.spec, self.random_state).fit(X[train], y[train], w[train])
            held_out[test] = probabilities(model, X[test])
            self.models.append(model)
        self.weight = shrinkage(held_out, self.base, y, w)
        return self

    def predict_proba(self, X) -> np.ndarray:
        p = np.mean([probabilities(model, X) for model in self.models], axis=0)
        if self.base is None:
            return p
        return self.weight * p + (1.0 - self.weight) * self.base
