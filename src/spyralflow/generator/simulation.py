"""Paths and parameters of the simulation rule (simulated input runs with truth)."""

from __future__ import annotations

from dataclasses import dataclass

from spyralflow.framework.codehash import code_hash
from spyralflow.framework.config import ConfigError, PipelineConfig, canonical_json

SIMULATION_FOLDER = "simulation"
SIMULATION_MODULE = "spyralflow.simulation.cli"


@dataclass(frozen=True)
class SimulationPlan:
    """Outputs (patterns with ``{run}``) and parameters of the simulation rule.

    Parameters
    ----------
    traces : str
        Raw GET traces, the input of a pipeline starting at Pointcloud.
    pointcloud : str
        attpc_engine's own point clouds, the input of a pipeline starting at Cluster.
    truth : str
        Truth table per run.
    settings_json : str
        The config's ``simulation`` block as canonical JSON.
    code_hash : str
        Content hash of the simulation code.
    """

    traces: str
    pointcloud: str
    truth: str
    settings_json: str
    code_hash: str


def plan_simulation(config: PipelineConfig) -> SimulationPlan | None:
    """The simulation rule's plan, or None when the config analyses existing runs.

    Raises
    ------
    ConfigError
        If the pipeline's ``input_folder`` is not one the simulation writes.
    """
    if not config.simulation_enabled:
        return None
    folder = config.workspace / SIMULATION_FOLDER
    plan = SimulationPlan(
        traces=str(folder / "traces" / "run_{run}.h5"),
        pointcloud=str(folder / "pointcloud" / "run_{run}.h5"),
        truth=str(folder / "truth" / "run_{run}.parquet"),
        settings_json=canonical_json(config.simulation),
        code_hash=code_hash(SIMULATION_MODULE),
    )
    accepted = {str(folder / "traces"), str(folder / "pointcloud")}
    if str(config.input_folder) not in accepted:
        raise ConfigError(
            f"config key 'input_folder': with simulation enabled it must be one of "
            f"{sorted(accepted)} (raw traces for a pipeline starting at Pointcloud, engine point "
            f"clouds for one starting at Cluster), not '{config.input_folder}'"
        )
    return plan
