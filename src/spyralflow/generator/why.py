"""Why steps rerun: the recorded parameters of each output against the current config.

``snakemake -n`` gives a parameter change as the whole parameter JSON, before and after. Here
each output's Snakemake metadata record (``.snakemake/metadata``, one JSON file per output,
named by the urlsafe base64 of its path) gives the command its job ran and its params; the
parameters, code hash and seed in them are compared with what the config gives now, key by key,
for the simulation, each phase and the summary. Only the file records are read (not
``--persistence-backend db``).
"""

from __future__ import annotations

import base64
import json
import logging
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spyralflow.framework.config import PipelineConfig
    from spyralflow.generator.plan import PipelinePlan

LOGGER = logging.getLogger(__name__)
METADATA_FOLDER = Path(".snakemake") / "metadata"
ABSENT = "(absent)"
# The rules of workflow/rules/simulation.smk and summary.smk.
SIMULATION_RULE = "simulate"
SUMMARY_RULE = "summary"
# JSON options of the job commands, and the prefix their keys are shown with.
JSON_OPTIONS = {"--parameters": "", "--settings": "", "--simulation-settings": "simulation."}


@dataclass(frozen=True)
class Step:
    """One step of the pipeline as the config gives it now.

    Parameters
    ----------
    name : str
        The phase name, or ``simulation`` / ``summary``.
    rules : tuple[str, ...]
        The rules whose outputs belong to the step.
    options : dict[str, str]
        The command-line options of its jobs that carry parameters, with their current values.
    code_hash : str
        The current content hash of its code (a param of its rules).
    """

    name: str
    rules: tuple[str, ...]
    options: dict[str, str]
    code_hash: str


@dataclass(frozen=True)
class Record:
    """One output's metadata record: the path it describes, its rule and its job's command."""

    output: str
    rule: str
    shellcmd: str
    params: tuple[str, ...] = ()


@dataclass
class StepReason:
    """What changed for one step, over all its recorded outputs.

    Parameters
    ----------
    step : str
        The step name.
    outputs : int
        Outputs of the step (for a phase: per-run and asset rules) that have a record and
        still exist.
    changes : Counter
        Each change line to the number of those outputs it applies to.
    """

    step: str
    outputs: int = 0
    changes: Counter = field(default_factory=Counter)


def _decode_name(relative: Path) -> str:
    """The output path a record file stands for (Snakemake splits long names into folders)."""
    encoded = "".join(part.removeprefix("@") for part in relative.parts)
    return base64.urlsafe_b64decode(encoded.encode()).decode()


def read_records(metadata_folder: Path) -> list[Record]:
    """Every readable metadata record under ``metadata_folder``.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist (Snakemake has not run here).
    """
    folder = Path(metadata_folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no Snakemake metadata in {folder}: run `spyralflow why` where you run snakemake, "
            "after a first run (the --persistence-backend db records are not read)"
        )
    records = []
    unreadable = []
    for path in sorted(folder.rglob("*")):
        if path.is_dir():
            continue
        try:
            content = json.loads(path.read_text())
            output = _decode_name(path.relative_to(folder))
        except (OSError, ValueError):
            unreadable.append(path.name)
            continue
        if content.get("rule") and content.get("shellcmd"):
            params = tuple(content.get("params") or ())
            records.append(Record(output, content["rule"], content["shellcmd"], params))
    if unreadable:
        # Snakemake ignores these too: records being written by a running snakemake.
        LOGGER.warning(
            "skipped %d unreadable metadata records in %s (first: %s); their outputs are "
            "not explained",
            len(unreadable),
            folder,
            unreadable[0],
        )
    return records


def recorded_options(shellcmd: str, names: set[str]) -> dict[str, str]:
    """The values of the options ``names`` in a recorded job command."""
    words = shlex.split(shellcmd)
    return {word: words[index + 1] for index, word in enumerate(words[:-1]) if word in names}


def pipeline_steps(config: PipelineConfig, plan: PipelinePlan) -> list[Step]:
    """The simulation, the phases and the summary, in pipeline order, as configured now."""
    from spyralflow.generator.simulation import plan_simulation
    from spyralflow.generator.summary import plan_summary

    steps = []
    simulation = plan_simulation(config)
    if simulation is not None:
        options = {"--settings": simulation.settings_json, "--seed": str(config.seed)}
        steps.append(Step("simulation", (SIMULATION_RULE,), options, simulation.code_hash))
    for phase in plan.phases:
        options = {
            "--phase-class": phase.spec.class_path,
            "--parameters": phase.spec.parameters_json,
            "--code-hash": phase.code_hash,
            "--seed": str(plan.seed),
        }
        rules = (phase.rule_name, phase.asset_rule_name)
        steps.append(Step(phase.name, rules, options, phase.code_hash))
    summary = plan_summary(config, plan.artifact_patterns(), plan.lineages(), simulation)
    if summary is not None:
        options = {
            "--settings": summary.settings_json,
            "--simulation-settings": summary.simulation_json,
        }
        steps.append(Step("summary", (SUMMARY_RULE,), options, summary.code_hash))
    return steps


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _shown(value: Any) -> str:
    return ABSENT if value is ABSENT else json.dumps(value)


def parameter_changes(before: dict, after: dict, prefix: str = "") -> list[str]:
    """``key old -> new`` for each dotted key whose value differs, in key order."""
    old, new = _flatten(before), _flatten(after)
    return [
        f"{prefix}{key} {_shown(old.get(key, ABSENT))} -> {_shown(new.get(key, ABSENT))}"
        for key in sorted(old.keys() | new.keys())
        if old.get(key, ABSENT) != new.get(key, ABSENT)
    ]


def _changes(record: Record, step: Step) -> list[str]:
    recorded = recorded_options(record.shellcmd, set(step.options))
    changes = []
    for option, now in step.options.items():
        before = recorded.get(option, now)
        if before == now:
            continue
        if option in JSON_OPTIONS:
            changes += parameter_changes(json.loads(before), json.loads(now), JSON_OPTIONS[option])
        elif option == "--code-hash":
            changes.append(f"code changed (hash {before} -> {now})")
        else:
            changes.append(f"{option.removeprefix('--')} {before} -> {now}")
    # Where the command does not carry the code hash, Snakemake's params (each recorded as its
    # repr) do.
    code_in_command = "--code-hash" in step.options
    if not code_in_command and record.params and repr(step.code_hash) not in record.params:
        changes.append(f"code changed (hash now {step.code_hash})")
    return changes


def step_reasons(steps: list[Step], records: list[Record], root: Path) -> list[StepReason]:
    """Per step, in order, what changed since its existing outputs were made."""
    by_rule = {rule: step for step in steps for rule in step.rules}
    reasons = {step.name: StepReason(step.name) for step in steps}
    for record in records:
        step = by_rule.get(record.rule)
        if step is None or not (Path(root) / record.output).exists():
            continue
        reason = reasons[step.name]
        reason.outputs += 1
        reason.changes.update(_changes(record, step))
    return list(reasons.values())


def explain(reasons: list[StepReason]) -> str:
    """The report: one line per change, and which steps only follow an upstream change."""
    lines = []
    changed_upstream: list[str] = []
    for reason in reasons:
        if not reason.outputs:
            lines.append(f"{reason.step}: no outputs yet")
        elif reason.changes:
            for change, count in reason.changes.items():
                lines.append(f"{reason.step}: {change} ({count} of {reason.outputs} outputs)")
        elif changed_upstream:
            lines.append(
                f"{reason.step}: no change of its own; reruns after {', '.join(changed_upstream)}"
            )
        else:
            lines.append(f"{reason.step}: no change ({reason.outputs} outputs)")
        if reason.changes:
            changed_upstream.append(reason.step)
    return "\n".join(lines) + "\n"
