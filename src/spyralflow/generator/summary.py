"""Inputs, outputs and parameters of the summary rule (reconstruction against truth)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spyralflow.framework.codehash import code_hash
from spyralflow.framework.config import ConfigError, PipelineConfig, canonical_json
from spyralflow.generator.lineage import combined_lineage
from spyralflow.generator.simulation import SimulationPlan

SUMMARY_FOLDER = "summary"
SUMMARY_MODULE = "spyralflow.summary.cli"
ESTIMATION_KEY = "estimation"
SOLVER_KEY = "interp_solver"
CLUSTER_KEY = "cluster"
KINEMATICS_KEY = "kinematics"
GATE_FIELD = ("solver_params", "particle_id_filename")
EXTRA_FILES = (
    "summary.html",
    "purity.html",
    "ex_truth.parquet",
    "ex_truth.html",
    "pulls.html",
    "binned.parquet",
    "pulls.png",
    "binned.png",
)
"""What ``spyralflow summary --extras-folder`` writes (``spyralflow.summary.extras``)."""


@dataclass(frozen=True)
class SummaryPlan:
    """The summary rule: per-run input patterns (with ``{run}``) and its outputs.

    Parameters
    ----------
    truth, estimation, solver, cluster : str
        Path patterns of the truth tables and of the phases' artifacts; solver and cluster may
        be empty when the pipeline has no such phase.
    folder : Path
        Output folder (``<workspace>/summary``).
    kinematics : str
        Path pattern of the Kinematics tables; empty without a Kinematics phase.
    solver_gate : str
        The particle-ID file of the phase with ``solver_params.particle_id_filename``; empty
        without one.
    settings_json, simulation_json : str
        The config's ``summary`` and ``simulation`` blocks as canonical JSON.
    code_hash : str
        Content hash of the summary code.
    lineage : str
        Combined lineage of the phases whose artifacts it reads: any upstream change reruns it.
    """

    truth: str
    estimation: str
    solver: str
    cluster: str
    kinematics: str
    solver_gate: str
    folder: Path
    settings_json: str
    simulation_json: str
    code_hash: str
    lineage: str

    def output(self, name: str) -> str:
        return str(self.folder / name)

    @property
    def extra_files(self) -> tuple[str, ...]:
        """Names of the report tables and plots written into the summary folder."""
        return EXTRA_FILES


def _producer(artifacts: dict[str, dict[str, str]], key: str) -> str:
    """The first phase writing artifact ``key`` (later phases pass it on), or ""."""
    for phase, patterns in artifacts.items():
        if key in patterns:
            return phase
    return ""


def _pattern(artifacts: dict[str, dict[str, str]], key: str) -> str:
    producer = _producer(artifacts, key)
    return artifacts[producer][key] if producer else ""


def _solver_gate(config: PipelineConfig) -> str:
    block, key = GATE_FIELD
    for phase in config.phases:
        value = (phase.parameters.get(block) or {}).get(key)
        if value:
            return str(value)
    return ""


def plan_summary(
    config: PipelineConfig,
    artifacts: dict[str, dict[str, str]],
    lineages: dict[str, str],
    simulation: SimulationPlan | None,
) -> SummaryPlan | None:
    """The summary rule's plan, or None when the config does not ask for it.

    Parameters
    ----------
    config : PipelineConfig
        The validated config.
    artifacts : dict
        Phase name to its artifact patterns.
    lineages : dict
        Phase name to its lineage digest.
    simulation : SimulationPlan or None
        The simulation rule's plan, the source of truth when present.

    Raises
    ------
    ConfigError
        If there is no truth to compare with, or no phase writes estimation output.
    """
    if not config.summary_enabled:
        return None
    if simulation is not None:
        truth = simulation.truth
    elif config.summary.get("truth_folder"):
        truth = str(Path(config.summary["truth_folder"]) / "run_{run}.parquet")
    else:
        raise ConfigError(
            "config key 'summary': the summary needs truth: enable 'simulation' or give "
            "'summary.truth_folder'"
        )
    estimation = _pattern(artifacts, ESTIMATION_KEY)
    if not estimation:
        raise ConfigError(
            f"config key 'summary': no phase writes the '{ESTIMATION_KEY}' artifact to compare "
            "with truth"
        )
    readers = {
        _producer(artifacts, key)
        for key in (ESTIMATION_KEY, SOLVER_KEY, CLUSTER_KEY, KINEMATICS_KEY)
    }
    return SummaryPlan(
        truth=truth,
        estimation=estimation,
        solver=_pattern(artifacts, SOLVER_KEY),
        cluster=_pattern(artifacts, CLUSTER_KEY),
        kinematics=_pattern(artifacts, KINEMATICS_KEY),
        solver_gate=_solver_gate(config),
        folder=config.workspace / SUMMARY_FOLDER,
        settings_json=canonical_json(config.summary),
        simulation_json=canonical_json(config.simulation),
        code_hash=code_hash(SUMMARY_MODULE),
        lineage=combined_lineage(lineages[phase] for phase in readers if phase),
    )
