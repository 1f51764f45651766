"""Grouped permutation importance (SPEC §12): how much a fitted model's log loss on test days
grows when one group's columns (level, barrier, tape, fuel, approach) are shuffled together
across the test signals, breaking their link to the label but keeping their joint shape."""

from __future__ import annotations

import numpy as np

from spymaster_assets.research.features import group_of
from spymaster_assets.research.metrics import row_log_loss


def grouped_permutation_importance(
    model, X: np.ndarray, y: np.ndarray, names, repeats: int, seed: int
) -> dict[str, float]:
    """Mean log-loss increase per feature group (positive: the model relies on the group)."""
    rng = np.random.default_rng(seed)
    base = row_log_loss(model.predict_proba(X), y).mean()
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(group_of(name), []).append(i)
    out = {}
    for group, columns in groups.items():
        losses = []
        for _ in range(repeats):
            shuffled = X.copy()
            order = rng.permutation(len(X))
            shuffled[:, columns] = X[order][:, columns]
            losses.append(row_log_loss(model.predict_proba(shuffled), y).mean())
        out[group] = float(np.mean(losses) - base)
    return out
