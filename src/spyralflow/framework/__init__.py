"""The phase framework: Spyral's phase contract, schemas, runs, seeding and provenance."""

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.phase import PhaseLike, PhaseResult
from spyralflow.framework.provenance import Provenance, current_provenance
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.schema import ArtifactSchema, ResultSchema
from spyralflow.framework.status import StatusMessage

__all__ = [
    "ArtifactSchema",
    "PhaseLike",
    "PhaseResult",
    "Provenance",
    "ResultSchema",
    "StatusMessage",
    "atomic_output",
    "current_provenance",
    "form_run_string",
]
