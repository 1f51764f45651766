"""Code versions computed from the source each asset runs.

An asset's code version is a hash of its own function, the package functions and classes it
calls (their source, recursively, imports inside function bodies included), the methods and
configuration fields it uses on the services it is handed (kernels, settings), and the package
modules it uses (their files and the package modules those import), so editing a kernel, a
schema, a default of `SpymasterConfig` or the asset itself changes the version of exactly the
assets that run that code, and the UI marks their materialized partitions stale ("code version
changed"). Nobody has to remember to bump a number.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import textwrap
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


def _local_imports(fn: types.FunctionType) -> list[object]:
    """What `fn` imports inside its body (package modules, or names from them): assets import
    their heavy code there, so that loading the definitions stays light."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, SyntaxError):
        return []
    found: list[object] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                continue
            module = importlib.import_module(node.module)
            for alias in node.names:
                target = getattr(module, alias.name, None)
                if target is None:  # a submodule not imported by its package yet
                    target = importlib.import_module(f"{node.module}.{alias.name}")
                found.append(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.append(importlib.import_module(alias.name))
    return found


def _unwrap(obj: object) -> object:
    while hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    return getattr(obj, "py_func", obj)  # a Numba dispatcher: the Python function it compiles


def _service_members(name: str, services: tuple[type, ...]) -> list[object]:
    """What `.name` can mean on a service the asset is handed (its kernels, its configuration):
    a method defined by the service, or a configuration field (then the whole class, defaults
    included)."""
    found: list[object] = []
    for cls in services:
        own = vars(cls)
        if name in own:
            member = _unwrap(getattr(own[name], "__func__", own[name]))
            if isinstance(member, types.FunctionType):
                found.append(member)
        elif name in (getattr(cls, "model_fields", None) or {}):
            found.append(cls)
    return found


def _collect(
    obj: object, sources: dict[str, str], files: set[Path], services: tuple[type, ...] = ()
) -> None:
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
        for item in _local_imports(obj):
            _collect(item, sources, files, services)
        for item in referenced:
            target = obj.__globals__.get(item) if isinstance(item, str) else item
            if target is not None:
                _collect(target, sources, files, services)
            if isinstance(item, str):  # an attribute name may also be a service's
                for member in _service_members(item, services):
                    _collect(member, sources, files, services)
    elif isinstance(obj, type):
        name = f"{obj.__module__}.{obj.__qualname__}"
        if name in sources:
            return
        sources[name] = inspect.getsource(obj)
        module_globals = vars(inspect.getmodule(obj))
        for member in vars(obj).values():
            member = _unwrap(getattr(member, "__func__", member))
            if isinstance(member, types.FunctionType):
                for item in _local_imports(member):
                    _collect(item, sources, files, services)
                for item in _names(member.__code__):
                    target = module_globals.get(item)
                    if target is not None:
                        _collect(target, sources, files, services)
        for base in obj.__bases__:
            _collect(base, sources, files, services)


def code_version(
    fns: types.FunctionType | tuple[types.FunctionType, ...], services: tuple[type, ...] = ()
) -> str:
    """The version of the function(s): their source and everything they reach. `services` are
    the classes of objects they are handed and call by attribute (`day.kernels.barrier(...)`,
    `day.settings.monitor_band`): a method or field named pulls in that method or class."""
    sources: dict[str, str] = {}
    files: set[Path] = set()
    for fn in fns if isinstance(fns, tuple) else (fns,):
        _collect(fn, sources, files, services)
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    for file in sorted(files):
        digest.update(str(file.relative_to(PACKAGE_DIR)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]
