"""Config checks before any job: the input folder, the run range and the parameter files."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from workflow_runner import REPOSITORY

from spyralflow.generator import ConfigError, prepare_workflow
from spyralflow.phases.interp_solver.targets import (
    TargetFileError,
    gas_identity,
    load_particle_gate,
)

WORKFLOW = REPOSITORY / "workflow"
SOLVER_INDEX = 3


def analysis_config(input_folder: Path) -> dict:
    """The shipped config analysing ``input_folder`` (no simulation), files made absolute."""
    config = yaml.safe_load((REPOSITORY / "config" / "config.yaml").read_text())
    config.update(input_folder=str(input_folder), simulation={"enabled": False})
    config["summary"] = {"enabled": False}
    solver = config["phases"][SOLVER_INDEX]["parameters"]["solver_params"]
    for key in ("gas_data_path", "particle_id_filename"):
        solver[key] = str(REPOSITORY / solver[key])
    return config


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    folder = tmp_path / "traces"
    folder.mkdir()
    (folder / "run_0002.h5").write_bytes(b"\0" * 16)
    return folder


def prepare(config: dict, tmp_path: Path):
    return prepare_workflow(config, WORKFLOW, cache_folder=tmp_path / "cache")


def test_an_input_folder_that_does_not_exist_is_a_config_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match=rf"'input_folder': {missing} is not an existing folder"):
        prepare(analysis_config(missing), tmp_path)


def test_a_run_range_with_no_run_says_where_it_looked(traces, tmp_path):
    config = analysis_config(traces)
    config["runs"] = {"first": 5, "last": 9}
    expected = rf"no non-empty run_NNNN\.h5 file for runs 5 \.\. 9.*{traces}"
    with pytest.raises(ConfigError, match=expected):
        prepare(config, tmp_path)
    config["runs"] = {"first": 1, "last": 4}
    assert prepare(config, tmp_path).runs == ["0002"]


def _write(path: Path, content: dict) -> Path:
    path.write_text(json.dumps(content))
    return path


GOOD_GAS = {"compound": [[1, 2, 2]], "pressure(Torr)": 300.0}
GOOD_GATE = {"name": "d", "Z": 1, "A": 2, "vertices": [[0, 0], [10, 0], [10, 3], [0, 3]]}


@pytest.mark.parametrize(
    ("key", "content", "cause"),
    [
        ("gas_data_path", None, r"does not exist"),
        ("gas_data_path", {**GOOD_GAS, "pressure(Torr)": "high"}, r"'pressure\(Torr\)' is 'high'"),
        ("gas_data_path", {**GOOD_GAS, "pressure(Torr)": -300.0}, r"above 0 Torr"),
        ("gas_data_path", {**GOOD_GAS, "compound": [[200, 500, 1]]}, r"no nucleus with Z=200"),
        (
            "particle_id_filename",
            {**GOOD_GATE, "vertices": [[0, 0], [10, 3], [10, 0], [0, 3]]},
            r"not simple",
        ),
        ("particle_id_filename", {**GOOD_GATE, "Z": 200, "A": 500}, r"no nucleus with Z=200"),
        (
            "particle_id_filename",
            {**GOOD_GATE, "vertices": [[0, 0], [1, 1], [2, 2]]},
            r"not simple|no area",
        ),
    ],
)
def test_bad_gas_and_particle_id_files_are_one_config_error_at_plan_time(
    traces, tmp_path, key, content, cause
):
    config = analysis_config(traces)
    config["runs"] = {"first": 1, "last": 4}
    path = tmp_path / "parameter.json"
    if content is not None:
        _write(path, content)
    bad = copy.deepcopy(config)
    bad["phases"][SOLVER_INDEX]["parameters"]["solver_params"][key] = str(path)
    with pytest.raises(ConfigError) as caught:
        prepare(bad, tmp_path)
    message = str(caught.value)
    assert f"config key 'phases[{SOLVER_INDEX}]" in message
    assert f"solver_params.{key}" in message and str(path) in message
    assert re.search(cause, message), message


def test_the_shipped_target_files_pass_the_checks():
    gas = gas_identity(REPOSITORY / "config" / "targets" / "d2_300torr.json")
    assert gas["pressure_torr"] == 300.0
    gate = load_particle_gate(REPOSITORY / "config" / "targets" / "deuteron_pid.json")
    assert gate.isotope == "2H"


def test_a_gas_mixture_with_negative_fractions_is_refused(tmp_path):
    mixture = {
        "components": [[[1, 2, 2]], [[6, 12, 1], [1, 1, 4]]],
        "volume_fractions": [1.2, -0.2],
        "pressure(Torr)": 300.0,
    }
    with pytest.raises(TargetFileError, match=r"volume_fractions"):
        gas_identity(_write(tmp_path / "mix.json", mixture))
