"""docs/ describes exactly the columns the schemas in code declare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spymaster_assets.schemas import bronze, research, silver

DOC = Path(__file__).resolve().parent.parent / "docs" / "data-layout.md"


def documented_columns(asset: str) -> dict[str, str]:
    text = DOC.read_text()
    section = text.split(f"### `{asset}`", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    out = {}
    for match in re.finditer(
        r"^\| `([A-Za-z_0-9]+)`(?: … `([a-z_0-9]+)`)? \| ([\w()]+) \|", section, re.M
    ):
        first, last, dtype = match.groups()
        if last:
            stem = first[:-3]
            lo, hi = int(first[-2:]), int(last[-2:])
            for k in range(lo, hi + 1):
                out[f"{stem}_{k:02d}"] = dtype
        else:
            out[first] = dtype
    return out


@pytest.mark.parametrize(
    "schema",
    [
        bronze.ES_TRADES,
        bronze.ES_MBP10,
        bronze.SPY_OPTION_TRADES,
        silver.OHLCV_1M,
        silver.LEVELS,
        silver.TOUCHES,
        silver.APPROACH_CONTEXT,
        silver.OUTCOME_LABELS,
        silver.OPTION_FLOW,
        silver.BARRIER_PHYSICS,
        silver.TAPE_PHYSICS,
        silver.FUEL_PHYSICS,
        research.FOLDS,
        research.PREDICTIONS,
        research.PLACEBO_PREDICTIONS,
    ],
    ids=lambda s: s.name,
)
def test_tables_are_documented_column_by_column(schema):
    documented = documented_columns(schema.name)
    declared = {name: str(col.dtype) for name, col in schema.columns.items()}
    assert documented == declared


def test_the_training_table_documents_the_columns_it_adds_to_the_features():
    from spymaster_assets.vocabulary import FEATURES

    declared = {n: str(c.dtype) for n, c in research.TRAINING_TABLE.columns.items()}
    added = {n: t for n, t in declared.items() if n not in FEATURES}
    added = {n: t for n, t in added.items() if n not in ("event_id", "date", "info_ts_ns")}
    assert documented_columns("research/training_table") == added
    research_doc = (DOC.parent / "research.md").read_text()
    for feature in FEATURES:
        assert f"`{feature}`" in research_doc, feature


def test_readme_quick_start_is_exactly_the_two_commands():
    readme = (DOC.parent.parent / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_gold_columns_are_documented_with_unit_and_information_time():
    from spymaster_assets.schemas.gold import SIGNALS

    text = (DOC.parent / "gold-columns.md").read_text()
    rows = re.findall(
        r"^\| `([a-z_0-9]+)` \| ([A-Za-z0-9()]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", text, re.M
    )
    documented = {name: dtype for name, dtype, *_ in rows}
    assert documented == {name: str(col.dtype) for name, col in SIGNALS.columns.items()}
    assert [r[0] for r in rows] == list(SIGNALS.columns), "same order as the table"
    for name, _, unit, known_at, meaning in rows:
        assert unit.strip() and known_at.strip() and len(meaning.strip()) > 10, name
