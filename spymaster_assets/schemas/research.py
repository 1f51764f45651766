"""Schemas of the research tables (SPEC §12): the catalog shows their columns, and the research
step validates what it writes."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from spymaster_assets.schemas import gold
from spymaster_assets.vocabulary import CLASSES, FEATURES, FOLD_ROLES

C = pa.Column
_PROBABILITY = pa.Check.in_range(0.0, 1.0)


def _probabilities() -> dict[str, pa.Column]:
    return {
        f"p_{c}": C(pl.Float64, _PROBABILITY, description=f"P({c}) out of fold") for c in CLASSES
    }


FOLDS = pa.DataFrameSchema(
    {
        "fold": C(pl.Int32, pa.Check.ge(0), description="Walk-forward fold"),
        "date": C(pl.Date, description="Trading day"),
        "role": C(pl.String, pa.Check.isin(list(FOLD_ROLES)), description="train, embargo or test"),
    },
    strict=True,
    ordered=True,
    name="research/folds",
)

TRAINING_TABLE = pa.DataFrameSchema(
    {
        **{n: gold.SIGNALS.columns[n] for n in ("event_id", "date", "info_ts_ns")},
        **{n: gold.SIGNALS.columns[n] for n in FEATURES},
        "target": C(pl.String, pa.Check.isin(list(CLASSES)), description="The label learned"),
        "label_end_ns": C(pl.Int64, description="End of the target's label window (UTC ns)"),
        "weight": C(
            pl.Float64,
            pa.Check.in_range(0.0, 1.0, include_min=False),
            description="Average uniqueness on the shared label timeline",
        ),  # fmt: skip
        "fold": C(pl.Int32, nullable=True, description="The fold testing this day; null: none"),
    },
    strict=True,
    ordered=True,
    name="research/training_table",
)

PREDICTIONS = pa.DataFrameSchema(
    {
        "event_id": C(pl.String, description="gold/signals event_id"),
        "date": C(pl.Date, description="Trading day (a test day of the fold)"),
        "fold": C(pl.Int32, description="Walk-forward fold whose models predicted it"),
        "model": C(pl.String, description="Model name"),
        **_probabilities(),
    },
    strict=True,
    ordered=True,
    name="research/predictions",
)

PLACEBO_PREDICTIONS = pa.DataFrameSchema(
    {
        **{n: c for n, c in PREDICTIONS.columns.items() if not n.startswith("p_")},
        "placebo_label": C(
            pl.String,
            pa.Check.isin(list(CLASSES)),
            description="The placebo label the models learned",
        ),  # fmt: skip
        **_probabilities(),
    },
    strict=True,
    ordered=True,
    name="research/placebo_predictions",
)
