"""From the pipeline config to a rule plan: per phase, its input and output path patterns.

This is the only place that imports and constructs the phases. It asks each phase, as Spyral's
pipeline would, which artifacts it produces for a run (``construct_artifact``), using a sentinel
run number that is then turned into the ``{run}`` wildcard, and it checks the schema chain.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spyralflow.framework.codehash import code_hash
from spyralflow.framework.config import (
    ConfigError,
    PhaseSpec,
    PipelineConfig,
    Resources,
    canonical_json,
)
from spyralflow.framework.loading import PhaseLoadError, construct_phase
from spyralflow.framework.parameters import ParameterError
from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.schema import describe, same_content
from spyralflow.generator.lineage import asset_hash, entry_lineage, parameter_files, phase_lineage

SENTINEL_RUN = 987654321
CHECK_RUN = 4321
DEFAULT_ENTRY_KEY = "trace"
DEFAULT_ENTRY_EXTENSION = ".h5"


@dataclass(frozen=True)
class PhasePlan:
    """What the generator needs to write one phase's two rules.

    Parameters
    ----------
    name : str
        Phase name (rule name of the per-run rule).
    spec : PhaseSpec
        The config entry.
    code_hash : str
        Content hash of the phase's code.
    inputs : dict[str, str]
        Incoming artifact key to path pattern with ``{run}``.
    outputs : dict[str, str]
        Artifacts this phase writes, key to path pattern with ``{run}``.
    parameter_files : tuple[str, ...]
        Existing files named by the parameters (gas, gate, pad maps), declared as inputs so that
        editing them reruns the phase.
    asset_manifest : str
        Output of the one-time asset rule; its name carries the asset hash.
    lineage : str
        Digest of everything that shaped this phase's output (see ``generator.lineage``).
    input_lineages : dict[str, str]
        Incoming artifact key to the lineage its file must carry (the producing phase's);
        entry inputs, made outside the workflow, have none.
    shares_memory : bool
        The phase overrides ``create_shared_data``: its jobs must not run two at a time on one
        machine (Spyral's InterpSolver uses one fixed shared-memory name).
    """

    name: str
    spec: PhaseSpec
    code_hash: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    parameter_files: tuple[str, ...]
    asset_manifest: str
    lineage: str = ""
    input_lineages: dict[str, str] = field(default_factory=dict)
    shares_memory: bool = False

    @property
    def rule_name(self) -> str:
        return rule_identifier(self.name)

    @property
    def asset_rule_name(self) -> str:
        return f"{self.rule_name}_assets"

    @property
    def resources(self) -> Resources:
        return self.spec.resources


@dataclass(frozen=True)
class PipelinePlan:
    """The rule plan of a whole pipeline."""

    workspace: str
    seed: int
    phases: tuple[PhasePlan, ...]
    entry_inputs: dict[str, str] = field(default_factory=dict)
    conda_env: str = ""

    def artifact_patterns(self) -> dict[str, dict[str, str]]:
        """Phase name to its output patterns."""
        return {phase.name: dict(phase.outputs) for phase in self.phases}

    def lineages(self) -> dict[str, str]:
        """Phase name to its lineage digest."""
        return {phase.name: phase.lineage for phase in self.phases}


def rule_identifier(name: str) -> str:
    """A Snakemake rule name (a Python identifier) from a phase name."""
    cleaned = "".join(character if character.isalnum() else "_" for character in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"phase_{cleaned}"


def _to_pattern(path: Path | str) -> str:
    text = str(path).replace("{", "{{").replace("}", "}}")
    return text.replace(str(SENTINEL_RUN), "{run}")


# Where the default, do-nothing ``create_shared_data`` hook is defined: ours and Spyral's.
DEFAULT_SHARED_DATA_HOOKS = {
    ("spyralflow.framework.phase", "PhaseLike"),
    ("spyral.core.phase", "PhaseLike"),
}


def _construct(index: int, spec: PhaseSpec) -> Any:
    """The phase of ``phases[index]``; every failure is one ConfigError naming the key."""
    key = f"phases[{index}]"
    try:
        return construct_phase(spec.class_path, spec.parameters, f"{key}.parameters")
    except ParameterError as error:
        raise ConfigError(
            f"config key '{error.key}': {error.problem} (phase class {spec.class_path})"
        ) from error
    except PhaseLoadError as error:
        raise ConfigError(f"config key '{key}.class': {error}") from error
    except Exception as error:
        # The phase's own constructor refused its parameters (Spyral raises its own errors).
        raise ConfigError(
            f"config key '{key}.parameters': constructing {spec.class_path} raised "
            f"{type(error).__name__}: {error}"
        ) from error


def overrides_shared_data(phase: Any) -> bool:
    """Whether the phase's class defines its own ``create_shared_data``."""
    for cls in type(phase).__mro__:
        if "create_shared_data" in vars(cls):
            return (cls.__module__, cls.__qualname__) not in DEFAULT_SHARED_DATA_HOOKS
    return False


def check_schema_chain(phases: list[Any]) -> None:
    """Spyral's ``Pipeline.validate``: each phase must accept the previous one's output.

    Each phase's own ``validate`` decides; a refusal between schemas of equal content but of
    different classes (a Spyral phase after one of ours) is accepted.

    Raises
    ------
    ConfigError
        Naming every phase pair that does not fit.
    """
    failures = []
    outgoing = phases[0].outgoing_schema
    for previous, phase in itertools.pairwise(phases):
        ok, next_outgoing = phase.validate(outgoing)
        if not ok and not same_content(phase.incoming_schema, outgoing):
            failures.append(
                f"{previous}->{phase}: {phase.name} expects {describe(phase.incoming_schema)} "
                f"but {previous.name} produces {describe(outgoing)}"
            )
        outgoing = next_outgoing
    if failures:
        raise ConfigError("the phases do not chain:\n  " + "\n  ".join(failures))


def check_upstream(phases: list[Any]) -> None:
    """Let each phase that defines ``check_upstream(upstream)`` (a spyralflow extension, not in
    Spyral's contract) refuse the phases before it, e.g. a reaction that is not the fitted one.

    Raises
    ------
    ConfigError
        Naming ``phases[i].parameters`` and the phase's reason.
    """
    for index, phase in enumerate(phases):
        check = getattr(phase, "check_upstream", None)
        if check is None:
            continue
        try:
            check(phases[:index])
        except Exception as error:
            raise ConfigError(
                f"config key 'phases[{index}].parameters': {phase.name} does not fit the phases "
                f"before it: {error}"
            ) from error


def entry_artifacts(first_phase: Any, config: PipelineConfig) -> dict[str, str]:
    """The first phase's inputs: ``<folder>/run_{run}<extension>`` per incoming key, the folder
    being ``entry_folders[key]`` or else ``input_folder``.

    Raises
    ------
    ConfigError
        A key without a folder, an ``entry_folders`` key the first phase does not read, or two
        keys of one extension in one folder.
    """
    schema = first_phase.incoming_schema
    if schema is None:
        keys = {DEFAULT_ENTRY_KEY: DEFAULT_ENTRY_EXTENSION}
    else:
        keys = {key: artifact.extension for key, artifact in schema.artifacts.items()}
    unknown = sorted(set(config.entry_folders) - set(keys))
    if unknown:
        raise ConfigError(
            f"config key 'entry_folders.{unknown[0]}': the first phase, {first_phase.name}, "
            f"reads only {', '.join(sorted(keys))}"
        )
    folders = {key: config.entry_folder(key) for key in keys}
    for key, folder in folders.items():
        if folder is None:
            raise ConfigError(
                f"config key 'entry_folders.{key}': the first phase, {first_phase.name}, reads "
                f"'{key}' ({keys[key]} files); set entry_folders.{key} or input_folder"
            )
    places = [(folders[key], extension) for key, extension in keys.items()]
    if len(set(places)) != len(places):
        raise ConfigError(
            f"config key 'input_folder': the first phase, {first_phase.name}, reads "
            f"{', '.join(sorted(keys))}, and two of them share a file extension, so one folder "
            "cannot hold them; give each its folder in entry_folders"
        )
    return {
        key: _to_pattern(Path(folders[key]) / f"{form_run_string(SENTINEL_RUN)}{extension}")
        for key, extension in keys.items()
    }


def _artifact_patterns(phase: Any, payload: dict[str, str], workspace: Path) -> dict[str, str]:
    """Every artifact the phase returns, as patterns, checked against a second run number.

    Both run numbers have at least four digits, so ``run_{run:04d}`` equals ``run_`` + the number
    and the pattern can be recovered by replacing the number with the wildcard.
    """

    def construct(run: int) -> dict[str, str]:
        incoming = {key: Path(pattern.format(run=run)) for key, pattern in payload.items()}
        result = phase.construct_artifact(PhaseResult(incoming, True, run), workspace)
        return {key: str(path) for key, path in result.artifacts.items()}

    patterns = {key: _to_pattern(path) for key, path in construct(SENTINEL_RUN).items()}
    check = construct(CHECK_RUN)
    for key, pattern in patterns.items():
        expected = pattern.format(run=CHECK_RUN)
        if "{run}" not in pattern or check.get(key) != expected:
            raise ConfigError(
                f"phase {phase.name}: artifact '{key}' ({check.get(key)}) is not named by the run "
                "number with form_run_string (run_NNNN); the workflow cannot address it per run"
            )
    return patterns


def build_plan(
    config: PipelineConfig, conda_env: str = "", entry_identity: str = ""
) -> PipelinePlan:
    """Construct the phases, check their chain and derive every rule's paths.

    Parameters
    ----------
    config : PipelineConfig
        The validated config.
    conda_env : str
        Path of the conda environment file the rules declare (used with ``--sdm conda``),
        relative to the generated rules file; empty for none.
    entry_identity : str
        What identifies the pipeline's input beyond its paths (the simulation settings when
        the workflow simulates it); the first phase's lineage starts from it.

    Raises
    ------
    ConfigError
        If a phase cannot be built, the phases do not chain, or an artifact is not per run.
    """
    phases = [_construct(index, spec) for index, spec in enumerate(config.phases)]
    names = [phase.name for phase in phases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"phase names must be unique (they name folders): {duplicates}")
    check_schema_chain(phases)
    check_upstream(phases)
    entry = entry_artifacts(phases[0], config)
    payload = dict(entry)
    producer_lineage: dict[str, str] = {}
    upstream = entry_lineage(canonical_json({"entry": entry, "identity": entry_identity}))
    plans = []
    for spec, phase in zip(config.phases, phases, strict=True):
        artifacts = _artifact_patterns(phase, payload, config.workspace)
        incoming_paths = set(payload.values())
        outputs = {key: path for key, path in artifacts.items() if path not in incoming_paths}
        if not outputs:
            raise ConfigError(f"phase {phase.name} declares no artifact of its own")
        hash_of_code = code_hash(spec.module_name)
        files = parameter_files(spec.parameters)
        storage = Path(phase.get_asset_storage_path(config.workspace))
        asset_key = asset_hash(spec.class_path, spec.parameters_json, hash_of_code, files)
        manifest = storage / f"manifest-{asset_key}.json"
        lineage = phase_lineage(
            upstream, spec.class_path, spec.parameters_json, hash_of_code, files, asset_key
        )
        plans.append(
            PhasePlan(
                name=phase.name,
                spec=spec,
                code_hash=hash_of_code,
                inputs=dict(payload),
                outputs=outputs,
                parameter_files=tuple(files),
                asset_manifest=str(manifest),
                lineage=lineage,
                input_lineages={
                    key: producer_lineage[path]
                    for key, path in payload.items()
                    if path in producer_lineage
                },
                shares_memory=overrides_shared_data(phase),
            )
        )
        producer_lineage.update(dict.fromkeys(outputs.values(), lineage))
        upstream = lineage
        payload = artifacts
    return PipelinePlan(
        workspace=str(config.workspace),
        seed=config.seed,
        phases=tuple(plans),
        entry_inputs=entry,
        conda_env=conda_env,
    )
