"""The research step on a year of signals (issue 16: a year, about 100,000 signals, evaluated in
a few minutes on 2 cores), run as a child of the benchmark.

    python -m spymaster_assets.bench.research_year OUT_JSON SESSIONS GOLD_FILE [GOLD_FILE ...]

A year is made of the benchmark's own full-size gold days laid onto 252 consecutive NYSE
sessions in turn (times moved with the session's open, a signal past a shorter session's close
dropped, event ids made unique): real signals, as many as a year holds, so the folds, the fits
and the bootstrap cost what they would. Only the cost is reported: a day repeated across the
year is its own future, so the skill such a data set shows (and its placebo gate, when a day
takes the labels of one of its own copies) says nothing about the features.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

YEAR_SESSIONS = 252
FIRST_SESSION = dt.date(2024, 1, 2)


def year_of_signals(gold_files: list[Path], sessions: int = YEAR_SESSIONS):
    import polars as pl

    from spymaster_assets.market.trading_calendar import session_windows, trading_days

    sources = [pl.read_parquet(f) for f in gold_files]
    days = trading_days(FIRST_SESSION, FIRST_SESSION + dt.timedelta(days=400))[:sessions]
    parts = []
    for i, day in enumerate(days):
        source = sources[i % len(sources)]
        origin = source["date"][0]
        shift = session_windows(day).rth_open_ns - session_windows(origin).rth_open_ns
        close = session_windows(day).rth_close_ns
        parts.append(
            source.filter(pl.col("info_ts_ns") + shift < close).with_columns(
                date=pl.lit(day),
                ts_ns=pl.col("ts_ns") + shift,
                info_ts_ns=pl.col("info_ts_ns") + shift,
                event_id=pl.col("event_id") + f"-{i}",
            )
        )
    return pl.concat(parts)


def measure(gold_files: list[Path], sessions: int = YEAR_SESSIONS) -> dict:
    from spymaster_assets.bench.rss import peak_rss
    from spymaster_assets.research.pipeline import ResearchParams, run_research

    signals = year_of_signals(gold_files, sessions)
    processes = os.cpu_count() or 1
    started, cpu0 = time.perf_counter(), time.process_time()
    result = run_research(signals, ResearchParams(n_jobs=processes))
    seconds = time.perf_counter() - started
    return {
        "signals": signals.height,
        "days": signals["date"].n_unique(),
        "source_days": len(gold_files),
        "folds": len(result.folds),
        "processes": processes,
        "seconds": round(seconds, 2),
        "parent_cpu_seconds": round(time.process_time() - cpu0, 2),
        "peak_rss_bytes": peak_rss(),
        "predictions": result.predictions.height,
        "test_signals": result.training_table["fold"].is_not_null().sum(),
        "models": len(result.params.models),
    }


def main() -> None:
    out, sessions, *files = sys.argv[1:]
    result = measure([Path(f) for f in files], int(sessions))
    Path(out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
