"""Code versions follow the code each asset runs, so the UI marks partitions stale after a change."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from spymaster_assets.definitions import CODE_SERVICES, asset_functions, defs
from spymaster_assets.defs import code_versions
from spymaster_assets.settings import SpymasterConfig
from spymaster_assets.signals import labels


def versions() -> dict[str, str]:
    return {
        name: code_versions.code_version(fns, CODE_SERVICES)
        for name, fns in asset_functions(defs).items()
    }


def test_every_asset_has_the_version_of_its_code():
    graph = defs.resolve_asset_graph()
    current = versions()
    for key in graph.get_all_asset_keys():
        version = graph.get(key).code_version
        assert re.fullmatch(r"[0-9a-f]{12}", version), key
        assert version == current[key.to_user_string()]
    # different code, different versions (the research tables come from one step: one version)
    steps = {fns: current[name] for name, fns in asset_functions(defs).items()}
    assert len(set(steps.values())) == len(steps) > 1


def edit_file(monkeypatch, file: Path, old: bytes, new: bytes) -> None:
    read_bytes = Path.read_bytes

    def edited(path: Path) -> bytes:
        data = read_bytes(path)
        if path == file:
            assert old in data
            return data.replace(old, new)
        return data

    monkeypatch.setattr(Path, "read_bytes", edited)


def test_editing_a_kernel_changes_only_the_assets_that_run_it(monkeypatch):
    before = versions()
    edit_file(monkeypatch, Path(labels.__file__), b"@njit", b"# edited\n@njit")
    after = versions()
    changed = {k for k in before if before[k] != after[k]}
    assert "silver/outcome_labels" in changed
    assert not changed & {"bronze/es_trades", "bronze/spy_option_trades", "silver/ohlcv_1m"}


def test_editing_an_asset_changes_its_version_only(monkeypatch):
    before = versions()
    original = inspect.getsource

    def edited(obj):
        source = original(obj)
        return source + "    # edited\n" if getattr(obj, "__name__", "") == "touches" else source

    monkeypatch.setattr(code_versions.inspect, "getsource", edited)
    after = versions()
    assert {k for k in before if before[k] != after[k]} == {"silver/touches"}


def test_changing_a_configuration_default_changes_the_assets_that_read_the_configuration(
    monkeypatch,
):
    before = versions()
    original = inspect.getsource

    def edited(obj):
        source = original(obj)
        if obj is SpymasterConfig:
            assert "Field(0.25," in source
            return source.replace("Field(0.25,", "Field(0.30,")  # MONITOR_BAND
        return source

    monkeypatch.setattr(code_versions.inspect, "getsource", edited)
    after = versions()
    for key in ("silver/touches", "silver/levels", "gold/signals"):
        assert before[key] != after[key], key
