"""The benchmark's targets, its markdown table and where both are written."""

from __future__ import annotations

import json
from pathlib import Path

GIB = 2**30
RSS_LIMIT = 1.5 * GIB
FLOOR_MULTIPLE = 3.0
DAGSTER_OVERHEAD_S = 20.0
NAIVE_SPEEDUP = 10.0
SCALING_LIMIT = 2.3  # 2x the volume costs at most this much more time


def _target(name: str, goal: str, value: str, met: bool | None) -> dict:
    return {"target": name, "goal": goal, "value": value, "met": met}


def evaluate_targets(report: dict) -> list[dict]:
    one = report["chains"]["1x"]
    chain = one["chain_seconds"]
    floor = report["floor"]["seconds"]
    peak = one["child_peak_rss_bytes"]
    targets = [
        _target(
            "whole per-day chain, warm process",
            f"<= {FLOOR_MULTIPLE:g}x the decompression floor",
            f"{chain:.2f}s = {chain / floor:.2f}x the floor ({floor:.2f}s)",
            chain <= FLOOR_MULTIPLE * floor,
        ),
        _target(
            "peak RSS of that process",
            f"<= {RSS_LIMIT / GIB:g} GiB",
            f"{peak / GIB:.2f} GiB",
            peak <= RSS_LIMIT,
        ),
    ]
    dagster = report.get("dagster_path")
    targets.append(
        _target(
            "Dagster path for one partition",
            f"<= chain + {DAGSTER_OVERHEAD_S:g}s",
            f"{dagster['seconds']:.1f}s (chain + {dagster['seconds'] - chain:.1f}s)"
            if dagster
            else "not run",
            dagster["seconds"] <= chain + DAGSTER_OVERHEAD_S if dagster else None,
        )
    )
    naive = report.get("naive")
    targets.append(
        _target(
            "speed-up over the naive DBNStore.to_df()",
            f">= {NAIVE_SPEEDUP:g}x",
            f"{naive['seconds'] / chain:.1f}x ({naive['seconds']:.1f}s)" if naive else "not run",
            naive["seconds"] / chain >= NAIVE_SPEEDUP if naive else None,
        )
    )
    two = report["chains"].get("2x")
    targets.append(
        _target(
            "cost grows linearly with volume",
            f"2x volume <= {SCALING_LIMIT:g}x time",
            f"{two['chain_seconds'] / chain:.2f}x" if two else "not run",
            two["chain_seconds"] / chain <= SCALING_LIMIT if two else None,
        )
    )
    return targets


def _gib(n: int) -> str:
    return f"{n / GIB:.2f}"


def _met(flag: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not run"}[flag]


def where_the_time_goes(report: dict) -> list[str]:
    """A few sentences computed from the run: what the chain spends beyond the floor."""
    floor = report["floor"]
    mbp = floor["files"]["mbp-10"]
    one = report["chains"]["1x"]
    steps = {a["asset"]: a["seconds"] for a in one["assets"]}
    bronze = sum(v for k, v in steps.items() if k.startswith("bronze/"))
    chain = one["chain_seconds"]
    others = sorted(
        ((v, k) for k, v in steps.items() if not k.startswith("bronze/")), reverse=True
    )[:3]
    bookkeeping = chain - sum(steps.values())
    ratio = mbp["decoded_bytes"] / mbp["bytes"]
    return [
        f"- The generated MBP-10 file compresses {ratio:.0f}:1. Such regular data decompresses "
        f"fast: this floor ({floor['seconds']:.2f}s) is below the 1 to 2.5 s a real day's file "
        "takes, so the floor ratio above is stricter here than on real files.",
        f"- The three bronze assets (decode, contract and F_LAST filtering, book checks on the raw "
        f"integers, parquet) take {bronze:.2f}s of the {chain:.2f}s, "
        f"{bronze / floor['seconds']:.1f}x the floor on its own: decompression runs at the "
        "floor, the rest is gathering the kept rows into columns and encoding parquet.",
        "- The slowest later assets: "
        + ", ".join(f"{k} {v:.2f}s" for v, k in others)
        + f". Dagster's own work between steps (events, check results, partition lookups) is "
        f"the remaining {max(bookkeeping, 0):.2f}s, and every step pays a few tens of "
        "milliseconds of it as well.",
    ]


def markdown(report: dict) -> str:
    m = report["machine"]
    floor = report["floor"]
    one = report["chains"]["1x"]
    mbp = floor["files"]["mbp-10"]
    trades = floor["files"]["trades"]
    lines = [
        "# Performance",
        "",
        f"Measured by `make bench` (`spymaster bench`) on {report['created']}: "
        f"{m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}. "
        f"The `{report['profile']}` sample day {report['day']}: MBP-10 file "
        f"{mbp['bytes'] / 1e6:.0f} MB ({mbp['decoded_bytes'] / 1e9:.2f} GB decoded), trades file "
        f"{trades['bytes'] / 1e6:.1f} MB. Every figure below comes from this one run; the "
        "targets are ratios between them.",
        "",
        "## Targets",
        "",
        "| target | goal | this run | |",
        "|---|---|---|---|",
    ]
    for t in report["targets"]:
        lines.append(f"| {t['target']} | {t['goal']} | {t['value']} | {_met(t['met'])} |")
    lines += ["", "## Reading these numbers", "", *where_the_time_goes(report)]
    lines += [
        "",
        "## The decompression floor",
        "",
        f"Decompressing the raw files to nothing with the {floor['tool']} (best of "
        f"{len(mbp['runs'])}): MBP-10 {mbp['seconds']:.2f}s, trades {trades['seconds']:.2f}s, "
        f"together **{floor['seconds']:.2f}s**.",
        "",
        "## The per-day chain at 1x (warm process)",
        "",
        f"Every daily asset of one partition in one process whose imports, compiled kernels and "
        f"thread pools were loaded by a small warm-up day first "
        f"({one['warmup_seconds']:.1f}s, not counted). Records: read from the raw file for "
        "bronze, written otherwise. RSS: the highest sample (every 5 ms) during the step.",
        "",
        "| asset | seconds | records | records/s | peak RSS GiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for a in one["assets"]:
        records = f"{a['records']:,}" if a["records"] is not None else ""
        rate = f"{a['records_per_s']:,}" if a["records_per_s"] else ""
        lines.append(
            f"| {a['asset']} | {a['seconds']:.2f} | {records} | {rate} | "
            f"{_gib(a['peak_rss_bytes'])} |"
        )
    lines += [
        f"| **whole chain** | **{one['chain_seconds']:.2f}** | | | "
        f"**{_gib(one['child_peak_rss_bytes'])}** (process peak) |",
        "",
        "## Cost against volume",
        "",
        "| volume | MBP-10 records | chain seconds | vs 1x | process peak RSS GiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, chain in report["chains"].items():
        mbp_records = next(
            (a["records"] for a in chain["assets"] if a["asset"] == "bronze/es_mbp10"), None
        )
        lines.append(
            f"| {label} | {mbp_records:,} | {chain['chain_seconds']:.2f} | "
            f"{chain['chain_seconds'] / one['chain_seconds']:.2f} | "
            f"{_gib(chain['child_peak_rss_bytes'])} |"
        )
    dagster, naive = report.get("dagster_path"), report.get("naive")
    lines += ["", "## Other paths", ""]
    if dagster:
        lines.append(
            f"- The Dagster path, `spymaster materialize --date {report['day']}` in a fresh "
            f"process (imports, definitions, the instance, every daily asset and the combined "
            f"one): **{dagster['seconds']:.1f}s** wall."
        )
    if naive:
        lines.append(
            f"- The naive baseline, `DBNStore.from_file(mbp10).to_df()`: "
            f"**{naive['seconds']:.1f}s** and {_gib(naive['peak_rss_bytes'])} GiB peak RSS for "
            f"{naive['rows']:,} rows (all instruments, every record, nothing else done)."
        )
    lines += [
        "",
        "Re-run with `make bench` (the sample days are generated once under "
        "`data/bench/` and reused); `spymaster bench --help` lists the options. Reports land in "
        "`bench/results/` as JSON and markdown.",
        "",
    ]
    return "\n".join(lines)


def write_report(report: dict, results_dir: Path, docs_path: Path | None) -> list[Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = report["created"].replace(":", "").replace("-", "").replace("+0000", "Z")
    text = markdown(report)
    paths = [results_dir / f"bench-{stamp}.json", results_dir / f"bench-{stamp}.md"]
    paths[0].write_text(json.dumps(report, indent=2) + "\n")
    paths[1].write_text(text)
    if docs_path is not None:
        docs_path.parent.mkdir(parents=True, exist_ok=True)
        docs_path.write_text(text)
        paths.append(docs_path)
    return paths
