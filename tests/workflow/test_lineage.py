"""Never stale, never mixed: lineage digests, parameter files, one working copy per workspace,
and kills, on real snakemake runs of the toy pipeline in temporary folders."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import polars as pl
import pytest
from workflow_runner import ToyWorkflow, snakemake_command, toy_config

from spyralflow.framework.provenance import read_provenance

pytestmark = pytest.mark.slow


def _lineage(path: Path) -> str:
    return read_provenance(path)["lineage"]


def _all_outputs(workflow: ToyWorkflow) -> list[Path]:
    return [path for phase in ("Load", "Scale", "Total") for path in workflow.outputs(phase)]


def _readable(path: Path) -> bool:
    if path.suffix == ".h5":
        with h5py.File(path, "r") as handle:
            return "data" in handle
    return pl.read_parquet(path).height == 1


def test_failed_rerun_leaves_nothing_stale(tmp_path: Path) -> None:
    workflow = ToyWorkflow(tmp_path)
    assert workflow.snakemake().returncode == 0
    config = workflow.config
    config["phases"][0]["parameters"]["load_params"]["offset"] = 2.0
    workflow.write_config(config)
    failed = workflow.snakemake("--keep-going", env={"TOY_FAIL_RUN": "2"})
    assert failed.returncode != 0
    assert "deliberate failure for run 2" in failed.output
    runs_done = {path.name: _lineage(path) for path in workflow.outputs("Total")}
    assert runs_done["run_0001.parquet"] == runs_done["run_0003.parquet"]
    assert runs_done["run_0002.parquet"] != runs_done["run_0001.parquet"]

    again = workflow.snakemake()
    assert again.returncode == 0, again.output
    assert again.job_counts == {"Load": 1, "Scale": 1, "Total": 1, "all": 1}
    lineages = {_lineage(path) for path in workflow.outputs("Total")}
    assert len(lineages) == 1
    totals = pl.concat([pl.read_parquet(path) for path in workflow.outputs("Total")])
    assert totals["total"].is_sorted()
    assert workflow.snakemake("-n").nothing_to_do


def test_parameter_file_edit_reruns_its_phase_and_downstream_only(tmp_path: Path) -> None:
    weight = tmp_path / "weight.txt"
    weight.write_text("1.0\n")
    config = toy_config()
    config["phases"][1]["parameters"]["scale_params"]["weight_file"] = "weight.txt"
    workflow = ToyWorkflow(tmp_path, config)
    assert workflow.snakemake().returncode == 0
    before = workflow.mtimes()
    first_totals = pl.concat([pl.read_parquet(p) for p in workflow.outputs("Total")])

    weight.write_text("2.0\n")
    edited = workflow.snakemake()
    assert edited.returncode == 0, edited.output
    assert edited.job_counts == {"Scale": 3, "Scale_assets": 1, "Total": 3, "all": 1}
    after = workflow.mtimes()
    assert all(before[path] == after[path] for path in before if path.startswith("ws/Load"))
    totals = pl.concat([pl.read_parquet(p) for p in workflow.outputs("Total")])
    assert totals["total"].to_list() == pytest.approx((2 * first_totals["total"]).to_list())

    weight.write_text("1.0\n")
    back = workflow.snakemake()
    assert back.returncode == 0, back.output
    # The earlier asset is reused (its name carries the file's content), the runs are redone.
    assert back.job_counts == {"Scale": 3, "Total": 3, "all": 1}


def test_second_working_copy_on_one_workspace_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared-workspace"
    first = ToyWorkflow(tmp_path / "first", toy_config(workspace=str(shared)))
    second_config = toy_config(workspace=str(shared))
    second_config["phases"][1]["parameters"]["scale_params"]["factor"] = 7.0
    second = ToyWorkflow(tmp_path / "second", second_config)
    assert first.snakemake().returncode == 0
    refused = second.snakemake()
    assert refused.returncode != 0
    assert "is driven by the working copy" in refused.output
    assert str((tmp_path / "first").resolve()) in refused.output
    assert str((tmp_path / "second").resolve()) in refused.output
    assert "jobs" not in refused.job_counts and not refused.job_counts
    assert first.snakemake("-n").nothing_to_do


def test_planted_artifact_of_another_lineage_is_refused(tmp_path: Path) -> None:
    workflow = ToyWorkflow(tmp_path / "analysis")
    other_config = toy_config()
    other_config["phases"][0]["parameters"]["load_params"]["offset"] = 5.0
    other = ToyWorkflow(tmp_path / "other", other_config)
    assert workflow.snakemake().returncode == 0
    assert other.snakemake().returncode == 0
    planted = workflow.root / "ws/Load/run_0002.h5"
    shutil.copy(other.root / "ws/Load/run_0002.h5", planted)
    os.utime(planted)
    rerun = workflow.snakemake("--keep-going")
    assert rerun.returncode != 0
    assert "does not come from this pipeline's settings" in rerun.output
    assert "ws/Load/run_0002.h5" in rerun.output
    assert "made by phase Load" in rerun.output and '"offset": 5.0' in rerun.output


def test_rebuilt_asset_still_builds_the_missing_runs_and_only_those(tmp_path: Path) -> None:
    # Snakemake 9 planned only the asset job here and reported success (snakemake_fixes); the
    # same plan follows a kill between an asset job's last write and Snakemake's bookkeeping.
    workflow = ToyWorkflow(tmp_path)
    assert workflow.snakemake().returncode == 0
    (workflow.root / "ws/Total/run_0002.parquet").unlink()
    rebuilt = workflow.snakemake("--forcerun", "Total_assets")
    assert rebuilt.returncode == 0, rebuilt.output
    # The asset is ancient input: the runs made with it stay, the missing one is built.
    assert rebuilt.job_counts == {"Total_assets": 1, "Total": 1, "all": 1}
    assert all(_readable(path) for path in _all_outputs(workflow))
    assert workflow.snakemake("-n").nothing_to_do


def _start_snakemake(workflow: ToyWorkflow, sleep_seconds: float) -> subprocess.Popen:
    command, environment = snakemake_command(
        workflow.root,
        "--cores",
        "2",
        python_path=[workflow.code],
        env={"TOY_SLEEP_SECONDS": str(sleep_seconds)},
    )
    return subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for_job(workflow: ToyWorkflow, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    logs = workflow.root / "ws/logs/Load"
    while time.monotonic() < deadline:
        if logs.is_dir() and any("starting" in p.read_text() for p in logs.glob("run_*.log")):
            return
        time.sleep(0.2)
    raise AssertionError("no Load job started")


def _job_pids(workflow: ToyWorkflow) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", "spyralflow run-phase"],
        capture_output=True,
        text=True,
        check=False,
    )
    pids = []
    for pid in found.stdout.split():
        try:
            if Path(f"/proc/{pid}/cwd").resolve() == workflow.root.resolve():
                pids.append(int(pid))
        except OSError:
            continue
    return pids


def test_kill_of_the_whole_snakemake_tree_then_resume(tmp_path: Path) -> None:
    workflow = ToyWorkflow(tmp_path)
    process = _start_snakemake(workflow, sleep_seconds=3)
    _wait_for_job(workflow)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert workflow.snakemake("--unlock").returncode == 0
    resumed = workflow.snakemake("--rerun-incomplete")
    assert resumed.returncode == 0, resumed.output
    assert resumed.job_counts.get("Load", 0) >= 1
    outputs = _all_outputs(workflow)
    assert len(outputs) == 9 and all(_readable(path) for path in outputs)
    assert workflow.snakemake("-n").nothing_to_do


def test_kill_of_one_job_then_resume(tmp_path: Path) -> None:
    workflow = ToyWorkflow(tmp_path)
    process = _start_snakemake(workflow, sleep_seconds=3)
    _wait_for_job(workflow)
    pids = _job_pids(workflow)
    assert pids, "no run-phase process found"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=120)
    assert process.returncode != 0
    done_before = {path.name for path in workflow.outputs("Total")}
    resumed = workflow.snakemake("--rerun-incomplete")
    assert resumed.returncode == 0, resumed.output
    # Only what was not finished is redone.
    assert resumed.job_counts.get("Total", 0) == 3 - len(done_before)
    outputs = _all_outputs(workflow)
    assert len(outputs) == 9 and all(_readable(path) for path in outputs)
