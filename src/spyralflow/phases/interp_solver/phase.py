"""The InterpSolver phase: fit each selected cluster with a trajectory from the mesh.

Spyral's InterpSolverPhase (spyral.md section 6), with its asset made a proper workflow citizen:

- ``create_assets`` builds the trajectory mesh once, named by the hash of everything it depends
  on (``mesh.MeshSpecification``), in parallel over the job's threads (``build_threads``). An
  existing complete mesh with that hash is kept.
- ``run`` recomputes the hash, memory-maps the mesh read-only (all solver jobs on a machine share
  one copy in the page cache; no named shared memory) and fails with a clear message if it is
  missing.
- Every run writes ``InterpSolver/run_NNNN_<A><Symbol>.parquet``, with zero rows and the full
  schema when no row passes the gates (Spyral returns an invalid result and writes nothing).
- Clusters that cannot be fitted are counted by reason, logged, and recorded in the parquet's
  metadata; they never fail the run.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from spyralflow.framework.phase import PhaseLike, PhaseResult
from spyralflow.framework.provenance import current_provenance
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.status import RunProgress
from spyralflow.io.cluster_file import CLUSTER_COLUMNS, cluster_group
from spyralflow.io.pointcloud_file import ArtifactFormatError
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver.fit import FitSkipped, TrackEstimate, TrackFitter
from spyralflow.phases.interp_solver.gating import read_estimation_rows, select_rows
from spyralflow.phases.interp_solver.mesh import (
    MeshFiles,
    MeshSpecification,
    build_mesh,
    load_mesh,
)
from spyralflow.phases.interp_solver.output import write_solver_output
from spyralflow.phases.interp_solver.parameters import SolverParameters
from spyralflow.phases.interp_solver.targets import (
    ParticleGate,
    TargetFileError,
    gas_identity,
    load_gas_target,
    load_particle_gate,
)
from spyralflow.phases.schemas import (
    INTERP_SOLVER_COLUMNS,
    estimate_schema,
    interp_solver_schema,
)

log = logging.getLogger(__name__)

PHASE_NAME = "InterpSolver"
PROGRESS_TASK = "Interp. Solver"
ARTIFACT_KEY = "interp_solver"
_IDENTIFIER_COLUMNS = ("event", "cluster_index", "cluster_label", "orig_run", "orig_event")
_RESULT_COLUMNS = [name for name in INTERP_SOLVER_COLUMNS if name not in _IDENTIFIER_COLUMNS]


def build_threads() -> int:
    """Threads for the mesh build: the job's (``SPYRALFLOW_THREADS``, set by ``spyralflow
    --threads``, or ``SNAKEMAKE_THREADS``), else every CPU this process may run on."""
    for variable in ("SPYRALFLOW_THREADS", "SNAKEMAKE_THREADS"):
        text = os.environ.get(variable, "").strip()
        if text.isdigit() and int(text) > 0:
            return int(text)
    return len(os.sched_getaffinity(0))


class InterpSolverPhase(PhaseLike):
    """Fit the clusters selected by a particle-ID gate with interpolated trajectories.

    Parameters
    ----------
    solver_params : SolverParameters
        Gas, particle ID, gates, mesh and fit settings.
    det_params : DetectorParameters
        Fields, detector length, beam region and time calibration.
    """

    def __init__(self, solver_params: SolverParameters, det_params: DetectorParameters) -> None:
        super().__init__(
            PHASE_NAME, incoming_schema=estimate_schema(), outgoing_schema=interp_solver_schema()
        )
        self.solver_params = solver_params
        self.det_params = det_params
        self._check_files()

    def _check_files(self) -> None:
        """Read the gas and particle-ID files now, so a bad one fails at plan time.

        Raises
        ------
        TargetFileError
            Naming the parameter (``solver_params.gas_data_path`` or
            ``solver_params.particle_id_filename``), the file and the cause.
        """
        checks = (
            ("gas_data_path", gas_identity),
            ("particle_id_filename", load_particle_gate),
        )
        for key, check in checks:
            try:
                check(getattr(self.solver_params, key))
            except TargetFileError as error:
                raise TargetFileError(f"solver_params.{key}: {error}") from None

    def particle_gate(self) -> ParticleGate:
        """The particle-ID gate (read from its file on every call: it may be edited)."""
        return load_particle_gate(self.solver_params.particle_id_filename)

    def mesh_specification(self, gate: ParticleGate | None = None) -> MeshSpecification:
        """What the mesh of these parameters depends on (its hash names the files)."""
        gate = gate if gate is not None else self.particle_gate()
        parameters = self.solver_params
        return MeshSpecification(
            particle_z=gate.z,
            particle_a=gate.a,
            gas=gas_identity(parameters.gas_data_path),
            magnetic_field=self.det_params.magnetic_field,
            electric_field=self.det_params.electric_field,
            ke_min=parameters.interp_ke_min,
            ke_max=parameters.interp_ke_max,
            ke_bins=parameters.interp_ke_bins,
            polar_min=parameters.interp_polar_min,
            polar_max=parameters.interp_polar_max,
            polar_bins=parameters.interp_polar_bins,
            n_time_steps=parameters.n_time_steps,
        )

    def mesh_files(self, workspace_path: Path) -> MeshFiles:
        """The mesh files these parameters use in ``workspace_path``."""
        specification = self.mesh_specification()
        return MeshFiles(self.get_asset_storage_path(workspace_path), specification.digest)

    def create_assets(self, workspace_path: Path) -> bool:
        """Build the trajectory mesh unless a complete one with the same hash exists."""
        gate = self.particle_gate()
        specification = self.mesh_specification(gate)
        folder = Path(self.get_asset_storage_path(workspace_path))
        files = MeshFiles(folder, specification.digest)
        if files.complete():
            log.info("trajectory mesh %s exists; reusing it", files.positions)
            return True
        folder.mkdir(parents=True, exist_ok=True)
        target = load_gas_target(self.solver_params.gas_data_path)
        build_mesh(specification, target, gate.nucleus, folder, build_threads())
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        """``interp_solver``: ``<workspace>/InterpSolver/run_NNNN_<isotope>.parquet``."""
        isotope = self.particle_gate().isotope
        name = f"{form_run_string(payload.run_number)}_{isotope}.parquet"
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
        """Gate the estimates of one run, fit them, and write the parquet (always).

        ``rng`` is not used: the fit is deterministic.
        """
        run = payload.run_number
        for key in ("estimation", "cluster"):
            if key not in payload.artifacts:
                raise KeyError(
                    f"run {run}: the incoming artifacts lack '{key}' (got "
                    f"{', '.join(payload.artifacts) or 'none'}); the solver needs the "
                    "Estimation phase's estimation and cluster files"
                )
        estimation_path = Path(payload.artifacts["estimation"])
        cluster_path = Path(payload.artifacts["cluster"])
        result = self.construct_artifact(payload, workspace_path)
        output_path = result.artifacts[ARTIFACT_KEY]
        gate = self.particle_gate()
        parameters = self.solver_params
        rows, gate_counts = select_rows(
            read_estimation_rows(estimation_path),
            gate,
            parameters.ic_min_val,
            parameters.ic_max_val,
            estimation_path,
        )
        counts: Counter[str] = Counter(
            estimation_rows=gate_counts.rows, selected=gate_counts.selected, fitted=0
        )
        log.info(
            "run %d: %d of %d estimation rows pass the particle-ID gate '%s' (%d) and the IC "
            "window (%d)",
            run,
            gate_counts.selected,
            gate_counts.rows,
            gate.name,
            gate_counts.in_particle_gate,
            gate_counts.in_ic_window,
        )
        columns = {name: [] for name in INTERP_SOLVER_COLUMNS}
        if rows.num_rows > 0:
            mesh = load_mesh(
                self.mesh_specification(gate), self.get_asset_storage_path(workspace_path)
            )
            fitter = TrackFitter(mesh, gate.nucleus.mass, gate.z, parameters, self.det_params)
            self._fit_rows(rows, cluster_path, fitter, columns, counts, msg_queue, run)
        write_solver_output(
            output_path, columns, current_provenance(PHASE_NAME), counts=dict(counts)
        )
        self._warn_of_mesh_range(counts, run)
        skipped = {key: value for key, value in counts.items() if key.startswith("skipped_")}
        log.info(
            "run %d: %d fits written to %s; skipped: %s",
            run,
            counts["fitted"],
            output_path,
            ", ".join(
                f"{key.removeprefix('skipped_')} {value}" for key, value in sorted(skipped.items())
            )
            or "none",
        )
        return result

    def _warn_of_mesh_range(self, counts: Counter[str], run: int) -> None:
        """Warn when tracks lie beyond the mesh: their estimates are skipped, or the fit stops
        at the mesh's highest energy, where the result is the edge and not the track."""
        outside, at_edge = counts["skipped_outside_mesh"], counts["at_mesh_energy_edge"]
        if not (outside or at_edge):
            return
        parameters = self.solver_params
        log.warning(
            "run %d: %d estimate(s) outside the mesh (%.4g-%.4g MeV, %.4g-%.4g deg; skipped) and "
            "%d fit(s) ended at its highest kinetic energy, where the result is the mesh's edge: "
            "tracks beyond the mesh (widen solver_params.interp_ke_max or interp_polar_min/max) "
            "or too straight to measure",
            run,
            outside,
            parameters.interp_ke_min,
            parameters.interp_ke_max,
            parameters.interp_polar_min,
            parameters.interp_polar_max,
            at_edge,
        )

    def _fit_rows(
        self,
        rows: Any,
        cluster_path: Path,
        fitter: TrackFitter,
        columns: dict[str, list],
        counts: Counter[str],
        msg_queue: Any,
        run: int,
    ) -> None:
        from threadpoolctl import threadpool_limits

        data = {name: rows.column(name).to_pylist() for name in rows.column_names}
        n_rows = rows.num_rows
        progress = RunProgress(msg_queue, PROGRESS_TASK, run, n_rows)
        started = time.perf_counter()
        # The optimisers' small matrix operations are slower with a BLAS thread pool (by 30x on
        # a loaded machine); one solver job uses one core.
        with threadpool_limits(limits=1), h5py.File(cluster_path, "r") as handle:
            clusters = cluster_group(handle, cluster_path)
            for row in range(n_rows):
                event, index = int(data["event"][row]), int(data["cluster_index"][row])
                cloud = _read_cloud(clusters, cluster_path, event, index)
                estimate = TrackEstimate(
                    polar=float(data["polar"][row]),
                    azimuthal=float(data["azimuthal"][row]),
                    brho=float(data["brho"][row]),
                    vertex_x=float(data["vertex_x"][row]),
                    vertex_y=float(data["vertex_y"][row]),
                    vertex_z=float(data["vertex_z"][row]),
                )
                try:
                    fitted = fitter.fit(cloud, estimate)
                except FitSkipped as skip:
                    counts[f"skipped_{skip.reason}"] += 1
                    log.debug("run %d, event %d, cluster %d: %s", run, event, index, skip)
                else:
                    counts["fitted"] += 1
                    counts["not_converged"] += int(not fitted.converged)
                    counts["at_mesh_energy_edge"] += int(fitter.at_energy_edge(fitted.brho))
                    for name in _IDENTIFIER_COLUMNS:
                        columns[name].append(int(data[name][row]))
                    for name in _RESULT_COLUMNS:
                        columns[name].append(float(getattr(fitted, name)))
                progress.update(row + 1)
        elapsed = time.perf_counter() - started
        log.info(
            "run %d: fitted %d clusters in %.1f s (%.1f fits/s)",
            run,
            counts["fitted"],
            elapsed,
            counts["fitted"] / elapsed if elapsed > 0 else math.nan,
        )


def _read_cloud(clusters: h5py.Group, path: Path, event: int, index: int) -> np.ndarray:
    """The (N, 5) cloud of ``event_<event>/cluster_<index>``, which the estimation names."""
    item = f"event_{event}/cluster_{index}/cloud"
    dataset = clusters.get(item)
    if not isinstance(dataset, h5py.Dataset):
        raise ArtifactFormatError(
            f"{path}: the estimation names {item}, which the cluster file does not have; the "
            "estimation and cluster files of this run do not belong together"
        )
    cloud = np.asarray(dataset[()], dtype=np.float64)
    if cloud.ndim != 2 or cloud.shape[1] != len(CLUSTER_COLUMNS):
        raise ArtifactFormatError(f"{path}: {item} has shape {cloud.shape}, expected (n, 5)")
    return cloud
