"""Silver asset checks: schemas (blocking) and the semantic rules of each table."""

import dagster as dg

from spymaster_assets.defs.check_helpers import check_spec, schema_spec

OHLCV_1M = dg.AssetKey(["silver", "ohlcv_1m"])
LEVELS = dg.AssetKey(["silver", "levels"])
TOUCHES = dg.AssetKey(["silver", "touches"])
APPROACH_CONTEXT = dg.AssetKey(["silver", "approach_context"])
OUTCOME_LABELS = dg.AssetKey(["silver", "outcome_labels"])

BAR_CONSISTENCY = "bar_consistency"
CAUSALITY = "causality"
CRITICAL_ZONE = "critical_zone"
ONE_ROW_PER_TOUCH = "one_row_per_touch"
LABEL_RULES = "label_rules"
SMA_HISTORY = "sma_history"

OHLCV_1M_CHECKS = [
    schema_spec(OHLCV_1M),
    check_spec(
        OHLCV_1M,
        BAR_CONSISTENCY,
        "low <= open, close <= high; bars inside the pre-market and regular-hours windows.",
    ),
]
LEVELS_CHECKS = [
    schema_spec(LEVELS),
    check_spec(
        LEVELS,
        CAUSALITY,
        "Levels recomputed from the day's data cut at several times T equal the full-day levels "
        "for every bar starting at or before T: no level uses data from its own bar or later.",
        blocking=True,
    ),
    check_spec(
        LEVELS,
        SMA_HISTORY,
        "Every earlier trading day of the SMA_200 window that has a raw ES trades file gave its "
        "bars (from the same run, the lake, or rebuilt from the raw file). A WARN names a day "
        "whose file could not be read: SMA_200 then reaches further back without it.",
    ),
]
TOUCHES_CHECKS = [
    schema_spec(TOUCHES),
    check_spec(
        TOUCHES,
        CRITICAL_ZONE,
        "Every signal: RTH bar, |close - L| <= MONITOR_BAND, touched within TOUCH_BAND, "
        "direction consistent with the bar's open.",
    ),
]
APPROACH_CONTEXT_CHECKS = [
    schema_spec(APPROACH_CONTEXT),
    check_spec(APPROACH_CONTEXT, ONE_ROW_PER_TOUCH, "Exactly one row for every touch."),
]
OUTCOME_LABELS_CHECKS = [
    schema_spec(OUTCOME_LABELS),
    check_spec(
        OUTCOME_LABELS,
        LABEL_RULES,
        "Outcomes agree with excursions and the threshold; nulls (never 0.0) where there is "
        "nothing to measure; one row for every touch.",
    ),
]
