"""Content hash of a phase's code: its module and the modules of its package it imports.

Snakemake's code trigger only sees a rule's shell template, never the Python it calls. The
generator therefore passes this hash as a rule parameter. The import closure is found by reading
the sources (``ast``), without importing anything, so the Snakefile stays cheap to parse on every
cluster job.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import io
import tokenize
from pathlib import Path

_LAYOUT_TOKENS = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING})
_SHAPE_TOKENS = frozenset({tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE})


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
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        raise CodeLocationError(f"no module named '{top}' is installed")
    if not rest:
        return Path(spec.origin)
    if not spec.submodule_search_locations:
        raise CodeLocationError(
            f"'{top}' is a module, not a package, so '{module_name}' is unknown"
        )
    for location in spec.submodule_search_locations:
        base = Path(location).joinpath(*rest)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    raise CodeLocationError(f"no source file for module '{module_name}'")


def _module_exists(module_name: str) -> bool:
    try:
        module_source_path(module_name)
    except CodeLocationError:
        return False
    return True


def _imported_modules(source: str, module_name: str, is_package: bool) -> set[str]:
    """Modules named by the import statements of a module (absolute names)."""
    package = module_name if is_package else module_name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
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
        imported = _imported_modules(path.read_text(), name, is_package)
        pending.extend(imported)
        pending.extend(_parents(name))
    return closure


def _docstring_positions(tree: ast.AST) -> set[tuple[int, int]]:
    """Start (line, column) of every module, class and function docstring."""
    positions = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and ast.get_docstring(node, clean=False) is not None
        ):
            first = node.body[0]
            positions.add((first.lineno, first.col_offset))
    return positions


def significant_code(source: str) -> str:
    """The source's tokens without comments, docstrings and blank lines.

    What the code does, and nothing of how it is documented: editing a comment or a docstring
    leaves it unchanged, so no phase reruns for it.
    """
    docstrings = _docstring_positions(ast.parse(source))
    parts = []
    after_docstring = False
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in _LAYOUT_TOKENS:
            continue
        if token.type == tokenize.STRING and token.start in docstrings:
            after_docstring = True
            continue
        if after_docstring and token.type == tokenize.NEWLINE:
            # The docstring's own statement end: a removed docstring leaves the rest equal.
            after_docstring = False
            continue
        after_docstring = False
        # Indentation width and line endings carry no meaning beyond the token types.
        text = "" if token.type in _SHAPE_TOKENS else token.string
        parts.append(f"{token.type}:{text}")
    return "\n".join(parts)


def code_hash(module_name: str) -> str:
    """Hex SHA-256 (16 digits) of the significant code of ``module_name``'s import closure."""
    digest = hashlib.sha256()
    for name, path in sorted(import_closure(module_name).items()):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(significant_code(path.read_text()).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
