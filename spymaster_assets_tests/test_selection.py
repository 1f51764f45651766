import dagster as dg
import pytest

from spymaster_assets.definitions import defs
from spymaster_assets.selection import SelectionError, parse_selection

GRAPH = defs.resolve_asset_graph()
KNOWN = set(GRAPH.get_all_asset_keys())
TRADES, MBP, OPTIONS = (
    dg.AssetKey(["bronze", n]) for n in ("es_trades", "es_mbp10", "spy_option_trades")
)
OHLCV, LEVELS, TOUCHES, LABELS = (
    dg.AssetKey(["silver", n]) for n in ("ohlcv_1m", "levels", "touches", "outcome_labels")
)
FLOW, BARRIER, TAPE = (
    dg.AssetKey(["silver", n]) for n in ("option_flow", "barrier_physics", "tape_physics")
)
SIGNALS, COMBINED, CHARTS = (
    dg.AssetKey(["gold", n]) for n in ("signals", "signals_vectorized", "day_charts")
)
RESEARCH = {k for k in KNOWN if k.path[0] == "research"}  # one step, downstream of COMBINED


def resolve(text):
    return parse_selection(text, KNOWN).resolve(GRAPH)


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, KNOWN),
        ("bronze/es_trades", {TRADES}),
        ("bronze/es_trades,bronze/spy_option_trades", {TRADES, OPTIONS}),
        ("bronze/es_trades+", {TRADES, MBP, OHLCV, FLOW, LABELS, BARRIER, TAPE, SIGNALS}),
        ("bronze/es_mbp10*", {MBP, BARRIER, SIGNALS, COMBINED, CHARTS, *RESEARCH}),
        ("+bronze/es_mbp10", {TRADES, MBP}),
        ("*silver/touches", {TRADES, OPTIONS, OHLCV, FLOW, LEVELS, TOUCHES}),
        ("++silver/touches", {TRADES, OHLCV, FLOW, LEVELS, TOUCHES}),
        ("+silver/touches", {OHLCV, LEVELS, TOUCHES}),
        (" bronze/es_mbp10 , ", {MBP}),
    ],
)
def test_selection_forms(text, expected):
    assert resolve(text) == expected


@pytest.mark.parametrize(
    "text, message", [("bronze/missing", "unknown asset"), ("a b", "cannot parse"), (",", "empty")]
)
def test_bad_selections_say_why(text, message):
    with pytest.raises(SelectionError, match=message):
        parse_selection(text, KNOWN)
