"""The day's ES contract: the outright with the largest regular-hours volume (the volume roll).

Calendar spreads (raw symbols with '-') and every other expiry are excluded from everything
downstream. Without symbol mappings, candidates are instruments whose prints sit on the 0.25
grid near the median outright price, and the choice says it used that fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spymaster_assets.market.dbn_format import PRICE_SCALE

METHOD_MAPPINGS = "largest RTH volume among outrights (symbol mappings)"
METHOD_FALLBACK = (
    "fallback: no symbol mappings; largest RTH volume on the 0.25 grid near the median price"
)


@dataclass(frozen=True)
class FrontMonth:
    instrument_id: int
    raw_symbol: str
    rth_volume: int
    volume_share: float  # of all outright RTH volume
    method: str
    volumes: dict[str, int]  # every outright candidate's RTH volume, for the record


class NoFrontMonthError(ValueError):
    pass


def _volume_by_instrument(ids: np.ndarray, sizes: np.ndarray) -> dict[int, int]:
    uniq, inverse = np.unique(ids, return_inverse=True)
    vol = np.bincount(inverse, weights=sizes.astype(np.float64), minlength=len(uniq))
    return {int(i): int(v) for i, v in zip(uniq, vol, strict=True)}


def choose_front_month(
    instrument_id: np.ndarray,
    price_fixed: np.ndarray,
    size: np.ndarray,
    ts_event: np.ndarray,
    rth_open_ns: int,
    rth_close_ns: int,
    symbols: dict[int, str],
    tick: float = 0.25,
) -> FrontMonth:
    """Choose the front month from one day's trades (all instruments of the parent file)."""
    in_rth = (ts_event >= rth_open_ns) & (ts_event < rth_close_ns)
    ids, px, sz = instrument_id[in_rth], price_fixed[in_rth], size[in_rth]
    if len(ids) == 0:
        raise NoFrontMonthError("no trades at all during regular trading hours")
    volumes = _volume_by_instrument(ids, sz)
    known = {i: s for i, s in symbols.items() if i in volumes}
    if known:
        outrights = {i: v for i, v in volumes.items() if i in known and "-" not in known[i]}
        method = METHOD_MAPPINGS
        names = {i: known[i] for i in outrights}
    else:
        tick_fixed = round(tick * PRICE_SCALE)
        median = float(np.median(px))
        outrights = {}
        for iid, vol in volumes.items():
            mine = px[ids == iid]
            on_grid = bool(np.all(mine % tick_fixed == 0))
            near = abs(float(np.median(mine)) - median) <= 0.05 * abs(median)
            if on_grid and near and median > 0:
                outrights[iid] = vol
        method = METHOD_FALLBACK
        names = {i: f"instrument_id={i}" for i in outrights}
    if not outrights:
        raise NoFrontMonthError("no outright contract traded during regular trading hours")
    best = max(outrights, key=lambda i: (outrights[i], -i))
    total = sum(outrights.values())
    return FrontMonth(
        instrument_id=best,
        raw_symbol=names[best],
        rth_volume=outrights[best],
        volume_share=outrights[best] / total if total else 0.0,
        method=method,
        volumes={names[i]: v for i, v in sorted(outrights.items(), key=lambda kv: -kv[1])},
    )
