"""The generator end to end: real snakemake runs of small phases in temporary folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import polars as pl
import pytest
from workflow_runner import (
    HERE,
    REPOSITORY,
    RUNS,
)
from workflow_runner import (
    ToyWorkflow as Workflow,
)
from workflow_runner import (
    toy_config as _config,
)
from workflow_runner import (
    write_toy_inputs as _write_inputs,
)

from spyralflow.framework.provenance import read_provenance


@pytest.fixture
def workflow(tmp_path: Path) -> Workflow:
    return Workflow(tmp_path)


def _changed(before: dict, after: dict) -> set[str]:
    return {path.split("/")[1] for path in before if before[path] != after[path]}


def test_full_run_then_nothing_to_do(workflow: Workflow) -> None:
    first = workflow.snakemake()
    assert first.returncode == 0, first.output
    assert first.job_counts == {
        "Load": 3,
        "Load_assets": 1,
        "Scale": 3,
        "Scale_assets": 1,
        "Total": 3,
        "Total_assets": 1,
        "all": 1,
    }
    totals = pl.concat([pl.read_parquet(path) for path in workflow.outputs("Total")])
    assert totals["run"].to_list() == list(RUNS)
    # Load adds 1.0 and uniform noise in [0, 1); Scale multiplies by 3.
    for run, total in zip(totals["run"], totals["total"], strict=True):
        base = 3 * (np.arange(6.0) * run + 1.0).sum()
        assert base <= total < base + 3 * 6
    provenance = read_provenance(workflow.outputs("Scale")[0])
    assert provenance["parameters"] == {"scale_params": {"factor": 3.0, "table_size": 4}}
    assert provenance["seed"] == 11 and provenance["run"] == 1
    assert len(provenance["code_hash"]) == 16
    log = (workflow.root / "ws/logs/Load/run_0002.log").read_text()
    assert "progress: run 2 | Load | 3/3 (100%)" in log
    second = workflow.snakemake()
    assert second.returncode == 0 and second.nothing_to_do, second.output


def test_middle_parameter_edit_reruns_it_and_downstream(workflow: Workflow) -> None:
    assert workflow.snakemake().returncode == 0
    before = workflow.mtimes()
    config = workflow.config
    config["phases"][1]["parameters"]["scale_params"]["factor"] = 5.0
    workflow.write_config(config)
    rerun = workflow.snakemake()
    assert rerun.returncode == 0, rerun.output
    assert rerun.job_counts == {"Scale": 3, "Total": 3, "Scale_assets": 1, "all": 1}
    assert _changed(before, workflow.mtimes()) == {"Scale", "Total"}
    assert workflow.snakemake().nothing_to_do


def test_source_edit_reruns_that_phase_and_downstream(workflow: Workflow) -> None:
    assert workflow.snakemake().returncode == 0
    before = workflow.mtimes()
    source = workflow.code / "toyphases" / "scale.py"
    source.write_text(source.read_text() + "\nUNUSED_CONSTANT = 1  # a code edit\n")
    rerun = workflow.snakemake()
    assert rerun.returncode == 0, rerun.output
    assert {"Scale", "Total"} <= set(rerun.job_counts)
    assert "Load" not in rerun.job_counts
    assert _changed(before, workflow.mtimes()) == {"Scale", "Total"}


def test_edit_of_a_shared_module_reruns_every_phase_using_it(workflow: Workflow) -> None:
    assert workflow.snakemake().returncode == 0
    before = workflow.mtimes()
    common = workflow.code / "toyphases" / "common.py"
    common.write_text(common.read_text() + "\nSHARED_EDIT = True\n")
    assert workflow.snakemake().returncode == 0
    assert _changed(before, workflow.mtimes()) == {"Load", "Scale", "Total"}


def test_comment_and_docstring_edits_rerun_nothing(workflow: Workflow) -> None:
    assert workflow.snakemake().returncode == 0
    source = workflow.code / "toyphases" / "scale.py"
    text = source.read_text()
    edited = text.replace(
        '"""Toy middle phase with a one-time asset."""',
        '"""Toy middle phase with a one-time asset.\n\nA longer docstring now."""',
    ).replace(
        "class ScalePhase(PhaseLike):", "# A comment above the class.\nclass ScalePhase(PhaseLike):"
    )
    assert edited != text
    source.write_text(edited + "\n# a trailing comment\n")
    dry = workflow.snakemake("-n")
    assert dry.returncode == 0 and dry.nothing_to_do, dry.output


def test_assets_built_once_and_new_asset_parameters_rerun_consumers(tmp_path: Path) -> None:
    workflow = Workflow(tmp_path)
    _write_inputs(tmp_path / "inputs", runs=range(1, 9))
    assert workflow.snakemake().returncode == 0
    builds = tmp_path / "ws" / "asset_builds.txt"
    assert len(builds.read_text().splitlines()) == 1  # one build for eight runs
    assert workflow.snakemake().nothing_to_do
    assert len(builds.read_text().splitlines()) == 1
    before = workflow.mtimes()
    config = workflow.config
    config["phases"][1]["parameters"]["scale_params"]["table_size"] = 6
    workflow.write_config(config)
    rerun = workflow.snakemake()
    assert rerun.returncode == 0
    assert rerun.job_counts["Scale_assets"] == 1 and rerun.job_counts["Scale"] == 8
    assert len(builds.read_text().splitlines()) == 2
    assert (tmp_path / "ws/Scale_assets/table_6.npy").exists()
    assert _changed(before, workflow.mtimes()) == {"Scale", "Total"}
    # Back to the old parameters: the old asset is still there, so nothing at all is rebuilt.
    config["phases"][1]["parameters"]["scale_params"]["table_size"] = 4
    workflow.write_config(config)
    back = workflow.snakemake()
    assert "Scale_assets" not in back.job_counts


def test_failing_run_leaves_the_others_complete(workflow: Workflow) -> None:
    config = workflow.config
    config["phases"][0]["parameters"]["load_params"]["fail_on_run"] = 2
    workflow.write_config(config)
    result = workflow.snakemake("--keep-going")
    assert result.returncode != 0
    assert [path.name for path in workflow.outputs("Total")] == [
        "run_0001.parquet",
        "run_0003.parquet",
    ]
    assert not (workflow.root / "ws/Load/run_0002.h5").exists()
    log = (workflow.root / "ws/logs/Load/run_0002.log").read_text()
    assert "run 2 (run_0002), phase Load failed on inputs trace=inputs/run_0002.h5" in log
    assert "deliberate failure for run 2" in log


def test_runs_are_seeded_and_reproducible(tmp_path: Path) -> None:
    values = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        workflow = Workflow(tmp_path / name, _config(seed=seed))
        assert workflow.snakemake().returncode == 0
        with h5py.File(workflow.outputs("Load")[0]) as handle:
            values.append(handle["data"][()])
    np.testing.assert_array_equal(values[0], values[1])
    assert not np.array_equal(values[0], values[2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": -3}, "config key 'seed': -3 is less than the minimum of 0"),
        ({"runs": {"first": 4}}, "config key 'runs': 'last' is a required property"),
        ({"workspace": 3}, "config key 'workspace': 3 is not of type 'string'"),
        ({"phases": [{"class": "NoDots"}]}, "config key 'phases[0].class'"),
        ({"wrong_key": 1}, "Additional properties are not allowed ('wrong_key' was unexpected)"),
    ],
)
def test_bad_config_is_one_clear_error_and_starts_no_job(
    workflow: Workflow, change: dict, message: str
) -> None:
    workflow.write_config(_config(**change))
    result = workflow.snakemake()
    assert result.returncode != 0
    assert message in result.output
    assert not (workflow.root / "ws").exists()


def test_unknown_phase_parameter_names_the_phase_and_field(workflow: Workflow) -> None:
    config = workflow.config
    config["phases"][1]["parameters"]["scale_params"]["factr"] = 2
    workflow.write_config(config)
    result = workflow.snakemake()
    assert result.returncode != 0
    assert "phases[1]" in result.output and "unknown field(s) factr of ScaleParameters" in (
        result.output
    )
    assert not (workflow.root / "ws").exists()


def test_broken_schema_chain_names_the_phase_pair(workflow: Workflow) -> None:
    config = workflow.config
    config["phases"] = [config["phases"][0], config["phases"][2], config["phases"][1]]
    workflow.write_config(config)
    result = workflow.snakemake()
    assert result.returncode != 0
    assert "the phases do not chain" in result.output
    assert "LoadPhase->TotalPhase" in result.output
    assert not (workflow.root / "ws").exists()


def test_pipeline_can_start_at_a_later_phase(tmp_path: Path) -> None:
    first = Workflow(tmp_path / "full")
    assert first.snakemake().returncode == 0
    config = _config(input_folder=str(tmp_path / "full/ws/Load"))
    config["phases"] = config["phases"][1:]
    later = Workflow(tmp_path / "later", config)
    result = later.snakemake()
    assert result.returncode == 0, result.output
    assert [path.name for path in later.outputs("Total")] == [
        path.name for path in first.outputs("Total")
    ]


def test_spyral_written_phase_runs_unchanged(workflow: Workflow) -> None:
    config = workflow.config
    config["phases"].append(
        {
            "class": "userphases.negate.NegatePhase",
            "parameters": {"params": {"shift": 0.5, "output_name": "negated"}},
        }
    )
    config["phases"][2:3] = []
    workflow.write_config(config)
    result = workflow.snakemake()
    assert result.returncode == 0, result.output
    negated = sorted((workflow.root / "ws/Negate").glob("run_*.h5"))
    assert len(negated) == 3
    with h5py.File(negated[0]) as negated_file, h5py.File(workflow.outputs("Scale")[0]) as scaled:
        np.testing.assert_allclose(negated_file["negated"][()], 0.5 - scaled["data"][()])
    assert read_provenance(negated[0])["phase_class"] == "userphases.negate.NegatePhase"


def test_cluster_generic_profile_submits_one_job_per_run_group(workflow: Workflow) -> None:
    submissions = workflow.root / "submissions"
    local = HERE / "local_cluster"
    result = workflow.snakemake(
        "--profile",
        str(REPOSITORY / "profiles" / "cluster-generic"),
        "--cluster-generic-submit-cmd",
        str(local / "submit.sh"),
        "--cluster-generic-status-cmd",
        str(local / "status.sh"),
        "--cluster-generic-cancel-cmd",
        "kill",
        "--seconds-between-status-checks",
        "1",
        "--latency-wait",
        "5",
        "--jobs",
        "4",
        env={"SPYRALFLOW_TEST_SUBMISSIONS": str(submissions)},
    )
    assert result.returncode == 0, result.output
    lines = (submissions / "submissions.txt").read_text().splitlines()
    run_groups = [line for line in lines if "Load:run=" in line]
    asset_jobs = [line for line in lines if "_assets" in line]
    assert len(asset_jobs) == 3 and len(lines) == 3 + len(RUNS)
    assert len(run_groups) == len(RUNS)
    for run in RUNS:
        (group,) = [line for line in run_groups if f"Load:run={run:04d}" in line]
        assert f"Scale:run={run:04d}" in group and f"Total:run={run:04d}" in group
    assert len(workflow.outputs("Total")) == len(RUNS)


def test_rules_command_prints_the_generated_rules(workflow: Workflow) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "spyralflow.cli",
            "rules",
            "--configfile",
            "config.yaml",
            "--schema",
            str(REPOSITORY / "workflow/schemas/config.schema.yaml"),
        ],
        cwd=workflow.root,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(workflow.code), "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout
    for rule in ("Load", "Load_assets", "Scale", "Scale_assets", "Total", "Total_assets"):
        assert f"\nrule {rule}:\n" in text
    assert "--incoming values={input.values:q}" in text
    assert "run:" not in text.replace("--run ", "")


def test_lint_is_clean(workflow: Workflow) -> None:
    result = workflow.snakemake("--lint")
    assert result.returncode == 0
    assert "Congratulations, your workflow is in a good condition!" in result.output
