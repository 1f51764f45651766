"""Walk-forward folds over trading days (SPEC §12).

A test block is a run of `test_block_days` consecutive trading days of the data set. Its
training days are every earlier day of the data set that ends at least `embargo_days` NYSE
sessions before the block starts (expanding from the first day); the days in between are the
embargo. The first block starts once `min_train_days` days can train. Labels end by the close,
so a day-grouped split is purged by construction; the embargo guards the features that reach
back across days (SMA_200). Every signal of a day lands in the day's role: signals of one minute
at different levels, which share one price path, never sit on both sides of a split.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spymaster_assets.vocabulary import FOLD_ROLES as ROLES

TRAIN, EMBARGO, TEST = ROLES


@dataclass(frozen=True)
class FoldParams:
    test_block_days: int = 5  # TEST_BLOCK_DAYS
    embargo_days: int = 1  # EMBARGO_DAYS (NYSE sessions)
    min_train_days: int = 10  # MIN_TRAIN_DAYS

    def __post_init__(self) -> None:
        if self.test_block_days < 1 or self.embargo_days < 0 or self.min_train_days < 1:
            raise ValueError(f"fold parameters out of range: {self}")


@dataclass(frozen=True)
class Fold:
    number: int
    train: tuple[dt.date, ...]
    embargo: tuple[dt.date, ...]
    test: tuple[dt.date, ...]

    def roles(self) -> list[tuple[dt.date, str]]:
        return (
            [(d, TRAIN) for d in self.train]
            + [(d, EMBARGO) for d in self.embargo]
            + [(d, TEST) for d in self.test]
        )


def session_ordinal() -> Callable[[dt.date], int]:
    """Position of a date among the NYSE sessions of the calendar horizon."""
    from spymaster_assets.market.trading_calendar import trading_days

    index = {d: i for i, d in enumerate(trading_days())}

    def ordinal(day: dt.date) -> int:
        if day not in index:
            raise ValueError(f"{day} is not an NYSE trading day of the calendar horizon")
        return index[day]

    return ordinal


def walk_forward(
    days: Sequence[dt.date],
    params: FoldParams = FoldParams(),
    ordinal: Callable[[dt.date], int] | None = None,
) -> list[Fold]:
    """The folds over the data set's trading days (any order, repeats ignored). `ordinal` maps a
    day to its session number (default: the NYSE calendar), so the embargo counts sessions even
    where the data set has gaps. No fold when too few days can train."""
    ordinal = ordinal or session_ordinal()
    ordered = sorted(set(days))
    numbers = [ordinal(d) for d in ordered]
    folds: list[Fold] = []
    start = 0
    while start < len(ordered):
        first = numbers[start]
        train = tuple(
            d for d, n in zip(ordered, numbers, strict=True) if n < first - params.embargo_days
        )
        if len(train) >= params.min_train_days:
            break
        start += 1
    while start < len(ordered):
        block = ordered[start : start + params.test_block_days]
        first = numbers[start]
        train = tuple(
            d for d, n in zip(ordered, numbers, strict=True) if n < first - params.embargo_days
        )
        embargo = tuple(
            d
            for d, n in zip(ordered, numbers, strict=True)
            if first - params.embargo_days <= n < first
        )
        folds.append(Fold(len(folds), train, embargo, tuple(block)))
        start += params.test_block_days
    return folds


def fold_rows(folds: Sequence[Fold]) -> dict[str, list]:
    """The fold table's columns: one row per (fold, day) with the day's role in that fold."""
    rows: dict[str, list] = {"fold": [], "date": [], "role": []}
    for fold in folds:
        for day, role in fold.roles():
            rows["fold"].append(fold.number)
            rows["date"].append(day)
            rows["role"].append(role)
    return rows


def leaks(
    folds: Sequence[Fold], params: FoldParams, ordinal: Callable[[dt.date], int]
) -> list[str]:
    """Every way the folds break the walk-forward rules (empty when they hold): a training day
    not at least `embargo_days` sessions before its test block, a day both trained and tested,
    a test day in two folds, fewer than `min_train_days` training days."""
    problems = []
    tested: dict[dt.date, int] = {}
    for fold in folds:
        if not fold.test:
            problems.append(f"fold {fold.number}: no test day")
            continue
        first = min(ordinal(d) for d in fold.test)
        if len(fold.train) < params.min_train_days:
            problems.append(
                f"fold {fold.number}: {len(fold.train)} training days < {params.min_train_days}"
            )
        for day in fold.train:
            if ordinal(day) >= first - params.embargo_days:
                problems.append(
                    f"fold {fold.number}: trains on {day}, within {params.embargo_days} "
                    f"sessions of its test block starting {min(fold.test)}"
                )
        both = set(fold.train) & set(fold.test)
        if both:
            problems.append(f"fold {fold.number}: trains and tests {sorted(both)}")
        for day in fold.test:
            if day in tested:
                problems.append(f"{day} is tested in folds {tested[day]} and {fold.number}")
            tested[day] = fold.number
    return problems
