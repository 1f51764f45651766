"""Bronze asset checks: the pandera schema (blocking) and data-quality checks (WARN)."""

import dagster as dg

from spymaster_assets.defs.check_helpers import check_spec, schema_spec

ES_TRADES = dg.AssetKey(["bronze", "es_trades"])
ES_MBP10 = dg.AssetKey(["bronze", "es_mbp10"])
SPY_OPTION_TRADES = dg.AssetKey(["bronze", "spy_option_trades"])

FRONT_MONTH_SHARE = "front_month_share"
TIMESTAMP_ORDER = "timestamp_order"
CROSSED_BOOKS = "crossed_books"
BAD_ROWS = "bad_rows"
DUPLICATES = "duplicates"
SEQUENCE_GAPS = "sequence_gaps"

_TIMESTAMP_ORDER = "The raw file is in ts_recv order, as Databento ships it."
_SEQUENCE_GAPS = (
    "No channel gaps flagged by the vendor (F_MAYBE_BAD_BOOK) on the contract's records in the "
    "window: a gap means missed updates, so books or tape may be incomplete until recovery."
)
_DUPLICATES = "No exact copies of a kept record in the raw file (they are dropped, and counted)."

ES_TRADES_CHECKS = [
    schema_spec(ES_TRADES),
    check_spec(
        ES_TRADES,
        FRONT_MONTH_SHARE,
        "The chosen contract carries at least the configured share of outright RTH volume.",
    ),
    check_spec(ES_TRADES, TIMESTAMP_ORDER, _TIMESTAMP_ORDER),
    check_spec(ES_TRADES, DUPLICATES, _DUPLICATES),
    check_spec(ES_TRADES, SEQUENCE_GAPS, _SEQUENCE_GAPS),
]
ES_MBP10_CHECKS = [
    schema_spec(ES_MBP10),
    check_spec(
        ES_MBP10, CROSSED_BOOKS, "Complete (F_LAST) books of the chosen contract are not crossed."
    ),
    check_spec(ES_MBP10, TIMESTAMP_ORDER, _TIMESTAMP_ORDER),
    check_spec(ES_MBP10, DUPLICATES, _DUPLICATES),
    check_spec(ES_MBP10, SEQUENCE_GAPS, _SEQUENCE_GAPS),
]
SPY_OPTION_TRADES_CHECKS = [
    schema_spec(SPY_OPTION_TRADES),
    check_spec(
        SPY_OPTION_TRADES,
        BAD_ROWS,
        "No unparsable rows in the options flat file (some are tolerated, and counted).",
    ),
]
