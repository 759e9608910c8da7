"""Excitation energy on the physics matrix: the Kinematics phase and the spectrum's peak fit on
spyralflow's fits of each sample of ``physics_matrix.py``, against the simulated states.

Per sample (its reaction, gas and beam energy as ``physics_matrix.SAMPLES`` simulated them): the
Kinematics phase on ``<workspace>/<sample>/spyralflow/InterpSolver``, the Ex histogram fitted at
the simulated states (``spyralflow.spectrum``), and per state the fitted centroid, its error, the
offset from the simulated energy, the core width, the tail fraction and the line-shape spread.

Usage (after physics_matrix.py):
    python benchmarks/matrix_excitation.py --events 200 --workspace /tmp/physics_matrix
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import polars as pl

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "benchmarks"))

from physics_matrix import BEAM_ENERGY, RUN, analysed_samples, solver_output  # noqa: E402

from spyralflow.framework.phase import PhaseResult  # noqa: E402
from spyralflow.framework.status import ProgressLog  # noqa: E402
from spyralflow.phases.detector import DetectorParameters  # noqa: E402
from spyralflow.phases.kinematics import KinematicsPhase  # noqa: E402
from spyralflow.phases.kinematics.parameters import ReactionParameters  # noqa: E402
from spyralflow.spectrum.peaks import (  # noqa: E402
    PeakFitError,
    fit_peaks,
    histogram_range,
    make_histogram,
)

BIN_WIDTH_MEV = 0.1


def kinematics_phase(sample: tuple, folder: Path) -> KinematicsPhase:
    """The Kinematics phase of a sample's reaction, gas and field."""
    _, target, ejectile, *_, field = sample
    return KinematicsPhase(
        ReactionParameters(
            target=target,
            projectile=(6, 16),
            ejectile=ejectile,
            beam_energy=BEAM_ENERGY,
            gas_data_path=folder / "gas.json",
        ),
        DetectorParameters(magnetic_field=field),
    )


def kinematics_table(sample: tuple, folder: Path) -> pl.DataFrame:
    """The Kinematics phase's table of the sample's fits (one row per fit)."""
    phase = kinematics_phase(sample, folder)
    solver = solver_output(folder)
    workspace = folder / "spyralflow"
    payload = PhaseResult(artifacts={"interp_solver": solver}, successful=True, run_number=RUN)
    result = phase.run(payload, workspace, ProgressLog(min_interval_s=3600), None)
    return pl.read_parquet(result.artifacts["kinematics"])


def excitation(sample: tuple, folder: Path) -> np.ndarray:
    """Finite Ex of every fit of the sample (MeV)."""
    ex = kinematics_table(sample, folder)["ex"].to_numpy()
    return ex[np.isfinite(ex)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/physics_matrix"))
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    print(
        f"{'sample':16} {'state':>6} {'centroid':>9} {'error':>6} {'offset':>7} {'core':>6} "
        f"{'tail %':>6} {'spread':>6} {'fits':>5} {'chi2/ndf':>9}"
    )
    for sample, folder in analysed_samples(arguments.workspace, arguments.events):
        ex = excitation(sample, folder)
        states = list(sample[3])
        low, high = histogram_range(ex, states, None)
        histogram = make_histogram(ex, low, high, BIN_WIDTH_MEV)
        try:
            fit = fit_peaks(histogram, states)
        except PeakFitError as error:
            print(f"{sample[0]:16} no fit of {ex.size} Ex: {error}")
            continue
        for state, peak in zip(states, fit.peaks, strict=True):
            print(
                f"{sample[0]:16} {state:6.3f} {peak.centroid:9.3f} {peak.sigma_centroid:6.3f} "
                f"{peak.centroid - state:+7.3f} {peak.width:6.3f} {100 * peak.tail_fraction:6.0f} "
                f"{peak.spread:6.3f} {int(histogram.counts.sum()):5d} "
                f"{fit.chisq:5.1f}/{fit.ndf:<3d}"
            )


if __name__ == "__main__":
    main()
