"""Fixtures of the InterpSolver tests: a small mesh built once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from interp_helpers import small_parameters

from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver import InterpSolverPhase
from spyralflow.phases.interp_solver.mesh import TrajectoryMesh, load_mesh


@dataclass
class MeshWorkspace:
    """A workspace whose small mesh is built, with the phase that built it."""

    workspace: Path
    phase: InterpSolverPhase
    mesh: TrajectoryMesh


@pytest.fixture(scope="session")
def mesh_workspace(tmp_path_factory) -> MeshWorkspace:
    folder = tmp_path_factory.mktemp("interp_mesh")
    parameters = small_parameters(folder)
    phase = InterpSolverPhase(parameters, DetectorParameters())
    workspace = folder / "workspace"
    assert phase.create_assets(workspace)
    mesh = load_mesh(phase.mesh_specification(), phase.get_asset_storage_path(workspace))
    return MeshWorkspace(workspace, phase, mesh)
