"""Joining clusters that belong to one track: Spyral's continuity and overlap joins.

Both work on ``LabeledCluster`` lists in which noise is already removed. Joined clusters take
the first member's label, their points are concatenated and re-sorted by z, and their parent
indices follow the same permutation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyralflow.geometry.circle import circle_overlap_area, least_squares_circle
from spyralflow.io.cluster_file import Direction
from spyralflow.phases.cluster.parameters import ContinuityJoinParameters, OverlapJoinParameters

# The overlap join ignores circles smaller than this (mm): short stubs fit arbitrary circles.
MIN_OVERLAP_RADIUS = 10.0
# Continuity compares the median of this many points at a cluster's end and the next's start.
_END_POINTS = 3


@dataclass
class LabeledCluster:
    """A cluster while the event is processed.

    Parameters
    ----------
    label : int
        Clustering label.
    direction : Direction
        Direction along z.
    points : numpy.ndarray
        (n, 8) point-cloud rows, sorted by z.
    parent_indices : numpy.ndarray
        (n,) row of each point in the event's cloud.
    """

    label: int
    direction: Direction
    points: np.ndarray
    parent_indices: np.ndarray

    @property
    def first_z(self) -> float:
        return float(self.points[0, 2])


def merge_clusters(members: list[LabeledCluster]) -> LabeledCluster:
    """One cluster from ``members``: the first one's label and direction, points sorted by z."""
    points = np.concatenate([member.points for member in members])
    parents = np.concatenate([member.parent_indices for member in members])
    order = np.argsort(points[:, 2], kind="stable")
    return LabeledCluster(members[0].label, members[0].direction, points[order], parents[order])


def _circle(cluster: LabeledCluster) -> tuple[float, float, float]:
    center_x, center_y, radius, _ = least_squares_circle(
        np.ascontiguousarray(cluster.points[:, 0]), np.ascontiguousarray(cluster.points[:, 1])
    )
    return center_x, center_y, radius


def join_continuity(
    clusters: list[LabeledCluster], parameters: ContinuityJoinParameters
) -> list[LabeledCluster]:
    """Join clusters end to start until no pair qualifies (Spyral's continuity join).

    Each pass orders the clusters by the z of their first point and joins the first pair
    (A, B) of equal direction for which B's start continues A's end: the distances of A's
    last and B's first points to their own circle centres differ by less than
    ``join_radius_fraction`` of the mean radius, and their z by less than ``join_z_fraction``
    of the pair's z span. One join per pass, as in Spyral, so the result is the same.
    """
    joined = list(clusters)
    while len(joined) > 1:
        joined.sort(key=lambda cluster: cluster.first_z)
        pair = _first_continuous_pair(joined, parameters)
        if pair is None:
            break
        first, second = pair
        merged = merge_clusters([joined[first], joined[second]])
        joined = [
            merged if index == first else cluster
            for index, cluster in enumerate(joined)
            if index != second
        ]
    return joined


def _first_continuous_pair(
    clusters: list[LabeledCluster], parameters: ContinuityJoinParameters
) -> tuple[int, int] | None:
    circles = [_circle(cluster) for cluster in clusters]
    ends = []
    starts = []
    for cluster, (center_x, center_y, _) in zip(clusters, circles, strict=True):
        centered = cluster.points[:, :3] - np.array([center_x, center_y, 0.0])
        ends.append(np.median(centered[-_END_POINTS:], axis=0))
        starts.append(np.median(centered[:_END_POINTS], axis=0))
    for first, cluster in enumerate(clusters):
        for second, other in enumerate(clusters):
            if second == first or other.direction != cluster.direction:
                continue
            z_span = max(cluster.points[-1, 2], other.points[-1, 2]) - min(
                cluster.points[0, 2], other.points[0, 2]
            )
            z_threshold = z_span * parameters.join_z_fraction
            rho_threshold = (
                0.5 * (circles[first][2] + circles[second][2]) * parameters.join_radius_fraction
            )
            rho_difference = abs(np.hypot(*ends[first][:2]) - np.hypot(*starts[second][:2]))
            z_difference = abs(ends[first][2] - starts[second][2])
            # NaN circles (collinear clusters) fail both comparisons, so they never join.
            if rho_difference < rho_threshold and z_difference < z_threshold:
                return first, second
    return None


def join_overlap(
    clusters: list[LabeledCluster], parameters: OverlapJoinParameters
) -> list[LabeledCluster]:
    """Join clusters whose pad-plane circles overlap (Spyral's overlap join, repaired).

    A pass fits a circle to every cluster and, for each eligible pair of equal direction whose
    common area exceeds ``circle_overlap_ratio`` of the smaller circle, moves the second
    cluster's group into the first's. Eligible: at least ``min_cluster_size_join`` points and
    a finite radius of at least 10 mm. Passes repeat until the count stops changing.

    Fixed on purpose against Spyral 1.1.2: the rebuilt clusters are valid (Spyral raises a
    TypeError on any event with two or more clusters) and the radius test applies to the
    compared cluster (Spyral tested the outer one twice).
    """
    joined = list(clusters)
    while len(joined) > 1:
        merged = _overlap_pass(joined, parameters)
        if len(merged) == len(joined):
            break
        joined = merged
    return joined


def _overlap_pass(
    clusters: list[LabeledCluster], parameters: OverlapJoinParameters
) -> list[LabeledCluster]:
    circles = [_circle(cluster) for cluster in clusters]
    eligible = [
        len(cluster.points) >= parameters.min_cluster_size_join
        and np.isfinite(radius)
        and radius >= MIN_OVERLAP_RADIUS
        for cluster, (_, _, radius) in zip(clusters, circles, strict=True)
    ]
    group = list(range(len(clusters)))
    for first, cluster in enumerate(clusters):
        if not eligible[first]:
            continue
        x1, y1, radius1 = circles[first]
        for second, other in enumerate(clusters):
            if (
                second == first
                or not eligible[second]
                or group[second] == group[first]
                or other.direction != cluster.direction
            ):
                continue
            x2, y2, radius2 = circles[second]
            smaller_area = np.pi * min(radius1, radius2) ** 2
            overlap = circle_overlap_area(x1, y1, radius1, x2, y2, radius2)
            if overlap > parameters.circle_overlap_ratio * smaller_area:
                moved = group[second]
                group = [group[first] if owner == moved else owner for owner in group]
    # A group keeps the id, label and place of the cluster that absorbed the others.
    return [
        merge_clusters(
            [clusters[root]]
            + [
                clusters[index]
                for index, owner in enumerate(group)
                if owner == root and index != root
            ]
        )
        for root in range(len(clusters))
        if group[root] == root
    ]
