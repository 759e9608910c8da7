"""Joining the pieces of a track that HDBSCAN split: the end-to-end join (not in Spyral).

HDBSCAN cuts a track where its point density changes (a Bragg peak, a stretch of track along
z whose charge falls on few pads, a gap between pads); Spyral's continuity join then compares
each piece's end with the other's start by their distances to each piece's *own* circle centre,
which means nothing for a short stub (a circle fitted to a few centimetres of track) or a
straight one (no centre), so the pieces stay apart. Measured on the physics matrix's 1000-event
samples (``benchmarks/diagnose_clusters.py``, results/clusters_1000.txt): 8 to 28 % of the
fitted ejectiles lacked 5 % or more of their points, three quarters of those points sitting in
a second cluster, and their kinetic energies were off by 6 to 21 % (robust sigma) against 1.1
to 3.9 % for whole tracks. With this join, 5 to 14 % lack them.

Two clusters are pieces of one track when they touch at an end of each and the track goes on
through the junction:

- the nearest points of the two clusters are at most ``max_gap`` apart (the junction);
- at the junction each cluster ends: the mean of its points within ``end_window`` of its
  junction point lies at least ``min_end_offset`` x ``end_window`` behind that point;
- the direction into the junction along one cluster and out of it along the other have a
  cosine of at least ``min_alignment``. Two tracks leaving one vertex (ejectile and recoil)
  touch at an end of each too, but both leave the junction: their cosine is negative.

Pairs are joined closest first until no pair qualifies; the joined cluster keeps the label and
direction of its larger piece.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spyralflow.phases.cluster.joins import LabeledCluster, merge_clusters
from spyralflow.phases.cluster.parameters import EndJoinParameters


@njit(cache=True)
def nearest_pair(first: np.ndarray, second: np.ndarray) -> tuple[float, int, int]:
    """(distance, i, j) of the closest points first[i], second[j] of two (n, >=3) arrays."""
    best = np.inf
    best_i = -1
    best_j = -1
    for i in range(first.shape[0]):
        for j in range(second.shape[0]):
            dx = first[i, 0] - second[j, 0]
            dy = first[i, 1] - second[j, 1]
            dz = first[i, 2] - second[j, 2]
            squared = dx * dx + dy * dy + dz * dz
            if squared < best:
                best, best_i, best_j = squared, i, j
    return np.sqrt(best), best_i, best_j


def _boxes_apart(first: np.ndarray, second: np.ndarray, gap: float) -> bool:
    low = np.maximum(first[:, :3].min(axis=0), second[:, :3].min(axis=0))
    high = np.minimum(first[:, :3].max(axis=0), second[:, :3].max(axis=0))
    return bool(np.any(low - high > gap))


def _behind(points: np.ndarray, junction: np.ndarray, window: float) -> np.ndarray:
    """Junction point minus the mean of the points within ``window`` of it (mm)."""
    near = points[np.linalg.norm(points[:, :3] - junction, axis=1) < window, :3]
    return junction - near.mean(axis=0)


def continues(first: LabeledCluster, second: LabeledCluster, parameters: EndJoinParameters):
    """The junction gap (mm) if ``second`` continues ``first`` end to end, else None."""
    a, b = first.points, second.points
    if _boxes_apart(a, b, parameters.max_gap):
        return None
    gap, i, j = nearest_pair(np.ascontiguousarray(a[:, :3]), np.ascontiguousarray(b[:, :3]))
    if not gap <= parameters.max_gap:
        return None
    into = _behind(a, a[i, :3], parameters.end_window)  # along first, towards the junction
    out_of = -_behind(b, b[j, :3], parameters.end_window)  # along second, away from it
    shortest_end = parameters.min_end_offset * parameters.end_window
    into_length, out_length = np.linalg.norm(into), np.linalg.norm(out_of)
    if into_length < shortest_end or out_length < shortest_end:
        return None
    if np.dot(into, out_of) < parameters.min_alignment * into_length * out_length:
        return None
    return float(gap)


def join_ends(
    clusters: list[LabeledCluster], parameters: EndJoinParameters
) -> list[LabeledCluster]:
    """Join clusters that continue one another end to end, closest junction first."""
    joined = list(clusters)
    while len(joined) > 1:
        candidates = [
            (gap, first, second)
            for first in range(len(joined))
            for second in range(first + 1, len(joined))
            if (gap := continues(joined[first], joined[second], parameters)) is not None
        ]
        if not candidates:
            break
        _, first, second = min(candidates)
        pieces = sorted((joined[first], joined[second]), key=lambda c: -len(c.points))
        merged = merge_clusters(pieces)
        joined = [
            merged if index == first else cluster
            for index, cluster in enumerate(joined)
            if index != second
        ]
    return joined
