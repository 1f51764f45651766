"""Average-uniqueness sample weights (López de Prado, AFML ch. 4) on the shared ES timeline.

c(t) counts the signals, over every level and day, whose label window (start, end] covers t. A
signal's weight is the mean of 1/c(t) over its own window: a signal alone in its window weighs
1, and n signals sharing one window (levels touched in the same minute, one price path) weigh
1/n each, so together they count as one observation.
"""

from __future__ import annotations

import numpy as np


def average_uniqueness(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Weights in (0, 1] for windows (starts[i], ends[i]] (integers, e.g. UTC ns). A window of
    zero length covers only its end instant: it weighs 1 / (windows whose closure holds it)."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if starts.shape != ends.shape or np.any(ends < starts):
        raise ValueError("every window needs an end at or after its start")
    n = len(starts)
    if n == 0:
        return np.zeros(0)
    # The timeline cut at every window edge; c is constant on each elementary segment.
    edges = np.unique(np.concatenate([starts, ends]))
    opened = np.searchsorted(np.sort(starts), edges[:-1], side="right")
    closed = np.searchsorted(np.sort(ends), edges[:-1], side="right")
    count = opened - closed  # windows covering (edges[k], edges[k + 1]]
    length = np.diff(edges).astype(np.float64)
    share = np.where(count > 0, length / np.maximum(count, 1), 0.0)
    cumulative = np.concatenate([[0.0], np.cumsum(share)])
    lo = np.searchsorted(edges, starts)
    hi = np.searchsorted(edges, ends)
    span = (ends - starts).astype(np.float64)
    weights = np.empty(n)
    wide = span > 0
    # at most 1 by definition; the prefix-sum difference can round a hair above it
    weights[wide] = np.minimum((cumulative[hi[wide]] - cumulative[lo[wide]]) / span[wide], 1.0)
    if np.any(~wide):
        # A point window: 1 / the number of windows whose closure [start, end] holds the point.
        s, e = np.sort(starts), np.sort(ends)
        at = ends[~wide]
        holding = np.searchsorted(s, at, side="right") - np.searchsorted(e, at, side="left")
        weights[~wide] = 1.0 / holding
    return weights
