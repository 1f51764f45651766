"""Pictures of a trading day (matplotlib, no Dagster)."""
