"""Code versions computed from the source each asset runs.

An asset's code version is a hash of its own function, the package functions and classes it
calls (their source, recursively) and the package modules it uses (their files and the package
modules those import), so editing a kernel, a schema, a default of `SpymasterConfig` or the
asset itself changes the version of exactly the assets that run that code, and the UI marks
their materialized partitions stale ("code version changed"). Nobody has to remember to bump
a number.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import types
from functools import cache
from pathlib import Path

PACKAGE = "spymaster_assets"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _file_of(module_name: str) -> Path | None:
    parts = module_name.split(".")[1:]
    candidates = [PACKAGE_DIR.joinpath(*parts).with_suffix(".py")] if parts else []
    candidates.append(PACKAGE_DIR.joinpath(*parts, "__init__.py"))
    return next((p for p in candidates if p.is_file()), None)


@cache
def _imported_modules(path: Path) -> frozenset[Path]:
    """Package modules `path` imports (`from pkg import module` counts, names do not)."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                file = _file_of(name)
                if file is not None:
                    found.add(file)
    return frozenset(found)


def _module_closure(path: Path, files: set[Path]) -> None:
    if path in files:
        return
    files.add(path)
    for imported in _imported_modules(path):
        _module_closure(imported, files)


def _in_package(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
    return isinstance(module, str) and (module == PACKAGE or module.startswith(PACKAGE + "."))


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _unwrap(obj: object) -> object:
    while hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    return getattr(obj, "py_func", obj)  # a Numba dispatcher: the Python function it compiles


def _collect(obj: object, sources: dict[str, str], files: set[Path]) -> None:
    obj = _unwrap(obj)
    if isinstance(obj, types.ModuleType):
        file = _file_of(obj.__name__) if _in_package(obj) else None
        if file is not None:
            _module_closure(file, files)
        return
    if not _in_package(obj):
        return
    if isinstance(obj, types.FunctionType):
        name = f"{obj.__module__}.{obj.__qualname__}"
        if name in sources:
            return
        sources[name] = inspect.getsource(obj)
        referenced = [*_names(obj.__code__), *obj.__annotations__.values()]
        for item in referenced:
            target = obj.__globals__.get(item) if isinstance(item, str) else item
            if target is not None:
                _collect(target, sources, files)
    elif isinstance(obj, type):
        name = f"{obj.__module__}.{obj.__qualname__}"
        if name in sources:
            return
        sources[name] = inspect.getsource(obj)
        module_globals = vars(inspect.getmodule(obj))
        for member in vars(obj).values():
            member = _unwrap(getattr(member, "__func__", member))
            if isinstance(member, types.FunctionType):
                for item in _names(member.__code__):
                    target = module_globals.get(item)
                    if target is not None:
                        _collect(target, sources, files)
        for base in obj.__bases__:
            _collect(base, sources, files)


def code_version(fn: types.FunctionType) -> str:
    sources: dict[str, str] = {}
    files: set[Path] = set()
    _collect(fn, sources, files)
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    for file in sorted(files):
        digest.update(str(file.relative_to(PACKAGE_DIR)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]
