"""Research asset checks: the leakage gates of SPEC §12, blocking."""

import dagster as dg

from spymaster_assets.defs.check_helpers import check_spec, schema_spec

FOLDS = dg.AssetKey(["research", "folds"])
TRAINING_TABLE = dg.AssetKey(["research", "training_table"])
PREDICTIONS = dg.AssetKey(["research", "predictions"])
PLACEBO_PREDICTIONS = dg.AssetKey(["research", "placebo_predictions"])
EVALUATION = dg.AssetKey(["research", "evaluation"])

WALK_FORWARD = "walk_forward"
PLACEBO = "placebo"

TABLES = (FOLDS, TRAINING_TABLE, PREDICTIONS, PLACEBO_PREDICTIONS)

CHECKS = [
    *(schema_spec(key, partitioned=False) for key in TABLES),
    check_spec(
        FOLDS,
        WALK_FORWARD,
        "Recomputed from the stored fold table: every training day ends at least EMBARGO_DAYS "
        "sessions before its test block, no day is trained and tested in one fold, no day is "
        "tested twice, every fold trains on at least MIN_TRAIN_DAYS days.",
        blocking=True,
        partitioned=False,
    ),
    check_spec(
        PREDICTIONS,
        WALK_FORWARD,
        "Every stored prediction is of a test day of its fold (by the stored fold table), and "
        "every signal of every test day is predicted by every model once.",
        blocking=True,
        partitioned=False,
    ),
    check_spec(
        EVALUATION,
        PLACEBO,
        "Placebo labels (each day takes another day's labels by rank): every model's D² log "
        "loss interval under the walk-forward folds holds 0 and its point estimate is at most "
        "0.01. The shuffled K-fold on the same labels is reported beside it.",
        blocking=True,
        partitioned=False,
    ),
]
