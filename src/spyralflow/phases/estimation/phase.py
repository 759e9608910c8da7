"""The Estimation phase: first estimates of every track cluster, to Spyral's parquet."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.phase import PhaseLike, PhaseResult
from spyralflow.framework.provenance import current_provenance
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.status import RunProgress
from spyralflow.io.checks import INPUT_REPORT_KEY, InputReport
from spyralflow.io.cluster_file import iter_cluster_events, read_cluster_range
from spyralflow.io.estimation_file import write_estimation
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.estimation.estimator import (
    ESTIMATE_FIELDS,
    EstimateStatus,
    estimate_cluster,
)
from spyralflow.phases.estimation.parameters import EstimateParameters
from spyralflow.phases.schemas import ESTIMATION_COLUMNS, cluster_schema, estimate_schema

log = logging.getLogger(__name__)

# Event attributes copied into every row, cast as Spyral does; -1 when absent.
_INT_ATTRIBUTES = ("orig_run", "orig_event")
_FLOAT_ATTRIBUTES = ("ic_amplitude", "ic_centroid", "ic_integral", "ic_multiplicity")
EVENTS_WITHOUT_CLUSTERS = "events_without_clusters"


class EstimationPhase(PhaseLike):
    """Estimate vertex, angles, Brho and energy loss of every cluster (Spyral's
    EstimationPhase).

    Output: ``workspace/Estimation/run_NNNN.parquet`` with Spyral's 23 columns
    (``spyralflow.io.estimation_file``), always written, and
    ``workspace/Estimation/run_NNNN_summary.json`` with the count of accepted clusters and of
    each skip reason. The incoming cluster file is passed on as ``cluster``, as Spyral does.

    Parameters
    ----------
    estimate_params : EstimateParameters
        Cluster size and smoothing settings.
    det_params : DetectorParameters
        Magnetic field (T) and beam-region radius (mm) are used.
    """

    def __init__(
        self,
        estimate_params: EstimateParameters,
        det_params: DetectorParameters,
    ) -> None:
        super().__init__(
            "Estimation", incoming_schema=cluster_schema(), outgoing_schema=estimate_schema()
        )
        self.estimate_params = estimate_params
        self.det_params = det_params

    def create_assets(self, workspace_path: Path) -> bool:
        """Nothing to build."""
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        """``estimation`` and ``estimation_summary`` in ``workspace/Estimation``, plus the
        incoming ``cluster`` path."""
        folder = self.get_artifact_path(workspace_path)
        run_name = form_run_string(payload.run_number)
        artifacts = {
            "estimation": folder / f"{run_name}.parquet",
            "estimation_summary": folder / f"{run_name}_summary.json",
        }
        if "cluster" in payload.artifacts:
            artifacts["cluster"] = Path(payload.artifacts["cluster"])
        return PhaseResult(artifacts=artifacts, successful=True, run_number=payload.run_number)

    def run(
        self,
        payload: PhaseResult,
        workspace_path: Path,
        msg_queue: Any,
        rng: np.random.Generator,
    ) -> PhaseResult:
        """Estimate every cluster of the run's cluster file.

        Raises
        ------
        spyralflow.io.pointcloud_file.ArtifactFormatError
            If the cluster file does not have Spyral's Cluster layout.
        """
        run = payload.run_number
        if not payload.successful or "cluster" not in payload.artifacts:
            log.warning("run %d: no cluster artifact from the previous phase; skipped", run)
            return PhaseResult.invalid_result(run)
        cluster_path = Path(payload.artifacts["cluster"])
        result = self.construct_artifact(payload, workspace_path)
        first, last = read_cluster_range(cluster_path)
        columns: dict[str, list[Any]] = {name: [] for name in ESTIMATION_COLUMNS}
        outcomes: Counter[str] = Counter()
        events = 0
        progress = RunProgress(msg_queue, self.name, run, last - first + 1)
        report = InputReport(f"run {run}: cluster file {cluster_path}")
        for event in iter_cluster_events(cluster_path, report=report):
            progress.update(event.event - first + 1)
            events += 1
            if not event.clusters:
                outcomes[EVENTS_WITHOUT_CLUSTERS] += 1
                continue
            attributes = _row_attributes(event.attributes)
            for cluster in event.clusters:
                try:
                    status, values = estimate_cluster(
                        cluster.data,
                        cluster.direction,
                        self.estimate_params.min_total_trajectory_points,
                        self.estimate_params.smoothing_factor,
                        self.det_params.magnetic_field,
                        self.det_params.beam_region_radius,
                    )
                except ArithmeticError as error:
                    # One odd cluster must not take the run down; it is counted and named.
                    status = EstimateStatus.NUMERICAL_FAILURE
                    log.warning(
                        "run %d event %d cluster %d: the estimate failed (%s: %s); skipped",
                        run,
                        event.event,
                        cluster.index,
                        type(error).__name__,
                        error,
                    )
                outcomes[status.reason] += 1
                if status is not EstimateStatus.ACCEPTED:
                    log.debug(
                        "run %d event %d cluster %d skipped: %s",
                        run,
                        event.event,
                        cluster.index,
                        status.reason,
                    )
                    continue
                columns["event"].append(event.event)
                columns["cluster_index"].append(cluster.index)
                columns["cluster_label"].append(cluster.label)
                for key, value in attributes.items():
                    columns[key].append(value)
                for key, value in zip(ESTIMATE_FIELDS, values.tolist(), strict=True):
                    columns[key].append(value)
                columns["direction"].append(int(cluster.direction))
        progress.finish()
        provenance = current_provenance(self.name)
        write_estimation(result.artifacts["estimation"], columns, provenance)
        summary = run_summary(run, events, outcomes)
        summary["provenance"] = json.loads(provenance.to_json())
        summary[INPUT_REPORT_KEY] = report.to_dict()
        with atomic_output(result.artifacts["estimation_summary"]) as temporary:
            temporary.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        log.info(
            "run %d: estimated %s -> %s: %d of %d clusters accepted (%s)",
            run,
            cluster_path,
            result.artifacts["estimation"],
            summary["accepted_clusters"],
            summary["clusters"],
            ", ".join(f"{key} {value}" for key, value in summary["skipped"].items() if value)
            or "none skipped",
        )
        log.info("run %d: input checks of %s: %s", run, cluster_path, report.summary())
        return result


def _row_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {key: int(attributes.get(key, -1)) for key in _INT_ATTRIBUTES}
    row.update({key: float(attributes.get(key, -1.0)) for key in _FLOAT_ATTRIBUTES})
    return row


def run_summary(run: int, events: int, outcomes: Counter[str]) -> dict[str, Any]:
    """The per-run summary: events, clusters, accepted clusters and each skip reason's count.

    Every reason of ``EstimateStatus`` and ``events_without_clusters`` appears, zero or not, so
    summaries of different runs have the same keys.
    """
    skipped = {
        status.reason: outcomes.get(status.reason, 0)
        for status in EstimateStatus
        if status is not EstimateStatus.ACCEPTED
    }
    clusters = sum(outcomes.get(status.reason, 0) for status in EstimateStatus)
    return {
        "run": run,
        "events": events,
        EVENTS_WITHOUT_CLUSTERS: outcomes.get(EVENTS_WITHOUT_CLUSTERS, 0),
        "clusters": clusters,
        "accepted_clusters": outcomes.get(EstimateStatus.ACCEPTED.reason, 0),
        "skipped": skipped,
    }
