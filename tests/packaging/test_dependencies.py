"""Declared dependencies are exactly what the code imports, bounded, and pinned in constraints."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import runpy
import sys
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPOSITORY = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
DECLARED = {
    canonicalize_name(Requirement(text).name): Requirement(text) for text in PROJECT["dependencies"]
}
# Used without an import in src/: snakemake runs the workflow, the executor plugins are
# loaded by snakemake for the profiles in profiles/.
USED_WITHOUT_IMPORT = {
    "snakemake",
    "snakemake-executor-plugin-slurm",
    "snakemake-executor-plugin-cluster-generic",
}
# Extension modules whose distribution does not record them as a top-level name: spyral-utils
# 2.1 builds and installs ``tripclust`` beside its package.
PROVIDED_BY = {"tripclust": "spyral-utils"}
# Major releases (or, for private APIs, minor ones) that are not tested and may break the code.
MUST_BE_BOUNDED = {"numpy", "polars", "spyral-utils", "snakemake"}


def _imported_top_levels(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _third_party_distributions() -> set[str]:
    providers = metadata.packages_distributions()
    for module, distribution in PROVIDED_BY.items():
        providers.setdefault(module, [distribution])
    imported = _imported_top_levels(REPOSITORY / "src") - set(sys.stdlib_module_names)
    imported.discard("spyralflow")
    unknown = sorted(name for name in imported if name not in providers)
    assert not unknown, f"imports provided by no installed distribution: {unknown}"
    return {canonicalize_name(providers[name][0]) for name in imported}


def test_every_import_is_a_declared_dependency() -> None:
    undeclared = _third_party_distributions() - set(DECLARED)
    assert not undeclared, f"imported by src/ but not in pyproject dependencies: {undeclared}"


def test_every_declared_dependency_is_imported() -> None:
    unused = set(DECLARED) - _third_party_distributions() - USED_WITHOUT_IMPORT
    assert not unused, f"declared in pyproject but imported nowhere in src/: {sorted(unused)}"
    assert "tqdm" not in DECLARED and "lmfit" not in DECLARED


def test_dependencies_that_can_break_us_have_an_upper_bound() -> None:
    for name in MUST_BE_BOUNDED:
        operators = {spec.operator for spec in DECLARED[name].specifier}
        assert operators & {"<", "<=", "==", "~="}, f"{name} has no upper bound: {DECLARED[name]}"


def test_constraints_pin_the_whole_closure_within_the_declared_ranges() -> None:
    writer = runpy.run_path(str(REPOSITORY / ".ci" / "write_constraints.py"))
    pins = {}
    for line in (REPOSITORY / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(requirement.name)] = spec.version
    needed = writer["requirement_closure"](writer["project_requirements"]())
    needed.pop("spyralflow", None)
    assert set(pins) == set(needed), (
        f"constraints.txt is stale: missing {sorted(set(needed) - set(pins))}, "
        f"extra {sorted(set(pins) - set(needed))}; rerun python .ci/write_constraints.py"
    )
    for name, requirement in DECLARED.items():
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )
