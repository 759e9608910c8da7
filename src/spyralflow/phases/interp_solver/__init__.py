"""The InterpSolver phase: fit clusters with trajectories interpolated from a mesh of ODE solutions.

Modules: ``parameters`` (SolverParameters), ``targets`` (gas and particle-ID files), ``motion``
(equations of motion and their integrator), ``mesh_builder`` and ``mesh`` (the trajectory mesh
asset), ``trajectory`` (interpolation and distance kernels), ``fit``, ``gating``, ``output`` and
``phase`` (InterpSolverPhase).
"""

from spyralflow.phases.interp_solver.parameters import SolverParameters
from spyralflow.phases.interp_solver.phase import InterpSolverPhase

__all__ = ["InterpSolverPhase", "SolverParameters"]
