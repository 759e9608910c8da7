"""The workflow submitted through ``profiles/slurm`` to a real one-node SLURM.

One scenario, shared by the tests of this module because every submission costs tens of
seconds: the toy pipeline on three runs, whose run 2 has a corrupt input file, is submitted
(run 2 must fail as its own SLURM job while runs 1 and 3 complete); then the input is repaired
and the workflow submitted again (only run 2 may be resubmitted). The outputs are compared
with a local run of the same config. Interrupting snakemake is tested on its own.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import polars as pl
import pytest
import yaml
from workflow_runner import RUNS, SnakemakeRun, toy_config
from workflow_runner import ToyWorkflow as Workflow

from .conftest import (
    LOCAL_CLUSTER_PROFILE,
    SLURM_PROFILE,
    SlurmCluster,
    SlurmJob,
    processes_in,
    profile_arguments,
    slurm_run_id,
)

pytestmark = pytest.mark.slurm

PHASES = ("Load", "Scale", "Total")
# Per-run job resources in the pipeline config (threads, MB, minutes): a run's group job must
# ask SLURM for the largest memory and the sum of the runtimes.
RUN_RESOURCES = {
    "Load": {"threads": 1, "mem_mb": 600, "runtime": 3},
    "Scale": {"threads": 1, "mem_mb": 900, "runtime": 4},
    "Total": {"threads": 1, "mem_mb": 500, "runtime": 2},
}
# One asset job asks for two CPUs, unlike every other job.
ASSET_RESOURCES = {"Scale": {"threads": 2, "mem_mb": 700, "runtime": 5}}
# Memory growing with the attempt, as profiles/slurm declares it for the real phases.
LOAD_MEMORY_PER_ATTEMPT_MB = 1000
CORRUPT_RUN = 2
LOCAL_CLUSTER_SETTINGS = yaml.safe_load((LOCAL_CLUSTER_PROFILE / "profile.yaml").read_text())
SUBMISSION_TIMEOUT_S = 300


def _run_label(run: int) -> str:
    return f"{run:04d}"


def _pipeline_config() -> dict:
    config = toy_config()
    for phase in config["phases"]:
        name = phase["class"].rsplit(".", 1)[-1].removesuffix("Phase")
        phase["resources"] = RUN_RESOURCES[name]
        if name in ASSET_RESOURCES:
            phase["asset_resources"] = ASSET_RESOURCES[name]
    return config


@dataclass(frozen=True)
class Submission:
    """One snakemake invocation through the SLURM profile and the jobs it submitted."""

    run: SnakemakeRun
    jobs: list[SlurmJob]

    def run_jobs(self, run: int) -> list[SlurmJob]:
        """The jobs carrying phases of one run, in submission order."""
        label = _run_label(run)
        return [job for job in self.group_jobs if any(r == label for _, r in job.targets())]

    @property
    def group_jobs(self) -> list[SlurmJob]:
        return [job for job in self.jobs if job.comment == f"rule_run_{'_'.join(PHASES)}"]

    @property
    def asset_jobs(self) -> dict[str, SlurmJob]:
        return {
            job.comment.removeprefix("rule_").removesuffix("_assets"): job
            for job in self.jobs
            if job.comment.endswith("_assets")
        }


def _submit(cluster: SlurmCluster, workflow: Workflow, *arguments: str) -> Submission:
    run = workflow.snakemake(
        *profile_arguments(),
        "--set-resources",
        f"Load:mem_mb={LOAD_MEMORY_PER_ATTEMPT_MB} * attempt",
        *arguments,
        env=cluster.environment,
        timeout=SUBMISSION_TIMEOUT_S,
    )
    invocation = slurm_run_id(run)
    return Submission(run, [job for job in cluster.jobs(workflow.root) if job.name == invocation])


@dataclass(frozen=True)
class Scenario:
    """The two submissions, with what the failing one left behind."""

    local: Workflow
    cluster: Workflow
    failing: Submission
    totals_after_failure: list[str]
    failed_run_log: str
    rerun: Submission


@pytest.fixture(scope="module")
def scenario(slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    folder = tmp_path_factory.mktemp("slurm")
    local = Workflow(folder / "local", _pipeline_config())
    local_run = local.snakemake()
    assert local_run.returncode == 0, local_run.output
    cluster = Workflow(folder / "cluster", _pipeline_config())
    corrupt = cluster.root / "inputs" / f"run_{_run_label(CORRUPT_RUN)}.h5"
    original = corrupt.read_bytes()
    corrupt.write_bytes(b"not an HDF5 file: the run's trace was cut short\n")
    failing = _submit(slurm_cluster, cluster)
    totals = [path.name for path in cluster.outputs("Total")]
    failed_run_log = (cluster.root / f"ws/logs/Load/run_{_run_label(CORRUPT_RUN)}.log").read_text()
    corrupt.write_bytes(original)
    rerun = _submit(slurm_cluster, cluster)
    return Scenario(local, cluster, failing, totals, failed_run_log, rerun)


def _retries() -> int:
    return yaml.safe_load((SLURM_PROFILE / "profile.yaml").read_text())["retries"]


def test_corrupt_run_fails_as_its_own_job_while_the_others_complete(scenario: Scenario) -> None:
    failing = scenario.failing
    assert failing.run.returncode != 0
    for run in RUNS:
        states = [job.state for job in failing.run_jobs(run)]
        if run == CORRUPT_RUN:
            assert states == ["FAILED"] * (1 + _retries()), failing.run.output
        else:
            assert states == ["COMPLETED"], failing.run.output
    assert {job.state for job in failing.asset_jobs.values()} == {"COMPLETED"}
    assert len(failing.jobs) == len(PHASES) + len(RUNS) + _retries()
    assert scenario.totals_after_failure == [
        f"run_{_run_label(run)}.parquet" for run in RUNS if run != CORRUPT_RUN
    ]
    corrupt = f"inputs/run_{_run_label(CORRUPT_RUN)}.h5"
    assert f"phase Load failed on inputs trace={corrupt}" in scenario.failed_run_log


def test_each_run_is_one_slurm_job_carrying_all_its_phases(scenario: Scenario) -> None:
    for submission in (scenario.failing, scenario.rerun):
        for job in submission.group_jobs:
            runs = {run for _, run in job.targets()}
            assert len(runs) == 1
            (run,) = runs
            assert job.targets() == {(phase, run) for phase in PHASES}
            if job.state == "COMPLETED":
                log = job.log()
                for phase in PHASES:
                    assert f"(Rule: {phase})" in log, f"{phase} did not run in job {job.job_id}"
    for run in set(RUNS) - {CORRUPT_RUN}:
        assert len(scenario.failing.run_jobs(run)) == 1


def test_resources_reach_slurm(scenario: Scenario) -> None:
    partitions = {job.partition for job in scenario.failing.jobs + scenario.rerun.jobs}
    assert partitions == {LOCAL_CLUSTER_SETTINGS["default-resources"]["slurm_partition"]}
    for submission in (scenario.failing, scenario.rerun):
        for run in RUNS:
            for attempt, job in enumerate(submission.run_jobs(run), start=1):
                memory = dict(RUN_RESOURCES, Load={"mem_mb": LOAD_MEMORY_PER_ATTEMPT_MB * attempt})
                assert job.memory_mb == max(phase["mem_mb"] for phase in memory.values())
                assert job.time_limit_min == sum(r["runtime"] for r in RUN_RESOURCES.values())
                assert job.cpus == max(r["threads"] for r in RUN_RESOURCES.values())
    scale_assets = scenario.failing.asset_jobs["Scale"]
    assert scale_assets.cpus == ASSET_RESOURCES["Scale"]["threads"]
    assert scale_assets.memory_mb == ASSET_RESOURCES["Scale"]["mem_mb"]
    assert scale_assets.time_limit_min == ASSET_RESOURCES["Scale"]["runtime"]


def test_rerun_after_the_failure_resubmits_only_the_missing_run(scenario: Scenario) -> None:
    rerun = scenario.rerun
    assert rerun.run.returncode == 0, rerun.run.output
    assert rerun.run.job_counts == {phase: 1 for phase in PHASES} | {"all": 1}
    (job,) = rerun.jobs
    assert job.state == "COMPLETED"
    assert job.targets() == {(phase, _run_label(CORRUPT_RUN)) for phase in PHASES}


def _artifact_contents(path: Path) -> object:
    if path.suffix == ".parquet":
        return pl.read_parquet(path).to_dicts()
    with h5py.File(path, "r") as handle:
        return {
            "attributes": {key: str(value) for key, value in handle.attrs.items()},
            "datasets": {key: handle[key][()].tolist() for key in handle},
        }


def test_outputs_equal_those_of_a_local_run(scenario: Scenario) -> None:
    for phase in PHASES:
        local = scenario.local.outputs(phase)
        cluster = scenario.cluster.outputs(phase)
        assert [path.name for path in cluster] == [path.name for path in local]
        assert len(local) == len(RUNS)
        for local_path, cluster_path in zip(local, cluster, strict=True):
            assert _artifact_contents(cluster_path) == _artifact_contents(local_path)
    # Not trivially equal: the compared files hold data.
    with h5py.File(scenario.cluster.outputs("Scale")[0], "r") as handle:
        assert handle["data"].size > 0 and np.all(handle["data"][()] > 0)


def _snakemake_processes(workflow: Workflow) -> list[str]:
    """The snakemake started by the test (its children name the folder too)."""
    return [
        line
        for line in processes_in(workflow.root)
        if f"--directory {workflow.root} " in line and "--mode remote" not in line
    ]


def test_interrupt_cancels_the_jobs_and_leaves_no_process(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    workflow = Workflow(tmp_path, _pipeline_config())
    result: list[SnakemakeRun] = []
    runner = threading.Thread(
        target=lambda: result.append(
            workflow.snakemake(*profile_arguments(), env=slurm_cluster.environment)
        )
    )
    runner.start()
    try:
        # Interrupt once all three asset jobs are submitted and one runs: the slurm plugin
        # (2.6.1) does not cancel a job whose sbatch is still in flight (see docs/cluster.md).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            jobs = slurm_cluster.jobs(workflow.root)
            if len(jobs) == len(PHASES) and any(job.state == "RUNNING" for job in jobs):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the asset jobs did not start within 120 s")
        time.sleep(1)  # the running job's snakemake is up by then
        job_processes = [line for line in processes_in(workflow.root) if "--target-jobs" in line]
        assert job_processes, "no job process to leave behind: the test would prove nothing"
    finally:
        # Interrupt snakemake, as Ctrl-C would (also when the wait failed, so that it stops).
        for line in _snakemake_processes(workflow):
            os.kill(int(line.split(":", 1)[0]), signal.SIGINT)
        runner.join(timeout=120)
    assert result and result[0].returncode != 0
    assert "Terminating processes on user request" in result[0].output
    jobs = slurm_cluster.jobs(workflow.root)
    assert len(jobs) == len(PHASES)
    assert {job.state for job in jobs} <= {"CANCELLED", "COMPLETED"}
    assert "CANCELLED" in {job.state for job in jobs}
    # SLURM sends SIGTERM, then SIGKILL after KillWait (5 s), to every process of the job.
    deadline = time.monotonic() + 15
    while processes_in(workflow.root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_in(workflow.root) == []
