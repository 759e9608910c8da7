"""The generator: from the pipeline config to Snakemake rules.

``prepare_workflow`` is what the Snakefile calls on every parse. It validates the config and
finds the generated rules in a content-addressed cache (``.spyralflow/``), keyed by the config
and the code hashes of the phases: only a cache miss imports and constructs the phases, so a
cluster job re-parsing the Snakefile stays light.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from spyralflow import __version__
from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.codehash import code_hash, use_hash_store
from spyralflow.framework.config import (
    ConfigError,
    PipelineConfig,
    canonical_json,
    load_config,
    parse_config,
)
from spyralflow.framework.runs import discover_runs, planned_runs, run_label
from spyralflow.generator.lineage import file_fingerprint, parameter_files
from spyralflow.generator.simulation import SimulationPlan, plan_simulation
from spyralflow.generator.spectrum import SpectrumPlan, plan_spectrum
from spyralflow.generator.summary import SummaryPlan, plan_summary
from spyralflow.generator.workspace import claim_workspace

CACHE_FOLDER = Path(".spyralflow")
CODE_HASH_STORE = "code-hashes.json"
SCHEMA_FILE = Path("schemas/config.schema.yaml")
CONDA_ENV_FILE = Path("envs/spyralflow.yaml")

__all__ = ["ConfigError", "PreparedWorkflow", "prepare_workflow", "render_rules"]


@dataclass(frozen=True)
class PreparedWorkflow:
    """What the Snakefile needs: the validated config, the rules file and the targets.

    Parameters
    ----------
    config : PipelineConfig
        The validated pipeline config.
    rules_path : Path
        The generated rules, ready to ``include:``.
    artifact_patterns : dict
        Phase name to {artifact key: path pattern with ``{run}``}.
    entry_inputs : dict
        The first phase's input key to path pattern.
    lineages : dict
        Phase name to its lineage digest (``generator.lineage``).
    runs : list[str]
        The ``{run}`` values (zero-padded run numbers) to process.
    simulation : SimulationPlan or None
        The simulation rule's plan when the config simulates its input runs.
    summary : SummaryPlan or None
        The summary rule's plan when the config asks for it.
    spectrum : SpectrumPlan or None
        The spectrum rule's plan when a phase writes Kinematics tables.
    """

    config: PipelineConfig
    rules_path: Path
    artifact_patterns: dict[str, dict[str, str]]
    entry_inputs: dict[str, str]
    lineages: dict[str, str]
    runs: list[str]
    simulation: SimulationPlan | None = None
    summary: SummaryPlan | None = None
    spectrum: SpectrumPlan | None = None

    def per_run(self, pattern: str) -> list[str]:
        """A ``{run}`` pattern expanded over the runs."""
        return [pattern.format(run=run) for run in self.runs]

    def outputs_of(self, phase_name: str) -> list[str]:
        """Every artifact path of one phase over all runs."""
        return [
            pattern.format(run=run)
            for pattern in self.artifact_patterns[phase_name].values()
            for run in self.runs
        ]

    @property
    def final_targets(self) -> list[str]:
        """The last phase's artifacts over all runs: the default target."""
        last = list(self.artifact_patterns)[-1]
        return self.outputs_of(last)


def _entry_identity(simulation: SimulationPlan | None) -> str:
    """What makes the input runs beyond their paths: the simulation settings and code, if any."""
    if simulation is None:
        return ""
    return canonical_json({"simulation": simulation.settings_json, "code": simulation.code_hash})


def _cache_key(config: PipelineConfig, conda_env: str, entry_identity: str) -> str:
    generator_hash = code_hash("spyralflow.generator")
    phase_hashes = [code_hash(spec.module_name) for spec in config.phases]
    # The files the parameters name (gas, particle ID, Garfield table) shape assets and
    # lineages: an edit must give new rules.
    files = [
        [path, file_fingerprint(path)]
        for spec in config.phases
        for path in parameter_files(spec.parameters)
    ]
    material = {
        "version": __version__,
        "conda_env": conda_env,
        "generator": generator_hash,
        "phases": phase_hashes,
        "parameter_files": files,
        "entry_identity": entry_identity,
        "config": {
            key: config.raw.get(key)
            for key in ("workspace", "input_folder", "entry_folders", "seed", "phases")
        },
    }
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()[:16]


def _runs(config: PipelineConfig, entry_inputs: dict[str, str]) -> list[str]:
    """The runs to process.

    Raises
    ------
    ConfigError
        If ``input_folder`` does not exist or holds no run of the range (without simulation).
    """
    if config.simulation_enabled:
        numbers = planned_runs(config.first_run, config.last_run, config.skip_runs)
    else:
        # A run is there when every entry artifact of it is (one folder per key).
        found = []
        for key, pattern in entry_inputs.items():
            folder = Path(config.entry_folder(key))
            name = "input_folder" if key not in config.entry_folders else f"entry_folders.{key}"
            if not folder.is_dir():
                raise ConfigError(
                    f"config key '{name}': {folder.resolve()} is not an existing folder; point "
                    "it at the folder of the run_NNNN files"
                )
            extension = Path(pattern).suffix
            numbers = discover_runs(
                folder, extension, config.first_run, config.last_run, config.skip_runs
            )
            if not numbers:
                raise ConfigError(
                    f"config keys '{name}'/'runs': no non-empty run_NNNN{extension} file for "
                    f"runs {config.first_run} .. {config.last_run} (skipping "
                    f"{sorted(config.skip_runs) or 'none'}) in {folder.resolve()}"
                )
            found.append(set(numbers))
        numbers = sorted(set.intersection(*found))
    return [run_label(number) for number in numbers]


def _generate(
    config: PipelineConfig,
    conda_env: str,
    entry_identity: str,
    rules_path: Path,
    plan_path: Path,
) -> None:
    from spyralflow.generator.plan import build_plan
    from spyralflow.generator.render import render_plan

    plan = build_plan(config, conda_env, entry_identity)
    with atomic_output(rules_path) as temporary:
        temporary.write_text(render_plan(plan))
    content = {
        "artifacts": plan.artifact_patterns(),
        "entry": plan.entry_inputs,
        "lineages": plan.lineages(),
    }
    with atomic_output(plan_path) as temporary:
        temporary.write_text(json.dumps(content, indent=1))


def prepare_workflow(
    raw_config: dict,
    workflow_folder: Path,
    cache_folder: Path = CACHE_FOLDER,
    claim: bool = True,
    config_files: list[str] | None = None,
) -> PreparedWorkflow:
    """Validate the config and return the generated rules, building them on a cache miss.

    Parameters
    ----------
    raw_config : dict
        Snakemake's ``config``.
    workflow_folder : Path
        The ``workflow/`` folder (holding ``schemas/`` and ``envs/``).
    cache_folder : Path
        Where generated rules are kept, relative to the working directory.
    claim : bool
        Record this working directory as the one driving the workspace, refusing a workspace
        another working copy drives (``generator.workspace``). Off in jobs on cluster nodes.
    config_files : list of str, optional
        The config files Snakemake read, recorded with the claim.

    Raises
    ------
    ConfigError
        One message naming the config key, phase or phase pair at fault.
    """
    config = parse_config(raw_config, Path(workflow_folder) / SCHEMA_FILE)
    cache = Path(cache_folder).resolve()
    use_hash_store(cache / CODE_HASH_STORE)
    conda_env = os.path.relpath(Path(workflow_folder).resolve() / CONDA_ENV_FILE, cache)
    simulation = plan_simulation(config)
    entry_identity = _entry_identity(simulation)
    key = _cache_key(config, conda_env, entry_identity)
    rules_path = cache / f"rules-{key}.smk"
    plan_path = cache / f"plan-{key}.json"
    if not (rules_path.exists() and plan_path.exists()):
        _generate(config, conda_env, entry_identity, rules_path, plan_path)
    plan = json.loads(plan_path.read_text())
    if claim:
        # Only once the config proved valid: a refused config leaves no workspace behind.
        claim_workspace(config.workspace, Path.cwd(), config_files or [])
    return PreparedWorkflow(
        config=config,
        rules_path=rules_path,
        artifact_patterns=plan["artifacts"],
        entry_inputs=plan["entry"],
        lineages=plan["lineages"],
        runs=_runs(config, plan["entry"]),
        simulation=simulation,
        summary=plan_summary(config, plan["artifacts"], plan["lineages"], simulation),
        spectrum=plan_spectrum(config, plan["artifacts"], plan["lineages"]),
    )


def render_rules(config_path: Path, schema_path: Path) -> str:
    """The Snakemake rules the config gives, as text (``spyralflow rules``)."""
    from spyralflow.generator.plan import build_plan
    from spyralflow.generator.render import render_plan

    config = load_config(config_path, schema_path)
    return render_plan(build_plan(config, entry_identity=_entry_identity(plan_simulation(config))))
