"""Pandera (polars) schemas of every stored table. No Dagster imports here."""
