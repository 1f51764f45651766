"""The evaluation's metrics (SPEC §12) on out-of-fold predictions, with 95 % intervals from a
bootstrap over trading days: a day's signals share its price path, so days, not rows, are the
independent draws.

Every metric is a ratio of per-day sums, so a bootstrap draw is a matrix product of how often
each day was drawn with the days' sums: a thousand draws cost little.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-15
BOOTSTRAP_DRAWS = 1000
TOP_SHARES = (0.10, 0.20)


def row_log_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(p[np.arange(len(y)), y], EPS, 1.0))


def row_brier(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return ((p - onehot) ** 2).sum(axis=1)


def day_draws(days: np.ndarray, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(counts, day index of each row): counts[b, d] is how often draw b took day d."""
    unique, index = np.unique(days, return_inverse=True)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(unique), size=(draws, len(unique)))
    counts = np.zeros((draws, len(unique)))
    np.add.at(counts, (np.repeat(np.arange(draws), len(unique)), picks.ravel()), 1.0)
    return counts, index


def _per_day(values: np.ndarray, index: np.ndarray, n_days: int) -> np.ndarray:
    return np.bincount(index, weights=values, minlength=n_days)


def interval(samples: np.ndarray) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def auc_ovr(p: np.ndarray, y: np.ndarray) -> float:
    """Mean one-vs-rest ROC AUC over the classes present with both outcomes (NaN if none)."""
    from sklearn.metrics import roc_auc_score

    scores = []
    for k in range(p.shape[1]):
        positive = y == k
        if positive.any() and (~positive).any():
            scores.append(roc_auc_score(positive, p[:, k]))
    return float(np.mean(scores)) if scores else float("nan")


def top_precision(p: np.ndarray, y: np.ndarray, classes) -> dict[str, float]:
    """Each class's precision among the signals in the top 10 % / 20 % of its probability, and
    its base rate in the same rows (precision / base rate = the lift)."""
    out = {}
    for k, name in enumerate(classes):
        base = float(np.mean(y == k)) if len(y) else float("nan")
        out[f"base_rate_{name}"] = base
        for share in TOP_SHARES:
            n = max(1, int(round(share * len(y)))) if len(y) else 0
            top = np.argsort(-p[:, k], kind="stable")[:n]
            key = f"precision_top{round(share * 100):02d}_{name}"
            out[key] = float(np.mean(y[top] == k)) if n else float("nan")
    return out


def evaluate(
    probabilities: dict[str, np.ndarray],
    y: np.ndarray,
    days: np.ndarray,
    classes,
    reference: str = "base_rate",
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Metrics of every model on the same rows: log loss, D² log loss and Brier skill against
    `reference` (0 = no skill), one-vs-rest AUC and the top-share precisions, each skill with
    its day-bootstrap interval (`_low`, `_high`)."""
    counts, index = day_draws(days, draws, seed)
    n_days = counts.shape[1]
    rows = _per_day(np.ones(len(y)), index, n_days)
    base_ll = _per_day(row_log_loss(probabilities[reference], y), index, n_days)
    base_brier = _per_day(row_brier(probabilities[reference], y), index, n_days)
    out = {}
    for name, p in probabilities.items():
        ll = _per_day(row_log_loss(p, y), index, n_days)
        brier = _per_day(row_brier(p, y), index, n_days)
        with np.errstate(divide="ignore", invalid="ignore"):
            d2_draws = 1.0 - (counts @ ll) / (counts @ base_ll)
            bss_draws = 1.0 - (counts @ brier) / (counts @ base_brier)
            ll_draws = (counts @ ll) / (counts @ rows)
        m = {
            "signals": int(len(y)),
            "days": int(n_days),
            "log_loss": float(ll.sum() / rows.sum()),
            "d2_log_loss": float(1.0 - ll.sum() / base_ll.sum()),
            "brier_skill": float(1.0 - brier.sum() / base_brier.sum()),
            "auc_ovr": auc_ovr(p, y),
        }
        m["log_loss_low"], m["log_loss_high"] = interval(ll_draws)
        m["d2_log_loss_low"], m["d2_log_loss_high"] = interval(d2_draws)
        m["brier_skill_low"], m["brier_skill_high"] = interval(bss_draws)
        m.update(top_precision(p, y, classes))
        out[name] = m
    return out


def paired_gain(
    with_: np.ndarray, without: np.ndarray, y: np.ndarray, days: np.ndarray,
    draws: int = BOOTSTRAP_DRAWS, seed: int = 0,
) -> dict[str, float]:  # fmt: skip
    """Mean log-loss improvement of `with_` over `without`, paired by signal (positive: the
    extra features help), with its day-bootstrap interval."""
    counts, index = day_draws(days, draws, seed)
    n_days = counts.shape[1]
    diff = _per_day(row_log_loss(without, y) - row_log_loss(with_, y), index, n_days)
    rows = _per_day(np.ones(len(y)), index, n_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        samples = (counts @ diff) / (counts @ rows)
    low, high = interval(samples)
    return {"gain": float(diff.sum() / rows.sum()), "low": low, "high": high}
