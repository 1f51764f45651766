"""The signal chain without Dagster: bars, causal levels, touches, approach, labels, gold rows."""
