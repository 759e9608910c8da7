"""What one SLURM job costs: submission-to-completion overhead of the toy pipeline on SLURM.

Submits the toy pipeline of the workflow tests (three phases per run plus one asset job per
phase) through ``profiles/slurm`` to the one-node test SLURM of ``tests/slurm`` twice: grouped,
as shipped (each run is one job carrying its three phases), and ungrouped (each phase of each
run is a job of its own). For every SLURM job it takes, from slurmctld's records, the time
from submission to completion and subtracts the phases' own time (their benchmark files): what
is left is the overhead of running a phase as a SLURM job. The baseline is the same workflow
run locally (``--cores 2``), measured in the same script.

Usage (root, SLURM installed by ``tests/slurm/install_slurm.sh``, no other SLURM running)::

    python benchmarks/bench_slurm_overhead.py [--runs 4]

It starts the test SLURM (two CPUs, as many as ``--jobs``, so that no job waits for a CPU)
and stops it by pid at the end.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))

from slurm.conftest import (  # noqa: E402
    SLURM_ROOT,
    SlurmCluster,
    SlurmJob,
    profile_arguments,
    run_cluster_script,
    slurm_run_id,
    unavailable_reason,
)
from workflow_runner import ToyWorkflow as Workflow  # noqa: E402
from workflow_runner import toy_config, write_toy_inputs  # noqa: E402

PHASES = ("Load", "Scale", "Total")
# Snakemake submits at most this many jobs at once: the node's CPUs, so no job queues for one.
CONCURRENT_JOBS = 2
# Each phase of each run in a group of its own: one SLURM job per phase and run.
UNGROUPED = ("--groups", *(f"{phase}={phase}_alone" for phase in PHASES))


@dataclass(frozen=True)
class JobCost:
    """One SLURM job: what it carried and where its time went (seconds)."""

    kind: str
    phases: int
    queued_s: float
    in_job_overhead_s: float
    overhead_s: float


def _benchmark_seconds(workflow: Workflow, rule: str, run: str) -> float:
    """The ``s`` column of the benchmark file a rule's job wrote."""
    folder = workflow.root / "ws" / "benchmarks"
    if rule.endswith("_assets"):
        (path,) = (folder / rule.removesuffix("_assets")).glob("manifest-*.tsv")
    else:
        path = folder / rule / f"run_{run}.tsv"
    with path.open() as handle:
        return float(next(csv.DictReader(handle, delimiter="\t"))["s"])


def _cost(workflow: Workflow, job: SlurmJob) -> JobCost:
    targets = job.targets()
    phase_seconds = sum(_benchmark_seconds(workflow, rule, run) for rule, run in targets)
    kind = "asset job" if all(rule.endswith("_assets") for rule, _ in targets) else "run job"
    queued = (job.started - job.submitted).total_seconds()
    running = (job.ended - job.started).total_seconds()
    return JobCost(
        kind, len(targets), queued, running - phase_seconds, queued + running - phase_seconds
    )


@dataclass(frozen=True)
class Submission:
    """One snakemake invocation through the SLURM profile (seconds)."""

    wall_s: float
    first_sbatch_s: float
    exit_after_last_job_s: float
    costs: list[JobCost]


def _submit(cluster: SlurmCluster, workflow: Workflow, *arguments: str) -> Submission:
    launched = datetime.now()
    run = workflow.snakemake(
        *profile_arguments(), "--jobs", str(CONCURRENT_JOBS), *arguments, env=cluster.environment
    )
    finished = datetime.now()
    if run.returncode != 0:
        sys.exit(f"the SLURM submission failed:\n{run.output[-4000:]}")
    invocation = slurm_run_id(run)
    jobs = [job for job in cluster.jobs(workflow.root) if job.name == invocation]
    # Around the jobs: snakemake's start-up plus the executor's pause before each sbatch
    # (plugin 2.6.1 sleeps 5 s), and the status polling that notices the last job's end.
    return Submission(
        (finished - launched).total_seconds(),
        (min(job.submitted for job in jobs) - launched).total_seconds(),
        (finished - max(job.ended for job in jobs)).total_seconds(),
        [_cost(workflow, job) for job in jobs],
    )


def _summary(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):5.1f} ± {spread:3.1f}"


def _report(label: str, submission: Submission, runs: int, local_s: float) -> None:
    costs = submission.costs
    print(
        f"\n{label}: {len(costs)} SLURM jobs, wall {submission.wall_s:.1f} s "
        f"({submission.wall_s / local_s:.1f}x local)\n"
        f"  first sbatch {submission.first_sbatch_s:.0f} s after snakemake started; "
        f"snakemake ended {submission.exit_after_last_job_s:.0f} s after the last job ended"
    )
    for kind in sorted({cost.kind for cost in costs}):
        chosen = [cost for cost in costs if cost.kind == kind]
        print(
            f"  {kind:9s} x{len(chosen):2d} ({chosen[0].phases} phase(s) each): "
            f"queued {_summary([c.queued_s for c in chosen])} s, "
            f"in-job overhead {_summary([c.in_job_overhead_s for c in chosen])} s, "
            f"submission to end minus phase time {_summary([c.overhead_s for c in chosen])} s"
        )
    run_overhead = sum(cost.overhead_s for cost in costs if cost.kind == "run job") / runs
    print(f"  overhead per run (all its jobs): {run_overhead:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4, help="runs of the toy pipeline")
    arguments = parser.parse_args()
    reason = unavailable_reason()
    if reason is not None:
        sys.exit(f"cannot start the test SLURM: {reason}")
    runs = range(1, arguments.runs + 1)
    with tempfile.TemporaryDirectory(prefix="bench_slurm_") as folder:
        workflows = {}
        for name in ("local", "grouped", "ungrouped"):
            workflows[name] = Workflow(Path(folder) / name, toy_config())
            write_toy_inputs(workflows[name].root / "inputs", runs=runs)
        started = time.perf_counter()
        local = workflows["local"].snakemake()
        local_s = time.perf_counter() - started
        if local.returncode != 0:
            sys.exit(f"the local baseline failed:\n{local.output[-4000:]}")
        print(f"toy pipeline, {len(runs)} runs x {len(PHASES)} phases + {len(PHASES)} asset jobs")
        print(f"baseline, local run (--cores 2): wall {local_s:.1f} s")
        launched = run_cluster_script("start_slurm.sh", SPYRALFLOW_SLURM_CPUS=str(CONCURRENT_JOBS))
        if launched.returncode != 0:
            sys.exit(f"start_slurm.sh failed:\n{launched.stdout}{launched.stderr}")
        try:
            cluster = SlurmCluster(SLURM_ROOT)
            grouped = _submit(cluster, workflows["grouped"])
            ungrouped = _submit(cluster, workflows["ungrouped"], *UNGROUPED)
        finally:
            run_cluster_script("stop_slurm.sh")
        _report("grouped (as shipped: one job per run)", grouped, len(runs), local_s)
        _report("ungrouped (one job per phase and run)", ungrouped, len(runs), local_s)


if __name__ == "__main__":
    main()
