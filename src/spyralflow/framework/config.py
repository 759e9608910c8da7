"""The pipeline description (config/config.yaml): loading and validation.

Validation happens before any job runs: first the whole config against the JSON schema
(``workflow/schemas/config.schema.yaml``), each failure reported as one message naming the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_THREADS = 1
DEFAULT_MEM_MB = 2000
DEFAULT_RUNTIME_MIN = 60


class ConfigError(ValueError):
    """The config is invalid; the message names the key and what is wrong."""


@dataclass(frozen=True)
class Resources:
    """What one job of a rule may use.

    Parameters
    ----------
    threads : int
        CPU threads (SLURM ``--cpus-per-task``).
    mem_mb : int
        Memory in MB (SLURM ``--mem``).
    runtime : int
        Wall time in minutes (SLURM ``-t``).
    """

    threads: int = DEFAULT_THREADS
    mem_mb: int = DEFAULT_MEM_MB
    runtime: int = DEFAULT_RUNTIME_MIN

    @classmethod
    def from_config(cls, values: dict[str, int] | None) -> Resources:
        return cls(**(values or {}))


@dataclass(frozen=True)
class PhaseSpec:
    """One phase of the pipeline as the config gives it.

    Parameters
    ----------
    class_path : str
        Dotted import path of the phase class.
    parameters : dict
        Constructor arguments by name (plain values; mappings for dataclass arguments).
    resources : Resources
        Per-run job resources.
    asset_resources : Resources
        Resources of the one-time ``create_assets`` job.
    """

    class_path: str
    parameters: dict[str, Any] = field(default_factory=dict)
    resources: Resources = field(default_factory=Resources)
    asset_resources: Resources = field(default_factory=Resources)

    @property
    def module_name(self) -> str:
        return self.class_path.rpartition(".")[0]

    @property
    def parameters_json(self) -> str:
        """The parameters as canonical JSON (sorted keys, no spaces): what reruns track."""
        return canonical_json(self.parameters)


@dataclass(frozen=True)
class PipelineConfig:
    """The validated pipeline description.

    ``input_folder`` holds the first phase's input files; ``entry_folders`` overrides it per
    incoming artifact key (a pipeline starting at InterpSolver on a Spyral workspace reads
    ``estimation`` from ``Estimation/`` and ``cluster`` from ``Cluster/``). Either may be
    missing, not both for one key.
    """

    workspace: Path
    input_folder: Path | None
    first_run: int
    last_run: int
    skip_runs: tuple[int, ...]
    seed: int
    phases: tuple[PhaseSpec, ...]
    simulation: dict[str, Any]
    summary: dict[str, Any]
    raw: dict[str, Any]
    entry_folders: dict[str, Path] = field(default_factory=dict)

    def entry_folder(self, key: str) -> Path | None:
        """The folder of the first phase's incoming artifact ``key``, None when unset."""
        return self.entry_folders.get(key, self.input_folder)

    @property
    def simulation_enabled(self) -> bool:
        return bool(self.simulation.get("enabled", False))

    @property
    def summary_enabled(self) -> bool:
        return bool(self.summary.get("enabled", False))


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant white space."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _key_path(error_path: Any) -> str:
    text = ""
    for part in error_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def validate_config(raw: dict[str, Any], schema_path: Path) -> None:
    """Check ``raw`` against the JSON schema.

    Raises
    ------
    ConfigError
        With one line per failure, each naming the key, e.g. ``phases[1].resources.threads``.
    """
    import jsonschema

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(raw), key=lambda error: list(error.absolute_path))
    if errors:
        lines = [
            f"config key '{_key_path(error.absolute_path)}': {_message(error)}" for error in errors
        ]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    runs = raw["runs"]
    if runs["first"] > runs["last"]:
        raise ConfigError(
            f"invalid configuration:\n  config key 'runs': first ({runs['first']}) is after "
            f"last ({runs['last']})"
        )
    skipped = {run for run in runs.get("skip", []) if runs["first"] <= run <= runs["last"]}
    if len(skipped) == runs["last"] - runs["first"] + 1:
        raise ConfigError(
            f"invalid configuration:\n  config key 'runs': no run is left: runs.skip "
            f"{sorted(runs['skip'])} skips every run of {runs['first']} .. {runs['last']}"
        )
    workspace = Path(raw["workspace"])
    if workspace.exists() and not workspace.is_dir():
        raise ConfigError(
            f"invalid configuration:\n  config key 'workspace': {workspace.resolve()} exists "
            "and is not a folder"
        )


def _message(error: Any) -> str:
    """The schema's message, or for an unmet ``anyOf`` of required keys, which keys it wants
    (jsonschema's own message quotes the whole config)."""
    if error.validator == "anyOf":
        options = [option.get("required") for option in error.validator_value]
        if all(options):
            wanted = " or ".join(f"'{key}'" for names in options for key in names)
            return f"set {wanted} (where the first phase's input files are)"
    return error.message


def parse_config(raw: dict[str, Any], schema_path: Path) -> PipelineConfig:
    """Validate ``raw`` and turn it into a ``PipelineConfig``."""
    validate_config(raw, schema_path)
    phases = tuple(
        PhaseSpec(
            class_path=entry["class"],
            parameters=entry.get("parameters", {}) or {},
            resources=Resources.from_config(entry.get("resources")),
            asset_resources=Resources.from_config(entry.get("asset_resources")),
        )
        for entry in raw["phases"]
    )
    runs = raw["runs"]
    return PipelineConfig(
        workspace=Path(raw["workspace"]),
        input_folder=Path(raw["input_folder"]) if raw.get("input_folder") else None,
        first_run=runs["first"],
        last_run=runs["last"],
        skip_runs=tuple(runs.get("skip", [])),
        seed=raw.get("seed", 0),
        phases=phases,
        simulation=raw.get("simulation", {}) or {},
        summary=raw.get("summary", {}) or {},
        raw=raw,
        entry_folders={key: Path(folder) for key, folder in raw.get("entry_folders", {}).items()},
    )


def load_config(config_path: Path, schema_path: Path) -> PipelineConfig:
    """Read, validate and parse a YAML config file."""
    try:
        raw = yaml.safe_load(Path(config_path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read config file {config_path}: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {config_path} does not hold a mapping of keys")
    return parse_config(raw, schema_path)
