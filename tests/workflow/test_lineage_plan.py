"""Lineage digests and asset keys of the shipped pipeline, from the plan (no snakemake run)."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
import yaml
from workflow_runner import REPOSITORY

from spyralflow.framework.config import parse_config
from spyralflow.generator import prepare_workflow
from spyralflow.generator.plan import build_plan
from spyralflow.generator.workspace import OWNER_FILE

SCHEMA = REPOSITORY / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    shutil.copytree(REPOSITORY / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    return yaml.safe_load((tmp_path / "config" / "config.yaml").read_text())


def _plan(raw: dict) -> dict[str, tuple[str, str, dict]]:
    plan = build_plan(parse_config(raw, SCHEMA))
    return {p.name: (p.lineage, p.asset_manifest, p.input_lineages) for p in plan.phases}


def test_each_phase_expects_the_lineage_of_the_phase_that_made_its_input(shipped: dict) -> None:
    plan = _plan(shipped)
    names = list(plan)
    assert len({lineage for lineage, _, _ in plan.values()}) == len(names)
    assert plan[names[0]][2] == {}
    for previous, name in itertools.pairwise(names):
        expected = plan[name][2]
        assert plan[previous][0] in expected.values()
    # The solver reads the clusters the Cluster phase wrote, passed on by Estimation.
    assert plan["InterpSolver"][2]["cluster"] == plan["Cluster"][0]
    assert plan["InterpSolver"][2]["estimation"] == plan["Estimation"][0]


def test_upstream_parameter_edit_changes_every_downstream_lineage(shipped: dict) -> None:
    before = _plan(shipped)
    shipped["phases"][0]["parameters"]["get_params"]["peak_threshold"] = 41.0
    after = _plan(shipped)
    assert all(before[name][0] != after[name][0] for name in before)
    assert before["InterpSolver"][1] == after["InterpSolver"][1]


def test_gas_file_edit_gives_a_new_asset_and_solver_lineage_only(shipped: dict) -> None:
    gas = Path(shipped["phases"][3]["parameters"]["solver_params"]["gas_data_path"])
    before = _plan(shipped)
    original = gas.read_text()
    content = json.loads(original)
    key = next(k for k in content if "pressure" in k.lower())
    content[key] = 250.0
    gas.write_text(json.dumps(content))
    after = _plan(shipped)
    for name in ("Pointcloud", "Cluster", "Estimation"):
        assert before[name][0] == after[name][0]
    assert before["InterpSolver"][0] != after["InterpSolver"][0]
    assert before["InterpSolver"][1] != after["InterpSolver"][1]
    gas.write_text(original)
    assert _plan(shipped)["InterpSolver"][:2] == before["InterpSolver"][:2]


def test_rules_cache_follows_parameter_file_content(shipped: dict, tmp_path: Path) -> None:
    workflow_folder = REPOSITORY / "workflow"
    first = prepare_workflow(shipped, workflow_folder, cache_folder=tmp_path / "cache")
    pid = Path(shipped["phases"][3]["parameters"]["solver_params"]["particle_id_filename"])
    pid.write_text(pid.read_text() + "\n")
    second = prepare_workflow(shipped, workflow_folder, cache_folder=tmp_path / "cache")
    assert first.rules_path != second.rules_path
    assert first.lineages["InterpSolver"] != second.lineages["InterpSolver"]
    assert first.lineages["Estimation"] == second.lineages["Estimation"]
    assert (tmp_path / shipped["workspace"] / OWNER_FILE).exists()
