"""Content hash of a phase's code: its module and the modules of its package it imports.

Snakemake's code trigger only sees a rule's shell template, never the Python it calls. The
generator therefore passes this hash as a rule parameter. The import closure is found by reading
the sources (``ast``), without importing anything, so the Snakefile stays cheap to parse on every
cluster job.
"""

from __future__ import annotations

import ast
import copy
import functools
import hashlib
import importlib.util
import itertools
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path


class CodeLocationError(ImportError):
    """A dotted module path does not lead to a Python source file."""


def module_source_path(module_name: str) -> Path:
    """Source file of ``module_name``, found without importing it or its packages.

    Raises
    ------
    CodeLocationError
        If no source file (``.py``) exists for the module.
    """
    top, *rest = module_name.split(".")
    origin, locations = _top_level_spec(top)
    if origin is None:
        raise CodeLocationError(f"no module named '{top}' is installed")
    if not rest:
        return Path(origin)
    if not locations:
        raise CodeLocationError(
            f"'{top}' is a module, not a package, so '{module_name}' is unknown"
        )
    for location in locations:
        base = Path(location).joinpath(*rest)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    raise CodeLocationError(f"no source file for module '{module_name}'")


@functools.cache
def _top_level_spec(top: str) -> tuple[str | None, tuple[str, ...]]:
    """Origin and package folders of a top-level module (one look-up per process)."""
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        return None, ()
    return spec.origin, tuple(spec.submodule_search_locations or ())


def _module_exists(module_name: str) -> bool:
    try:
        module_source_path(module_name)
    except CodeLocationError:
        return False
    return True


def _imported_modules(tree: ast.Module, module_name: str, is_package: bool) -> set[str]:
    """Modules named by the import statements of a module's tree (absolute names)."""
    package = module_name if is_package else module_name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base_parts = parts[: len(parts) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            # "from package import module" imports a module, "from module import name" a name.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _stamp(path: Path) -> tuple[int, int]:
    """What identifies a file's content version cheaply: modification time and size.

    A file modified less than ``RACY_SECONDS`` ago gets a stamp of its own (a counter), so it is
    read again: file times advance in clock ticks of milliseconds, and a same-size edit within
    one tick of the last read would otherwise keep its old stamp (git's "racy" files).
    """
    status = path.stat()
    if time.time_ns() - status.st_mtime_ns < RACY_SECONDS * 1e9:
        return -next(_RACY_COUNTER), status.st_size
    return status.st_mtime_ns, status.st_size


RACY_SECONDS = 2.0
_RACY_COUNTER = itertools.count(1)


# The generator hashes about ten import closures that share most files: each file is read,
# parsed once per process (keyed by its stamp, so an edited file is read again).
@functools.lru_cache(maxsize=4096)
def _file_imports(path: str, mtime_ns: int, size: int, name: str, is_package: bool) -> set[str]:
    return _imported_modules(_parsed(path, mtime_ns, size), name, is_package)


@functools.lru_cache(maxsize=4096)
def _file_digest(path: str, mtime_ns: int, size: int) -> bytes:
    tree = copy.deepcopy(_parsed(path, mtime_ns, size))
    return hashlib.sha256(_significant_tree(tree).encode()).digest()


@functools.lru_cache(maxsize=256)
def _parsed(path: str, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(Path(path).read_text())


def _parents(module_name: str) -> list[str]:
    parts = module_name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_closure(module_name: str) -> dict[str, Path]:
    """Every module of ``module_name``'s top-level package that it imports, transitively.

    Parent packages are included, since Python runs their ``__init__`` on import.
    """
    top = module_name.split(".")[0]
    closure: dict[str, Path] = {}
    pending = [module_name]
    while pending:
        name = pending.pop()
        if name in closure or not name or name.split(".")[0] != top:
            continue
        if not _module_exists(name):
            continue
        path = module_source_path(name)
        closure[name] = path
        is_package = path.name == "__init__.py"
        imported = _file_imports(str(path), *_stamp(path), name, is_package)
        pending.extend(imported)
        pending.extend(_parents(name))
    return closure


def _significant_tree(tree: ast.AST) -> str:
    """The syntax tree without docstrings, as text (the tree loses its docstrings).

    What the code does, and nothing of how it is documented or laid out: editing a comment, a
    docstring or the line breaks leaves it unchanged, so no phase reruns for it.
    """
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and ast.get_docstring(node, clean=False) is not None
        ):
            node.body = node.body[1:]
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def code_hash(module_name: str) -> str:
    """Hex SHA-256 (16 digits) of the significant code of ``module_name``'s import closure.

    With a store (``use_hash_store``), a hash whose files all have their recorded modification
    time and size is taken from it without reading them.
    """
    if _STORE is not None:
        known = _STORE.lookup(module_name)
        if known is not None:
            return known
    closure = import_closure(module_name)
    digest = hashlib.sha256()
    for name, path in sorted(closure.items()):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(_file_digest(str(path), *_stamp(path)))
        digest.update(b"\0")
    result = digest.hexdigest()[:16]
    if _STORE is not None:
        _STORE.record(module_name, closure.values(), result)
    return result


class _HashStore:
    """Closure hashes on disk, each with the stamps of the files it was computed from.

    Every Snakemake invocation (and every cluster job, which parses the Snakefile again) needs
    the code hashes for the generated rules' cache key; reading and parsing a hundred sources
    each time costs seconds, checking their stamps milliseconds.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        if not isinstance(self.entries, dict):
            self.entries = {}

    def lookup(self, module_name: str) -> str | None:
        entry = self.entries.get(module_name)
        try:
            files = entry["files"]
            if all(list(_stamp(Path(path))) == stamp for path, stamp in files.items()):
                return str(entry["hash"])
        except (OSError, KeyError, TypeError, ValueError):
            pass
        return None

    def record(self, module_name: str, paths: Iterable[Path], result: str) -> None:
        files = {str(path): list(_stamp(path)) for path in paths}
        if any(stamp[0] < 0 for stamp in files.values()):
            return  # a file edited just now: its stamp may not change with its next edit
        self.entries[module_name] = {"hash": result, "files": files}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: concurrent invocations may write; the last complete file wins.
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
        partial.write_text(json.dumps(self.entries, sort_keys=True))
        os.replace(partial, self.path)


_STORE: _HashStore | None = None


def use_hash_store(path: Path | None) -> None:
    """Keep closure hashes in the JSON file ``path`` across processes (None: in memory only)."""
    global _STORE
    if path is None:
        _STORE = None
    elif _STORE is None or _STORE.path != Path(path):
        _STORE = _HashStore(Path(path))
