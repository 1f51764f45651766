"""The house's layers: every import between its packages points down.

vocabulary (shared names) <- schemas <- market, signals, physics <- defs. A schema that imported
a kernel module (or a decoder that the schemas import back) would tie the layers in a knot.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "spymaster_assets"


def imported_modules(path: Path) -> set[str]:
    """Every spymaster_assets module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.split(".")[0] == "spymaster_assets"}


# what each layer may import from the package (itself included)
ALLOWED = {
    "vocabulary.py": (),
    "schemas": ("spymaster_assets.schemas", "spymaster_assets.vocabulary"),
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_the_lower_layers_import_only_what_lies_below_them(layer):
    target = PACKAGE / layer
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    assert files
    upward = {
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if not module.startswith(ALLOWED[layer])
    }
    assert not upward, sorted(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    leaky = tmp_path / "leaky.py"
    leaky.write_text("def f():\n    from spymaster_assets.signals.levels import compute_levels\n")
    assert imported_modules(leaky) == {"spymaster_assets.signals.levels"}
