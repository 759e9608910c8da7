"""``spyralflow spectrum``: the excitation-energy spectrum of all runs (called by its rule).

Example::

    spyralflow spectrum --settings '{"states": [0.0, 1.766]}' \\
        --kinematics Kinematics/run_0001.parquet Kinematics/run_0002.parquet \\
        --table spectrum/peaks.parquet --table-html spectrum/peaks.html \\
        --spectrum-plot spectrum/excitation.png --angle-plot spectrum/ex_vs_cm.png \\
        --coverage-plot spectrum/cm_coverage.png

Module-level imports stay light (argparse only): ``spyralflow --help`` imports this module.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _spectrum(arguments: argparse.Namespace) -> None:
    from spyralflow.spectrum.build import SpectrumOutputs, build_spectrum
    from spyralflow.spectrum.settings import SpectrumSettings

    try:
        values = json.loads(arguments.settings)
    except json.JSONDecodeError as error:
        raise ValueError(f"--settings is not valid JSON: {error}") from error
    build_spectrum(
        SpectrumSettings.from_mapping(values),
        arguments.kinematics,
        SpectrumOutputs(
            table=arguments.table,
            table_html=arguments.table_html,
            spectrum_plot=arguments.spectrum_plot,
            angle_plot=arguments.angle_plot,
            coverage_plot=arguments.coverage_plot,
        ),
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``spectrum`` subcommand."""
    parser = subparsers.add_parser(
        "spectrum",
        help="(called by the workflow) excitation-energy spectrum of all runs with fitted peaks",
        description=(
            "Histogram the excitation energies of every run's Kinematics table, fit the peaks "
            "and write the peak table (parquet and HTML) and the plots; the spectrum rule "
            "calls it."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--settings", default="{}", help="the config's spectrum block as JSON")
    parser.add_argument(
        "--kinematics", type=Path, nargs="+", required=True, help="Kinematics tables of the runs"
    )
    parser.add_argument("--table", type=Path, required=True, help="peak table (parquet)")
    parser.add_argument("--table-html", type=Path, required=True, help="peak table (HTML)")
    parser.add_argument("--spectrum-plot", type=Path, required=True, help="Ex histogram (PNG)")
    parser.add_argument("--angle-plot", type=Path, required=True, help="Ex vs CM angle (PNG)")
    parser.add_argument("--coverage-plot", type=Path, required=True, help="CM coverage (PNG)")
    parser.set_defaults(handler=_spectrum)
