"""Pandera schemas as Dagster column schemas, so the catalog shows every table's columns."""

import dagster as dg
import pandera.polars as pa


def column_schema(schema: pa.DataFrameSchema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=str(col.dtype),
                description=col.description,
                constraints=dg.TableColumnConstraints(nullable=bool(col.nullable)),
            )
            for name, col in schema.columns.items()
        ]
    )
