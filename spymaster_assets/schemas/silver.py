"""Schemas of the silver tables (SPY dollars, UTC ns)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from spymaster_assets.vocabulary import (
    BARRIER_STATES,
    DEFAULT_LABEL_HORIZONS_MIN,
    DEFAULT_LABEL_THRESHOLDS,
    DIRECTIONS,
    FUEL_EFFECTS,
    LEVEL_KINDS,
    OUTCOMES,
    grid_columns,
)

C = pa.Column
POSITIVE = pa.Check.gt(0)

KEY_COLUMNS = {
    "ts_ns": C(pl.Int64, POSITIVE, description="Touch bar start (key)"),
    "level_price": C(pl.Float64, POSITIVE, description="Level, SPY $ (key)"),
}

OHLCV_1M = pa.DataFrameSchema(
    {
        "ts_ns": C(
            pl.Int64,
            [
                POSITIVE,
                pa.Check(
                    lambda d: d.lazyframe.select(pl.col(d.key) % 60_000_000_000 == 0),
                    name="minute_aligned",
                ),
            ],
            unique=True,
            description="Bar start, UTC ns",
        ),
        "open": C(pl.Float64, POSITIVE, description="First trade, SPY $"),
        "high": C(pl.Float64, POSITIVE, description="Highest trade, SPY $"),
        "low": C(pl.Float64, POSITIVE, description="Lowest trade, SPY $"),
        "close": C(pl.Float64, POSITIVE, description="Last trade, SPY $"),
        "volume": C(pl.Int64, POSITIVE, description="ES contracts"),
        "trades": C(pl.Int64, POSITIVE, description="Number of trades"),
        "notional": C(
            pl.Float64, POSITIVE, description="Sum of SPY price x ES contracts (for VWAP)"
        ),
        "session": C(
            pl.String, pa.Check.isin(["PM", "RTH"]), description="PM (04:00-09:30 ET) or RTH"
        ),
    },
    strict=True,
    ordered=True,
    name="silver/ohlcv_1m",
)

LEVELS = pa.DataFrameSchema(
    {
        "ts_ns": C(pl.Int64, POSITIVE, description="Start of the bar the level applies to, UTC ns"),
        "level_kind": C(
            pl.Int8,
            pa.Check.in_range(0, len(LEVEL_KINDS) - 1),
            description="Code in SPEC §4 priority order",
        ),
        "level_kind_name": C(pl.String, pa.Check.isin(list(LEVEL_KINDS))),
        "level_price": C(pl.Float64, POSITIVE, description="SPY $, rounded to the cent"),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_kind", "level_price"],
    name="silver/levels",
)

TOUCHES = pa.DataFrameSchema(
    {
        "ts_ns": C(pl.Int64, POSITIVE),
        "info_ts_ns": C(pl.Int64, POSITIVE),
        "level_price": C(pl.Float64, POSITIVE),
        "level_kind": C(pl.Int8, pa.Check.in_range(0, len(LEVEL_KINDS) - 1)),
        "level_kind_name": C(pl.String, pa.Check.isin(list(LEVEL_KINDS))),
        "level_kinds": C(pl.List(pl.String)),
        "direction": C(pl.String, pa.Check.isin(list(DIRECTIONS))),
        "distance": C(pl.Float64, pa.Check.ge(0)),
        "spot": C(pl.Float64, POSITIVE),
        "bar_open": C(pl.Float64, POSITIVE),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/touches",
)

APPROACH_CONTEXT = pa.DataFrameSchema(
    {
        **KEY_COLUMNS,
        "approach_velocity": C(pl.Float64, nullable=True),
        "approach_bars": C(pl.Int32, pa.Check.ge(0), nullable=True),
        "approach_distance": C(pl.Float64, pa.Check.ge(0), nullable=True),
        "prior_touches": C(pl.Int32, pa.Check.ge(0)),
        "bars_since_open": C(pl.Int32, pa.Check.ge(0)),
        "is_first_15m": C(pl.Boolean),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/approach_context",
)


def label_grid_columns(thresholds, horizons) -> dict[str, pa.Column]:
    """The label grid's columns (SPEC §8): every outcome, then every truncation flag."""
    pairs = grid_columns(thresholds, horizons)
    outcomes = {
        outcome: C(
            pl.String,
            pa.Check.isin(list(OUTCOMES)),
            description=f"First passage of ${t:.2f} within {h} min after info_ts_ns",
        )
        for t, h, outcome, _ in pairs
    }
    truncated = {
        flag: C(pl.Boolean, description=f"The {h}-minute window of {outcome} passes the close")
        for t, h, outcome, flag in pairs
    }
    return {**outcomes, **truncated}


def outcome_labels_schema(thresholds, horizons) -> pa.DataFrameSchema:
    """silver/outcome_labels for a label grid (the configured thresholds x horizons)."""
    return pa.DataFrameSchema(
        {
            **KEY_COLUMNS,
            "outcome": C(pl.String, pa.Check.isin(list(OUTCOMES))),
            "time_to_outcome_s": C(pl.Float64, pa.Check.ge(0), nullable=True),
            "future_price_5min": C(pl.Float64, POSITIVE, nullable=True),
            "excursion_max": C(pl.Float64, nullable=True),
            "excursion_min": C(pl.Float64, nullable=True),
            "label_truncated": C(pl.Boolean),
            **label_grid_columns(thresholds, horizons),
        },
        strict=True,
        ordered=True,
        unique=["ts_ns", "level_price"],
        name="silver/outcome_labels",
    )


OUTCOME_LABELS = outcome_labels_schema(DEFAULT_LABEL_THRESHOLDS, DEFAULT_LABEL_HORIZONS_MIN)


OPTION_FLOW = pa.DataFrameSchema(
    {
        "ts_ns": C(pl.Int64, POSITIVE, description="SIP time of the option trade, UTC ns"),
        "ticker": C(pl.String),
        "right": C(pl.String, pa.Check.isin(["C", "P"])),
        "strike": C(pl.Float64, POSITIVE),
        "price": C(pl.Float64, pa.Check.ge(0)),
        "size": C(pl.Int64, POSITIVE),
        "spot": C(pl.Float64, POSITIVE, description="Last ES trade at or before it / ratio, SPY $"),
        "time_to_expiry_years": C(pl.Float64, POSITIVE),
        "iv": C(pl.Float64, POSITIVE),
        "iv_source": C(pl.String, pa.Check.isin(["solved", "last_good", "default"])),
        "delta": C(pl.Float64, pa.Check.in_range(-1.0, 1.0)),
        "gamma": C(pl.Float64, pa.Check.ge(0)),
        "customer_side": C(pl.Int8, pa.Check.isin([-1, 0, 1])),
        "dealer_gamma": C(pl.Float64, description="Shares per $1"),
        "cum_dealer_gamma": C(pl.Float64, description="Per strike and right, since the open"),
        "cum_strike_volume": C(
            pl.Int64, POSITIVE, description="Contracts per strike since the open"
        ),
    },
    strict=True,
    ordered=True,
    name="silver/option_flow",
)

BARRIER_PHYSICS = pa.DataFrameSchema(
    {
        **KEY_COLUMNS,
        "barrier_state": C(pl.String, pa.Check.isin(list(BARRIER_STATES))),
        "barrier_delta_liq": C(pl.Float64, description="added - canceled - filled, ES contracts"),
        "barrier_replenishment_ratio": C(pl.Float64, pa.Check.ge(0)),
        "barrier_added": C(pl.Float64, pa.Check.ge(0)),
        "barrier_canceled": C(pl.Float64, pa.Check.ge(0)),
        "barrier_filled": C(pl.Float64, pa.Check.ge(0)),
        "depth_in_zone": C(pl.Float64, pa.Check.ge(0), nullable=True),
        "wall_ratio": C(pl.Float64, pa.Check.ge(0), nullable=True),
        "zone_baseline": C(
            pl.Float64,
            pa.Check.ge(0),
            nullable=True,
            description="Mean defending-side zone depth over the lookback before ts, ES contracts",
        ),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/barrier_physics",
)

TAPE_PHYSICS = pa.DataFrameSchema(
    {
        **KEY_COLUMNS,
        "tape_imbalance": C(pl.Float64, pa.Check.in_range(-1.0, 1.0)),
        "tape_buy_vol": C(pl.Float64, pa.Check.ge(0)),
        "tape_sell_vol": C(pl.Float64, pa.Check.ge(0)),
        "tape_velocity": C(pl.Float64, pa.Check.ge(0)),
        "sweep_detected": C(pl.Boolean),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/tape_physics",
)

FUEL_PHYSICS = pa.DataFrameSchema(
    {
        **KEY_COLUMNS,
        "gamma_exposure": C(
            pl.Float64, description="Σ cumulative dealer gamma near L, shares per $1"
        ),
        "gamma_share": C(
            pl.Float64,
            pa.Check.in_range(-1.0, 1.0),
            nullable=True,
            description="gamma_exposure / Σ |cumulative dealer gamma| of every 0DTE strike",
        ),
        "fuel_effect": C(pl.String, pa.Check.isin(list(FUEL_EFFECTS))),
    },
    strict=True,
    ordered=True,
    unique=["ts_ns", "level_price"],
    name="silver/fuel_physics",
)
