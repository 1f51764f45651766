"""Placebo labels (SPEC §12): every signal of day B takes the label of the signal at the same
rank in time of another day A, by a fixed derangement of the days. Neighbouring signals keep
neighbouring labels (the overlap that fools a shuffled split), but no feature of B can know
A's price path: any skill a model shows on them is leakage.

The ranks are counted from a fixed random rank of A for each day (cyclically): aligned at the
first signal, rank r of every day sits at about the same time of day, and the intraday rhythm
(the open's larger moves) would survive into the placebo labels, where time of day then
honestly predicts them. The offset keeps runs of neighbours together and removes that rhythm."""

from __future__ import annotations

import numpy as np


def derangement(n: int, seed: int) -> np.ndarray:
    """A permutation of range(n) with no fixed point (Sattolo's algorithm: one cycle)."""
    if n < 2:
        raise ValueError("placebo labels need at least two trading days")
    rng = np.random.default_rng(seed)
    perm = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(0, i))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def placebo_labels(days: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """`days` of rows already in time order within each day. Row r of day B gets the label of
    row ((r + offset_B) mod n_A) of day A = the derangement's image of B, offset_B a fixed
    random rank of A."""
    unique, index = np.unique(days, return_inverse=True)
    source = derangement(len(unique), seed)
    offsets = np.random.default_rng([seed, 1]).random(len(unique))
    rows_of = [np.flatnonzero(index == d) for d in range(len(unique))]
    out = np.empty_like(labels)
    for d, rows in enumerate(rows_of):
        donor = rows_of[source[d]]
        start = int(offsets[d] * len(donor))
        out[rows] = labels[donor[(start + np.arange(len(rows))) % len(donor)]]
    return out
