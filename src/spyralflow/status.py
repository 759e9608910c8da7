"""``spyralflow status``: where every run of a workspace stands, from the logs on disk.

Example::

    spyralflow status                      # in the folder snakemake runs in
    spyralflow status --directory analysis --configfile analysis/config.yaml

It reads only files, so it works while snakemake runs, after it finished or crashed, and on a
cluster's shared file system: the phase jobs' logs ``<workspace>/logs/<phase>/run_NNNN.log``
(their ``progress:`` and ``error:`` lines) and Snakemake's own state
(``.snakemake/incomplete/``, the outputs of jobs that started and have not finished, and the
newest ``.snakemake/log/*.snakemake.log``). Per run it prints the furthest phase, its state
(done, running, interrupted, failed) and a progress bar of a running job; then each failure
with its one-line cause.

Module-level imports stay light (argparse only): ``spyralflow --help`` imports this module.
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
from dataclasses import dataclass
from pathlib import Path

DESCRIPTION = """\
Show where every run of a workspace stands, from the files on disk (while snakemake runs, after
it finished or crashed): per run its furthest phase and state (done, running, interrupted,
failed), a progress bar of a running job from its log's progress lines, then each failed job with
its one-line cause and log.

  spyralflow status
  spyralflow status --directory analysis --configfile analysis/config.yaml
"""
DONE, RUNNING, INTERRUPTED, FAILED, WAITING = "done", "running", "interrupted", "failed", "waiting"
BAR_WIDTH = 24
CAUSE_WIDTH = 200
_PROGRESS = re.compile(r"^progress: run (-?\d+) \| (.*?) \| (\d+)/(\d+) ")
_ERROR = re.compile(r"^spyralflow [\w-]+: error: (.*)$")
_RUN_LOG = re.compile(r"^run_(\d+)\.log$")
_STEPS = re.compile(r"(\d+) of (\d+) steps \((\d+%)\) done")


@dataclass(frozen=True)
class JobState:
    """What one phase job of one run has done, from its log.

    Parameters
    ----------
    phase : str
        The phase name.
    run : int
        The run number.
    state : str
        ``done``, ``running``, ``interrupted`` (started, not finished, no snakemake running) or
        ``failed``.
    done, total : int
        The last progress line's steps (0, 0 without one).
    cause : str
        The one-line error of a failed job.
    log : Path
        The job's log file.
    """

    phase: str
    run: int
    state: str
    done: int
    total: int
    cause: str
    log: Path


def incomplete_outputs(directory: Path) -> list[str]:
    """Outputs of jobs Snakemake started and has not finished (``.snakemake/incomplete``).

    Snakemake names each marker by the URL-safe base64 of the output path, split into folders
    (all but the last prefixed with ``@``) when the name is long.
    """
    folder = directory / ".snakemake" / "incomplete"
    outputs = []
    for marker in folder.rglob("*") if folder.is_dir() else []:
        if not marker.is_file():
            continue
        parts = marker.relative_to(folder).parts
        encoded = "".join(part.removeprefix("@") for part in parts)
        try:
            outputs.append(base64.urlsafe_b64decode(encoded).decode())
        except (ValueError, UnicodeDecodeError):
            continue
    return outputs


def snakemake_running(directory: Path) -> bool:
    """Whether a snakemake holds this folder's lock."""
    locks = directory / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir())


def read_job(log: Path, phase: str, run: int, started: bool, running: bool) -> JobState:
    """The state of one job from its log; ``started``: Snakemake lists its output incomplete."""
    done = total = 0
    cause = ""
    for line in log.read_text(errors="replace").splitlines():
        if match := _PROGRESS.match(line):
            done, total = int(match.group(3)), int(match.group(4))
        elif match := _ERROR.match(line):
            cause = match.group(1)
    # Snakemake keeps an incomplete marker from a job's start until its success, also when it
    # is killed; a log without one belongs to a job that finished.
    if cause:
        state = FAILED
    elif started:
        state = RUNNING if running else INTERRUPTED
    else:
        state = DONE
    return JobState(phase, run, state, done, total, cause[:CAUSE_WIDTH], log)


def phase_order(directory: Path, logs: Path) -> list[str]:
    """Phase names in pipeline order (the newest generated plan), else the log folders."""
    import json

    plans = sorted(
        (directory / ".spyralflow").glob("plan-*.json"), key=lambda path: path.stat().st_mtime
    )
    found = sorted(path.name for path in logs.iterdir() if path.is_dir()) if logs.is_dir() else []
    if plans:
        ordered = list(json.loads(plans[-1].read_text()).get("artifacts", {}))
        # Folders outside the plan (the simulation's) hold the steps before the phases.
        return [name for name in found if name not in ordered] + ordered
    return found


def collect(directory: Path, workspace: Path) -> list[JobState]:
    """Every job with a log in ``workspace`` (relative to ``directory``), in pipeline order."""
    logs = workspace / "logs"
    incomplete = incomplete_outputs(directory)
    running = snakemake_running(directory)
    jobs = []
    for phase in phase_order(directory, logs):
        for log in sorted((logs / phase).glob("run_*.log")):
            match = _RUN_LOG.match(log.name)
            if match is None:
                continue
            run = int(match.group(1))
            stem = re.compile(rf"(^|/){re.escape(phase)}/run_0*{run}[._]")
            started = any(stem.search(output) for output in incomplete)
            jobs.append(read_job(log, phase, run, started, running))
    return jobs


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[#####-----]  50%`` for ``done`` of ``total`` steps."""
    if total <= 0:
        return "(no progress line yet)"
    filled = round(width * min(done, total) / total)
    return f"[{'#' * filled}{'-' * (width - filled)}] {100 * min(done, total) // total:3d}%"


def overall_line(directory: Path) -> str:
    """The newest Snakemake log's last ``N of M steps`` line, or a note that there is none."""
    logs = sorted(
        (directory / ".snakemake" / "log").glob("*.snakemake.log"),
        key=lambda path: path.stat().st_mtime,
    )
    if not logs:
        return "snakemake: no log in .snakemake/log"
    steps = _STEPS.findall(logs[-1].read_text(errors="replace"))
    summary = (
        f"{steps[-1][0]} of {steps[-1][1]} steps ({steps[-1][2]}) done" if steps else "started"
    )
    return f"snakemake: {summary} (log {logs[-1]})"


def render(jobs: list[JobState], directory: Path) -> str:
    """The status report: one line per run, then the failures."""
    lines = [overall_line(directory)]
    if snakemake_running(directory):
        lines.append("snakemake is running (the folder is locked)")
    by_run: dict[int, list[JobState]] = {}
    for job in jobs:
        by_run.setdefault(job.run, []).append(job)
    if not by_run:
        lines.append("no phase job has written a log yet")
    for run in sorted(by_run):
        run_jobs = by_run[run]
        current = next((job for job in run_jobs if job.state != DONE), run_jobs[-1])
        text = f"run {run:4d}  {current.phase:<14s} {current.state:<11s}"
        if current.state in (RUNNING, INTERRUPTED):
            text += " " + progress_bar(current.done, current.total)
        phases_done = sum(job.state == DONE for job in run_jobs)
        lines.append(f"{text}  ({phases_done} phase(s) done)")
    failures = [job for job in jobs if job.state == FAILED]
    if failures:
        lines.append(f"{len(failures)} failed job(s):")
        lines.extend(f"  run {job.run} {job.phase}: {job.cause}  [{job.log}]" for job in failures)
    return "\n".join(lines) + "\n"


def _workspace(directory: Path, configfile: Path) -> Path:
    import yaml

    path = configfile if configfile.is_absolute() else directory / configfile
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist; give --configfile")
    config = yaml.safe_load(path.read_text()) or {}
    if "workspace" not in config:
        raise ValueError(f"config file {path} has no 'workspace' key")
    workspace = Path(config["workspace"])
    return workspace if workspace.is_absolute() else directory / workspace


def _status(arguments: argparse.Namespace) -> None:
    directory = Path(arguments.directory)
    workspace = _workspace(directory, Path(arguments.configfile))
    sys.stdout.write(render(collect(directory, workspace), directory))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``status`` subcommand."""
    parser = subparsers.add_parser(
        "status",
        help="show every run's phase, running jobs' progress and failures",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--directory", type=Path, default=Path("."), help="the folder snakemake runs in"
    )
    parser.add_argument(
        "--configfile",
        type=Path,
        default=Path("config/config.yaml"),
        help="the pipeline config (for its workspace), relative to --directory",
    )
    parser.set_defaults(handler=_status)
