"""Run a pipeline config's phases through attpc_spyral's own ``start_pipeline``.

Usage: python spyral_start_pipeline.py CONFIG.yaml TRACE_FOLDER WORKSPACE
The phases are built from the config's parameters exactly as the workflow builds them, then
handed to Spyral's ``Pipeline`` and ``start_pipeline`` (one process), as a Spyral user would.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import yaml
from spyral import Pipeline, start_pipeline

from spyralflow.framework.loading import construct_phase


def main(config_path: str, trace_folder: str, workspace: str) -> None:
    config = yaml.safe_load(Path(config_path).read_text())
    phases = [construct_phase(entry["class"], entry["parameters"]) for entry in config["phases"]]
    pipeline = Pipeline(phases, [True] * len(phases), Path(workspace), Path(trace_folder))
    runs = config["runs"]
    start_pipeline(pipeline, runs["first"], runs["last"], n_procs=1, disable_display=True)


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main(*sys.argv[1:4])
