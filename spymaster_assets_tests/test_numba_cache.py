"""The kernels' compiled cache follows their source, including kernels they call elsewhere."""

from __future__ import annotations

import shutil

from numba.core import config

from spymaster_assets import numba_cache


def test_every_kernel_module_is_hashed():
    names = {p.relative_to(numba_cache.PACKAGE).as_posix() for p in numba_cache.kernel_modules()}
    # option_flow's kernel inlines the solver of black_scholes: both must be in the key
    assert {"market/black_scholes.py", "physics/option_flow.py", "physics/barrier.py"} <= names
    assert "defs/kernels.py" not in names  # Dagster-side code does not compile kernels


def test_a_change_to_a_called_kernel_changes_the_cache_folder(tmp_path, monkeypatch):
    copy = tmp_path / "spymaster_assets"
    shutil.copytree(numba_cache.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("SPYMASTER_NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    before = numba_cache.cache_dir(copy)
    assert before == numba_cache.cache_dir(copy)  # stable
    assert before.parent == tmp_path / "cache"
    solver = copy / "market" / "black_scholes.py"
    solver.write_text(solver.read_text().replace("1e-10", "1e-9"))
    assert numba_cache.cache_dir(copy) != before
    # a module without kernels does not matter
    solver.write_text(solver.read_text().replace("1e-9", "1e-10"))
    (copy / "cli.py").write_text((copy / "cli.py").read_text() + "\n# a comment\n")
    assert numba_cache.cache_dir(copy) == before


def test_numba_uses_the_folder_of_this_source():
    assert str(numba_cache.cache_dir()) == config.CACHE_DIR
