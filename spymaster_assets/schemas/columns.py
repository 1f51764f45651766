"""Helpers shared by the schema modules."""

from __future__ import annotations

import pandera.errors
import pandera.polars as pa
import polars as pl


def dtypes(schema: pa.DataFrameSchema) -> dict[str, pl.DataType]:
    """Column name -> polars dtype, in schema order (the single source of a table's shape)."""
    return {name: col.dtype.type for name, col in schema.columns.items()}


def empty_frame(schema: pa.DataFrameSchema) -> pl.DataFrame:
    """A zero-row frame with exactly the schema's columns and dtypes."""
    return pl.DataFrame(schema=dtypes(schema))


def schema_errors(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[str]:
    """Every schema violation of a collected frame, one line each (empty when valid)."""
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        lines = [
            f"{row.get('column')}: {row.get('check')} failed (e.g. {row.get('failure_case')})"
            for row in exc.failure_cases.head(20).iter_rows(named=True)
        ]
        return list(dict.fromkeys(lines)) or [str(exc)[:500]]
    except pandera.errors.SchemaError as exc:
        return [str(exc)[:500]]
    return []
