"""The InterpSolver phase: fit clusters with trajectories interpolated from a mesh of ODE solutions.

Modules: ``parameters`` (SolverParameters), ``targets`` (gas and particle-ID files), ``motion``
(equations of motion and their integrator), ``mesh_builder`` and ``mesh`` (the trajectory mesh
asset), ``trajectory`` (interpolation and distance kernels), ``fit``, ``gating``, ``output`` and
``phase`` (InterpSolverPhase).

The two names are imported on first use: the Kinematics phase needs only ``targets``, and
importing the solver (scipy.optimize, numba) would add a second to each of its jobs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spyralflow.phases.interp_solver.parameters import SolverParameters
    from spyralflow.phases.interp_solver.phase import InterpSolverPhase

__all__ = ["InterpSolverPhase", "SolverParameters"]

_MODULE_OF = {
    "InterpSolverPhase": "spyralflow.phases.interp_solver.phase",
    "SolverParameters": "spyralflow.phases.interp_solver.parameters",
}


def __getattr__(name: str):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(_MODULE_OF[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
