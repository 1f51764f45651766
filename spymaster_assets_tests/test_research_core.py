"""The research layer's numeric core against plain-Python references and known answers
(SPEC §12): uniqueness weights, walk-forward folds, placebo labels, metrics, models, and the
whole evaluation on small synthetic worlds where the truth is known."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spymaster_assets.market.trading_calendar import trading_days
from spymaster_assets.research import metrics as m
from spymaster_assets.research.features import CLASSES, FEATURES
from spymaster_assets.research.folds import (
    EMBARGO,
    TEST,
    TRAIN,
    Fold,
    FoldParams,
    fold_rows,
    leaks,
    session_ordinal,
    walk_forward,
)
from spymaster_assets.research.models import BaseRate, ConditionalBaseRate
from spymaster_assets.research.pipeline import ResearchParams, run_research
from spymaster_assets.research.placebo import derangement, placebo_labels
from spymaster_assets.research.report import placebo_failures
from spymaster_assets.research.weights import average_uniqueness

SESSIONS = trading_days(dt.date(2025, 1, 2), dt.date(2025, 12, 31))


def uniqueness_reference(starts, ends) -> list[float]:
    """Plain Python: walk every elementary segment between window edges, count the windows
    covering it, and average 1/count over each window's own segments by length."""
    edges = sorted(set(starts) | set(ends))
    out = []
    for s, e in zip(starts, ends, strict=True):
        if e == s:
            holding = sum(1 for a, b in zip(starts, ends, strict=True) if a <= s <= b)
            out.append(1.0 / holding)
            continue
        total = 0.0
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            if lo >= s and hi <= e:
                count = sum(1 for a, b in zip(starts, ends, strict=True) if a <= lo and hi <= b)
                total += (hi - lo) / count
        out.append(total / (e - s))
    return out


windows = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), min_size=1, max_size=25).map(
    lambda pairs: ([a for a, _ in pairs], [a + b for a, b in pairs])
)


@given(windows)
@settings(max_examples=200, deadline=None)
def test_average_uniqueness_matches_the_plain_python_reference(pair):
    starts, ends = pair
    got = average_uniqueness(np.array(starts), np.array(ends))
    assert np.allclose(got, uniqueness_reference(starts, ends))
    assert np.all((got > 0) & (got <= 1))


def test_signals_sharing_one_window_count_as_one():
    got = average_uniqueness(np.array([0, 0, 0, 100]), np.array([50, 50, 50, 150]))
    assert np.allclose(got, [1 / 3, 1 / 3, 1 / 3, 1.0])
    with pytest.raises(ValueError):
        average_uniqueness(np.array([5]), np.array([4]))


day_sets = st.lists(st.sampled_from(SESSIONS), min_size=1, max_size=60, unique=True)
fold_params = st.builds(FoldParams, st.integers(1, 7), st.integers(0, 3), st.integers(1, 12))


@given(day_sets, fold_params)
@settings(max_examples=150, deadline=None)
def test_walk_forward_folds_never_train_on_or_near_what_they_test(days, params):
    ordinal = session_ordinal()
    folds = walk_forward(days, params, ordinal)
    assert leaks(folds, params, ordinal) == []
    ordered = sorted(days)
    tested = [d for f in folds for d in f.test]
    # every day from the first test day on is tested exactly once, in date order
    assert tested == ordered[len(ordered) - len(tested) :]
    for fold in folds:
        first = ordinal(fold.test[0])
        assert all(ordinal(d) < first - params.embargo_days for d in fold.train)
        assert all(first - params.embargo_days <= ordinal(d) < first for d in fold.embargo)
        # expanding: every earlier day is either trained on or embargoed
        assert set(fold.train) | set(fold.embargo) == {d for d in ordered if d < fold.test[0]}
        assert len(fold.test) <= params.test_block_days
    if folds:  # the first block starts as soon as MIN_TRAIN_DAYS can train
        earlier = [d for d in ordered if d < folds[0].test[0]]
        before = walk_forward(earlier, params, ordinal)
        assert before == [] and len(folds[0].train) >= params.min_train_days


def test_the_embargo_counts_sessions_not_rows_of_the_data_set():
    ordinal = session_ordinal()
    # a data set with a gap: the day before the gap is more than one session before the block
    days = SESSIONS[:10] + SESSIONS[12:14]
    folds = walk_forward(days, FoldParams(test_block_days=2, embargo_days=1, min_train_days=10),
                         ordinal)  # fmt: skip
    assert [f.test for f in folds] == [tuple(SESSIONS[12:14])]
    assert folds[0].train == tuple(SESSIONS[:10]) and folds[0].embargo == ()
    rows = fold_rows(folds)
    assert rows["role"].count(TRAIN) == 10 and rows["role"].count(TEST) == 2
    assert EMBARGO not in rows["role"]


def test_leaks_names_a_fold_that_trains_inside_the_embargo():
    ordinal = session_ordinal()
    params = FoldParams(test_block_days=1, embargo_days=1, min_train_days=2)
    bad = Fold(0, (SESSIONS[0], SESSIONS[1], SESSIONS[2]), (), (SESSIONS[3],))
    problems = leaks([bad], params, ordinal)
    assert problems and f"trains on {SESSIONS[2]}" in problems[0]
    twice = [Fold(0, SESSIONS[:2], (), (SESSIONS[4],)), Fold(1, SESSIONS[:3], (), (SESSIONS[4],))]
    assert any("tested in folds 0 and 1" in p for p in leaks(twice, params, ordinal))


@given(st.integers(2, 40), st.integers(0, 1000))
def test_the_day_derangement_moves_every_day(n, seed):
    perm = derangement(n, seed)
    assert sorted(perm) == list(range(n)) and np.all(perm != np.arange(n))


def test_placebo_labels_are_another_days_labels_in_a_run_of_ranks():
    days = np.repeat(np.array(SESSIONS[:4], dtype="datetime64[D]"), [5, 5, 3, 5])
    labels = np.arange(18)  # each label names its row
    placebo = placebo_labels(days, labels, seed=3)
    assert np.array_equal(placebo, placebo_labels(days, labels, seed=3))  # fixed
    unique, index = np.unique(days, return_inverse=True)
    for d in range(len(unique)):
        got = placebo[index == d]
        donors = {int(np.flatnonzero(index == k)[0]) for k in range(len(unique)) if k != d}
        donor = next(k for k in range(len(unique))
                     if np.isin(got, np.flatnonzero(index == k)).all())  # fmt: skip
        assert donor != d and int(np.flatnonzero(index == donor)[0]) in donors
        rows = np.flatnonzero(index == donor)
        # consecutive ranks of the donor, cyclically: neighbours keep neighbouring labels
        steps = np.diff(np.searchsorted(rows, got)) % len(rows)
        assert np.all(steps == 1)


def test_metrics_score_the_reference_zero_and_a_perfect_model_near_one():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    days = np.repeat(np.array(SESSIONS[:12], dtype="datetime64[D]"), 50)
    base = np.tile(np.bincount(y, minlength=3) / len(y), (len(y), 1))
    perfect = np.full((len(y), 3), 1e-6)
    perfect[np.arange(len(y)), y] = 1 - 2e-6
    out = m.evaluate({"base_rate": base, "perfect": perfect}, y, days, CLASSES, draws=200)
    assert out["base_rate"]["d2_log_loss"] == 0 == out["base_rate"]["brier_skill"]
    assert out["perfect"]["d2_log_loss"] > 0.99 and out["perfect"]["auc_ovr"] == 1.0
    lo, hi = out["perfect"]["d2_log_loss_low"], out["perfect"]["d2_log_loss_high"]
    assert lo <= out["perfect"]["d2_log_loss"] <= hi
    for c in CLASSES:
        assert out["perfect"][f"precision_top10_{c}"] == 1.0
    gain = m.paired_gain(perfect, base, y, days, draws=200)
    assert gain["gain"] > 0 and gain["low"] > 0


def test_base_rates_shrink_rare_groups_toward_the_overall_mix():
    X = np.array([[0, 0, 0]] * 90 + [[1, 0, 0]] * 10, float)
    y = np.array([2] * 90 + [1] * 10)
    base = BaseRate().fit(X, y)
    assert np.allclose(base.prior_, (np.bincount(y, minlength=3) + 1) / 103)
    cond = ConditionalBaseRate(prior_strength=10).fit(X, y)
    rare = cond.predict_proba(np.array([[1, 0, 0]]))[0]
    assert rare[1] == pytest.approx((10 + 10 * base.prior_[1]) / 20)
    unseen = cond.predict_proba(np.array([[5, 1, 0]]))[0]
    assert np.allclose(unseen, base.prior_)


def synthetic_world(planted: bool, days: int = 22, seed: int = 1) -> pl.DataFrame:
    """Gold-shaped signals: each minute's signals share one price path (one label, like levels
    touched together) and the minute's market (spot, the day's drifting gamma and depth); in
    the planted world the label follows the barrier and tape columns, in the null world those
    columns are drawn the same way but say nothing."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in SESSIONS[:days]:
        open_ns = int(dt.datetime.combine(day, dt.time(14, 30), dt.UTC).timestamp()) * 10**9
        spot = 600 + 20 * rng.normal()
        gamma, depth, regime = rng.normal(), rng.uniform(20, 200), 0.0
        for minute in np.sort(rng.choice(380, 100, replace=False)):
            spot += 0.3 * rng.normal()
            gamma += 0.05 * rng.normal()
            # how lively the tape is: persistent, so neighbouring signals share their labels
            regime = 0.95 * regime + 0.4 * rng.normal()
            liquidity, flow = rng.normal(), rng.uniform(-1, 1)
            market = {c: float(rng.normal()) for c in FEATURES}  # what the minute's books show
            score = (1.8 * liquidity + 1.2 * flow) if planted else 0.0
            p = np.array([np.exp(-score), np.exp(score), 2.5 * np.exp(-1.5 * regime)])
            label = ("BOUNCE", "BREAK", "CHOP")[rng.choice(3, p=p / p.sum())]
            for k in range(int(rng.integers(1, 4))):
                row = {c: v + 0.1 * float(rng.normal()) for c, v in market.items()}
                row.update(
                    event_id=f"{day}-{minute}-{k}", date=day,
                    info_ts_ns=open_ns + (int(minute) + 1) * 60 * 10**9,
                    level_kind=int(rng.integers(0, 12)), direction=("UP", "DOWN")[k % 2],
                    level_price=round(spot + k * 0.5, 2), spot=spot, gamma_exposure=gamma,
                    gamma_share=gamma / 3, zone_baseline=depth, barrier_state="NEUTRAL",
                    fuel_effect="NEUTRAL", sweep_detected=False, is_first_15m=bool(minute < 15),
                    bars_since_open=int(minute), barrier_delta_liq=liquidity,
                    tape_imbalance=flow, outcome=label,
                )  # fmt: skip
                rows.append(row)
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def worlds():
    params = ResearchParams(bootstrap_draws=300)
    return {w: run_research(synthetic_world(w == "planted"), params) for w in ("planted", "null")}


def test_the_physics_gain_is_found_where_it_was_planted_and_nowhere_else(worlds):
    planted = worlds["planted"].metrics["gradient_boosting"]
    null = worlds["null"].metrics["gradient_boosting"]
    assert planted["physics_gain_low"] > 0, planted["physics_gain"]
    assert null["physics_gain_low"] <= 0 <= null["physics_gain_high"], null["physics_gain"]
    ranked = sorted(worlds["planted"].importance.items(), key=lambda kv: -kv[1])
    assert ranked[0][0] in ("barrier", "tape"), ranked


def test_placebo_labels_show_no_skill_walking_forward_but_a_shuffled_kfold_invents_some(worlds):
    for world in worlds.values():
        assert placebo_failures(world.metrics) == []
        for name, mm in world.metrics["placebo"].items():
            assert abs(mm["d2_log_loss"]) < 0.005, (name, mm)
    leaky = worlds["null"].metrics["placebo_shuffled_kfold"]["gradient_boosting"]
    honest = worlds["null"].metrics["placebo"]["gradient_boosting"]
    assert leaky["d2_log_loss"] > honest["d2_log_loss_high"], (leaky, honest)


def test_predictions_cover_every_test_signal_once_per_model_from_earlier_days(worlds):
    result = worlds["planted"]
    tests = result.fold_table.filter(pl.col("role") == TEST)
    expected = result.training_table.join(tests.select("date"), on="date").height
    for model, mine in result.predictions.group_by("model"):
        assert mine.height == expected and mine["event_id"].n_unique() == expected, model
        total = mine.select(pl.sum_horizontal(f"p_{c}" for c in CLASSES)).to_series()
        assert np.allclose(total.to_numpy(), 1.0)
    joined = result.predictions.join(tests, on=["fold", "date"], how="anti")
    assert joined.height == 0


def test_the_evaluation_is_deterministic_with_folds_in_parallel_or_not():
    params = ResearchParams(bootstrap_draws=100, folds=FoldParams(1, 1, 8),
                            models=("base_rate", "gradient_boosting"))  # fmt: skip
    world = synthetic_world(True, days=11, seed=5)
    first = run_research(world, params)
    again = run_research(world, replace(params, n_jobs=2))
    assert len(first.folds) == 2
    assert again.predictions.equals(first.predictions)
    assert again.placebo_predictions.equals(first.placebo_predictions)
    assert again.metrics == first.metrics
