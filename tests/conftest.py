"""Shared test helpers: running the real workflow with snakemake in a temporary folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SNAKEFILE = REPOSITORY / "Snakefile"


@dataclass
class SnakemakeRun:
    """What one snakemake invocation did."""

    returncode: int
    output: str

    @property
    def job_counts(self) -> dict[str, int]:
        """Rule name to number of jobs, from Snakemake's "Job stats" table."""
        counts: dict[str, int] = {}
        match = re.search(r"Job stats:\n(.*?)\n\n", self.output, re.S)
        if match is None:
            return counts
        for line in match.group(1).splitlines()[2:]:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
                counts[parts[0]] = int(parts[1])
        return counts

    @property
    def nothing_to_do(self) -> bool:
        return "Nothing to be done" in self.output


def run_snakemake(
    workdir: Path,
    *arguments: str,
    python_path: list[Path] = (),
    configfile: str = "config.yaml",
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> SnakemakeRun:
    """Run the repository's workflow in ``workdir`` with the given extra arguments."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(path) for path in python_path] + [environment.get("PYTHONPATH", "")]
    )
    environment.update(env or {})
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / configfile),
        *arguments,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=timeout, check=False
    )
    return SnakemakeRun(completed.returncode, completed.stdout + completed.stderr)


@pytest.fixture(scope="session")
def snakemake_available() -> None:
    if shutil.which("spyralflow") is None:
        pytest.fail("the spyralflow console script is not installed: pip install -e .[test]")
