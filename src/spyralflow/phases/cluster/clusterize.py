"""One event through the Cluster phase: HDBSCAN, LOF cleaning, direction, join, final cleanup.

The steps and their order are Spyral's (spyral.md section 4). Deliberate differences: the
direction is found whether or not a join is configured (Spyral leaves it NONE without a join,
and Estimation then rejects every cluster); the overlap join works.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyralflow.io.cluster_file import Direction
from spyralflow.phases.cluster.branch_split import split_branches
from spyralflow.phases.cluster.direction import track_direction
from spyralflow.phases.cluster.end_join import join_ends
from spyralflow.phases.cluster.hdbscan import NOISE_LABEL, hdbscan_labels
from spyralflow.phases.cluster.helix_capture import capture_turns
from spyralflow.phases.cluster.joins import LabeledCluster, join_continuity, join_overlap
from spyralflow.phases.cluster.outliers import inlier_mask
from spyralflow.phases.cluster.parameters import ClusterParameters
from spyralflow.phases.cluster.tripclust import tripclust_labels

# Point-cloud columns kept in a cluster: x, y, z, integral, pad scale (amplitude, pad id and
# time bucket are dropped, as in Spyral).
CLUSTER_SOURCE_COLUMNS = (0, 1, 2, 4, 7)


@dataclass
class FoundCluster:
    """A final cluster of an event.

    Parameters
    ----------
    label : int
        Clustering label after the joins.
    direction : Direction
        Direction along z.
    data : numpy.ndarray
        (n, 5) [x, y, z, integral, scale], sorted by z.
    parent_indices : numpy.ndarray
        (n,) row of each point in the event's (z-sorted) cloud.
    """

    label: int
    direction: Direction
    data: np.ndarray
    parent_indices: np.ndarray


def initial_clusters(cloud: np.ndarray, parameters: ClusterParameters) -> list[LabeledCluster]:
    """HDBSCAN (or else tripclust, Spyral's precedence) clusters of a z-sorted cloud, noise
    excluded, in label order."""
    if cloud.shape[0] < parameters.min_cloud_size:
        return []
    if parameters.hdbscan_parameters is not None:
        labels = hdbscan_labels(cloud[:, :3], parameters.hdbscan_parameters)
    elif parameters.tripclust_parameters is not None:
        labels = tripclust_labels(cloud, parameters.tripclust_parameters)
    else:
        return []
    clusters = []
    for label in np.unique(labels):
        if label == NOISE_LABEL:
            continue
        members = np.flatnonzero(labels == label)
        clusters.append(LabeledCluster(int(label), Direction.NONE, cloud[members], members))
    return clusters


def drop_outliers(cluster: LabeledCluster, outlier_scale_factor: float) -> LabeledCluster:
    """The cluster without the points the local outlier factor flags."""
    keep = inlier_mask(cluster.points, outlier_scale_factor)
    return LabeledCluster(
        cluster.label, cluster.direction, cluster.points[keep], cluster.parent_indices[keep]
    )


def cluster_cloud(cloud: np.ndarray, parameters: ClusterParameters) -> list[FoundCluster]:
    """The final clusters of one event.

    Parameters
    ----------
    cloud : numpy.ndarray
        (N, 8) point cloud sorted by z.
    parameters : ClusterParameters
        Phase settings.

    Returns
    -------
    list[FoundCluster]
        In Spyral's order: label order, or the joins' order when a join ran.
    """
    clusters = [
        drop_outliers(cluster, parameters.outlier_scale_factor)
        for cluster in initial_clusters(cloud, parameters)
        if len(cluster.points) >= 2
    ]
    for cluster in clusters:
        cluster.direction = track_direction(cluster.points, parameters.direction_threshold)
    if parameters.continuity_join is not None:
        clusters = join_continuity(clusters, parameters.continuity_join)
    elif parameters.overlap_join is not None:
        clusters = join_overlap(clusters, parameters.overlap_join)
    if parameters.end_join is not None:
        clusters = join_ends(clusters, parameters.end_join)
    if parameters.helix_capture is not None:
        clusters = capture_turns(clusters, parameters.helix_capture)
    if parameters.branch_split is not None:
        clusters = split_branches(clusters, parameters.branch_split)
    found = []
    for cluster in clusters:
        if len(cluster.points) < 2:
            continue
        order = np.argsort(cluster.points[:, 2], kind="stable")
        data = cluster.points[order][:, CLUSTER_SOURCE_COLUMNS]
        parents = cluster.parent_indices[order]
        keep = inlier_mask(data, parameters.outlier_scale_factor)
        found.append(FoundCluster(cluster.label, cluster.direction, data[keep], parents[keep]))
    return found
