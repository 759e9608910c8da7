"""The Kinematics phase: beam energy at the vertex, missing-mass excitation energy and
centre-of-mass angle of every fitted ejectile.

Modules: ``parameters`` (ReactionParameters), ``beam`` (energy loss of the beam), ``missing_mass``
(two-body kernels and uncertainty propagation), ``output`` (the parquet) and ``phase``
(KinematicsPhase).
"""

from spyralflow.phases.kinematics.parameters import ReactionParameters
from spyralflow.phases.kinematics.phase import KinematicsPhase

__all__ = ["KinematicsPhase", "ReactionParameters"]
