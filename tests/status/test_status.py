"""``spyralflow status`` on a real toy workflow run (with a failing run) and on a job caught in
the middle of its work."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path

from workflow_runner import ToyWorkflow, toy_config

from spyralflow.framework.status import ProgressLog, StatusMessage
from spyralflow.status import collect, incomplete_outputs, progress_bar, render


def _status(root: Path) -> str:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "spyralflow.cli",
            "status",
            "--directory",
            str(root),
            "--configfile",
            "config.yaml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_status_of_a_finished_run_with_a_failure(tmp_path: Path) -> None:
    config = toy_config()
    config["phases"][0]["parameters"]["load_params"]["fail_on_run"] = 2
    workflow = ToyWorkflow(tmp_path, config)
    result = workflow.snakemake("--keep-going")
    assert result.returncode != 0
    output = _status(tmp_path)
    lines = output.splitlines()
    assert lines[0].startswith("snakemake: ") and "steps" in lines[0]
    run_lines = {int(line.split()[1]): line for line in lines if line.startswith("run ")}
    assert sorted(run_lines) == [1, 2, 3]
    assert (
        "Total" in run_lines[1] and "done" in run_lines[1] and "(3 phase(s) done)" in run_lines[1]
    )
    assert "Load" in run_lines[2] and "failed" in run_lines[2]
    assert "1 failed job(s):" in output
    failure = next(line for line in lines if line.startswith("  run 2 Load: "))
    assert "deliberate failure for run 2" in failure
    assert "logs/Load/run_0002.log" in failure


def test_a_running_job_shows_its_progress_bar(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    log = workspace / "logs" / "Scale" / "run_0004.log"
    log.parent.mkdir(parents=True)
    stream = io.StringIO()
    progress = ProgressLog(stream, min_interval_s=0.0)
    for _ in range(30):
        progress.put(StatusMessage("Scale", 1, 80, 4))
    log.write_text("2026-12-01 INFO run 4 (run_0004), phase Scale: starting\n" + stream.getvalue())
    # Snakemake's own marker of a started job: the output path, URL-safe base64.
    marker = base64.urlsafe_b64encode(b"ws/Scale/run_0004.h5").decode()
    incomplete = tmp_path / ".snakemake" / "incomplete"
    incomplete.mkdir(parents=True)
    (incomplete / marker).write_text("")
    assert incomplete_outputs(tmp_path) == ["ws/Scale/run_0004.h5"]
    (tmp_path / ".snakemake" / "locks").mkdir()
    (tmp_path / ".snakemake" / "locks" / "0.output.lock").write_text("")
    jobs = collect(tmp_path, workspace)
    assert [(job.phase, job.run, job.state, job.done, job.total) for job in jobs] == [
        ("Scale", 4, "running", 30, 80)
    ]
    text = render(jobs, tmp_path)
    assert "snakemake is running" in text
    assert progress_bar(30, 80) in text and "37%" in text
    (tmp_path / ".snakemake" / "locks" / "0.output.lock").unlink()
    assert collect(tmp_path, workspace)[0].state == "interrupted"
