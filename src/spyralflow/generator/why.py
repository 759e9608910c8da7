"""Why phases rerun: the recorded parameters of each output against the current config.

``snakemake -n`` gives a parameter change as the whole parameter JSON, before and after. Here
each output's Snakemake metadata record (``.snakemake/metadata``, one JSON file per output,
named by the urlsafe base64 of its path) gives the command its job ran; the phase parameters,
code hash and seed in it are compared with the rules the config gives now, key by key.
Only the file records are read (not ``--persistence-backend db``).
"""

from __future__ import annotations

import base64
import json
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spyralflow.generator.plan import PhasePlan, PipelinePlan

METADATA_FOLDER = Path(".snakemake") / "metadata"
ABSENT = "(absent)"
# The options of the phase commands (render._phase_arguments) that carry what can change.
RECORDED_OPTIONS = ("--phase-class", "--parameters", "--code-hash", "--seed")


@dataclass(frozen=True)
class Record:
    """One output's metadata record: the path it describes, its rule and its job's command."""

    output: str
    rule: str
    shellcmd: str


@dataclass
class PhaseReason:
    """What changed for one phase, over all its recorded outputs.

    Parameters
    ----------
    phase : str
        The phase name.
    outputs : int
        Outputs of the phase (per-run and asset rules) that have a record and still exist.
    changes : Counter
        Each change line to the number of those outputs it applies to.
    """

    phase: str
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
    for path in sorted(folder.rglob("*")):
        if path.is_dir() or path.name.startswith("@"):
            continue
        try:
            content = json.loads(path.read_text())
            output = _decode_name(path.relative_to(folder))
        except (OSError, ValueError):
            continue  # a record being written by a running snakemake; Snakemake skips it too
        if content.get("rule") and content.get("shellcmd"):
            records.append(Record(output, content["rule"], content["shellcmd"]))
    return records


def recorded_options(shellcmd: str) -> dict[str, str]:
    """The values of ``RECORDED_OPTIONS`` in a recorded phase command."""
    words = shlex.split(shellcmd)
    return {
        word: words[index + 1] for index, word in enumerate(words[:-1]) if word in RECORDED_OPTIONS
    }


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _shown(value: Any) -> str:
    return ABSENT if value is ABSENT else json.dumps(value)


def parameter_changes(before: dict, after: dict) -> list[str]:
    """``key old -> new`` for each dotted key whose value differs, in key order."""
    old, new = _flatten(before), _flatten(after)
    return [
        f"{key} {_shown(old.get(key, ABSENT))} -> {_shown(new.get(key, ABSENT))}"
        for key in sorted(old.keys() | new.keys())
        if old.get(key, ABSENT) != new.get(key, ABSENT)
    ]


def _changes(options: dict[str, str], phase: PhasePlan, plan: PipelinePlan) -> list[str]:
    changes = []
    if options.get("--phase-class", phase.spec.class_path) != phase.spec.class_path:
        changes.append(f"class {options['--phase-class']} -> {phase.spec.class_path}")
    recorded = json.loads(options.get("--parameters", phase.spec.parameters_json))
    changes += parameter_changes(recorded, json.loads(phase.spec.parameters_json))
    if options.get("--code-hash", phase.code_hash) != phase.code_hash:
        changes.append(f"code changed (hash {options['--code-hash']} -> {phase.code_hash})")
    if options.get("--seed", str(plan.seed)) != str(plan.seed):
        changes.append(f"seed {options['--seed']} -> {plan.seed}")
    return changes


def phase_reasons(plan: PipelinePlan, records: list[Record], root: Path) -> list[PhaseReason]:
    """Per phase of the plan, in order, what changed since its existing outputs were made."""
    by_rule = {}
    for phase in plan.phases:
        by_rule[phase.rule_name] = by_rule[phase.asset_rule_name] = phase
    reasons = {phase.name: PhaseReason(phase.name) for phase in plan.phases}
    for record in records:
        phase = by_rule.get(record.rule)
        if phase is None or not (Path(root) / record.output).exists():
            continue
        reason = reasons[phase.name]
        reason.outputs += 1
        reason.changes.update(_changes(recorded_options(record.shellcmd), phase, plan))
    return list(reasons.values())


def explain(reasons: list[PhaseReason]) -> str:
    """The report: one line per change, and which phases only follow an upstream change."""
    lines = []
    changed_upstream: list[str] = []
    for reason in reasons:
        if not reason.outputs:
            lines.append(f"{reason.phase}: no outputs yet")
        elif reason.changes:
            for change, count in reason.changes.items():
                lines.append(f"{reason.phase}: {change} ({count} of {reason.outputs} outputs)")
        elif changed_upstream:
            lines.append(
                f"{reason.phase}: no change of its own; reruns after {', '.join(changed_upstream)}"
            )
        else:
            lines.append(f"{reason.phase}: no change ({reason.outputs} outputs)")
        if reason.changes:
            changed_upstream.append(reason.phase)
    return "\n".join(lines) + "\n"
