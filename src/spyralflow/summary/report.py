"""The summary step: read truth and reconstruction, write the table and the plots."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from spyralflow.framework.provenance import Provenance
from spyralflow.simulation.truth import write_parquet
from spyralflow.summary import plots
from spyralflow.summary.extras import write_extras
from spyralflow.summary.inputs import (
    ESTIMATION_COLUMNS,
    POINT_COLUMNS,
    SOLVER_COLUMNS,
    TRUTH_COLUMNS,
    read_tables,
)
from spyralflow.summary.kinematics import kinematic_lines
from spyralflow.summary.matching import (
    estimation_rows,
    match,
    particle_of_interest,
    residuals,
    solver_rows,
    truth_of_particle,
)
from spyralflow.summary.metrics import summary_table
from spyralflow.summary.purity import TimeCalibration, cluster_purities, purity_table
from spyralflow.summary.settings import SummarySettings

log = logging.getLogger(__name__)

STEP_NAME = "Summary"
ESTIMATION_STAGE = "estimation"
SOLVER_STAGE = "solver"


@dataclass(frozen=True)
class SummaryInputs:
    """The per-run files the summary reads.

    Parameters
    ----------
    truth : sequence of Path
        Truth tables of the simulated runs.
    estimation : sequence of Path
        Estimation tables (23 columns; vertex in mm).
    solver : sequence of Path
        InterpSolver tables (vertex in m); may be empty.
    cluster : sequence of Path
        Cluster files, for the cluster purity; may be empty.
    kinematics : sequence of Path
        Kinematics tables, for Ex against truth and the pulls; may be empty.
    solver_gate : Path or None
        The solver's particle-ID file, drawn on the PID plot.
    """

    truth: Sequence[Path]
    estimation: Sequence[Path]
    solver: Sequence[Path] = ()
    cluster: Sequence[Path] = ()
    kinematics: Sequence[Path] = ()
    solver_gate: Path | None = None


@dataclass(frozen=True)
class SummaryOutputs:
    """The files the summary writes.

    Parameters
    ----------
    table : Path
        The summary table (parquet; see :mod:`spyralflow.summary.metrics`).
    pid_plot, kinematics_plot, residuals_plot : Path
        PNG figures.
    purity_table : Path or None
        Cluster purity table (parquet; see :mod:`spyralflow.summary.purity`), written when
        cluster files are given.
    extras_folder : Path or None
        Where the report's further tables and plots go (:mod:`spyralflow.summary.extras`).
    """

    table: Path
    pid_plot: Path
    kinematics_plot: Path
    residuals_plot: Path
    purity_table: Path | None = None
    extras_folder: Path | None = None


def summarize(
    settings: SummarySettings,
    inputs: SummaryInputs,
    outputs: SummaryOutputs,
    excitations: Sequence[float] | None = None,
    calibration: TimeCalibration | None = None,
) -> pl.DataFrame:
    """Compare reconstruction with truth and write the table and plots.

    Parameters
    ----------
    settings : SummarySettings
        Particle of interest, PID gate, plot ranges.
    inputs : SummaryInputs
        The per-run tables.
    outputs : SummaryOutputs
        Where to write.
    excitations : sequence of float, optional
        Residual states (MeV) for the kinematic lines; default: those the truth populates.
    calibration : TimeCalibration, optional
        The detector's time calibration, to place cluster points in time (purity only);
        default: Spyral's README values.

    Raises
    ------
    ValueError
        If cluster files are given without a purity table to write.

    Returns
    -------
    polars.DataFrame
        The summary table.
    """
    if inputs.cluster and outputs.purity_table is None:
        raise ValueError("cluster files were given but no purity table to write")
    with_points = bool(inputs.cluster)
    truth_columns = (*TRUTH_COLUMNS, *POINT_COLUMNS) if with_points else TRUTH_COLUMNS
    truth = read_tables(inputs.truth, truth_columns, "truth")
    estimation = read_tables(inputs.estimation, ESTIMATION_COLUMNS, "Estimation", required=False)
    solver = read_tables(inputs.solver, SOLVER_COLUMNS, "InterpSolver", required=False)
    particle = particle_of_interest(truth, settings.particle)
    truth_rows = truth_of_particle(truth, particle)
    residuals_by_stage = {
        ESTIMATION_STAGE: residuals(
            match(truth_rows, estimation_rows(estimation, particle, settings.pid_gate))
        ),
        SOLVER_STAGE: residuals(match(truth_rows, solver_rows(solver))),
    }
    table = summary_table(truth_rows, residuals_by_stage)
    provenance = Provenance(
        phase=STEP_NAME,
        phase_class=f"{__name__}.summarize",
        parameters={
            "particle": [particle.proton_number, particle.mass_number],
            "pid_gate": None
            if settings.pid_gate is None
            else {"dedx": list(settings.pid_gate.dedx), "brho": list(settings.pid_gate.brho)},
            "truth": [str(path) for path in inputs.truth],
            "estimation": [str(path) for path in inputs.estimation],
            "solver": [str(path) for path in inputs.solver],
            "cluster": [str(path) for path in inputs.cluster],
        },
    )
    write_parquet(table, outputs.table, provenance)
    particle_rows = truth_rows["particle"].unique().to_list()
    purity = None
    if inputs.cluster and outputs.purity_table is not None:
        clusters = cluster_purities(
            inputs.cluster, truth, particle_rows, calibration or TimeCalibration()
        )
        runs = truth["run"].unique().to_list()
        purity = purity_table(clusters, runs)
        write_parquet(purity, outputs.purity_table, provenance)
    if outputs.extras_folder is not None:
        write_extras(
            outputs.extras_folder,
            table,
            purity,
            truth,
            particle,
            truth_rows,
            residuals_by_stage[SOLVER_STAGE],
            inputs.kinematics,
            provenance,
        )
    particle_name = f"Z={particle.proton_number}, A={particle.mass_number}"
    lines = kinematic_lines(truth, particle_rows[0], excitations) if len(particle_rows) == 1 else []
    plots.pid_plot(estimation, outputs.pid_plot, settings.pid_gate, _solver_gate(inputs))
    plots.kinematics_plot(solver, lines, outputs.kinematics_plot, particle_name)
    plots.residuals_plot(residuals_by_stage, outputs.residuals_plot, settings.residual_range_sigmas)
    overall = table.filter(pl.col("scope") == "all")
    for row in overall.iter_rows(named=True):
        log.info(
            "%s %s: efficiency %.3f, bias %.4g %s, resolution %.4g %s",
            row["stage"],
            row["quantity"],
            row["efficiency"],
            row["bias_median"],
            row["unit"],
            row["resolution_robust"],
            row["unit"],
        )
    return table


def _solver_gate(inputs: SummaryInputs) -> tuple[str, list[tuple[float, float]]] | None:
    """The solver's particle-ID polygon as (name, [(dEdx, Brho), ...]), or None."""
    if inputs.solver_gate is None:
        return None
    import json

    content = json.loads(Path(inputs.solver_gate).read_text())
    x_axis, y_axis = content.get("xaxis", "dEdx"), content.get("yaxis", "brho")
    vertices = [(float(x), float(y)) for x, y in content["vertices"]]
    if (x_axis, y_axis) == ("brho", "dEdx"):
        vertices = [(y, x) for x, y in vertices]
    elif (x_axis, y_axis) != ("dEdx", "brho") and "DefaultAxis" not in (x_axis, y_axis):
        log.warning(
            "particle-ID gate %s is on (%s, %s); not drawn", inputs.solver_gate, x_axis, y_axis
        )
        return None
    return str(content.get("name", "gate")), vertices
