"""Root of the code location: everything under `defs/` is loaded by Dagster's defs folder loader."""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent)
