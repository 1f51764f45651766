"""Every tunable parameter of the SPEC, with its default, in one typed object.

`SpymasterConfig` is a Dagster resource (see `defs/resources.py`), so a run's values are visible
in the UI and can be changed per run. Kernels and readers never read it directly: they take the
values they need as arguments, which keeps them free of Dagster and easy to test.
"""

import dagster as dg
from pydantic import Field, field_validator

from spymaster_assets.vocabulary import DEFAULT_LABEL_HORIZONS_MIN, DEFAULT_LABEL_THRESHOLDS


class SpymasterConfig(dg.ConfigurableResource):
    """SPEC §10. Names are the SPEC's, in snake case; units are in each description."""

    # Prices and units (SPEC §2)
    es_spy_ratio: float = Field(10.0, description="ES_SPY_RATIO: ES points per SPY dollar.")
    es_tick: float = Field(0.25, description="ES minimum tick in index points.")
    es_multiplier: float = Field(50.0, description="ES contract multiplier ($ per point).")

    # Sessions (SPEC §2)
    or_minutes: int = Field(15, description="OR_MINUTES: opening-range length after 09:30 ET.")

    # Touches (SPEC §5)
    monitor_band: float = Field(0.25, description="MONITOR_BAND ($ SPY): critical zone half-width.")
    touch_band: float = Field(0.10, description="TOUCH_BAND ($ SPY): bar high/low tolerance.")

    # Levels (SPEC §4)
    strike_range: float = Field(5.0, description="STRIKE_RANGE ($ SPY) around the last close.")
    strike_min_volume: int = Field(100, description="STRIKE_MIN_VOLUME (contracts since open).")
    wall_min_gamma: float = Field(
        20_000.0, description="WALL_MIN_GAMMA (|cumulative dealer gamma|, shares per $1)."
    )
    sma_period: int = Field(200, description="SMA_200 length in completed bars.")
    sma_bar_minutes: int = Field(2, description="SMA_200 bar length in minutes.")

    # Physics windows (SPEC §6)
    barrier_window_s: float = Field(60.0, description="W_b: barrier window (s, forward).")
    tape_window_s: float = Field(60.0, description="W_t: tape window (s, forward).")
    weak_lookback_s: float = Field(1800.0, description="WEAK_LOOKBACK: baseline window (s).")
    barrier_zone_es_ticks: int = Field(8, description="BARRIER_ZONE_ES_TICKS around L x ratio.")
    f_thresh_frac: float = Field(
        0.5,
        description="F_THRESH_FRAC: F_thresh = F_THRESH_FRAC x zone_baseline (the zone's usual "
        "depth), so a barrier state means the same at any volume.",
    )
    r_vac: float = Field(0.3, description="R_vac: replenishment ratio below which VACUUM.")
    r_wall: float = Field(1.5, description="R_wall: replenishment ratio above which WALL.")
    weak_percentile: float = Field(0.20, description="WEAK_PERCENTILE of lookback depth.")
    replenishment_ratio_cap: float = Field(1e6, description="Finite cap for added/(0) ratios.")
    tape_band: float = Field(0.50, description="TAPE_BAND ($ SPY) around the level.")
    sweep_max_gap_ms: float = Field(100.0, description="SWEEP_MAX_GAP_MS between prints.")
    sweep_min_notional: float = Field(
        10_000_000.0,
        description="SWEEP_MIN_NOTIONAL ($): about 30 ES contracts (one is worth about $340,000).",
    )

    # Fuel (SPEC §6)
    risk_free_rate: float = Field(0.045, description="RISK_FREE_RATE (annual, continuous).")
    default_iv: float = Field(0.20, description="DEFAULT_IV when no IV can be solved.")
    iv_min: float = Field(0.01, description="Lower IV bracket.")
    iv_max: float = Field(5.0, description="Upper IV bracket.")
    min_time_to_expiry_s: float = Field(60.0, description="Floor on time to expiry (s).")
    dealer_side_sign: int = Field(
        -1, description="Dealers take the customer's opposite side: dealer = sign x customer."
    )
    fuel_strike_range: float = Field(2.0, description="FUEL_STRIKE_RANGE ($ SPY) around L.")
    fuel_share_threshold: float = Field(
        0.10,
        description="FUEL_SHARE_THRESHOLD: gamma_share below minus it is AMPLIFY, above it DAMPEN.",
    )

    # Approach and labels (SPEC §7, §8)
    lookback_minutes: int = Field(10, description="LOOKBACK_MINUTES for approach context.")
    lookforward_minutes: int = Field(5, description="LOOKFORWARD_MINUTES for labels.")
    outcome_threshold: float = Field(2.0, description="OUTCOME_THRESHOLD ($ SPY).")
    label_thresholds: list[float] = Field(
        list(DEFAULT_LABEL_THRESHOLDS),
        description="LABEL_THRESHOLDS ($ SPY, whole cents) of the label grid.",
    )
    label_horizons_min: list[int] = Field(
        list(DEFAULT_LABEL_HORIZONS_MIN),
        description="LABEL_HORIZONS_MIN (minutes after info_ts_ns) of the label grid.",
    )

    # Input quality (SPEC §3, §11)
    front_month_warn_share: float = Field(0.90, description="Front-month RTH share: warn below.")
    front_month_error_share: float = Field(0.50, description="Front-month RTH share: fail below.")
    csv_bad_row_tolerance: float = Field(
        0.001, description="Fraction of unparsable option rows tolerated (counted, reported)."
    )
    max_crossed_books: int = Field(0, description="Crossed complete books tolerated (WARN above).")
    max_out_of_order: int = Field(0, description="ts_recv decreases tolerated (WARN above).")
    max_duplicates: int = Field(
        0, description="Exact duplicate ES records dropped per file tolerated (WARN above)."
    )
    max_sequence_gaps: int = Field(
        0, description="Vendor-flagged channel gaps (F_MAYBE_BAD_BOOK runs) tolerated (WARN above)."
    )

    # Operations
    mbp_chunk_records: int = Field(
        100_000,
        description="MBP-10 records decoded per chunk (37 MB of buffer; one parquet row group).",
    )

    @field_validator("label_thresholds")
    @classmethod
    def _whole_cents(cls, values: list[float]) -> list[float]:
        # Column names carry the threshold in cents: two thresholds must not share a name.
        cents = [round(v * 100) for v in values]
        if (
            not values
            or min(values) <= 0
            or any(abs(c - v * 100) > 1e-6 for c, v in zip(cents, values, strict=True))
        ):
            raise ValueError(f"label_thresholds must be positive whole cents, got {values}")
        if len(set(cents)) != len(cents):
            raise ValueError(f"label_thresholds repeat a value: {values}")
        return values

    @field_validator("label_horizons_min")
    @classmethod
    def _positive_minutes(cls, values: list[int]) -> list[int]:
        if not values or min(values) <= 0 or len(set(values)) != len(values):
            raise ValueError(f"label_horizons_min must be distinct positive minutes, got {values}")
        return values

    @property
    def bronze_margin_before_s(self) -> float:
        """Book and tape kept before pre-market: the barrier window or the WEAK lookback."""
        return max(self.barrier_window_s, self.weak_lookback_s)
