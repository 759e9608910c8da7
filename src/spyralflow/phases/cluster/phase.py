"""The Cluster phase: point clouds to track clusters, in Spyral's Cluster file layout."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from spyralflow.framework.phase import PhaseLike, PhaseResult
from spyralflow.framework.provenance import current_provenance
from spyralflow.framework.runs import form_run_string
from spyralflow.framework.status import RunProgress
from spyralflow.io.checks import InputReport
from spyralflow.io.cluster_file import ClusterWriter
from spyralflow.io.pointcloud_file import iter_pointclouds, read_event_range
from spyralflow.phases.cluster.clusterize import cluster_cloud
from spyralflow.phases.cluster.parameters import ClusterParameters
from spyralflow.phases.cluster.tripclust import check_tripclust
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.schemas import cluster_schema, pointcloud_schema

log = logging.getLogger(__name__)


class ClusterPhase(PhaseLike):
    """Separate each point cloud into particle tracks (Spyral's ClusterPhase).

    Per event: HDBSCAN on (x, y, 0.584 z), local-outlier-factor cleaning of each cluster,
    direction along z, the configured join (continuity or overlap), and a second cleaning.
    Output: ``workspace/Cluster/run_NNNN.h5`` in Spyral's Cluster layout
    (``spyralflow.io.cluster_file``).

    Parameters
    ----------
    cluster_params : ClusterParameters
        Clustering, join and cleaning settings.
    det_params : DetectorParameters
        Detector description (not used by the clustering, kept for Spyral's signature).

    Raises
    ------
    TripclustUnavailable
        If tripclust is selected (``tripclust_parameters`` without ``hdbscan_parameters``) and
        spyral-utils' ``tripclust`` module is not installed.
    ValueError
        If no clustering algorithm is configured.
    """

    def __init__(
        self,
        cluster_params: ClusterParameters,
        det_params: DetectorParameters,
    ) -> None:
        super().__init__(
            "Cluster", incoming_schema=pointcloud_schema(), outgoing_schema=cluster_schema()
        )
        if cluster_params.hdbscan_parameters is None:
            if cluster_params.tripclust_parameters is None:
                raise ValueError(
                    "ClusterPhase: no clustering algorithm configured; set "
                    "'hdbscan_parameters' or 'tripclust_parameters'"
                )
            check_tripclust(cluster_params.tripclust_parameters)
        self.cluster_params = cluster_params
        self.det_params = det_params

    def create_assets(self, workspace_path: Path) -> bool:
        """Nothing to build."""
        return True

    def construct_artifact(self, payload: PhaseResult, workspace_path: Path) -> PhaseResult:
        """``cluster`` = ``workspace/Cluster/run_NNNN.h5``."""
        path = self.get_artifact_path(workspace_path) / f"{form_run_string(payload.run_number)}.h5"
        return PhaseResult(
            artifacts={"cluster": path}, successful=True, run_number=payload.run_number
        )

    def run(
        self,
        payload: PhaseResult,
        workspace_path: Path,
        msg_queue: Any,
        rng: np.random.Generator,
    ) -> PhaseResult:
        """Cluster every cloud of the run's point-cloud file.

        Raises
        ------
        spyralflow.io.pointcloud_file.ArtifactFormatError
            If the point-cloud file does not have Spyral's layout.
        """
        run = payload.run_number
        if not payload.successful or "pointcloud" not in payload.artifacts:
            log.warning("run %d: no point-cloud artifact from the previous phase; skipped", run)
            return PhaseResult.invalid_result(run)
        cloud_path = Path(payload.artifacts["pointcloud"])
        result = self.construct_artifact(payload, workspace_path)
        first, last = read_event_range(cloud_path)
        counts: Counter[str] = Counter()
        # The reader drops NaN/inf points (they crash the HDBSCAN kernel) and counts them.
        report = InputReport(f"run {run}: point-cloud file {cloud_path}")
        progress = RunProgress(msg_queue, self.name, run, last - first + 1)
        with ClusterWriter(
            result.artifacts["cluster"], current_provenance(self.name), first, last, report
        ) as writer:
            for event in iter_pointclouds(cloud_path, report=report):
                progress.update(event.event - first + 1)
                cloud = event.cloud
                if cloud.shape[0] > 1 and np.any(np.diff(cloud[:, 2]) < 0.0):
                    # Spyral drops such events; sorting keeps them (clouds are meant sorted).
                    cloud = cloud[np.argsort(cloud[:, 2], kind="stable")]
                    counts["clouds re-sorted in z"] += 1
                try:
                    clusters = cluster_cloud(cloud, self.cluster_params)
                except ArithmeticError as error:
                    # One odd cloud must not take the run down: the event is written without
                    # clusters, counted and named.
                    log.warning(
                        "run %d event %d: clustering failed (%s: %s); written without clusters",
                        run,
                        event.event,
                        type(error).__name__,
                        error,
                    )
                    counts["events whose clustering failed"] += 1
                    clusters = []
                writer.write(
                    event.event,
                    event.attributes,
                    [(found.label, found.direction, found.data) for found in clusters],
                )
                counts["events"] += 1
                counts["clusters"] += len(clusters)
                if cloud.shape[0] < self.cluster_params.min_cloud_size:
                    counts["clouds below min_cloud_size"] += 1
        progress.finish()
        log.info(
            "run %d: clustered %s -> %s (%s); input checks: %s",
            run,
            cloud_path,
            result.artifacts["cluster"],
            ", ".join(f"{key}: {value}" for key, value in sorted(counts.items())),
            report.summary(),
        )
        return result
