"""Run one phase for one run, or build one phase's assets, inside a Snakemake job.

This is what the generated rules call (through ``spyralflow run-phase`` and
``spyralflow create-assets``). It seeds the rng from (global seed, phase name, run), turns the
phase's progress messages into log lines, checks that the declared artifacts exist, and stamps
provenance on them.

A per-run job calls, on one phase object, what Spyral's ``start_pipeline`` calls:
``create_assets`` (cheap here: the one-time asset rule has already built the assets, and a phase
such as Spyral's InterpSolver sets the state ``run`` needs in it), ``create_shared_data``, then
``run``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.loading import construct_phase
from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.provenance import (
    Provenance,
    describe_provenance,
    provenance_context,
    provenance_sidecar,
    read_provenance,
    stamp_provenance,
)
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.seeding import phase_rng
from spyralflow.framework.status import ProgressLog

log = logging.getLogger(__name__)


SHARED_MEMORY_FOLDER = Path("/dev/shm")

# Spyral 1.1.2's own bugs, recognised in a failing job so its error says what to do.
SPYRAL_BUGS = (
    (
        "cannot write 'Object' datatype",
        "this is Spyral 1.1.2's EstimationPhase bug: it stores the direction as a Python enum, "
        "which polars cannot write to parquet, so it never writes an estimation file; use "
        "spyralflow.phases.estimation.EstimationPhase (same parameters, same parquet layout)",
    ),
    (
        "expected str, bytes or os.PathLike object, not NoneType",
        "Spyral 1.1.2's PointcloudPhase.create_assets builds a path from "
        "det_params.garfield_file_path even when do_garfield_correction is false; give it a "
        "file path (it need not exist unless the correction is on)",
    ),
)


class PhaseJobError(RuntimeError):
    """A phase job failed; the message names the phase, the run and the files."""


def _segment_exists(error: FileExistsError) -> str:
    """What to do about a shared-memory segment that ``create_shared_data`` found existing."""
    name = str(error.filename or "").lstrip("/")
    return (
        f"FileExistsError: {error}. The shared-memory segment '{name}' exists already: another "
        "job of a phase sharing memory runs on this machine (the shipped profiles allow one at a "
        "time through the 'shared_memory' resource; keep it at 1), or a job killed with -9 left "
        f"it. If no such job runs here, remove it (rm {SHARED_MEMORY_FOLDER / name}) and rerun"
    )


def _explain(error: Exception) -> str:
    """The error as text, with what to do when it is a known Spyral bug."""
    text = f"{type(error).__name__}: {error}"
    for cause, advice in SPYRAL_BUGS:
        if cause in str(error):
            return f"{text}. {advice}"
    return text


@dataclass(frozen=True)
class PhaseJob:
    """Everything one job needs, as the generated rule passes it.

    Parameters
    ----------
    class_path : str
        Dotted path of the phase class.
    parameters : dict
        The phase's constructor parameters (plain values).
    code_hash : str
        Content hash of the phase's code, recorded in provenance.
    workspace : Path
        Workspace root.
    seed : int
        Global seed.
    lineage : str
        The lineage digest of this phase in the pipeline, recorded in provenance.
    input_lineages : dict[str, str]
        Incoming artifact key to the lineage its file must carry.
    """

    class_path: str
    parameters: dict[str, Any]
    code_hash: str
    workspace: Path
    seed: int
    lineage: str = ""
    input_lineages: dict[str, str] = field(default_factory=dict)

    def provenance(self, phase_name: str, run: int) -> Provenance:
        return Provenance(
            phase=phase_name,
            phase_class=self.class_path,
            parameters=self.parameters,
            code_hash=self.code_hash,
            seed=self.seed,
            run=run,
            lineage=self.lineage,
        )


def _prepare_workspace(phase: Any, workspace: Path) -> None:
    Path(phase.get_artifact_path(workspace)).mkdir(parents=True, exist_ok=True)
    Path(phase.get_asset_storage_path(workspace)).mkdir(parents=True, exist_ok=True)


def check_input_lineage(label: str, incoming: dict[str, Path], expected: dict[str, str]) -> None:
    """Refuse an input artifact made by other settings than the ones this pipeline gives.

    Raises
    ------
    PhaseJobError
        Naming the file, the lineage it carries and who made it.
    """
    for key, lineage in expected.items():
        if key not in incoming:
            continue
        path = Path(incoming[key])
        try:
            recorded = read_provenance(path)
        except Exception as error:
            raise PhaseJobError(
                f"{label}: cannot read the provenance of input artifact '{key}' ({path}): "
                f"{type(error).__name__}: {error}"
            ) from error
        found = (recorded or {}).get("lineage", "") or "none"
        if found != lineage:
            raise PhaseJobError(
                f"{label}: input artifact '{key}' ({path}) does not come from this pipeline's "
                f"settings: it carries lineage '{found}' ({describe_provenance(recorded)}), "
                f"this pipeline expects '{lineage}'. It is stale or was put there by hand: "
                "delete it and run snakemake again to rebuild it"
            )


def _release(handles: dict[str, SharedMemory]) -> None:
    for handle in handles.values():
        handle.close()
        try:
            handle.unlink()
        except FileNotFoundError:
            pass


def run_phase(
    job: PhaseJob,
    run: int,
    incoming: dict[str, Path],
    expected_outputs: dict[str, Path],
) -> PhaseResult:
    """Run the phase on one run.

    Parameters
    ----------
    job : PhaseJob
        The phase and its settings.
    run : int
        Run number.
    incoming : dict[str, Path]
        The upstream artifacts (the payload Spyral would pass).
    expected_outputs : dict[str, Path]
        The artifacts the rule declares; each must exist afterwards.

    Raises
    ------
    PhaseJobError
        If the phase fails, reports an unsuccessful result, or leaves a declared artifact missing.
    """
    phase = construct_phase(job.class_path, job.parameters)
    label = f"run {run} ({form_run_string(run)}), phase {phase.name}"
    for key, path in incoming.items():
        if not Path(path).exists():
            raise PhaseJobError(f"{label}: input artifact '{key}' is missing: {path}")
    check_input_lineage(label, incoming, job.input_lineages)
    _prepare_workspace(phase, job.workspace)
    # Snakemake removes the declared outputs before a job, not their sidecars: a sidecar left
    # from an earlier lineage would be taken as the new artifact's provenance.
    for path in expected_outputs.values():
        provenance_sidecar(Path(path)).unlink(missing_ok=True)
    payload = PhaseResult(
        artifacts={k: Path(v) for k, v in incoming.items()}, successful=True, run_number=run
    )
    provenance = job.provenance(phase.name, run)
    rng = phase_rng(job.seed, phase.name, run)
    handles: dict[str, SharedMemory] = {}
    inputs_text = ", ".join(f"{k}={v}" for k, v in incoming.items()) or "none"
    log.info(
        "%s: starting (inputs: %s; code %s; seed %d)", label, inputs_text, job.code_hash, job.seed
    )
    try:
        with provenance_context(provenance):
            if phase.create_assets(job.workspace) is False:
                raise PhaseJobError(f"{label}: create_assets returned False; see the log above")
            try:
                phase.create_shared_data(job.workspace, handles)
            except FileExistsError as error:
                raise PhaseJobError(f"{label}: {_segment_exists(error)}") from error
            result = phase.run(payload, job.workspace, ProgressLog(), rng)
    except PhaseJobError:
        raise
    except Exception as error:
        raise PhaseJobError(f"{label} failed on inputs {inputs_text}: {_explain(error)}") from error
    finally:
        _release(handles)
    if result is None or not getattr(result, "successful", False):
        raise PhaseJobError(
            f"{label}: the phase reported an unsuccessful result (inputs: {inputs_text}); "
            "see the messages above in this log"
        )
    missing = [f"{key}={path}" for key, path in expected_outputs.items() if not Path(path).exists()]
    if missing:
        raise PhaseJobError(f"{label}: the phase did not write {', '.join(missing)}")
    for path in expected_outputs.values():
        stamp_provenance(Path(path), provenance)
    log.info("%s: done", label)
    return result


def create_assets(job: PhaseJob, manifest_path: Path) -> None:
    """Build the phase's one-time assets and write a manifest of them.

    The manifest (JSON: provenance and the asset files with their sizes) is the rule's output;
    its name carries the hash of everything the assets depend on.

    Raises
    ------
    PhaseJobError
        If ``create_assets`` raises or returns False.
    """
    phase = construct_phase(job.class_path, job.parameters)
    _prepare_workspace(phase, job.workspace)
    provenance = job.provenance(phase.name, -1)
    label = f"phase {phase.name}, assets"
    try:
        with provenance_context(provenance):
            ok = phase.create_assets(job.workspace)
    except Exception as error:
        raise PhaseJobError(f"{label} failed: {_explain(error)}") from error
    if ok is False:
        raise PhaseJobError(f"{label}: create_assets returned False; see the messages above")
    storage = Path(phase.get_asset_storage_path(job.workspace))
    manifest_path = Path(manifest_path)
    files = {
        str(path.relative_to(storage)): path.stat().st_size
        for path in sorted(storage.rglob("*"))
        if path.is_file() and not path.name.startswith((".", "manifest-"))
    }
    content = {
        "provenance": json.loads(provenance.to_json()),
        "files": files,
        "host": os.uname().nodename,
    }
    with atomic_output(manifest_path) as temporary:
        temporary.write_text(json.dumps(content, indent=2, sort_keys=True))
    log.info("%s: done (%d files)", label, len(files))
