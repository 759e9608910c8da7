"""Circles in the pad plane: algebraic fit, nearest point to the beam axis, overlap area."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Below this relative size of the normal-matrix determinant the points are collinear to
# working precision and the fitted centre would be meaningless.
_SINGULAR_RELATIVE_DETERMINANT = 1.0e-12


@njit(cache=True)
def least_squares_circle(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Algebraic least-squares circle through the points (Spyral's fit, the SciPy cookbook one).

    The centre solves the 2x2 normal equations in coordinates reduced to the means; the radius
    is the mean distance of the points to that centre.

    Parameters
    ----------
    x, y : numpy.ndarray
        Point coordinates in mm.

    Returns
    -------
    tuple[float, float, float, float]
        Centre x (mm), centre y (mm), radius (mm) and the *sum* of squared radial residuals
        (mm^2). All NaN when fewer than 3 points are given or the points are collinear.
    """
    count = x.shape[0]
    if count < 3:
        return (np.nan, np.nan, np.nan, np.nan)
    mean_x = x.mean()
    mean_y = y.mean()
    suu = suv = svv = suuu = svvv = suuv = suvv = 0.0
    for index in range(count):
        u = x[index] - mean_x
        v = y[index] - mean_y
        suu += u * u
        suv += u * v
        svv += v * v
        suuu += u * u * u
        svvv += v * v * v
        suuv += u * u * v
        suvv += u * v * v
    determinant = suu * svv - suv * suv
    if not determinant > _SINGULAR_RELATIVE_DETERMINANT * suu * svv:
        return (np.nan, np.nan, np.nan, np.nan)
    right_u = 0.5 * (suuu + suvv)
    right_v = 0.5 * (suuv + svvv)
    center_x = (right_u * svv - right_v * suv) / determinant + mean_x
    center_y = (right_v * suu - right_u * suv) / determinant + mean_y
    radius_sum = 0.0
    for index in range(count):
        radius_sum += math.hypot(x[index] - center_x, y[index] - center_y)
    radius = radius_sum / count
    residual = 0.0
    for index in range(count):
        difference = math.hypot(x[index] - center_x, y[index] - center_y) - radius
        residual += difference * difference
    return (center_x, center_y, radius, residual)


@njit(cache=True)
def nearest_circle_point_to_origin(
    center_x: float, center_y: float, radius: float
) -> tuple[float, float]:
    """The point of a circle closest to the beam axis (x = y = 0), in mm.

    Spyral samples 100 000 points on the circle and keeps the closest one; this is the exact
    limit of that search. A circle centred on the axis has every point equally close; the one
    at angle 0 is returned, as the sampling would.
    """
    distance = math.hypot(center_x, center_y)
    if distance == 0.0:
        return (center_x + radius, center_y)
    scale = 1.0 - radius / distance
    return (center_x * scale, center_y * scale)


@njit(cache=True)
def circle_overlap_area(
    x1: float, y1: float, radius1: float, x2: float, y2: float, radius2: float
) -> float:
    """Area shared by two circles (mm^2): zero if disjoint, the smaller disc if one contains
    the other, otherwise the lens area (Wolfram MathWorld, circle-circle intersection)."""
    distance = math.hypot(x1 - x2, y1 - y2)
    if distance >= radius1 + radius2:
        return 0.0
    if distance <= abs(radius1 - radius2):
        smaller = min(radius1, radius2)
        return math.pi * smaller * smaller
    cos1 = (distance * distance + radius1 * radius1 - radius2 * radius2) / (
        2.0 * distance * radius1
    )
    cos2 = (distance * distance + radius2 * radius2 - radius1 * radius1) / (
        2.0 * distance * radius2
    )
    # Clamp: rounding can push the cosines just outside [-1, 1] for nearly tangent circles.
    cos1 = min(1.0, max(-1.0, cos1))
    cos2 = min(1.0, max(-1.0, cos2))
    kite = (
        (-distance + radius1 + radius2)
        * (distance + radius1 - radius2)
        * (distance - radius1 + radius2)
        * (distance + radius1 + radius2)
    )
    return (
        radius1 * radius1 * math.acos(cos1)
        + radius2 * radius2 * math.acos(cos2)
        - 0.5 * math.sqrt(max(kite, 0.0))
    )
