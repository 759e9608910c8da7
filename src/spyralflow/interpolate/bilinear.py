"""Interpolation on regular grids whose nodes include both ends (``numpy.linspace`` grids).

A grid axis of ``points`` nodes from ``low`` to ``high`` has node ``k`` at
``low + k * (high - low) / (points - 1)``. Every query in the closed range ``[low, high]`` falls in
a cell ``[node i, node i + 1]`` with a fraction in ``[0, 1]``; the upper edge itself belongs to the
last cell with fraction 1, so the last node is reached exactly and never read past. A query outside
the range (or NaN) has no cell: the interpolators return NaN there.

This replaces Spyral's ``BilinearInterpolator``, which divides the range by ``points`` instead of
``points - 1`` (shifting every query by up to one node), uses swapped weights in the last cell of
each axis, and reads one past the end at the upper edge (spyral.md section 6.5).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def grid_cell(value: float, low: float, high: float, points: int) -> tuple[int, float]:
    """Cell of ``value`` on a grid of ``points`` nodes spanning ``[low, high]``.

    Parameters
    ----------
    value : float
        The query coordinate.
    low, high : float
        First and last node (``low < high``).
    points : int
        Number of nodes, at least 2.

    Returns
    -------
    tuple[int, float]
        Index ``i`` of the cell's lower node (``0 <= i <= points - 2``) and the fraction of the way
        from node ``i`` to node ``i + 1``, in ``[0, 1]``. ``(-1, nan)`` when ``value`` is outside
        ``[low, high]`` or NaN.
    """
    if not (low <= value <= high):
        return -1, math.nan
    position = (value - low) / (high - low) * (points - 1)
    index = math.floor(position)
    if index > points - 2:
        index = points - 2
    return index, position - index


@njit(cache=True)
def bilinear_interpolate(
    values: np.ndarray,
    x_low: float,
    x_high: float,
    y_low: float,
    y_high: float,
    x: float,
    y: float,
) -> np.ndarray:
    """Bilinear interpolation of a vector-valued function tabulated on a regular grid.

    Parameters
    ----------
    values : numpy.ndarray
        (nx, ny, k) table: ``values[i, j]`` is the function at node ``i`` of x and node ``j`` of
        y. nx and ny must be at least 2.
    x_low, x_high, y_low, y_high : float
        The first and last node of each axis.
    x, y : float
        The query point.

    Returns
    -------
    numpy.ndarray
        (k,) float64 interpolated values; all NaN outside the grid.
    """
    result = np.full(values.shape[2], np.nan)
    i, fx = grid_cell(x, x_low, x_high, values.shape[0])
    j, fy = grid_cell(y, y_low, y_high, values.shape[1])
    if i < 0 or j < 0:
        return result
    w00 = (1.0 - fx) * (1.0 - fy)
    w10 = fx * (1.0 - fy)
    w01 = (1.0 - fx) * fy
    w11 = fx * fy
    for component in range(values.shape[2]):
        result[component] = (
            w00 * values[i, j, component]
            + w10 * values[i + 1, j, component]
            + w01 * values[i, j + 1, component]
            + w11 * values[i + 1, j + 1, component]
        )
    return result


@njit(cache=True)
def linear_interpolate(values: np.ndarray, low: float, high: float, x: float) -> float:
    """Linear interpolation of a function tabulated on a regular grid; NaN outside it.

    Parameters
    ----------
    values : numpy.ndarray
        (n,) table, n >= 2, ``values[i]`` at node ``i``.
    low, high : float
        The first and last node.
    x : float
        The query coordinate.
    """
    i, fraction = grid_cell(x, low, high, values.shape[0])
    if i < 0:
        return math.nan
    return (1.0 - fraction) * values[i] + fraction * values[i + 1]
