"""The shipped SLURM profile as Snakemake reads it, and the stop script; no SLURM needed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import yaml
from snakemake.cli import parse_args

from .conftest import HERE, REPOSITORY, SLURM_PROFILE

PROFILE = yaml.safe_load((SLURM_PROFILE / "profile.yaml").read_text())
WORKFLOW_PROFILE = REPOSITORY / "workflow" / "profiles" / "default" / "profile.yaml"
PHASE_RULES = ("Pointcloud", "Cluster", "Estimation", "InterpSolver")
MESH_RULE = "InterpSolver_assets"


def _per_attempt(value: object) -> int:
    """The base of a resource written as ``"<base> * attempt"`` (grows on each retry)."""
    match = re.fullmatch(r"(\d+) \* attempt", str(value))
    assert match, f"{value!r}: profile resources must scale with the attempt"
    return int(match.group(1))


def _effective_settings(monkeypatch: pytest.MonkeyPatch, *arguments: str):
    monkeypatch.chdir(REPOSITORY)
    _, settings = parse_args(["--profile", str(SLURM_PROFILE), *arguments])
    return settings


def test_profile_submits_to_slurm_and_survives_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _effective_settings(monkeypatch, "--workflow-profile", "none")
    assert settings.executor == "slurm"
    assert settings.jobs == PROFILE["jobs"] > 1
    assert settings.retries >= 1
    assert settings.keep_going and settings.rerun_incomplete
    assert settings.latency_wait >= 30  # shared filesystems show other nodes' files late
    assert set(settings.set_resources) == {*PHASE_RULES, MESH_RULE}


def test_mesh_rule_gets_more_memory_and_time_than_any_phase_job() -> None:
    resources = PROFILE["set-resources"]
    mesh = resources[MESH_RULE]
    for rule in PHASE_RULES:
        assert _per_attempt(mesh["mem_mb"]) > _per_attempt(resources[rule]["mem_mb"])
        assert _per_attempt(mesh["runtime"]) > _per_attempt(resources[rule]["runtime"])
    for values in resources.values():
        for name in ("mem_mb", "runtime"):
            _per_attempt(values[name])


def test_workflow_default_profile_does_not_override_the_slurm_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _effective_settings(monkeypatch)
    assert settings.latency_wait == PROFILE["latency-wait"]
    assert settings.retries == PROFILE["retries"] and settings.jobs == PROFILE["jobs"]


def test_stop_script_stops_daemons_by_their_pid_files(tmp_path: Path) -> None:
    # Stand-ins named like the daemons (a copy of sleep), and one the pid files do not name.
    stand_in_program = tmp_path / "slurmd"
    shutil.copy(shutil.which("sleep"), stand_in_program)
    stand_in = subprocess.Popen([str(stand_in_program), "60"])
    misnamed = subprocess.Popen(["sleep", "60"])
    bystander = subprocess.Popen([str(stand_in_program), "60"])
    (tmp_path / "run").mkdir()
    (tmp_path / "munge").mkdir()
    (tmp_path / "run" / "slurmd.pid").write_text(f"{stand_in.pid}\n")
    (tmp_path / "munge" / "munged.pid").write_text(f"{misnamed.pid}\n")
    try:
        stopped = subprocess.run(
            ["bash", str(HERE / "stop_slurm.sh")],
            env={**os.environ, "SPYRALFLOW_SLURM_ROOT": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert stopped.returncode == 0, stopped.stderr
        assert stand_in.wait(timeout=5) == -signal.SIGTERM
        assert misnamed.poll() is None and bystander.poll() is None
        assert not (tmp_path / "run" / "slurmd.pid").exists()
    finally:
        for process in (stand_in, misnamed, bystander):
            process.kill()
            process.wait()
