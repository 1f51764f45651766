"""The research report: a markdown summary of metrics.json and PNG pictures (reliability per
class, grouped importance), rendered with matplotlib's Agg backend to bytes."""

from __future__ import annotations

import io

import numpy as np
import polars as pl

from spymaster_assets.research.features import CLASSES
from spymaster_assets.research.models import MODELS

RELIABILITY_BINS = 10
PLACEBO_MAX_D2 = 0.01  # the placebo gate: no model may claim more skill than this
# A model with no skill is shrunk to the base rate but not exactly onto it: its D² sits a few
# hundred-thousandths below 0 on every bootstrap draw. The interval must reach 0 within this.
PLACEBO_TOLERANCE = 0.001


def _f(value, digits: int = 4) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _signed(value) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:+.4f}"


def headline_rows(metrics: dict) -> list[tuple[str, str, str, str]]:
    """(model, log loss, D² with its interval, AUC) of every model: the CLI's table."""
    rows = []
    for name in MODELS:
        mm = metrics.get(name)
        if not mm:
            continue
        d2 = (
            f"{_signed(mm['d2_log_loss'])} [{_signed(mm['d2_log_loss_low'])}, "
            f"{_signed(mm['d2_log_loss_high'])}]"
        )
        rows.append((name, _f(mm["log_loss"]), d2, _f(mm["auc_ovr"], 3)))
    return rows


def placebo_failures(metrics: dict) -> list[str]:
    """The placebo gate: under the walk-forward folds, every model's D² log loss interval on
    placebo labels holds 0 (within PLACEBO_TOLERANCE) and its point estimate is at most
    PLACEBO_MAX_D2."""
    problems = []
    for name, mm in metrics.get("placebo", {}).items():
        d2, lo, hi = mm["d2_log_loss"], mm["d2_log_loss_low"], mm["d2_log_loss_high"]
        if not (lo - PLACEBO_TOLERANCE <= 0.0 <= hi + PLACEBO_TOLERANCE):
            problems.append(
                f"{name}: D² log loss on placebo labels {d2:+.4f}, interval "
                f"[{lo:+.4f}, {hi:+.4f}] does not hold 0 (±{PLACEBO_TOLERANCE})"
            )
        if d2 > PLACEBO_MAX_D2:
            problems.append(f"{name}: D² log loss on placebo labels {d2:+.4f} > {PLACEBO_MAX_D2}")
    return problems


def markdown(metrics: dict, fold_table: pl.DataFrame, pictures: list[str]) -> str:
    target = metrics["target"]
    folds = fold_table["fold"].n_unique() if fold_table.height else 0
    tested = fold_table.filter(pl.col("role") == "test")
    lines = [
        f"# Research report: `{target}`",
        "",
        f"Walk-forward over trading days: {folds} folds, {tested.height} test days "
        f"({_first_last(tested)}). Every test day is predicted by models fitted only on "
        "earlier days outside the embargo (`folds.parquet`). Intervals: 95 %, bootstrap over "
        "test days.",
        "",
        "## Models on the target",
        "",
        "| model | log loss | D² log loss [95 %] | Brier skill | AUC (one-vs-rest) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in MODELS:
        mm = metrics.get(name)
        if mm:
            lines.append(
                f"| {name} | {_f(mm['log_loss'])} | {_signed(mm['d2_log_loss'])} "
                f"[{_signed(mm['d2_log_loss_low'])}, {_signed(mm['d2_log_loss_high'])}] | "
                f"{_signed(mm['brier_skill'])} | {_f(mm['auc_ovr'], 3)} |"
            )
    trees = metrics.get("gradient_boosting", {})
    if "physics_gain" in trees:
        lines += [
            "",
            f"**Physics gain** (log loss of the trees without barrier, tape and fuel minus with "
            f"them, paired by signal): {_signed(trees['physics_gain'])} "
            f"[{_signed(trees['physics_gain_low'])}, {_signed(trees['physics_gain_high'])}].",
        ]
    importance = metrics.get("importance") or {}
    if importance:
        ranked = sorted(importance.items(), key=lambda kv: -kv[1])
        lines += [
            "",
            "**Grouped permutation importance** of the trees on test days (log-loss increase "
            "when the group is shuffled): " + ", ".join(f"{g} {v:+.4f}" for g, v in ranked) + ".",
        ]
    lines += [
        "",
        "## Precision in the top of each class's probability",
        "",
        "| model | " + " | ".join(f"{c} top 10 % / 20 % (base)" for c in CLASSES) + " |",
        "|---|" + "---:|" * len(CLASSES),
    ]
    for name in MODELS:
        mm = metrics.get(name)
        if mm:
            cells = [
                f"{_f(mm[f'precision_top10_{c}'], 3)} / {_f(mm[f'precision_top20_{c}'], 3)} "
                f"({_f(mm[f'base_rate_{c}'], 3)})"
                for c in CLASSES
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Leakage gate: placebo labels",
        "",
        "Every signal of a day takes the label of the signal at the same rank of another day: "
        "no feature can know it. Under the walk-forward folds every model must show no skill "
        f"(interval holding 0 within ±{PLACEBO_TOLERANCE}, point at most {PLACEBO_MAX_D2}); a "
        "shuffled K-fold over rows on "
        "the same labels shows what a leaky split would claim.",
        "",
        "| model | walk-forward D² [95 %] | shuffled K-fold D² [95 %] |",
        "|---|---:|---:|",
    ]
    leaky = metrics.get("placebo_shuffled_kfold", {})
    for name in MODELS:
        mm, kk = metrics.get("placebo", {}).get(name), leaky.get(name)
        if mm:
            shuffled = (
                f"{_signed(kk['d2_log_loss'])} [{_signed(kk['d2_log_loss_low'])}, "
                f"{_signed(kk['d2_log_loss_high'])}]"
                if kk
                else "n/a"
            )
            lines.append(
                f"| {name} | {_signed(mm['d2_log_loss'])} [{_signed(mm['d2_log_loss_low'])}, "
                f"{_signed(mm['d2_log_loss_high'])}] | {shuffled} |"
            )
    failures = placebo_failures(metrics)
    lines += ["", "Gate: " + ("passed." if not failures else "**failed**: " + "; ".join(failures))]
    lines += ["", "## Per fold", "", "| fold | test days | model | log loss | D² log loss |"]
    lines.append("|---:|---|---|---:|---:|")
    for name in MODELS:
        for fold, fm in (metrics.get(name, {}).get("folds") or {}).items():
            days = tested.filter(pl.col("fold") == int(fold))
            lines.append(
                f"| {fold} | {_first_last(days)} | {name} | {_f(fm['log_loss'])} | "
                f"{_signed(fm['d2_log_loss'])} |"
            )
    if pictures:
        lines += ["", "## Pictures", ""] + [f"![{p}]({p})" for p in pictures]
    return "\n".join(lines) + "\n"


def _first_last(days: pl.DataFrame) -> str:
    if not days.height:
        return "none"
    return f"{days['date'].min()} to {days['date'].max()}"


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None},
                pil_kwargs={"compress_level": 1})  # fmt: skip
    plt.close(fig)
    return buf.getvalue()


def reliability_png(predictions: pl.DataFrame, labels: pl.DataFrame, klass: str) -> bytes:
    """Observed frequency of `klass` against its predicted probability (10 equal-width bins),
    one line per model: a calibrated model lies on the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    joined = predictions.join(labels, on="event_id", how="inner")
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls="--")
    for name in MODELS:
        mine = joined.filter(pl.col("model") == name)
        if not mine.height:
            continue
        p = mine[f"p_{klass}"].to_numpy()
        hit = (mine["target"] == klass).to_numpy().astype(float)
        bins = np.minimum((p * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
        count = np.bincount(bins, minlength=RELIABILITY_BINS)
        seen = count > 0
        mean_p = np.bincount(bins, p, RELIABILITY_BINS)[seen] / count[seen]
        freq = np.bincount(bins, hit, RELIABILITY_BINS)[seen] / count[seen]
        ax.plot(mean_p, freq, marker="o", ms=3, lw=1, label=name)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel=f"predicted P({klass})",
           ylabel=f"observed share of {klass}", title=f"Reliability: {klass} (test days)")  # fmt: skip
    ax.legend(fontsize=7, loc="upper left")
    fig.subplots_adjust(left=0.13, right=0.97, top=0.92, bottom=0.11)
    return _png(fig)


def importance_png(importance: dict[str, float]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted(importance.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.barh([g for g, _ in ranked], [v for _, v in ranked], color="#1f77b4")
    ax.axvline(0, color="black", lw=0.6)
    ax.set(xlabel="log-loss increase when shuffled", title="Grouped permutation importance")
    fig.subplots_adjust(left=0.2, right=0.97, top=0.88, bottom=0.17)
    return _png(fig)
