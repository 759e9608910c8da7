"""Direction of a cluster along z, from the sense of rotation about its circle centre.

Spyral's method (credited to D. Ramirez-Chavez): smooth x(z) and y(z) (lam = 10, clusters of
more than 5 points), fit a circle, and count the successive azimuth steps about its centre, in
z order, that are positive. A positive particle turns counter-clockwise seen from +z, so
azimuth growing with z means a track moving towards +z (FORWARD).

Deliberate fixes: the steps are wrapped into (-pi, pi], so crossing the 0/2 pi line is not a
backwards step; the fractions are of the steps that have a sense, positive or negative (Spyral
took 1 - positive as the negative fraction, so zero steps voted BACKWARD; points sharing a z
are smoothed onto one position and step by exactly zero); a degenerate circle gives NONE
instead of BACKWARD; repeated z values are smoothed instead of raising.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spyralflow.geometry.circle import least_squares_circle
from spyralflow.geometry.smoothing_spline import (
    evaluate_smoothing_splines,
    fit_smoothing_splines,
)
from spyralflow.io.cluster_file import Direction

DIRECTION_SMOOTHING = 10.0
_SMOOTHING_MIN_POINTS = 6


@njit(cache=True)
def rotation_fractions(points: np.ndarray) -> tuple[float, float]:
    """Fractions of positive and negative azimuth steps of a z-sorted cluster.

    Parameters
    ----------
    points : numpy.ndarray
        (n, >=3) rows [x, y, z, ...] in mm, sorted by z.

    Returns
    -------
    tuple[float, float]
        (positive fraction, negative fraction) of the steps that are not zero; NaN for fewer
        than 3 points, a degenerate circle or no step at all.
    """
    count = points.shape[0]
    if count < 3:
        return (np.nan, np.nan)
    z = np.ascontiguousarray(points[:, 2])
    xy = np.ascontiguousarray(points[:, :2])
    if count >= _SMOOTHING_MIN_POINTS:
        knots, fitted, second = fit_smoothing_splines(z, xy, DIRECTION_SMOOTHING)
        xy = evaluate_smoothing_splines(knots, fitted, second, z)
    center_x, center_y, _, _ = least_squares_circle(xy[:, 0], xy[:, 1])
    if np.isnan(center_x):
        return (np.nan, np.nan)
    positive = 0
    negative = 0
    previous = math.atan2(xy[0, 1] - center_y, xy[0, 0] - center_x)
    for index in range(1, count):
        angle = math.atan2(xy[index, 1] - center_y, xy[index, 0] - center_x)
        step = angle - previous
        if step > math.pi:
            step -= 2.0 * math.pi
        elif step <= -math.pi:
            step += 2.0 * math.pi
        if step > 0.0:
            positive += 1
        elif step < 0.0:
            negative += 1
        previous = angle
    decided = positive + negative
    if decided == 0:
        return (np.nan, np.nan)
    return (positive / decided, negative / decided)


def track_direction(points: np.ndarray, threshold: float) -> Direction:
    """FORWARD if more than ``threshold`` of the steps are positive, BACKWARD if more than
    ``threshold`` are negative, NONE otherwise (or when undefined)."""
    positive, negative = rotation_fractions(np.ascontiguousarray(points, dtype=np.float64))
    if positive > threshold:
        return Direction.FORWARD
    if negative > threshold:
        return Direction.BACKWARD
    return Direction.NONE
