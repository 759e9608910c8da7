"""The Estimation phase: first estimates per cluster (Spyral's EstimationPhase, spyral.md 5).

``EstimationPhase(estimate_params: EstimateParameters, det_params: DetectorParameters)``, name
``"Estimation"``, CLUSTER -> ESTIMATE schemas. Artifacts, always written:

- ``estimation`` = ``workspace/Estimation/run_NNNN.parquet``: Spyral's 23 columns, names,
  order and dtypes (``spyralflow.io.estimation_file``), direction as its integer value; zero
  rows with the full schema when nothing was estimated;
- ``estimation_summary`` = ``workspace/Estimation/run_NNNN_summary.json``: events, events
  without clusters, clusters, accepted clusters, and the count of every skip reason
  (``EstimateStatus``), also logged at the end of the run;
- ``cluster``: the incoming cluster file, passed on as Spyral does.

Per cluster: circle fit, vertex, polar and azimuthal angles, Brho, dE/dx, sqrt dE/dx, dE,
arclength and direction (``estimator``). A cluster that cannot be estimated is skipped with a
counted reason, never an exception that loses the run. The estimator's deliberate differences
from Spyral are listed in ``estimator``.
"""

from spyralflow.phases.estimation.parameters import EstimateParameters
from spyralflow.phases.estimation.phase import EstimationPhase

__all__ = ["EstimateParameters", "EstimationPhase"]
