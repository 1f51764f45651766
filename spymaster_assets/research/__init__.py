"""The research layer's numeric core (SPEC §12): walk-forward folds over trading days,
average-uniqueness weights, baseline models and their evaluation. No Dagster imports: the
assets in defs/research call these functions, and tests call them directly."""
