"""InterpSolver test helpers: gas and particle-ID files, small parameters, synthetic tracks."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spyralflow.phases.interp_solver import SolverParameters
from spyralflow.phases.interp_solver.mesh import TrajectoryMesh
from spyralflow.phases.interp_solver.trajectory import interpolate_local, place_trajectory


def write_gas(path: Path, pressure: float = 300.0) -> Path:
    path.write_text(json.dumps({"compound": [[1, 2, 2]], "pressure(Torr)": pressure}))
    return path


def write_pid(path: Path, vertices=None, z: int = 1, a: int = 2, axes=None) -> Path:
    content = {
        "name": "deuteron",
        "vertices": vertices or [[-1.0, 0.0], [5000.0, 0.0], [5000.0, 3.0], [-1.0, 3.0]],
        "Z": z,
        "A": a,
    }
    if axes:
        content["xaxis"], content["yaxis"] = axes
    path.write_text(json.dumps(content))
    return path


def small_parameters(folder: Path, **changes) -> SolverParameters:
    """A mesh of 12 x 10 x 150 samples over 0.5-30 MeV and 10-80 degrees; no IC gate."""
    values = {
        "gas_data_path": write_gas(folder / "gas.json"),
        "particle_id_filename": write_pid(folder / "pid.json"),
        "ic_min_val": None,
        "ic_max_val": None,
        "n_time_steps": 150,
        "interp_ke_min": 0.5,
        "interp_ke_max": 30.0,
        "interp_ke_bins": 12,
        "interp_polar_min": 10.0,
        "interp_polar_max": 80.0,
        "interp_polar_bins": 10,
    }
    values.update(changes)
    return SolverParameters(**values)


@dataclass(frozen=True)
class TrueTrack:
    """Parameters of a synthetic track (m, rad, MeV)."""

    kinetic_energy: float
    polar: float
    azimuthal: float
    vertex_x: float
    vertex_y: float
    vertex_z: float


def mesh_track_points(
    mesh: TrajectoryMesh,
    track: TrueTrack,
    rng: np.random.Generator,
    noise_mm: float = 0.3,
    spacing_mm: float = 4.0,
) -> np.ndarray:
    """An (N, 5) cluster cloud (mm) along the mesh trajectory of ``track``, inside the detector.

    Points are spaced ``spacing_mm`` along the interpolated trajectory (linear between samples),
    with Gaussian noise of ``noise_mm`` per coordinate, sorted by z; integral and pad scale 1.
    """
    n, local, _, _ = interpolate_local(*mesh.kernel_arguments, track.kinetic_energy, track.polar)
    assert n > 1, "the track must be inside the mesh"
    placed = place_trajectory(
        local[:n], track.azimuthal, track.vertex_x, track.vertex_y, track.vertex_z
    )
    inside = (placed[:, 2] > 0.0) & (placed[:, 2] < 1.0) & (np.hypot(*placed[:, :2].T) < 0.29)
    placed = placed[: np.argmin(inside) if not inside.all() else len(placed)]
    steps = np.linalg.norm(np.diff(placed, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    along = np.arange(0.0, arc[-1], spacing_mm * 0.001)
    points = np.column_stack([np.interp(along, arc, placed[:, c]) for c in range(3)]) * 1000.0
    points += rng.normal(0.0, noise_mm, points.shape)
    points = points[np.argsort(points[:, 2])]
    return np.column_stack([points, np.ones(len(points)), np.ones(len(points))])


def brho_of(kinetic_energy: float, mass: float, charge: int = 1) -> float:
    """Rigidity (T·m) of an ion of ``mass`` MeV/c² at ``kinetic_energy`` MeV."""
    return math.sqrt(kinetic_energy * (kinetic_energy + 2.0 * mass)) / (299.792458 * charge)
