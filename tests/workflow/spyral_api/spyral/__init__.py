"""A stand-in for Spyral's public framework API (attpc_spyral 1.1.2, spyral.md section 8).

attpc_spyral cannot be installed beside spyralflow (it needs spyral-utils 2.1), so the
compatibility test uses this copy of its contract: the same names, signatures and semantics.
A user phase importing only ``spyral`` must run in spyralflow unchanged.
"""

from spyral.core.phase import PhaseLike
from spyral.core.schema import ArtifactSchema, PhaseResult, ResultSchema

__all__ = ["ArtifactSchema", "PhaseLike", "PhaseResult", "ResultSchema"]
