"""Run a pipeline config's phases through attpc_spyral's own ``start_pipeline``.

Usage: python spyral_start_pipeline.py CONFIG.yaml TRACE_FOLDER WORKSPACE
The phases are built from the config's parameters exactly as the workflow builds them, then
handed to Spyral's ``Pipeline`` and ``start_pipeline`` (one worker process), as a Spyral user
would. One thing is changed: the random generator each phase's ``run`` gets. Spyral seeds its
worker from OS entropy (its Pointcloud jitters each time by up to 1/1000 time bucket), so no two
of its runs agree; here each ``run`` gets the workflow's generator for (seed, phase, run), so
the outputs can be compared bit for bit. The patch is applied at import, so the spawned worker,
which imports this module again, has it too.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from pathlib import Path

import yaml
from spyral import Pipeline, start_pipeline

from spyralflow.framework.loading import construct_phase, import_phase_class
from spyralflow.framework.seeding import phase_rng

CONFIG_VARIABLE = "SPYRALFLOW_REFERENCE_CONFIG"


def _seeded(run, seed: int):
    @functools.wraps(run)
    def seeded_run(self, payload, workspace_path, msg_queue, rng):
        return run(
            self, payload, workspace_path, msg_queue, phase_rng(seed, self.name, payload.run_number)
        )

    return seeded_run


def _seed_the_phases(config: dict) -> None:
    for entry in config["phases"]:
        phase_class = import_phase_class(entry["class"])
        if not getattr(phase_class.run, "__wrapped__", None):
            phase_class.run = _seeded(phase_class.run, config.get("seed", 0))


if os.environ.get(CONFIG_VARIABLE):
    _seed_the_phases(yaml.safe_load(Path(os.environ[CONFIG_VARIABLE]).read_text()))


def main(config_path: str, trace_folder: str, workspace: str) -> None:
    config = yaml.safe_load(Path(config_path).read_text())
    phases = [construct_phase(entry["class"], entry["parameters"]) for entry in config["phases"]]
    pipeline = Pipeline(phases, [True] * len(phases), Path(workspace), Path(trace_folder))
    runs = config["runs"]
    start_pipeline(pipeline, runs["first"], runs["last"], n_procs=1, disable_display=True)


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    os.environ[CONFIG_VARIABLE] = str(Path(sys.argv[1]).resolve())
    _seed_the_phases(yaml.safe_load(Path(sys.argv[1]).read_text()))
    main(*sys.argv[1:4])
