"""Pandera schemas as Dagster column schemas, so the catalog shows every table's columns.

Read from the load cache: the definitions load without importing pandera.
"""

import dagster as dg

from spymaster_assets.defs.load_cache import load_cache


def _tables() -> dict[str, list]:
    import pandera.polars as pa

    from spymaster_assets.schemas import bronze, gold, research, silver

    out = {}
    for module in (bronze, silver, gold, research):
        for schema in vars(module).values():
            if isinstance(schema, pa.DataFrameSchema) and schema.name:
                out[schema.name] = [
                    [name, str(col.dtype), col.description, bool(col.nullable)]
                    for name, col in schema.columns.items()
                ]
    return out


def column_schema(table: str) -> dg.TableSchema:
    """The columns of the table named `table` (the pandera schema's name, e.g. silver/levels)."""
    columns = load_cache().get("column_schemas", _tables)[table]
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=dtype,
                description=description,
                constraints=dg.TableColumnConstraints(nullable=nullable),
            )
            for name, dtype, description, nullable in columns
        ]
    )
