"""Splitting a recoil's straight track off the ejectile's cluster (not in Spyral).

Ejectile and recoil leave the vertex together; where the heavy recoil's dense, nearly straight
track runs close to the beam axis, HDBSCAN (with Spyral's ``cluster_selection_epsilon``) links
the two at the vertex into one cluster. Estimation then smooths one track through both branches
and the fit follows the wrong one. Measured on the physics matrix's 200-event samples
(``benchmarks/diagnose_polar_outliers.py``, results/polar_outliers_200.txt): 7 of the 10 fits
more than 3 deg off in polar angle came from such clusters (ejectile purity 0.2-0.5 with
completeness near 1), off by 10 to 45 deg.

The step, after the joins and the helix capture: in each cluster a curve x(z), y(z)
(quadratics) is fitted to the points within ``axis_radius`` of the beam axis and refitted to
the points within ``tolerance`` of it (in the pad plane) until they no longer change. Those
points, cut where they leave a gap in z over ``max_gap``, form a branch when their longest run
spans ``min_length`` in z and holds ``min_points``. The cluster is split when the rest holds
``min_points`` too and runs *alongside* the branch: at least ``min_points`` of its points lie
within the branch's z range and more than 3 x ``tolerance`` from its curve. That is two tracks
from one vertex. A single track is not split: a forward helix's start near the axis is
straight, but the rest of it lies beyond that start's end, none of it alongside (a branch of
100 mm in z within 45 mm of the axis has a polar angle under 27 deg, and such a helix advances
in z through every turn); the returns of a multi-turn helix to the axis are cut apart by the
gaps between them. A recoil seen only where the ejectile's cluster ends (nothing alongside)
stays: its fit is not the ejectile's, and the summary's match keeps the two apart.

On the matrix's samples the step split 1 to 8 clusters per 200 events, each into the
ejectile's track and the recoil's (over 95 % pure; ``tests/physics/test_linked_recoil.py``
holds eight of them). The polar-angle std of the fitted ejectiles fell from 1.6-5.0 deg to
0.10-0.73 deg and pp_inelastic's vertex-z std from 44 to 10 mm; no figure of the matrix got
worse (``physics_matrix.py --skip-spyral`` before and after, lbfgsb fits).
"""

from __future__ import annotations

import numpy as np

from spyralflow.phases.cluster.joins import LabeledCluster
from spyralflow.phases.cluster.parameters import BranchSplitParameters

# Refits of the branch's curve to its own inliers: each reaches a little farther along the
# recoil; the inlier set settled in 4 to 14 on the linked-recoil fixture's events.
_CURVE_ITERATIONS = 20
# The rest lies alongside the branch when farther than this many tolerances from its curve.
_ALONGSIDE_TOLERANCES = 3.0
# x(z) and y(z) of the branch are quadratics: a recoil of a few degrees bends by up to 12 mm
# from a line over the chamber in 3 T (16C recoils of the physics matrix).
_CURVE_DEGREE = 2


def _curve(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Least-squares quadratics x(z), y(z) of (n, 3) points, in z centred and scaled."""
    z = xyz[:, 2]
    middle, half_span = 0.5 * (z.max() + z.min()), max(0.5 * (z.max() - z.min()), 1.0)
    scaled = (z - middle) / half_span
    x_coefficients = np.polynomial.polynomial.polyfit(scaled, xyz[:, 0], _CURVE_DEGREE)
    y_coefficients = np.polynomial.polynomial.polyfit(scaled, xyz[:, 1], _CURVE_DEGREE)
    return x_coefficients, y_coefficients, middle, half_span


def _distances(xyz: np.ndarray, curve: tuple[np.ndarray, np.ndarray, float, float]) -> np.ndarray:
    """Distance (mm) in the pad plane of each point from the curve at the point's z."""
    x_coefficients, y_coefficients, middle, half_span = curve
    scaled = (xyz[:, 2] - middle) / half_span
    dx = xyz[:, 0] - np.polynomial.polynomial.polyval(scaled, x_coefficients)
    dy = xyz[:, 1] - np.polynomial.polynomial.polyval(scaled, y_coefficients)
    return np.hypot(dx, dy)


def _longest_run(z: np.ndarray, max_gap: float) -> np.ndarray:
    """Indices into ``z`` of its longest stretch without a gap over ``max_gap``."""
    order = np.argsort(z, kind="stable")
    breaks = np.flatnonzero(np.diff(z[order]) > max_gap) + 1
    runs = np.split(order, breaks)
    return max(runs, key=lambda run: z[run].max() - z[run].min())


def straight_branch(points: np.ndarray, parameters: BranchSplitParameters) -> np.ndarray | None:
    """Mask of a cluster's (n, >= 3) points on a near-axis branch beside another, or None."""
    xyz = points[:, :3]
    inliers = np.hypot(xyz[:, 0], xyz[:, 1]) < parameters.axis_radius
    if inliers.sum() < parameters.min_points or len(xyz) < 2 * parameters.min_points:
        return None
    for _ in range(_CURVE_ITERATIONS):
        distances = _distances(xyz, _curve(xyz[inliers]))
        refit = distances < parameters.tolerance
        if refit.sum() < parameters.min_points:
            return None
        if np.array_equal(refit, inliers):
            break
        inliers = refit
    inlier_rows = np.flatnonzero(inliers)
    run = inlier_rows[_longest_run(xyz[inlier_rows, 2], parameters.max_gap)]
    low, high = xyz[run, 2].min(), xyz[run, 2].max()
    if len(run) < parameters.min_points or high - low < parameters.min_length:
        return None
    branch = np.zeros(len(xyz), dtype=bool)
    branch[run] = True
    rest = ~branch
    alongside = (
        rest
        & (xyz[:, 2] > low)
        & (xyz[:, 2] < high)
        & (distances > _ALONGSIDE_TOLERANCES * parameters.tolerance)
    )
    if rest.sum() < parameters.min_points or alongside.sum() < parameters.min_points:
        return None
    return branch


def split_branches(
    clusters: list[LabeledCluster], parameters: BranchSplitParameters
) -> list[LabeledCluster]:
    """Every cluster with a straight branch beside another track, split in two.

    The rest keeps the cluster's label; the branch gets a new label above every existing one.
    Both keep the cluster's direction along z: they leave the same vertex.
    """
    next_label = max((cluster.label for cluster in clusters), default=-1) + 1
    result = []
    for cluster in clusters:
        branch = straight_branch(cluster.points, parameters)
        if branch is None:
            result.append(cluster)
            continue
        rest = ~branch
        result.append(
            LabeledCluster(
                cluster.label, cluster.direction, cluster.points[rest], cluster.parent_indices[rest]
            )
        )
        result.append(
            LabeledCluster(
                next_label,
                cluster.direction,
                cluster.points[branch],
                cluster.parent_indices[branch],
            )
        )
        next_label += 1
    return result
