"""Running the real workflow with snakemake in temporary folders, for tests of every room.

Also holds the toy pipeline (``tests/workflow/toyphases``) the generator and cluster tests use.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import yaml

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


def snakemake_command(
    workdir: Path,
    *arguments: str,
    python_path: list[Path] = (),
    configfile: str = "config.yaml",
    env: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment running the repository's workflow in ``workdir``."""
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
    return command, environment


def run_snakemake(
    workdir: Path,
    *arguments: str,
    python_path: list[Path] = (),
    configfile: str = "config.yaml",
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> SnakemakeRun:
    """Run the repository's workflow in ``workdir`` with the given extra arguments."""
    command, environment = snakemake_command(
        workdir, *arguments, python_path=python_path, configfile=configfile, env=env
    )
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=timeout, check=False
    )
    return SnakemakeRun(completed.returncode, completed.stdout + completed.stderr)


def planning_error(config: dict, folder: Path) -> str:
    """The ConfigError message of planning ``config`` in this process, the generator call the
    Snakefile makes (rules cached under ``folder``, no claim on the workspace). Fails the test if
    the config plans."""
    from spyralflow.generator import ConfigError, prepare_workflow

    try:
        prepare_workflow(
            config, REPOSITORY / "workflow", cache_folder=folder / "cache", claim=False
        )
    except ConfigError as error:
        return str(error)
    raise AssertionError("the config planned without a ConfigError")


def run_why(
    workdir: Path, configfile: str = "config.yaml", python_path: list[Path] = ()
) -> subprocess.CompletedProcess:
    """Run ``spyralflow why`` in ``workdir`` on its config and Snakemake records."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(path) for path in python_path] + [environment.get("PYTHONPATH", "")]
    )
    schema = REPOSITORY / "workflow" / "schemas" / "config.schema.yaml"
    command = [sys.executable, "-m", "spyralflow.cli", "why", "--configfile", configfile]
    return subprocess.run(
        [*command, "--schema", str(schema)],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=environment,
        check=False,
    )


TOY_FOLDER = REPOSITORY / "tests" / "workflow"
HERE = TOY_FOLDER
RUNS = (1, 2, 3)


def write_toy_inputs(folder: Path, runs=RUNS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for run in runs:
        with h5py.File(folder / f"run_{run:04d}.h5", "w") as handle:
            handle.create_dataset("data", data=np.arange(6.0) * run)


def toy_config(**changes) -> dict:
    config = {
        "workspace": "ws",
        "input_folder": "inputs",
        "runs": {"first": 0, "last": 20},
        "seed": 11,
        "phases": [
            {"class": "toyphases.load.LoadPhase", "parameters": {"load_params": {"offset": 1.0}}},
            {
                "class": "toyphases.scale.ScalePhase",
                "parameters": {"scale_params": {"factor": 3.0, "table_size": 4}},
            },
            {"class": "toyphases.total.TotalPhase", "parameters": {"total_params": {}}},
        ],
    }
    config.update(changes)
    return config


class ToyWorkflow:
    """A temporary analysis folder with its own copy of the toy phases (to edit their code)."""

    def __init__(self, root: Path, config: dict | None = None) -> None:
        self.root = root
        self.code = root / "code"
        shutil.copytree(HERE / "toyphases", self.code / "toyphases")
        write_toy_inputs(root / "inputs")
        self.write_config(config or toy_config())

    def write_config(self, config: dict) -> None:
        (self.root / "config.yaml").write_text(yaml.safe_dump(config))

    @property
    def config(self) -> dict:
        return yaml.safe_load((self.root / "config.yaml").read_text())

    def snakemake(self, *arguments: str, **options):
        return run_snakemake(
            self.root,
            "--cores",
            "2",
            *arguments,
            python_path=[self.code, HERE / "spyral_written"],
            **options,
        )

    def outputs(self, phase: str) -> list[Path]:
        return sorted((self.root / "ws" / phase).glob("run_*"))

    def mtimes(self) -> dict[str, float]:
        return {
            str(path.relative_to(self.root)): path.stat().st_mtime_ns
            for phase in ("Load", "Scale", "Total")
            for path in self.outputs(phase)
        }
