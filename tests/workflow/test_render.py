"""The generated shell commands, formatted by Snakemake's own formatter, give the phase CLI the
plan's values exactly, whatever quotes and braces the workspace and parameters hold."""

from __future__ import annotations

import ast
import json
import shlex
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from snakemake.iocontainers import Namedlist
from snakemake.utils import format as snakemake_format
from workflow_runner import REPOSITORY

from spyralflow.framework.config import canonical_json, parse_config
from spyralflow.generator.plan import PhasePlan, build_plan
from spyralflow.generator.render import render_asset_rule, render_phase_rule

SCHEMA = REPOSITORY / "workflow" / "schemas" / "config.schema.yaml"
# A workspace a shell and str.format would both mangle if the command did not quote and escape.
AWKWARD_WORKSPACE = "work space {run}/it's $HOME"


def _shell_of(rule_text: str) -> str:
    """The shell directive of one rendered rule, as the Python string Snakemake reads."""
    pieces = rule_text.split("    shell:\n", 1)[1].splitlines()
    return "".join(ast.literal_eval(piece.strip()) for piece in pieces if piece.strip())


def _argv(command: str, phase: PhasePlan, seed: int) -> list[str]:
    """The job's arguments after Snakemake's formatting and the shell's word splitting."""
    formatted = snakemake_format(
        command,
        input=Namedlist(fromdict={key: f"in dir/{key}" for key in phase.inputs}),
        output=Namedlist(fromdict={key: f"out dir/{key}" for key in phase.outputs}),
        log=Namedlist(["log dir/run.log"]),
        manifest=Namedlist(["manifest dir/m.json"]),
        params=SimpleNamespace(
            phase_class=phase.spec.class_path,
            parameters=phase.spec.parameters_json,
            code_hash=phase.code_hash,
            seed=seed,
            lineage=phase.lineage,
            input_lineage=canonical_json(phase.input_lineages),
        ),
        threads=3,
        wildcards=SimpleNamespace(run="0007"),
    )
    words = shlex.split(formatted)
    return words[: words.index(">")]


def _option(argv: list[str], name: str) -> list[str]:
    return [argv[index + 1] for index, word in enumerate(argv) if word == name]


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copytree(REPOSITORY / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load((tmp_path / "config" / "config.yaml").read_text())
    raw["workspace"] = AWKWARD_WORKSPACE
    return build_plan(parse_config(raw, SCHEMA))


def test_phase_job_commands_carry_the_plan_values_exactly(plan) -> None:
    for phase in plan.phases:
        argv = _argv(_shell_of(render_phase_rule(phase, plan)), phase, plan.seed)
        assert argv[:2] == ["spyralflow", "run-phase"]
        assert _option(argv, "--workspace") == [AWKWARD_WORKSPACE]
        assert _option(argv, "--phase-class") == [phase.spec.class_path]
        (parameters,) = _option(argv, "--parameters")
        assert json.loads(parameters) == json.loads(phase.spec.parameters_json)
        assert _option(argv, "--code-hash") == [phase.code_hash]
        assert _option(argv, "--seed") == [str(plan.seed)]
        assert _option(argv, "--threads") == ["3"]
        assert _option(argv, "--run") == ["0007"]
        assert _option(argv, "--lineage") == [phase.lineage]
        assert _option(argv, "--input-lineage") == [canonical_json(phase.input_lineages)]
        assert _option(argv, "--incoming") == [f"{key}=in dir/{key}" for key in phase.inputs]
        assert _option(argv, "--output") == [f"{key}=out dir/{key}" for key in phase.outputs]


def test_asset_job_commands_carry_the_plan_values_exactly(plan) -> None:
    for phase in plan.phases:
        argv = _argv(
            _shell_of(render_asset_rule(phase, plan)).replace("{output:q}", "{manifest:q}"),
            phase,
            plan.seed,
        )
        assert argv[:2] == ["spyralflow", "create-assets"]
        assert _option(argv, "--workspace") == [AWKWARD_WORKSPACE]
        (parameters,) = _option(argv, "--parameters")
        assert json.loads(parameters) == json.loads(phase.spec.parameters_json)
        assert _option(argv, "--manifest") == ["manifest dir/m.json"]
