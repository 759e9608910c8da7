"""``spyralflow summary``: reconstruction against simulation truth (called by the summary rule).

Example::

    spyralflow summary --settings '{"enabled": true}' \\
        --truth truth/run_0000.parquet truth/run_0001.parquet \\
        --estimation Estimation/run_0000.parquet Estimation/run_0001.parquet \\
        --solver InterpSolver/run_0000_2H.parquet InterpSolver/run_0001_2H.parquet \\
        --table summary/summary.parquet --pid-plot summary/pid.png \\
        --kinematics-plot summary/kinematics.png --residuals-plot summary/residuals.png \\
        [--cluster Cluster/run_0000.h5 Cluster/run_0001.h5 --purity-table summary/purity.parquet]

Module-level imports stay light (argparse only): ``spyralflow --help`` imports this module.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _json_argument(text: str, option: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{option} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ValueError(f"{option} must be a JSON object, got {text!r}")
    return value


def _summarize(arguments: argparse.Namespace) -> None:
    from spyralflow.summary.report import SummaryInputs, SummaryOutputs, summarize
    from spyralflow.summary.settings import SummarySettings

    settings = SummarySettings.from_mapping(_json_argument(arguments.settings, "--settings"))
    excitations = None
    calibration = None
    if arguments.simulation_settings is not None:
        from spyralflow.simulation.settings import SimulationSettings
        from spyralflow.summary.purity import TimeCalibration

        simulation = SimulationSettings.from_mapping(
            _json_argument(arguments.simulation_settings, "--simulation-settings")
        )
        excitations = [state.energy for state in simulation.reaction.excitations]
        calibration = TimeCalibration(
            micromegas_time_bucket=simulation.electronics.micromegas_time_bucket,
            window_time_bucket=simulation.electronics.window_time_bucket,
            detector_length=simulation.detector.detector_length,
        )
    if bool(arguments.cluster) != (arguments.purity_table is not None):
        raise ValueError("give --cluster and --purity-table together (or neither)")
    summarize(
        settings,
        SummaryInputs(
            truth=arguments.truth,
            estimation=arguments.estimation,
            solver=arguments.solver,
            cluster=arguments.cluster,
            kinematics=arguments.kinematics,
            solver_gate=arguments.solver_gate,
        ),
        SummaryOutputs(
            table=arguments.table,
            pid_plot=arguments.pid_plot,
            kinematics_plot=arguments.kinematics_plot,
            residuals_plot=arguments.residuals_plot,
            purity_table=arguments.purity_table,
            extras_folder=arguments.extras_folder,
        ),
        excitations=excitations,
        calibration=calibration,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``summary`` subcommand."""
    parser = subparsers.add_parser(
        "summary",
        help="(called by the workflow) compare reconstruction with simulation truth",
        description="Compare the reconstruction of all runs with the simulation truth: a "
        "summary table and plots (what the summary rule's job does).",
    )
    parser.add_argument(
        "--settings", default="{}", help="the config's summary block as JSON (defaults if absent)"
    )
    parser.add_argument(
        "--simulation-settings",
        default=None,
        help="the config's simulation block as JSON: its excitation states give the kinematic "
        "lines (default: the states found in the truth)",
    )
    parser.add_argument(
        "--truth", type=Path, nargs="+", required=True, help="truth tables of the runs"
    )
    parser.add_argument(
        "--estimation", type=Path, nargs="*", default=[], help="Estimation tables of the runs"
    )
    parser.add_argument(
        "--solver", type=Path, nargs="*", default=[], help="InterpSolver tables of the runs"
    )
    parser.add_argument(
        "--cluster", type=Path, nargs="*", default=[], help="Cluster files (for cluster purity)"
    )
    parser.add_argument("--table", type=Path, required=True, help="summary table to write")
    parser.add_argument("--pid-plot", type=Path, required=True, help="PID plot (PNG) to write")
    parser.add_argument(
        "--kinematics-plot", type=Path, required=True, help="kinematics plot (PNG) to write"
    )
    parser.add_argument(
        "--residuals-plot", type=Path, required=True, help="residual histograms (PNG) to write"
    )
    parser.add_argument(
        "--purity-table",
        type=Path,
        default=None,
        help="cluster purity table to write (with --cluster)",
    )
    parser.add_argument(
        "--kinematics", type=Path, nargs="*", default=[], help="Kinematics tables of the runs"
    )
    parser.add_argument(
        "--solver-gate",
        type=Path,
        nargs="?",
        default=None,
        const=None,
        help="the solver's particle-ID file, drawn on the PID plot (no value: none)",
    )
    parser.add_argument(
        "--extras-folder",
        type=Path,
        default=None,
        help="folder for the report's HTML tables, Ex against truth, pulls and binned plots",
    )
    parser.set_defaults(handler=_summarize)
