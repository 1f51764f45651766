"""Deterministic sample market generator writing the vendors' own file formats."""
