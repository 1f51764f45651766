"""Loading the code location stays light: every Dagster process (webserver, daemon, each run)
loads it, and the heavy libraries load only inside the steps that need them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from spymaster_assets.defs.load_cache import LoadCache

REPO = Path(__file__).resolve().parent.parent
# Plotting, validation, the kernels' compiler, the calendar and the vendor client.
HEAVY = ("matplotlib", "pandera", "numba", "exchange_calendars", "databento", "polars", "pyarrow")
LOAD = (
    "import sys; from spymaster_assets.definitions import defs; "
    "defs.get_repository_def().get_all_jobs(); "
    "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
)


def load_in_a_new_process(cache_dir: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "SPYMASTER_CACHE_DIR": str(cache_dir)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(done.stdout.split())


def test_loading_the_definitions_imports_no_plotting_validation_or_kernels(tmp_path):
    first = load_in_a_new_process(tmp_path)  # computes and saves the load cache
    (cache_file,) = (tmp_path / "definitions").glob("*.json")
    cached = json.loads(cache_file.read_text())
    assert {"code_versions", "column_schemas", "xnys_calendar"} <= set(cached)
    assert "pandera" in first, "a cold cache computes the column schemas with pandera"

    modules = load_in_a_new_process(tmp_path)
    assert "dagster" in modules
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_the_cache_is_named_by_the_source_and_a_damaged_file_is_recomputed(tmp_path):
    path = tmp_path / "abc.json"
    path.write_text("{not json")
    cache = LoadCache(path)
    assert cache.get("answer", lambda: {"n": 42}) == {"n": 42}
    cache.save()
    assert json.loads(path.read_text()) == {"answer": {"n": 42}}
    assert LoadCache(path).get("answer", lambda: {"n": 0}) == {"n": 42}, "read back, not recomputed"
