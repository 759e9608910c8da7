"""A real one-node SLURM on 127.0.0.1 for the tests of this folder.

The session fixture ``slurm_cluster`` starts munged, slurmctld and slurmd with
``start_slurm.sh`` and stops them by their pids with ``stop_slurm.sh`` when the session ends,
also after a failed test. As root it first installs SLURM and munge when they are missing
(``install_slurm.sh``, apt). The tests skip, with the reason, when not run as root, when the
install fails or when SLURM's ports are taken; with ``SPYRALFLOW_REQUIRE_SLURM=1`` (CI) they
fail instead, so that a broken setup cannot pass silently.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from workflow_runner import REPOSITORY, SnakemakeRun

HERE = Path(__file__).parent
TESTS = HERE.parent

SLURM_ROOT = Path(os.environ.get("SPYRALFLOW_SLURM_ROOT", "/tmp/spyralflow-slurm"))
SLURM_PORTS = (6817, 6818)
REQUIRED_PROGRAMS = ("slurmctld", "slurmd", "sbatch", "squeue", "scancel", "munged")
SLURM_PROFILE = REPOSITORY / "profiles" / "slurm"
LOCAL_CLUSTER_PROFILE = HERE / "local_cluster"
# apt-get update and install can take minutes on a slow mirror.
SCRIPT_TIMEOUT_S = 600
SQUEUE_FIELDS = ("%i", "%j", "%T", "%P", "%C", "%l", "%m", "%k", "%Z", "%V", "%S", "%e")
MEMORY_UNITS_MB = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def unavailable_reason() -> str | None:
    """Why the test SLURM cannot run here, or None when it can.

    As root, SLURM and munge are installed first when missing (``install_slurm.sh``, apt).
    """
    if os.geteuid() != 0:
        return "the test SLURM runs its daemons as root (CI runs these tests as root)"
    if any(shutil.which(program) is None for program in REQUIRED_PROGRAMS):
        installed = run_cluster_script("install_slurm.sh")
        missing = [program for program in REQUIRED_PROGRAMS if shutil.which(program) is None]
        if installed.returncode != 0 or missing:
            return (
                f"{', '.join(missing)} missing and tests/slurm/install_slurm.sh failed: "
                f"{installed.stderr.strip()[-500:]}"
            )
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed: pip install -e ."
    taken = [str(port) for port in SLURM_PORTS if _port_taken(port)]
    if taken:
        return f"port(s) {', '.join(taken)} taken: another SLURM runs on this machine"
    return None


def _minutes(time_limit: str) -> int:
    """Minutes of a SLURM time limit such as ``9:00``, ``3:00:00`` or ``1-02:00:00``."""
    days, _, clock = time_limit.rpartition("-")
    parts = [int(part) for part in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return (int(days or 0) * 24 + hours) * 60 + minutes + (seconds + 59) // 60


def _time(field: str) -> datetime | None:
    return None if field in ("N/A", "Unknown", "") else datetime.fromisoformat(field)


def _megabytes(memory: str) -> int:
    return round(float(memory[:-1]) * MEMORY_UNITS_MB[memory[-1]])


@dataclass(frozen=True)
class SlurmJob:
    """One job as slurmctld records it (kept for MinJobAge = 300 s after it ends).

    Parameters
    ----------
    job_id : int
        SLURM job id.
    name : str
        Job name: the Snakemake executor's SLURM run id, shared by one invocation's jobs.
    state : str
        ``COMPLETED``, ``FAILED``, ``CANCELLED``, ``RUNNING``, ...
    partition : str
        The partition the job was submitted to.
    cpus : int
        Allocated (or requested) CPUs.
    time_limit_min : int
        Time limit in minutes.
    memory_mb : int
        Requested memory per node in MB.
    comment : str
        The executor's comment: ``rule_<rule>_wildcards_...`` or ``rule_<group>_<rules>``.
    workdir : Path
        The job's working directory.
    submitted, started, ended : datetime or None
        When sbatch queued it, when it started and when it ended (1 s resolution); for a job
        still pending or running, squeue's expectation or None.
    """

    job_id: int
    name: str
    state: str
    partition: str
    cpus: int
    time_limit_min: int
    memory_mb: int
    comment: str
    workdir: Path
    submitted: datetime | None
    started: datetime | None
    ended: datetime | None

    @classmethod
    def from_squeue(cls, line: str) -> SlurmJob:
        fields = line.split("|")
        job_id, name, state, partition, cpus, limit, memory, comment, workdir = fields[:9]
        return cls(
            int(job_id),
            name,
            state,
            partition,
            int(cpus),
            _minutes(limit),
            _megabytes(memory),
            comment,
            Path(workdir),
            *(_time(field) for field in fields[9:]),
        )

    def log(self) -> str:
        """The job's output (kept for successful jobs too by the local-cluster profile)."""
        (path,) = (self.workdir / ".snakemake" / "slurm_logs").rglob(f"{self.job_id}.log")
        return path.read_text()

    def targets(self) -> set[tuple[str, str]]:
        """The (rule, run) pairs the job's inner snakemake was told to run (run "" for assets)."""
        match = re.search(r"--target-jobs (.*?) --", self.log())
        assert match, f"no --target-jobs in the log of SLURM job {self.job_id}"
        return {
            (rule, wildcards.removeprefix("run="))
            for rule, wildcards in (
                target.strip("'").split(":", 1) for target in match.group(1).split()
            )
        }


@dataclass(frozen=True)
class SlurmCluster:
    """The running test cluster."""

    root: Path

    @property
    def environment(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.root / "etc" / "slurm.conf")}

    def jobs(self, workdir: Path) -> list[SlurmJob]:
        """Every job recorded for one working directory, in submission order."""
        listing = subprocess.run(
            ["squeue", "--states=all", "--noheader", "--format", "|".join(SQUEUE_FIELDS)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **self.environment},
        ).stdout
        jobs = [SlurmJob.from_squeue(line) for line in listing.splitlines() if line.strip()]
        return sorted(
            (job for job in jobs if job.workdir == Path(workdir)), key=lambda job: job.job_id
        )


def profile_arguments() -> tuple[str, ...]:
    """The shipped SLURM profile, with the test cluster's additions layered on top."""
    return ("--profile", str(SLURM_PROFILE), "--profile", str(LOCAL_CLUSTER_PROFILE))


def slurm_run_id(run: SnakemakeRun) -> str:
    """The id the slurm executor gives one invocation (it names every job it submits)."""
    match = re.search(r"SLURM run ID: ([0-9a-f-]+)", run.output)
    assert match, f"no SLURM run ID in the snakemake output:\n{run.output[-3000:]}"
    return match.group(1)


def processes_in(folder: Path) -> list[str]:
    """Processes working in ``folder`` or naming it on their command line (pid: command)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            working = os.readlink(entry / "cwd")
        except OSError:  # the process ended meanwhile
            continue
        if working.startswith(str(folder)) or str(folder) in command:
            found.append(f"{entry.name}: {command}")
    return found


def run_cluster_script(name: str, **environment: str) -> subprocess.CompletedProcess:
    """Run one of this folder's scripts (install, start, stop) for the cluster in ``SLURM_ROOT``."""
    return subprocess.run(
        ["bash", str(HERE / name)],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
        env={**os.environ, "SPYRALFLOW_SLURM_ROOT": str(SLURM_ROOT), **environment},
    )


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A one-node SLURM for the session, stopped by pid at the end whatever happened."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("SPYRALFLOW_REQUIRE_SLURM") == "1":
            pytest.fail(f"SPYRALFLOW_REQUIRE_SLURM=1 but {reason}")
        pytest.skip(reason)
    try:
        started = run_cluster_script("start_slurm.sh")
        if started.returncode != 0:
            pytest.fail(f"start_slurm.sh failed:\n{started.stdout}\n{started.stderr}")
        yield SlurmCluster(SLURM_ROOT)
    finally:
        stopped = run_cluster_script("stop_slurm.sh")
        assert stopped.returncode == 0, f"stop_slurm.sh failed:\n{stopped.stderr}"
