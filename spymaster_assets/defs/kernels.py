"""The Numba kernels, handed to assets as one shared resource.

Kernels live in `physics/` and `signals/` (no Dagster there) and are compiled with cache=True;
`prepare()` warms every kernel once per process (a few milliseconds from the on-disk cache)
before the first asset that runs kernels, so that asset does not pay compilation inside its
own timing. Numba and the kernel modules are imported then, not when the definitions load nor
when a run only records current days again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import polars as pl

_warm = False


def warm_up() -> None:
    """Run every kernel once on tiny inputs (compiles, or loads the compiled cache)."""
    global _warm
    if _warm:
        return
    import polars as pl

    from spymaster_assets.market.trading_calendar import session_windows
    from spymaster_assets.physics import barrier, fuel, option_flow, tape
    from spymaster_assets.signals import approach, labels

    day = dt.date(2025, 11, 20)

    w = session_windows(day)
    t = w.rth_open_ns
    touches = pl.DataFrame(
        {
            "ts_ns": [t],
            "info_ts_ns": [t + 60 * 10**9],
            "level_price": [100.0],
            "level_kind": pl.Series([11], dtype=pl.Int8),
            "direction": ["UP"],
        }
    )
    trades = pl.DataFrame({"ts_event": [t + 10**9], "price": [1000.0], "size": [1], "side": ["B"]})
    bars = pl.DataFrame({"ts_ns": [t - 60 * 10**9], "close": [100.0]})
    approach.approach_context(touches, bars, w, 10, 15)
    labels.outcome_labels(touches, trades, w, 5, 2.0, 10.0)
    tape.tape_physics(touches, trades, tape.TapeParams(60 * 10**9, 5.0, 10**8, 1e7, 50.0), 10.0)
    flow = pl.DataFrame({"ts_ns": [t], "strike": [100.0], "dealer_gamma": [1.0]})
    fuel.fuel_physics(touches, flow, fuel.FuelParams(2.0, 0.1))
    books = pl.DataFrame(
        {
            "ts_event": [t, t + 1],
            **{
                f"{s}_px_{k:02d}": [1000.0 + (0.25 * k if s == "ask" else -0.25 * k)] * 2
                for s in ("bid", "ask")
                for k in range(10)
            },
            **{f"{s}_sz_{k:02d}": [5, 6] for s in ("bid", "ask") for k in range(10)},
        }
    )
    barrier.barrier_physics(
        touches,
        books,
        trades,
        barrier.BarrierParams(60 * 10**9, 1800 * 10**9, 8, 0.5, 0.3, 1.5, 0.2, 1e6),
        10.0,
        0.25,
    )
    options = pl.DataFrame(
        {
            "ts_ns": [t + 2 * 10**9],
            "ticker": ["O:SPY251120C00100000"],
            "right": ["C"],
            "strike": [100.0],
            "price": [1.0],
            "size": [1],
        }
    )
    option_flow.option_flow(
        options,
        trades,
        w.rth_close_ns,
        option_flow.FlowParams(10.0, 0.045, 0.01, 5.0, 0.2, 60.0, -1),
    )
    _warm = True


class NumbaKernels(dg.ConfigurableResource):
    """Compiled kernels of the signal chain and the physics, warmed once per process."""

    warm_up: bool = True

    def prepare(self) -> None:
        """Warm every kernel (once per process): the chain calls it before the first asset that
        runs kernels."""
        if self.warm_up:
            warm_up()

    def approach_context(self, *args, **kwargs) -> pl.DataFrame:
        from spymaster_assets.signals import approach

        return approach.approach_context(*args, **kwargs)

    def outcome_labels(self, *args, **kwargs) -> pl.DataFrame:
        from spymaster_assets.signals import labels

        return labels.outcome_labels(*args, **kwargs)

    def option_flow(self, *args, **kwargs) -> tuple[pl.DataFrame, int]:
        from spymaster_assets.physics import option_flow

        return option_flow.option_flow(*args, **kwargs)

    def barrier(self, *args, **kwargs) -> pl.DataFrame:
        from spymaster_assets.physics import barrier

        return barrier.barrier_physics(*args, **kwargs)

    def tape(self, *args, **kwargs) -> pl.DataFrame:
        from spymaster_assets.physics import tape

        return tape.tape_physics(*args, **kwargs)

    def fuel(self, *args, **kwargs) -> pl.DataFrame:
        from spymaster_assets.physics import fuel

        return fuel.fuel_physics(*args, **kwargs)
