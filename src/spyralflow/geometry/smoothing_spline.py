"""Penalised cubic smoothing splines of track coordinates against z (Reinsch's algorithm).

For knots z and data y the spline f minimises sum_i (y_i - f(z_i))^2 + lam * integral f''^2,
the objective of ``scipy.interpolate.make_smoothing_spline(z, y, lam=lam)`` used by Spyral.
The minimiser is a natural cubic spline with knots at the data; Reinsch's algorithm finds it by
one banded (pentadiagonal) solve, O(n), shared by every column smoothed against the same z.

Unlike SciPy, repeated z values are allowed: points at equal z are merged into one knot
carrying their mean and their count as weight, which leaves the objective's minimiser
unchanged. So a cluster with two points in one time bucket is smoothed, not rejected. Points
closer in z than ``KNOT_MERGE_TOLERANCE`` (10 nm, far below the detector's millimetre
resolution) count as equal: a knot step of 2e-10 mm (seen in a simulated cloud) made the banded
solve divide by zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

# Knots closer than this (in z's unit, mm) are one knot.
KNOT_MERGE_TOLERANCE = 1.0e-5


@njit(cache=True)
def _merge_equal_knots(
    z: np.ndarray, columns: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct z values (input sorted; within ``KNOT_MERGE_TOLERANCE`` of a knot's first z is
    that knot), the mean of each column per knot, and the counts."""
    count, width = columns.shape
    knots = np.empty(count)
    sums = np.zeros((count, width))
    weights = np.zeros(count)
    last = -1
    for index in range(count):
        if last < 0 or z[index] - knots[last] > KNOT_MERGE_TOLERANCE:
            last += 1
            knots[last] = z[index]
        weights[last] += 1.0
        for column in range(width):
            sums[last, column] += columns[index, column]
    size = last + 1
    means = np.empty((size, width))
    for knot in range(size):
        for column in range(width):
            means[knot, column] = sums[knot, column] / weights[knot]
    return knots[:size].copy(), means, weights[:size].copy()


@njit(cache=True)
def _reinsch_solve(
    knots: np.ndarray, values: np.ndarray, weights: np.ndarray, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values and second derivatives at the knots (Green & Silverman, section 2.3)."""
    size, width = values.shape
    fitted = values.copy()
    second = np.zeros((size, width))
    if size < 3:
        # Two knots: the straight line through them has no curvature cost; one knot: constant.
        return fitted, second
    steps = knots[1:] - knots[:-1]
    inner = size - 2
    inverse_weights = 1.0 / weights
    # Column j of Q (knot j + 1) has 1/h_j, -(1/h_j + 1/h_{j+1}), 1/h_{j+1} on rows j..j+2.
    q_low = 1.0 / steps[:-1]
    q_high = 1.0 / steps[1:]
    q_mid = -(q_low + q_high)
    diagonal = np.empty(inner)
    first_off = np.zeros(inner)
    second_off = np.zeros(inner)
    for j in range(inner):
        diagonal[j] = (steps[j] + steps[j + 1]) / 3.0 + lam * (
            q_low[j] ** 2 * inverse_weights[j]
            + q_mid[j] ** 2 * inverse_weights[j + 1]
            + q_high[j] ** 2 * inverse_weights[j + 2]
        )
        if j + 1 < inner:
            first_off[j] = steps[j + 1] / 6.0 + lam * (
                q_mid[j] * inverse_weights[j + 1] * q_low[j + 1]
                + q_high[j] * inverse_weights[j + 2] * q_mid[j + 1]
            )
        if j + 2 < inner:
            second_off[j] = lam * q_high[j] * inverse_weights[j + 2] * q_low[j + 2]
    # LDL^T of the symmetric pentadiagonal matrix; L has sub-diagonals e (1) and f (2).
    pivot = np.empty(inner)
    e = np.zeros(inner)
    f = np.zeros(inner)
    for i in range(inner):
        if i >= 2:
            f[i] = second_off[i - 2] / pivot[i - 2]
        if i >= 1:
            correction = f[i] * e[i - 1] * pivot[i - 2] if i >= 2 else 0.0
            e[i] = (first_off[i - 1] - correction) / pivot[i - 1]
        pivot[i] = diagonal[i]
        if i >= 1:
            pivot[i] -= e[i] * e[i] * pivot[i - 1]
        if i >= 2:
            pivot[i] -= f[i] * f[i] * pivot[i - 2]
    solution = np.empty(inner)
    for column in range(width):
        for i in range(inner):
            right = (
                q_low[i] * values[i, column]
                + q_mid[i] * values[i + 1, column]
                + q_high[i] * values[i + 2, column]
            )
            if i >= 1:
                right -= e[i] * solution[i - 1]
            if i >= 2:
                right -= f[i] * solution[i - 2]
            solution[i] = right
        for i in range(inner):
            solution[i] /= pivot[i]
        for i in range(inner - 1, -1, -1):
            if i + 1 < inner:
                solution[i] -= e[i + 1] * solution[i + 1]
            if i + 2 < inner:
                solution[i] -= f[i + 2] * solution[i + 2]
        for i in range(inner):
            second[i + 1, column] = solution[i]
        for i in range(size):
            slope_change = 0.0
            if i >= 1:
                slope_change += (second[i - 1, column] - second[i, column]) / steps[i - 1]
            if i + 1 < size:
                slope_change += (second[i + 1, column] - second[i, column]) / steps[i]
            fitted[i, column] = values[i, column] - lam * inverse_weights[i] * slope_change
    return fitted, second


@njit(cache=True)
def fit_smoothing_splines(
    z: np.ndarray, columns: np.ndarray, lam: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smoothing splines of every column of ``columns`` against ``z``.

    Parameters
    ----------
    z : numpy.ndarray
        (N,) abscissae, sorted non-decreasing (mm).
    columns : numpy.ndarray
        (N, M) values to smooth, one spline per column.
    lam : float
        Smoothing weight of the curvature penalty (SciPy's ``lam``); 0 interpolates.

    Returns
    -------
    tuple of numpy.ndarray
        The distinct knots (K,), the spline values (K, M) and second derivatives (K, M) at them.
    """
    knots, means, weights = _merge_equal_knots(z, columns)
    fitted, second = _reinsch_solve(knots, means, weights, lam)
    return knots, fitted, second


@njit(cache=True)
def evaluate_smoothing_splines(
    knots: np.ndarray, fitted: np.ndarray, second: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """The splines of ``fit_smoothing_splines`` at ``z``, as an (len(z), M) array.

    Outside the knots the end cubic pieces continue, as SciPy's ``BSpline`` extrapolates.
    """
    size, width = fitted.shape
    result = np.empty((z.shape[0], width))
    if size == 1:
        for row in range(z.shape[0]):
            result[row, :] = fitted[0, :]
        return result
    for row in range(z.shape[0]):
        position = z[row]
        interval = np.searchsorted(knots, position, side="right") - 1
        interval = min(max(interval, 0), size - 2)
        step = knots[interval + 1] - knots[interval]
        after = position - knots[interval]
        before = knots[interval + 1] - position
        for column in range(width):
            low = fitted[interval, column]
            high = fitted[interval + 1, column]
            curvature = (1.0 + after / step) * second[interval + 1, column] + (
                1.0 + before / step
            ) * second[interval, column]
            result[row, column] = (after * high + before * low) / step - (
                after * before * curvature / 6.0
            )
    return result


@dataclass(frozen=True)
class SmoothingSpline:
    """Smoothing splines of several columns against z, callable at any z.

    Parameters
    ----------
    knots : numpy.ndarray
        Distinct z knots (mm).
    fitted : numpy.ndarray
        (K, M) spline values at the knots.
    second : numpy.ndarray
        (K, M) second derivatives at the knots.
    """

    knots: np.ndarray
    fitted: np.ndarray
    second: np.ndarray

    @classmethod
    def fit(cls, z: np.ndarray, columns: np.ndarray, lam: float) -> SmoothingSpline:
        """Fit one spline per column of ``columns`` (N, M) against ``z`` (N,), any order."""
        z = np.ascontiguousarray(z, dtype=np.float64)
        if z.shape[0] == 0:
            raise ValueError("cannot fit a smoothing spline to zero points")
        columns = np.ascontiguousarray(columns, dtype=np.float64).reshape(z.shape[0], -1)
        order = np.argsort(z, kind="stable")
        return cls(*fit_smoothing_splines(z[order], columns[order], float(lam)))

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Spline values at ``z``: an (len(z), M) array."""
        query = np.ascontiguousarray(np.atleast_1d(z), dtype=np.float64)
        return evaluate_smoothing_splines(self.knots, self.fitted, self.second, query)
