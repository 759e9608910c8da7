"""The Kinematics phase: from the InterpSolver's fits to the excitation energy of the residual.

Per fitted row: the beam's kinetic energy at the fitted vertex (mean energy loss from the window,
spyral-utils), the residual's excitation energy by missing mass, the ejectile's centre-of-mass
angle, and their uncertainties propagated from the fit's sigma columns (``missing_mass``). Needs
no truth, so it runs on real data as on simulated runs.

Every run writes ``Kinematics/run_NNNN.parquet`` (``output``), one row per solver row, zero rows
when the solver fitted nothing. A row whose excitation cannot be computed keeps its place with
``ex = NaN`` and its ``reason``; the counts per reason are logged and stored in the metadata.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from spyralflow.framework.phase import PhaseLike, PhaseResult
from spyralflow.framework.provenance import current_provenance
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.status import RunProgress
from spyralflow.io.pointcloud_file import ArtifactFormatError
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver.targets import (
    gas_identity,
    load_gas_target,
    load_particle_gate,
    nucleus,
)
from spyralflow.phases.kinematics.beam import beam_energy_and_slope
from spyralflow.phases.kinematics.missing_mass import (
    ANGLE_STEP_RAD,
    ENERGY_STEP_MEV,
    ReactionMasses,
    centre_of_mass_polar,
    excitation_energy,
    propagate,
)
from spyralflow.phases.kinematics.output import (
    REASON_BEAM_STOPPED,
    REASON_FIT_NOT_FINITE,
    REASON_OK,
    REASON_UNPHYSICAL,
    REASON_VERTEX_OUTSIDE,
    REASONS,
    write_kinematics,
)
from spyralflow.phases.kinematics.parameters import ReactionParameterError, ReactionParameters
from spyralflow.phases.schemas import (
    INTERP_SOLVER_COLUMNS,
    KINEMATICS_COLUMNS,
    interp_solver_schema,
    kinematics_schema,
)

log = logging.getLogger(__name__)

PHASE_NAME = "Kinematics"
ARTIFACT_KEY = "kinematics"
INCOMING_KEY = "interp_solver"
MM_PER_M = 1000.0
CHUNK_ROWS = 256  # rows per progress step: the energy loss is one catima call per row
_COPIED_COLUMNS = [
    name for name in KINEMATICS_COLUMNS if name in INTERP_SOLVER_COLUMNS and name != "reason"
]


class KinematicsPhase(PhaseLike):
    """Excitation energy, beam energy and centre-of-mass angle of every fitted ejectile.

    Parameters
    ----------
    reaction_params : ReactionParameters
        The reaction, the beam energy at the window and the gas.
    det_params : DetectorParameters
        The detector length bounds the vertex z.
    """

    def __init__(self, reaction_params: ReactionParameters, det_params: DetectorParameters) -> None:
        super().__init__(
            PHASE_NAME,
            incoming_schema=interp_solver_schema(),
            outgoing_schema=kinematics_schema(),
        )
        self.reaction_params = reaction_params
        self.det_params = det_params

    def check_upstream(self, upstream: list[Any]) -> None:
        """Refuse a reaction that is not the fitted one (called by the generator at plan time).

        The nearest upstream phase with ``solver_params`` (ours or Spyral's InterpSolverPhase)
        fitted the particle of its particle-ID gate in its gas: the ejectile and the gas here
        must be the same, or every excitation energy is silently wrong.

        Raises
        ------
        ReactionParameterError
            Naming the two values that differ.
        """
        solvers = [phase for phase in upstream if hasattr(phase, "solver_params")]
        if not solvers:
            return
        solver = solvers[-1].solver_params
        reaction = self.reaction_params
        gate = load_particle_gate(Path(solver.particle_id_filename))
        if (gate.z, gate.a) != reaction.ejectile:
            raise ReactionParameterError(
                f"reaction_params.ejectile is {list(reaction.ejectile)} but {solvers[-1].name} "
                f"fits [{gate.z}, {gate.a}] (its particle_id_filename "
                f"{solver.particle_id_filename})"
            )
        if gas_identity(Path(solver.gas_data_path)) != gas_identity(reaction.gas_data_path):
            raise ReactionParameterError(
                f"reaction_params.gas_data_path {reaction.gas_data_path} is not the gas "
                f"{solvers[-1].name} fits in (its gas_data_path {solver.gas_data_path})"
            )

    def masses(self) -> ReactionMasses:
        """Ground-state masses (MeV) of the reaction's nuclei, from spyral-utils' AME table."""
        reaction = self.reaction_params
        return ReactionMasses(
            target=float(nucleus(*reaction.target).mass),
            projectile=float(nucleus(*reaction.projectile).mass),
            ejectile=float(nucleus(*reaction.ejectile).mass),
            residual=float(nucleus(*reaction.residual).mass),
        )

    def create_assets(self, workspace_path: Path) -> bool:
        """Nothing to build."""
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        """``kinematics``: ``<workspace>/Kinematics/run_NNNN.parquet``."""
        name = f"{form_run_string(payload.run_number)}.parquet"
        return PhaseResult(
            artifacts={ARTIFACT_KEY: Path(self.get_artifact_path(workspace_path)) / name},
            successful=True,
            run_number=payload.run_number,
        )

    def run(
        self,
        payload: PhaseResult,
        workspace_path: Path,
        msg_queue: Any,
        rng: np.random.Generator,
    ) -> PhaseResult:
        """Compute the kinematics of one run's fits and write the parquet (always).

        ``rng`` is not used: the computation is deterministic.

        Raises
        ------
        KeyError
            If the incoming artifacts lack the solver table.
        ArtifactFormatError
            If the solver table lacks a column the phase needs.
        """
        run = payload.run_number
        if INCOMING_KEY not in payload.artifacts:
            raise KeyError(
                f"run {run}: the incoming artifacts lack '{INCOMING_KEY}' (got "
                f"{', '.join(payload.artifacts) or 'none'}); the Kinematics phase needs the "
                "InterpSolver phase's table"
            )
        solver_path = Path(payload.artifacts[INCOMING_KEY])
        fits = _read_fits(solver_path)
        result = self.construct_artifact(payload, workspace_path)
        output_path = result.artifacts[ARTIFACT_KEY]
        progress = RunProgress(msg_queue, PHASE_NAME, run, fits.height)
        computed = self._compute(fits, progress)
        reasons = Counter(computed["reason"])
        counts = {reason: reasons.get(reason, 0) for reason in REASONS}
        columns = {name: fits[name].to_list() for name in _COPIED_COLUMNS}
        columns.update(computed)
        write_kinematics(output_path, columns, current_provenance(PHASE_NAME), counts)
        log.info(
            "run %d: %d of %d fits of %s give an excitation energy (%s) -> %s",
            run,
            counts[REASON_OK],
            fits.height,
            solver_path,
            ", ".join(f"{key} {value}" for key, value in counts.items() if key != REASON_OK)
            or "no rows",
            output_path,
        )
        return result

    def _compute(self, fits: pl.DataFrame, progress: RunProgress) -> dict[str, list]:
        """The computed columns (beam_ke ... sigma_cm_polar, reason) of every row."""
        n_rows = fits.height
        vertex_z = fits["vertex_z"].to_numpy().astype(float)
        polar = fits["polar"].to_numpy().astype(float)
        ejectile_ke = fits["ke"].to_numpy().astype(float)
        reason = np.full(n_rows, REASON_OK, dtype=object)
        finite = np.isfinite(vertex_z) & np.isfinite(polar) & np.isfinite(ejectile_ke)
        reason[~finite] = REASON_FIT_NOT_FINITE
        inside = (
            finite & (vertex_z >= 0.0) & (vertex_z * MM_PER_M <= self.det_params.detector_length)
        )
        reason[finite & ~inside] = REASON_VERTEX_OUTSIDE
        beam_ke = np.full(n_rows, np.nan)
        slope = np.full(n_rows, np.nan)
        rows = np.flatnonzero(inside)
        if rows.size:
            gas = load_gas_target(self.reaction_params.gas_data_path)
            projectile = nucleus(*self.reaction_params.projectile)
            for start in range(0, rows.size, CHUNK_ROWS):
                chunk = rows[start : start + CHUNK_ROWS]
                beam_ke[chunk], slope[chunk] = beam_energy_and_slope(
                    gas, projectile, self.reaction_params.beam_energy, vertex_z[chunk]
                )
                progress.update(int(chunk[-1]) + 1)
        progress.finish()
        reason[inside & ~np.isfinite(beam_ke)] = REASON_BEAM_STOPPED
        sigma_beam_ke = np.abs(slope) * fits["sigma_vz"].to_numpy().astype(float)
        masses = self.masses()

        def excitation(beam: np.ndarray, ke: np.ndarray, angle: np.ndarray) -> np.ndarray:
            return excitation_energy(beam, ke, angle, masses)

        def centre_of_mass(beam: np.ndarray, ke: np.ndarray, angle: np.ndarray) -> np.ndarray:
            return centre_of_mass_polar(beam, ke, angle, masses)

        values = [beam_ke, ejectile_ke, polar]
        sigmas = [
            sigma_beam_ke,
            fits["sigma_ke"].to_numpy().astype(float),
            fits["sigma_polar"].to_numpy().astype(float),
        ]
        steps = [ENERGY_STEP_MEV, ENERGY_STEP_MEV, ANGLE_STEP_RAD]
        with np.errstate(invalid="ignore"):
            ex = excitation(*values)
            reason[(reason == REASON_OK) & ~np.isfinite(ex)] = REASON_UNPHYSICAL
            valid = reason == REASON_OK
            ex = np.where(valid, ex, np.nan)
            sigma_ex = np.where(valid, propagate(excitation, values, sigmas, steps), np.nan)
            cm_polar = np.where(valid, centre_of_mass(*values), np.nan)
            sigma_cm = np.where(valid, propagate(centre_of_mass, values, sigmas, steps), np.nan)
        return {
            "beam_ke": beam_ke.tolist(),
            "sigma_beam_ke": sigma_beam_ke.tolist(),
            "ex": ex.tolist(),
            "sigma_ex": sigma_ex.tolist(),
            "cm_polar": cm_polar.tolist(),
            "sigma_cm_polar": sigma_cm.tolist(),
            "reason": [str(value) for value in reason],
        }


def _read_fits(path: Path) -> pl.DataFrame:
    """The solver table's columns this phase uses.

    Raises
    ------
    ArtifactFormatError
        If the file is not readable parquet or lacks a column.
    """
    try:
        table = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise ArtifactFormatError(
            f"{path}: cannot read the InterpSolver table ({error}); rerun the InterpSolver phase"
        ) from error
    missing = [name for name in _COPIED_COLUMNS if name not in table.columns]
    if missing:
        raise ArtifactFormatError(
            f"{path}: the InterpSolver table lacks column(s) {', '.join(missing)}; is it the "
            "output of the InterpSolver phase?"
        )
    return table
