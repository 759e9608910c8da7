"""The environment of ``--sdm conda``: every rule uses it, and it holds pyproject's dependencies.

Conda itself cannot be installed on the test machine (it is on neither PyPI nor Debian), so the
real ``snakemake --sdm conda`` run is tested where ``conda`` is on the PATH and skipped elsewhere;
what Snakemake decides without conda (which environment each job gets) is tested everywhere.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from workflow_runner import REPOSITORY, ToyWorkflow, run_snakemake

ENV_FILE = REPOSITORY / "workflow" / "envs" / "spyralflow.yaml"
CONDA_ONLY = {"python", "pip"}
NO_CONDA = "Error running conda info. Is conda installed and accessible?"


def _environment() -> tuple[dict[str, SpecifierSet], list[str]]:
    """Package name to version range, and the pip lines that are not requirements."""
    packages: dict[str, SpecifierSet] = {}
    others: list[str] = []
    for entry in yaml.safe_load(ENV_FILE.read_text())["dependencies"]:
        if isinstance(entry, dict):
            for line in entry["pip"]:
                if line.startswith("-"):
                    others.append(line)
                else:
                    requirement = Requirement(line)
                    packages[canonicalize_name(requirement.name)] = requirement.specifier
        else:
            name, _, spec = entry.partition(" ")
            if name not in CONDA_ONLY:
                packages[canonicalize_name(name)] = SpecifierSet(spec.replace(" ", ""))
    return packages, others


def test_environment_holds_pyproject_dependencies_with_their_ranges() -> None:
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    declared = {
        canonicalize_name(requirement.name): requirement.specifier
        for requirement in map(Requirement, project["dependencies"])
    }
    packages, others = _environment()
    assert packages == declared
    assert others == ["-e ../.."]
    assert (ENV_FILE.parent / "../.." / "pyproject.toml").resolve() == REPOSITORY / "pyproject.toml"


def _environments_hashed(output: str) -> list[str]:
    return re.findall(r"Hashing conda environment (\S+)\.", output)


def test_every_job_of_the_shipped_and_toy_workflows_gets_the_environment(tmp_path: Path) -> None:
    # `--containerize` hashes the environment of every job in the DAG, before it needs conda.
    toy = ToyWorkflow(tmp_path)
    for result, folder in (
        (toy.snakemake("--containerize"), tmp_path),
        (run_snakemake(REPOSITORY, "--containerize", configfile="config/config.yaml"), REPOSITORY),
    ):
        assert result.returncode == 0 or NO_CONDA in result.output, result.output[-3000:]
        hashed = _environments_hashed(result.output)
        # The generated rules name it relative to .spyralflow/, the rule files to workflow/.
        assert hashed and {(folder / path).resolve() for path in hashed} == {ENV_FILE}, hashed
    # Every rule declares an environment: lint flags any rule without one.
    lint = toy.snakemake("--lint")
    assert "Specify a conda environment" not in lint.output
    assert "Congratulations, your workflow is in a good condition!" in lint.output


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("conda") is None, reason="conda is not installed")
def test_toy_workflow_runs_with_sdm_conda(tmp_path: Path) -> None:
    toy = ToyWorkflow(tmp_path)
    result = toy.snakemake("--sdm", "conda", "--conda-prefix", str(tmp_path / "envs"))
    assert result.returncode == 0, result.output[-3000:]
    assert len(toy.outputs("Total")) == 3
