"""``spyralflow why`` on a real snakemake run of the toy pipeline, after edits."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import pytest
from workflow_runner import ToyWorkflow, run_why, toy_config

from spyralflow.generator.why import Record, parameter_changes, read_records

# Long enough that Snakemake splits the record names into '@' folders (255-byte file names).
WORKSPACE = "workspace_" + "w" * 200


def _why(workflow: ToyWorkflow) -> subprocess.CompletedProcess:
    return run_why(workflow.root, python_path=[workflow.code])


@pytest.mark.slow
def test_why_names_the_changed_keys_and_code_after_a_real_run(tmp_path: Path) -> None:
    workflow = ToyWorkflow(tmp_path, toy_config(workspace=WORKSPACE))
    before = _why(workflow)
    assert before.returncode == 1 and "no Snakemake metadata" in before.stderr
    assert workflow.snakemake().returncode == 0
    assert any(path.name.startswith("@") for path in (tmp_path / ".snakemake/metadata").iterdir())
    fresh = _why(workflow)
    assert fresh.returncode == 0, fresh.stderr
    # 3 runs and the asset manifest per phase
    assert fresh.stdout.splitlines() == [
        f"{phase}: no change (4 outputs)" for phase in ("Load", "Scale", "Total")
    ]

    config = workflow.config
    config["phases"][1]["parameters"]["scale_params"]["factor"] = 5.0
    workflow.write_config(config)
    source = workflow.code / "toyphases" / "load.py"
    source.write_text(source.read_text() + "\nEDITED = True  # a code edit changes the code hash\n")
    edited = _why(workflow)
    assert edited.returncode == 0, edited.stderr
    lines = edited.stdout.splitlines()
    assert re.fullmatch(
        r"Load: code changed \(hash [0-9a-f]{16} -> [0-9a-f]{16}\) \(4 of 4 outputs\)", lines[0]
    )
    assert lines[1:] == [
        "Scale: scale_params.factor 3.0 -> 5.0 (4 of 4 outputs)",
        "Total: no change of its own; reruns after Load, Scale",
    ]
    # Snakemake agrees on what reruns, and says it at far greater length.
    dry = workflow.snakemake("-n")
    assert {"Load", "Scale", "Total"} <= set(dry.job_counts)
    assert "Params have changed since last execution" in dry.output
    assert len(edited.stdout) < 300 < len(dry.output)


def test_parameter_changes_name_nested_added_and_removed_keys() -> None:
    before = {"cluster_params": {"min_cloud_size": 50, "old": "x"}, "same": [1, 2]}
    after = {"cluster_params": {"min_cloud_size": 60, "new": {"a": True}}, "same": [1, 2]}
    assert parameter_changes(before, after) == [
        "cluster_params.min_cloud_size 50 -> 60",
        "cluster_params.new.a (absent) -> true",
        'cluster_params.old "x" -> (absent)',
    ]
    assert parameter_changes(before, before) == []


def test_unreadable_records_are_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "metadata"
    folder.mkdir()
    good = base64.urlsafe_b64encode(b"ws/Load/run_0001.h5").decode()
    (folder / good).write_text(json.dumps({"rule": "Load", "shellcmd": "x", "params": ["1"]}))
    (folder / "bm90LWpzb24=").write_text('{"rule": "Lo')  # being written
    assert read_records(folder) == [Record("ws/Load/run_0001.h5", "Load", "x", ("1",))]
    assert "skipped 1 unreadable metadata records" in caplog.text
    assert "bm90LWpzb24=" in caplog.text
