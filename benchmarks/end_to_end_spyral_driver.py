"""attpc_spyral 1.1.2's ``start_pipeline(n_procs=2)``, one phase at a time, timed.

Called by ``bench_end_to_end.py`` with a settings JSON: ``config`` (the spyralflow config whose
parameters Spyral's phases get), ``repository``, ``traces`` (the run files) and ``workspace``.
Spyral's Pointcloud, Cluster, Estimation and InterpSolver get the config's parameters, written
as Spyral's dataclasses need them (``tests/workflow/spyral_configs.py``), the mesh and PID gate
of the config. Spyral's EstimationPhase is patched to write its parquet
(``spyral_estimation_patch``), here and in the spawned workers, which import this module again.
Prints one JSON line: phase name to wall seconds.

Usage: python end_to_end_spyral_driver.py SETTINGS.json
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from pathlib import Path

import spyral_estimation_patch  # noqa: F401 - Spyral's estimation writes its parquet


def spyral_phases(config: dict, repository: Path) -> list:
    """Spyral's four phases with the config's parameters."""
    sys.path[:0] = [str(repository / "tests"), str(repository / "tests" / "workflow")]
    import spyral_configs

    from spyralflow.framework.loading import construct_phase

    solver = next(p for p in config["phases"] if p["class"].endswith("InterpSolverPhase"))
    ours = solver["parameters"]["solver_params"]
    entries = [
        spyral_configs.spyral_pointcloud(),
        spyral_configs.spyral_cluster(),
        spyral_configs.spyral_estimation(),
        spyral_configs.spyral_interp_solver(),
    ]
    spyral_solver = entries[3]["parameters"]["solver_params"]
    for key in spyral_solver:
        if key.startswith(("interp_", "n_time_steps", "fit_")):
            spyral_solver[key] = ours[key]
    for key in ("gas_data_path", "particle_id_filename"):
        spyral_solver[key] = str(repository / ours[key])
    return [construct_phase(entry["class"], entry["parameters"]) for entry in entries]


def main(settings_path: str) -> None:
    from spyral import Pipeline, start_pipeline

    settings = json.loads(Path(settings_path).read_text())
    config = settings["config"]
    phases = spyral_phases(config, Path(settings["repository"]))
    workspace, traces = Path(settings["workspace"]), Path(settings["traces"])
    runs = config["runs"]
    seconds = {}
    for index, phase in enumerate(phases):
        active = [position == index for position in range(len(phases))]
        pipeline = Pipeline(phases, active, workspace, traces)
        started = time.perf_counter()
        start_pipeline(pipeline, runs["first"], runs["last"], n_procs=2, disable_display=True)
        seconds[phase.name] = time.perf_counter() - started
    print(json.dumps(seconds))


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main(sys.argv[1])
