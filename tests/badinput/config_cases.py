"""Broken configs of the bad-input campaign: each one a damaged copy of the shipped config.

A case is clean when planning refuses it with one message that names what is at fault (the
config key, the phase or the file) and says why, without a Python traceback; a config that
plans (Snakemake exits 0) or fails with any other error is not clean. Every case here is
broken, so planning it must fail.

Used in-process by ``tests/badinput/test_config_campaign.py`` (through ``prepare_workflow``, what
``workflow/rules/common.smk`` runs) and through a real ``snakemake -n`` by
``benchmarks/bad_input_campaign.py`` (the docs table).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
POINTCLOUD, CLUSTER, ESTIMATION, SOLVER, KINEMATICS = range(5)
BROKEN_MODULE = "spyralflow_campaign_broken_phase"


@dataclass(frozen=True)
class ConfigCase:
    """A broken config: how to damage the shipped one, and what the message must name.

    Attributes
    ----------
    name : str
        What is broken, as the docs table lists it.
    damage : callable
        Edits the config dict in place, given the folder the case runs in (for files).
    expected : str
        A regular expression the error message must match (the key or file, and the cause).
    """

    name: str
    damage: Callable[[dict, Path], None]
    expected: str


def shipped_config() -> dict:
    """The shipped ``config/config.yaml`` as a dict (anchors resolved)."""
    return yaml.safe_load((REPOSITORY / "config" / "config.yaml").read_text())


def real_data(config: dict, folder: Path) -> Path:
    """Turn ``config`` into an analysis of two small run files in ``folder / 'traces'``."""
    traces = folder / "traces"
    traces.mkdir(exist_ok=True)
    for run in (1, 2):
        (traces / f"run_{run:04d}.h5").write_bytes(b"\0" * 16)
    config.update(input_folder=str(traces), simulation={"enabled": False})
    config["summary"] = {"enabled": False}
    config["runs"] = {"first": 1, "last": 2}
    return traces


def _set(path: str, value: object) -> Callable[[dict, Path], None]:
    """Set the dotted ``path`` (integers index lists) to ``value``."""

    def damage(config: dict, folder: Path) -> None:
        node, last = _parent(config, path)
        node[last] = value

    return damage


def _delete(path: str) -> Callable[[dict, Path], None]:
    def damage(config: dict, folder: Path) -> None:
        node, last = _parent(config, path)
        del node[last]

    return damage


def _parent(config: dict, path: str) -> tuple[dict | list, str | int]:
    """The container holding the dotted ``path``'s last key, and that key."""
    *parents, last = [int(key) if key.isdigit() else key for key in path.split(".")]
    node = config
    for key in parents:
        node = node[key]
    return node, last


def _solver_file(key: str, content: object) -> Callable[[dict, Path], None]:
    """Point the solver's ``key`` at a file holding ``content`` (None: no file, str: raw text)."""

    def damage(config: dict, folder: Path) -> None:
        path = folder / f"{key}.json"
        if content is not None:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        config["phases"][SOLVER]["parameters"]["solver_params"][key] = str(path)

    return damage


def _real_data_then(edit: Callable[[dict, Path], None] | None = None):
    def damage(config: dict, folder: Path) -> None:
        real_data(config, folder)
        if edit is not None:
            edit(config, folder)

    return damage


def _input_is_a_file(config: dict, folder: Path) -> None:
    real_data(config, folder)
    config["input_folder"] = str(folder / "traces" / "run_0001.h5")


def _workspace_is_a_file(config: dict, folder: Path) -> None:
    (folder / "workspace_file").write_text("not a folder")
    config["workspace"] = str(folder / "workspace_file")


def _broken_module(config: dict, folder: Path) -> None:
    """A phase module that raises on import, importable from the case's folder."""
    (folder / f"{BROKEN_MODULE}.py").write_text("raise RuntimeError('half-written phase')\n")
    config["phases"][CLUSTER]["class"] = f"{BROKEN_MODULE}.ClusterPhase"


def _swap_cluster_estimation(config: dict, folder: Path) -> None:
    phases = config["phases"]
    phases[CLUSTER], phases[ESTIMATION] = phases[ESTIMATION], phases[CLUSTER]


def _twice(index: int) -> Callable[[dict, Path], None]:
    def damage(config: dict, folder: Path) -> None:
        config["phases"].insert(index, copy.deepcopy(config["phases"][index]))

    return damage


def _entry_folder_for_unknown_key(config: dict, folder: Path) -> None:
    traces = real_data(config, folder)
    config["entry_folders"] = {"clusters": str(traces)}


GAS = {"compound": [[1, 2, 2]], "pressure(Torr)": 300.0}
GATE = {"name": "d", "Z": 1, "A": 2, "vertices": [[0, 0], [6000, 0], [6000, 3], [0, 3]]}
P0 = f"phases.{POINTCLOUD}.parameters"
P1 = f"phases.{CLUSTER}.parameters"
P4 = f"phases.{KINEMATICS}.parameters"

CONFIG_CASES: tuple[ConfigCase, ...] = (
    # Top level: workspace, runs, seed, unknown keys.
    ConfigCase("workspace missing", _delete("workspace"), r"'workspace' is a required"),
    ConfigCase("workspace empty", _set("workspace", ""), r"'workspace'"),
    ConfigCase("workspace is a file", _workspace_is_a_file, r"'workspace'.*not a folder"),
    ConfigCase("runs missing", _delete("runs"), r"'runs' is a required"),
    ConfigCase("runs.first 'one'", _set("runs.first", "one"), r"'runs\.first'.*'one'"),
    ConfigCase("runs.first -1", _set("runs.first", -1), r"'runs\.first'.*-1"),
    ConfigCase("runs.first > runs.last", _set("runs.first", 9), r"'runs'.*first.*last"),
    ConfigCase("runs.skip every run", _set("runs.skip", [1, 2, 3, 4]), r"'runs'.*no run"),
    ConfigCase("seed 1.5", _set("seed", 1.5), r"'seed'.*1\.5"),
    ConfigCase("seed -3", _set("seed", -3), r"'seed'.*-3"),
    ConfigCase("unknown top-level key 'phase'", _set("phase", []), r"'phase'"),
    # The input.
    ConfigCase(
        "input_folder does not exist",
        _real_data_then(_set("input_folder", "/nonexistent/traces")),
        r"'input_folder': /nonexistent/traces is not an existing folder",
    ),
    ConfigCase("input_folder is a file", _input_is_a_file, r"'input_folder'.*not an existing"),
    ConfigCase(
        "run range finds no run",
        _real_data_then(_set("runs", {"first": 5, "last": 9})),
        r"no non-empty run_NNNN\.h5 file for runs 5 \.\. 9",
    ),
    ConfigCase(
        "input_folder and entry_folders missing",
        _real_data_then(_delete("input_folder")),
        r"input_folder|entry_folders",
    ),
    ConfigCase(
        "entry_folders for a key no phase reads", _entry_folder_for_unknown_key, r"clusters"
    ),
    # The phase list.
    ConfigCase("phases empty", _set("phases", []), r"'phases'"),
    ConfigCase("phases a mapping", _set("phases", {"a": 1}), r"'phases'"),
    ConfigCase("phase without class", _delete(f"phases.{CLUSTER}.class"), r"'phases\[1\]'.*class"),
    ConfigCase(
        "class not a dotted path", _set(f"phases.{CLUSTER}.class", "ClusterPhase"), r"phases\[1\]"
    ),
    ConfigCase(
        "class module missing",
        _set(f"phases.{CLUSTER}.class", "spyralflow.phases.nothere.ClusterPhase"),
        r"phases\[1\]\.class.*spyralflow\.phases\.nothere",
    ),
    ConfigCase(
        "class missing from module",
        _set(f"phases.{CLUSTER}.class", "spyralflow.phases.cluster.NoSuchPhase"),
        r"phases\[1\]\.class.*NoSuchPhase",
    ),
    ConfigCase(
        "class module raises on import", _broken_module, r"phases\[1\]\.class.*half-written phase"
    ),
    ConfigCase(
        "class not a phase (pathlib.Path)",
        _set(f"phases.{CLUSTER}.class", "pathlib.Path"),
        r"phases\[1\]\.class.*pathlib\.Path",
    ),
    ConfigCase(
        "phases out of order", _swap_cluster_estimation, r"do not chain.*Pointcloud.*Estimation"
    ),
    ConfigCase("a phase twice", _twice(CLUSTER), r"phases\[2\]|twice|Cluster"),
    ConfigCase("parameters a list", _set(f"phases.{CLUSTER}.parameters", [1, 2]), r"phases\[1\]"),
    ConfigCase(
        "parameter of the wrong type",
        _set(f"{P0}.get_params.peak_threshold", "high"),
        r"'phases\[0\]\.parameters\.get_params\.peak_threshold'.*'high'",
    ),
    ConfigCase(
        "parameter NaN",
        _set(f"{P0}.get_params.peak_threshold", math.nan),
        r"'phases\[0\]\.parameters\.get_params\.peak_threshold'.*nan",
    ),
    ConfigCase(
        "unknown parameter (typo)",
        _set(f"{P0}.get_params.peak_treshold", 40.0),
        r"phases\[0\]\.parameters\.get_params.*peak_treshold",
    ),
    ConfigCase(
        "parameter block missing",
        _delete(f"{P1}.cluster_params"),
        r"phases\[1\]\.parameters.*cluster_params",
    ),
    ConfigCase(
        "HDBSCAN min_points 0",
        _set(f"{P1}.cluster_params.hdbscan_parameters.min_points", 0),
        r"phases\[1\]\.parameters.*min_points",
    ),
    ConfigCase(
        "neither HDBSCAN nor tripclust",
        _set(f"{P1}.cluster_params.hdbscan_parameters", None),
        r"phases\[1\]\.parameters.*hdbscan_parameters.*tripclust_parameters",
    ),
    ConfigCase(
        "resources.threads 0",
        _set(f"phases.{CLUSTER}.resources.threads", 0),
        r"phases\[1\]\.resources\.threads",
    ),
    ConfigCase(
        "resources.mem_mb 'lots'",
        _set(f"phases.{CLUSTER}.resources.mem_mb", "lots"),
        r"phases\[1\]\.resources\.mem_mb",
    ),
    # The solver's parameter files.
    ConfigCase("gas file missing", _solver_file("gas_data_path", None), r"gas_data_path.*exist"),
    ConfigCase("gas file not JSON", _solver_file("gas_data_path", "{compound"), r"gas_data_path"),
    ConfigCase(
        "gas pressure 'high'",
        _solver_file("gas_data_path", {**GAS, "pressure(Torr)": "high"}),
        r"gas_data_path.*'high'",
    ),
    ConfigCase(
        "gas pressure -300",
        _solver_file("gas_data_path", {**GAS, "pressure(Torr)": -300.0}),
        r"gas_data_path.*above 0 Torr",
    ),
    ConfigCase(
        "PID file missing", _solver_file("particle_id_filename", None), r"particle_id.*exist"
    ),
    ConfigCase(
        "PID polygon self-intersecting",
        _solver_file(
            "particle_id_filename", {**GATE, "vertices": [[0, 0], [9, 3], [9, 0], [0, 3]]}
        ),
        r"particle_id_filename.*not simple",
    ),
    ConfigCase(
        "PID nucleus Z=200 A=500",
        _solver_file("particle_id_filename", {**GATE, "Z": 200, "A": 500}),
        r"particle_id_filename.*Z=200",
    ),
    # The reaction of the Kinematics phase.
    ConfigCase(
        "Kinematics ejectile not the solver's particle",
        _set(f"{P4}.reaction_params.ejectile", [1, 1]),
        r"phases\[4\].*ejectile",
    ),
    ConfigCase(
        "Kinematics beam energy -1",
        _set(f"{P4}.reaction_params.beam_energy", -1.0),
        r"phases\[4\].*beam_energy",
    ),
    ConfigCase(
        "Kinematics nucleus Z=200",
        _set(f"{P4}.reaction_params.projectile", [200, 500]),
        r"phases\[4\].*projectile",
    ),
    # Simulation, summary and spectrum.
    ConfigCase(
        "simulation.events_per_run -1",
        _set("simulation.events_per_run", -1),
        r"'simulation\.events_per_run'",
    ),
    ConfigCase(
        "simulation beam energy 0",
        _set("simulation.reaction", {"beam_energy": 0}),
        r"'simulation\.reaction\.beam_energy'",
    ),
    ConfigCase("spectrum.bin_width 0", _set("spectrum.bin_width", 0), r"'spectrum\.bin_width'"),
    ConfigCase(
        "spectrum.states a string", _set("spectrum.states", "0, 1.766"), r"'spectrum\.states'"
    ),
    ConfigCase(
        "summary without truth (real data)",
        _real_data_then(_set("summary", {"enabled": True})),
        r"'summary'.*truth",
    ),
)


def damaged_config(case: ConfigCase, folder: Path) -> dict:
    """The shipped config damaged by ``case``, its files written in ``folder``."""
    config = shipped_config()
    case.damage(config, folder)
    return config
