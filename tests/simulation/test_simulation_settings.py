"""The simulation settings: defaults, the config schema, and error messages."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from spyralflow.simulation.settings import (
    MERGER_1_0,
    SimulationSettings,
    SimulationSettingsError,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _resolve(node: dict, schema: dict) -> dict:
    reference = node.get("$ref")
    if reference is None:
        return node
    target = schema
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{key: value for key, value in node.items() if key != "$ref"}}


def _schema_defaults(node: dict, schema: dict) -> dict:
    """Default of every leaf key under an object node, by key path."""
    found = {}
    for name, child in node.get("properties", {}).items():
        child = _resolve(child, schema)
        if "default" in child:
            found[name] = child["default"]
        elif child.get("type") == "object":
            found[name] = _schema_defaults(child, schema)
    return found


def test_schema_defaults_equal_the_dataclass_defaults(schema):
    simulation = schema["$defs"]["simulation"]
    from_schema = _schema_defaults(simulation, schema)
    from_dataclass = SimulationSettings().to_mapping()
    from_dataclass.pop("enabled")
    assert from_schema == from_dataclass


def test_the_schema_accepts_the_default_block_and_rejects_unknown_keys(schema):
    block = {"enabled": True, **SimulationSettings().to_mapping()}
    # The block refers to other $defs entries, so validate with them in reach.
    validator = jsonschema.Draft202012Validator(
        {"$defs": schema["$defs"], "$ref": "#/$defs/simulation"}
    )
    assert list(validator.iter_errors(block)) == []
    errors = list(validator.iter_errors({**block, "reaction": {"beam_energi": 1.0}}))
    assert any("beam_energi" in error.message for error in errors)


def test_from_mapping_builds_nested_settings():
    settings = SimulationSettings.from_mapping(
        {
            "enabled": True,
            "events_per_run": 7,
            "particles": [2],
            "reaction": {
                "ejectile": [1, 1],
                "excitations": [{"energy": 0.0, "weight": 1.0}, {"energy": 3.0, "weight": 3.0}],
            },
            "traces": {"format": MERGER_1_0, "pad_time_offsets_path": "offsets.csv"},
        }
    )
    assert settings.events_per_run == 7
    assert settings.particles == (2,)
    assert settings.reaction.ejectile == (1, 1)
    assert [state.energy for state in settings.reaction.excitations] == [0.0, 3.0]
    assert settings.reaction.excitations[1].width == 0.001
    assert settings.traces.pad_time_offsets_path == Path("offsets.csv")
    assert SimulationSettings.from_mapping(settings.to_mapping()) == settings


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"reaction": {"beam_energi": 1.0}}, "beam_energi"),
        ({"traces": {"format": "libattpc_merger:3.0"}}, "simulation.traces.format"),
        ({"reaction": {"excitations": []}}, "simulation.reaction.excitations"),
        ({"reaction": {"excitations": [{"energy": 1.0, "wieght": 1.0}]}}, "excitations[0]"),
        ({"events_per_run": -1}, "events_per_run"),
    ],
)
def test_invalid_settings_name_the_key(values, named):
    with pytest.raises(SimulationSettingsError, match=re.escape(named)):
        SimulationSettings.from_mapping(values)
