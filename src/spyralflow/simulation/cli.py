"""``spyralflow simulate``: simulate one run (called by the workflow's simulation rule).

Example::

    spyralflow simulate --settings '{"events_per_run": 200}' --seed 0 --run 3 \\
        --traces traces/run_0003.h5 --pointcloud engine/run_0003.h5 \\
        --truth truth/run_0003.parquet --kinematics kinematics/run_0003.h5

Module-level imports stay light (argparse only): ``spyralflow --help`` imports this module.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _simulate(arguments: argparse.Namespace) -> None:
    from spyralflow.simulation.run import SimulationOutputs, simulate_run
    from spyralflow.simulation.settings import SimulationSettings

    try:
        values = json.loads(arguments.settings)
    except json.JSONDecodeError as error:
        raise ValueError(f"--settings is not valid JSON: {error}") from error
    settings = SimulationSettings.from_mapping(values)
    simulate_run(
        settings,
        seed=arguments.seed,
        run=arguments.run,
        outputs=SimulationOutputs(
            traces=arguments.traces,
            pointcloud=arguments.pointcloud,
            truth=arguments.truth,
            kinematics=arguments.kinematics,
        ),
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand."""
    parser = subparsers.add_parser(
        "simulate",
        help="(called by the workflow) simulate one run with attpc_engine",
        description="Simulate one run with attpc_engine: raw GET traces, the engine's point "
        "clouds and the truth table (what the simulation rule's job does).",
    )
    parser.add_argument(
        "--settings",
        default="{}",
        help="the config's simulation block as JSON (missing keys take their defaults)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the pipeline's global seed")
    parser.add_argument("--run", type=int, required=True, help="run number (e.g. 3 or 0003)")
    parser.add_argument("--traces", type=Path, required=True, help="raw trace file to write")
    parser.add_argument(
        "--pointcloud", type=Path, required=True, help="engine point-cloud file to write"
    )
    parser.add_argument("--truth", type=Path, required=True, help="truth parquet file to write")
    parser.add_argument(
        "--kinematics",
        type=Path,
        default=None,
        help="also write the kinematics in attpc_engine's HDF5 layout (optional)",
    )
    parser.set_defaults(handler=_simulate)
