"""First physics estimates of one track cluster (spyral.md section 5.2).

The algorithm is Spyral's: smooth x, y and charge against z, orient the track by its direction,
fit a circle to the first arc, put the vertex at the circle's point nearest the beam axis,
extrapolate the distance from that vertex linearly in z back to zero for vertex z and the polar
angle, and derive azimuth, Brho, the charge in the small-pad region and the arclength it was
deposited over.

Deliberate differences, each a Spyral bug or quirk:

- polar angle and vertex z come from the arc length along the fitted circle, not the chord
  (the chord lags the arc, which biased Spyral's polar angle low and its Brho high);
- the first arc of the first circle fit includes its farthest point (an index mix-up in
  Spyral dropped it);
- the first arc ends on the first turn (``_first_turn_maximum``): Spyral's ends at the farthest
  point of the whole cluster, which on a multi-turn track can be a later turn, and then the
  polar angle and the vertex z come out wrong by tens of degrees and centimetres;
- the vertex is the exact nearest point of the circle (Spyral searched 100 000 samples);
- a degenerate circle, a constant z, zero arclength or a non-finite result skips the cluster
  with a reason, instead of writing a NaN row or raising;
- so does a first arc whose curvature is not resolved (sagitta under 1 mm: nearly straight, so
  Brho is unbounded) or that is no circle (RMS distance over 5 % of the radius: very forward
  tracks hidden by the beam pads, which also get the wrong direction). These cut most of the
  estimate tails for about 1 % of the deuteron clusters of the 16C(d,d') benchmark;
- repeated z values are smoothed (SciPy's spline raised, and Spyral dropped the cluster).
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np
from numba import njit

from spyralflow.geometry.circle import least_squares_circle, nearest_circle_point_to_origin
from spyralflow.geometry.smoothing_spline import (
    evaluate_smoothing_splines,
    fit_smoothing_splines,
)

# Radius (mm) of the AT-TPC's small-pad region: charge is summed while the track stays inside.
SMALL_PAD_RADIUS = 152.0
ARCLENGTH_SAMPLES = 1000
# The rho(z) line is fitted to at least this many points of the first arc.
MIN_REGRESSION_POINTS = 10
# Quality of the first-arc circle, below which Brho and the angles are noise (tails, not core,
# on simulated 16C(d,d') data: about 1 % of deuteron clusters, most of the estimate tails):
# the arc's sagitta must exceed the pad-plane position resolution...
MIN_SAGITTA = 1.0  # mm
# ... and the points' RMS distance to the circle must be a small fraction of its radius.
MAX_RELATIVE_CIRCLE_RMS = 0.05
# The first arc ends at the first turn: once the distance from the start has fallen back by
# this fraction of its largest value so far, the track is past the far side of that turn.
TURN_DROP = 0.25
# ... and by at least this much (mm), well above the smoothed track's noise near its start.
MIN_TURN_DROP = 10.0
# A first turn reaches at least this fraction of the track's largest distance (a later turn's
# circle drifts by a fraction of its radius); a track where it does not is no clean helix.
MIN_FIRST_TURN_REACH = 0.5
# ... and holds at least this many points (fewer: the fall is noise, as in a blob).
MIN_FIRST_ARC_POINTS = 2 * MIN_REGRESSION_POINTS

ESTIMATE_FIELDS = (
    "vertex_x",
    "vertex_y",
    "vertex_z",
    "center_x",
    "center_y",
    "center_z",
    "polar",
    "azimuthal",
    "brho",
    "dEdx",
    "sqrt_dEdx",
    "dE",
    "arclength",
)


class EstimateStatus(IntEnum):
    """Outcome of one cluster's estimate: accepted, or why it was skipped."""

    ACCEPTED = 0
    TOO_FEW_POINTS = 1
    DIRECTION_NONE = 2
    DEGENERATE_CIRCLE = 3
    DEGENERATE_SLOPE = 4
    VERTEX_OUTSIDE_BEAM_REGION = 5
    POLAR_DIRECTION_MISMATCH = 6
    NO_CHARGE_IN_SMALL_PAD_REGION = 7
    ZERO_ARCLENGTH = 8
    NON_FINITE_RESULT = 9
    CURVATURE_NOT_RESOLVED = 10
    POOR_CIRCLE_FIT = 11
    # Set by the phase, not the kernel: the kernel raised an arithmetic error (logged).
    NUMERICAL_FAILURE = 12

    @property
    def reason(self) -> str:
        """The name used in logs and the run summary."""
        return self.name.lower()


# Plain integers for the compiled kernel: direction values of the cluster file
# (spyralflow.io.cluster_file.Direction) and the outcomes.
_FORWARD = 0
_BACKWARD = 1
_ACCEPTED = int(EstimateStatus.ACCEPTED)
_TOO_FEW_POINTS = int(EstimateStatus.TOO_FEW_POINTS)
_DIRECTION_NONE = int(EstimateStatus.DIRECTION_NONE)
_DEGENERATE_CIRCLE = int(EstimateStatus.DEGENERATE_CIRCLE)
_DEGENERATE_SLOPE = int(EstimateStatus.DEGENERATE_SLOPE)
_VERTEX_OUTSIDE_BEAM_REGION = int(EstimateStatus.VERTEX_OUTSIDE_BEAM_REGION)
_POLAR_DIRECTION_MISMATCH = int(EstimateStatus.POLAR_DIRECTION_MISMATCH)
_NO_CHARGE_IN_SMALL_PAD_REGION = int(EstimateStatus.NO_CHARGE_IN_SMALL_PAD_REGION)
_ZERO_ARCLENGTH = int(EstimateStatus.ZERO_ARCLENGTH)
_NON_FINITE_RESULT = int(EstimateStatus.NON_FINITE_RESULT)
_CURVATURE_NOT_RESOLVED = int(EstimateStatus.CURVATURE_NOT_RESOLVED)
_POOR_CIRCLE_FIT = int(EstimateStatus.POOR_CIRCLE_FIT)


@njit(cache=True)
def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of y(x); NaN slope when x is constant."""
    mean_x = x.mean()
    mean_y = y.mean()
    sxx = 0.0
    sxy = 0.0
    for index in range(x.shape[0]):
        sxx += (x[index] - mean_x) ** 2
        sxy += (x[index] - mean_x) * (y[index] - mean_y)
    if sxx == 0.0:
        return (np.nan, np.nan)
    slope = sxy / sxx
    return (slope, mean_y - slope * mean_x)


@njit(cache=True)
def _first_turn_maximum(distances: np.ndarray) -> int:
    """Index of the largest of ``distances`` (pad-plane distances from a point of the track)
    on the track's first turn.

    On a helix the distance from its start grows to the circle's diameter half a turn on, then
    shrinks; a later turn whose circle has drifted can reach farther. Spyral takes the largest
    distance of the whole track, and on such a multi-turn track its first arc then spans
    several turns, where the chord no longer maps to an arc: the polar angle came out low
    (47 instead of 78 deg) and the vertex 120 mm upstream (simulated 16C(d,p) protons at 3 T).
    Here the first arc ends at the largest distance before they fall back by ``TURN_DROP`` of
    it (and at least ``MIN_TURN_DROP``), provided that arc holds ``MIN_FIRST_ARC_POINTS`` and
    reaches ``MIN_FIRST_TURN_REACH`` of the largest distance overall; otherwise (no helix: a
    blob, a kink) the largest overall, as Spyral.
    """
    overall = np.argmax(distances)
    first = 0
    for row in range(1, distances.size):
        if distances[row] > distances[first]:
            first = row
        elif distances[first] - distances[row] > max(TURN_DROP * distances[first], MIN_TURN_DROP):
            break
    if first >= MIN_FIRST_ARC_POINTS and (
        distances[first] >= MIN_FIRST_TURN_REACH * distances[overall]
    ):
        return first
    return overall


@njit(cache=True)
def estimate_track(
    data: np.ndarray,
    direction: int,
    min_points: int,
    smoothing: float,
    magnetic_field: float,
    beam_region_radius: float,
) -> tuple[int, np.ndarray]:
    """Estimate one cluster.

    Parameters
    ----------
    data : numpy.ndarray
        (n, 5) [x, y, z, integral, scale] in mm, sorted by z.
    direction : int
        -1 none, 0 forward, 1 backward.
    min_points : int
        Minimum cluster size.
    smoothing : float
        Smoothing-spline ``lam``.
    magnetic_field : float
        Field in T.
    beam_region_radius : float
        Largest accepted vertex distance from the beam axis, mm.

    Returns
    -------
    tuple[int, numpy.ndarray]
        An ``EstimateStatus`` value and the ``ESTIMATE_FIELDS`` values, all NaN unless
        accepted: vertex and centre in mm, angles in rad, Brho in T m, charge in the data's
        units, arclength in mm.
    """
    values = np.full(len(ESTIMATE_FIELDS), np.nan)
    count = data.shape[0]
    if count < min_points:
        return (_TOO_FEW_POINTS, values)
    if direction != _FORWARD and direction != _BACKWARD:
        return (_DIRECTION_NONE, values)
    z = np.ascontiguousarray(data[:, 2])
    raw = np.empty((count, 3))
    raw[:, 0] = data[:, 0]
    raw[:, 1] = data[:, 1]
    raw[:, 2] = data[:, 3]
    knots, fitted, second = fit_smoothing_splines(z, raw, smoothing)
    smooth = evaluate_smoothing_splines(knots, fitted, second, z)
    # track[i] = (x, y, z, charge), ordered along the particle's motion.
    track = np.empty((count, 4))
    for row in range(count):
        source = row if direction == _FORWARD else count - 1 - row
        track[row, 0] = smooth[source, 0]
        track[row, 1] = smooth[source, 1]
        track[row, 2] = z[source]
        track[row, 3] = smooth[source, 2]

    # First arc: up to the point farthest (in xy) from the first point, on the first turn.
    from_start = np.empty(count)
    for row in range(count):
        from_start[row] = math.hypot(track[row, 0] - track[0, 0], track[row, 1] - track[0, 1])
    farthest = _first_turn_maximum(from_start)
    largest = from_start[farthest]
    center_x, center_y, radius, squared_residuals = least_squares_circle(
        np.ascontiguousarray(track[: farthest + 1, 0]),
        np.ascontiguousarray(track[: farthest + 1, 1]),
    )
    if not (np.isfinite(center_x) and np.isfinite(radius)):
        return (_DEGENERATE_CIRCLE, values)
    half_chord = 0.5 * largest
    if radius - math.sqrt(max(radius * radius - half_chord * half_chord, 0.0)) < MIN_SAGITTA:
        return (_CURVATURE_NOT_RESOLVED, values)
    if math.sqrt(squared_residuals / (farthest + 1)) > MAX_RELATIVE_CIRCLE_RMS * radius:
        return (_POOR_CIRCLE_FIT, values)
    vertex_x, vertex_y = nearest_circle_point_to_origin(center_x, center_y, radius)

    # Redo the first arc from the new vertex, then extrapolate the path length along the
    # circle, linear in z, back to zero for the vertex z and the polar angle.
    rho_to_vertex = np.empty(count)
    for row in range(count):
        rho_to_vertex[row] = math.hypot(track[row, 0] - vertex_x, track[row, 1] - vertex_y)
    arc_end = _first_turn_maximum(rho_to_vertex)
    fit_points = min(count, max(MIN_REGRESSION_POINTS, int(0.5 * arc_end)))
    # Spyral regresses the chord from the vertex against z; for a helix it is the arc along
    # the circle that grows linearly with z (slope tan(polar)). The chord falls 10 % behind
    # the arc at a quarter turn, which biased Spyral's polar angle low and Brho high, so the
    # chord is turned into the shorter arc of the fitted circle.
    arc = np.empty(fit_points)
    for row in range(fit_points):
        arc[row] = 2.0 * radius * math.asin(min(1.0, 0.5 * rho_to_vertex[row] / radius))
    slope, intercept = _line_fit(np.ascontiguousarray(track[:fit_points, 2]), arc)
    if not np.isfinite(slope) or slope == 0.0:
        return (_DEGENERATE_SLOPE, values)
    vertex_z = -intercept / slope
    if math.hypot(vertex_x, vertex_y) > beam_region_radius:
        return (_VERTEX_OUTSIDE_BEAM_REGION, values)
    polar = math.atan(slope)
    if (polar > 0.0 and direction == _BACKWARD) or (polar < 0.0 and direction == _FORWARD):
        return (_POLAR_DIRECTION_MISMATCH, values)
    if direction == _BACKWARD:
        polar += math.pi
    azimuthal = math.atan2(vertex_y - center_y, vertex_x - center_x)
    if azimuthal < 0.0:
        azimuthal += 2.0 * math.pi
    azimuthal += 0.5 * math.pi
    if azimuthal > 2.0 * math.pi:
        azimuthal -= 2.0 * math.pi
    brho = magnetic_field * radius * 0.001 / abs(math.sin(polar))

    # Charge along the first arc while it stays in the small-pad region.
    charge = track[0, 3]
    stop = arc_end
    added = 0
    for row in range(1, arc_end + 1):
        if math.hypot(track[row, 0], track[row, 1]) > SMALL_PAD_RADIUS:
            stop = row
            break
        charge += track[row, 3]
        added += 1
    if added == 0:
        return (_NO_CHARGE_IN_SMALL_PAD_REGION, values)
    samples = np.linspace(track[0, 2], track[stop, 2], ARCLENGTH_SAMPLES)
    path = evaluate_smoothing_splines(knots, fitted, second, samples)
    arclength = 0.0
    for row in range(1, ARCLENGTH_SAMPLES):
        arclength += math.sqrt(
            (path[row, 0] - path[row - 1, 0]) ** 2
            + (path[row, 1] - path[row - 1, 1]) ** 2
            + (samples[row] - samples[row - 1]) ** 2
        )
    if arclength == 0.0:
        return (_ZERO_ARCLENGTH, values)
    dedx = charge / arclength
    values[0] = vertex_x
    values[1] = vertex_y
    values[2] = vertex_z
    values[3] = center_x
    values[4] = center_y
    values[5] = vertex_z
    values[6] = polar
    values[7] = azimuthal
    values[8] = brho
    values[9] = dedx
    values[10] = math.sqrt(abs(dedx))
    values[11] = charge
    values[12] = arclength
    for value in values:
        if not np.isfinite(value):
            values[:] = np.nan
            return (_NON_FINITE_RESULT, values)
    return (_ACCEPTED, values)


def estimate_cluster(
    data: np.ndarray,
    direction: int,
    min_points: int,
    smoothing: float,
    magnetic_field: float,
    beam_region_radius: float,
) -> tuple[EstimateStatus, np.ndarray]:
    """``estimate_track`` on any (n, 5) cluster array: sorts by z if needed.

    Returns
    -------
    tuple[EstimateStatus, numpy.ndarray]
        The outcome and the ``ESTIMATE_FIELDS`` values.
    """
    data = np.ascontiguousarray(data, dtype=np.float64)
    if data.shape[0] > 1 and np.any(np.diff(data[:, 2]) < 0.0):
        data = data[np.argsort(data[:, 2], kind="stable")]
    status, values = estimate_track(
        data,
        int(direction),
        int(min_points),
        float(smoothing),
        float(magnetic_field),
        float(beam_region_radius),
    )
    return EstimateStatus(status), values
