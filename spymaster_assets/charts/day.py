"""Two pictures per trading day: the price with its levels and signals, and the outcome mix.

Rendered with matplotlib's Agg backend to PNG bytes; the caller writes them atomically.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import polars as pl  # noqa: E402

from spymaster_assets.market.trading_calendar import NEW_YORK  # noqa: E402

OUTCOME_COLOURS = {"BREAK": "#d62728", "BOUNCE": "#2ca02c", "CHOP": "#7f7f7f"}
LEVEL_STYLES = {
    "PM_HIGH": ("#9467bd", "--"),
    "PM_LOW": ("#9467bd", "--"),
    "OR_HIGH": ("#ff7f0e", ":"),
    "OR_LOW": ("#ff7f0e", ":"),
    "VWAP": ("#1f77b4", "-"),
    "SMA_200": ("#8c564b", "-"),
    "CALL_WALL": ("#e377c2", "-."),
    "PUT_WALL": ("#17becf", "-."),
}


def _ny(ns: pl.Series) -> pd.DatetimeIndex:
    return pd.to_datetime(ns.to_numpy(), utc=True).tz_convert(NEW_YORK)


def _png(fig, **margins) -> bytes:
    # Fixed margins and fast PNG compression: a fitted bounding box ("tight") lays the figure
    # out twice, and zlib's default level triples the encoding time for a slightly smaller file.
    fig.subplots_adjust(**margins)
    buf = io.BytesIO()
    fig.savefig(
        buf, format="png", dpi=100, metadata={"Software": None}, pil_kwargs={"compress_level": 1}
    )
    plt.close(fig)
    return buf.getvalue()


def day_chart(day, bars: pl.DataFrame, levels: pl.DataFrame, signals: pl.DataFrame) -> bytes:
    """Regular-hours closes, the moving and fixed levels, and every signal by outcome."""
    rth = bars.filter(pl.col("session") == "RTH")
    fig, ax = plt.subplots(figsize=(12, 5))
    if rth.height:
        t = _ny(rth["ts_ns"])
        ax.fill_between(t, rth["low"], rth["high"], color="#cccccc", step="post", label="bar range")
        ax.plot(t, rth["close"], color="black", lw=0.8, label="close")
    for kind, (colour, style) in LEVEL_STYLES.items():
        mine = levels.filter(pl.col("level_kind_name") == kind)
        if mine.height:
            ax.plot(
                _ny(mine["ts_ns"]), mine["level_price"], color=colour, ls=style, lw=1, label=kind
            )
    for outcome, colour in OUTCOME_COLOURS.items():
        mine = signals.filter(pl.col("outcome") == outcome)
        if mine.height:
            ax.scatter(
                _ny(mine["ts_ns"]),
                mine["level_price"],
                s=14,
                color=colour,
                label=f"{outcome} ({mine.height})",
                zorder=3,
            )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=NEW_YORK))
    ax.set_title(f"SPY (ES / 10) on {day}: levels and signals by outcome")
    ax.set_ylabel("SPY $")
    ax.set_xlabel("New York time")
    ax.legend(loc="upper left", fontsize=7, ncol=4)
    ax.grid(alpha=0.3)
    return _png(fig, left=0.06, right=0.99, top=0.93, bottom=0.1)


def outcome_breakdown(day, signals: pl.DataFrame) -> bytes:
    """Stacked outcome counts by level kind and by barrier state."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, column in zip(axes, ("level_kind_name", "barrier_state"), strict=True):
        if signals.height:
            table = (
                signals.group_by(column, "outcome")
                .len()
                .pivot(on="outcome", index=column, values="len")
                .fill_null(0)
                .sort(column)
            )
            bottom = None
            for outcome, colour in OUTCOME_COLOURS.items():
                if outcome not in table.columns:
                    continue
                values = table[outcome].to_numpy()
                ax.bar(table[column].to_list(), values, bottom=bottom, color=colour, label=outcome)
                bottom = values if bottom is None else bottom + values
            ax.tick_params(axis="x", rotation=45, labelsize=7)
        ax.set_title(f"outcomes by {column.replace('_', ' ')}")
        ax.legend(fontsize=7)
    fig.suptitle(f"{day}: {signals.height} signals")
    return _png(fig, left=0.05, right=0.99, top=0.88, bottom=0.22, wspace=0.15)
