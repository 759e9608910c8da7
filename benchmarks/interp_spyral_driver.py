"""Run attpc_spyral 1.1.2's InterpSolverPhase on one estimation/cluster pair and time it.

Runs under Spyral's own interpreter (``/opt/spyral-venv/bin/python``), called by
``bench_interp_solver.py``; prints one JSON line: mesh build time and size, fit time (wall and
CPU of the ``run`` call), number of fits, peak RSS and the output parquet.

Spyral needs its named shared memory ``interp_shared_mesh``; a segment left over by a crashed
run is removed first.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np


class DiscardQueue:
    """Spyral's phases only ``put`` status messages."""

    def put(self, _message) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--estimation", type=Path, required=True)
    parser.add_argument("--cluster", type=Path, required=True)
    parser.add_argument("--gas", type=Path, required=True)
    parser.add_argument("--pid", type=Path, required=True)
    parser.add_argument("--mesh", required=True, help="JSON of the mesh and fit parameters")
    parser.add_argument(
        "--detector",
        default="{}",
        help="JSON of DetectorParameters fields to change (default: 2.85 T, the 16C(d,d') ones)",
    )
    args = parser.parse_args()

    from spyral import DetectorParameters, InterpSolverPhase, PhaseResult, SolverParameters

    mesh = json.loads(args.mesh)
    solver_params = SolverParameters(
        gas_data_path=args.gas,
        particle_id_filename=args.pid,
        # Spyral's IC gate cannot be switched off; simulated data has ic_amplitude = -1.
        ic_min_val=-10.0,
        ic_max_val=10.0,
        n_time_steps=mesh["n_time_steps"],
        interp_ke_min=mesh["interp_ke_min"],
        interp_ke_max=mesh["interp_ke_max"],
        interp_ke_bins=mesh["interp_ke_bins"],
        interp_polar_min=mesh["interp_polar_min"],
        interp_polar_max=mesh["interp_polar_max"],
        interp_polar_bins=mesh["interp_polar_bins"],
        fit_vertex_rho=True,
        fit_vertex_phi=True,
        fit_azimuthal=True,
        fit_method=mesh["fit_method"],
    )
    detector = json.loads(args.detector)
    det_params = DetectorParameters(
        magnetic_field=float(detector.get("magnetic_field", 2.85)),
        electric_field=45000.0,
        detector_length=1000.0,
        beam_region_radius=25.0,
        micromegas_time_bucket=10.0,
        window_time_bucket=560.0,
        get_frequency=6.25,
        garfield_file_path=Path("/dev/null"),
        do_garfield_correction=False,
    )
    phase = InterpSolverPhase(solver_params, det_params)
    for folder in (
        phase.get_artifact_path(args.workspace),
        phase.get_asset_storage_path(args.workspace),
    ):
        folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    phase.create_assets(args.workspace)
    mesh_seconds = time.perf_counter() - started
    mesh_bytes = Path(phase.track_path).stat().st_size
    try:
        stale = SharedMemory(name=phase.shared_mesh_name)
        stale.close()
        stale.unlink()
    except FileNotFoundError:
        pass
    handles: dict[str, SharedMemory] = {}
    phase.create_shared_data(args.workspace, handles)
    payload = PhaseResult(
        artifacts={"estimation": args.estimation, "cluster": args.cluster},
        successful=True,
        run_number=0,
    )
    try:
        wall = time.perf_counter()
        cpu = time.process_time()
        result = phase.run(payload, args.workspace, DiscardQueue(), np.random.default_rng(0))
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
    finally:
        for handle in handles.values():
            handle.close()
            handle.unlink()
    output = result.artifacts.get("interp_solver") if result.successful else None
    fits = 0
    if output is not None and Path(output).exists():
        import polars as pl

        fits = pl.read_parquet(output).height
    print(
        json.dumps(
            {
                "mesh_build_s": mesh_seconds,
                "mesh_bytes": mesh_bytes,
                "fit_wall_s": wall,
                "fit_cpu_s": cpu,
                "fits": fits,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "output": str(output) if output else None,
            }
        )
    )


if __name__ == "__main__":
    main()
