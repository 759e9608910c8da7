"""Numba kernels of the fit: a trajectory from the mesh, and the points' distances to it.

For fit parameters P = (brho, polar, vertex_rho, vertex_phi, azimuthal, vertex_z) the model
trajectory is the mesh trajectory at (kinetic energy from brho, polar), interpolated bilinearly
(``spyralflow.interpolate.grid_cell``: correct on the whole grid, NaN outside), rotated about z
by the azimuthal angle and moved to the vertex. Only the live samples are used (the mesh records
how many each trajectory has; later samples repeat the final position).

The distance of a data point is its distance to the polyline through the trajectory samples,
where Spyral takes the distance to the nearest sample: with samples a centimetre apart, the
nearest-sample distance of a point lying on the track can be 5 mm, which is larger than the
point uncertainties. The search is exact and pruned: the segments are grouped in chunks with
bounding boxes, a chunk is scanned only if its box is nearer than the best distance so far, and
the search starts in the chunk where the previous point's nearest segment was (points come
sorted along the track).

The derivatives of every distance with respect to P are computed with it (the nearest point
moves with the trajectory; the bilinear weights give the derivatives in kinetic energy and
polar), so the optimisers get exact gradients instead of finite differences.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from spyralflow.interpolate.bilinear import grid_cell

BRHO, POLAR, VERTEX_RHO, VERTEX_PHI, AZIMUTHAL, VERTEX_Z = range(6)
# Extra Jacobian columns: derivatives with respect to the vertex x and y (m), well defined at
# vertex rho = 0 where the phi column vanishes.
VERTEX_X, VERTEX_Y = 6, 7
PARAMETER_NAMES = ("brho", "polar", "vertex_rho", "vertex_phi", "azimuthal", "vertex_z")
N_PARAMETERS = 6
N_JACOBIAN_COLUMNS = 8
_CHUNK = 8


@njit(cache=True)
def kinetic_energy_from_brho(brho: float, mass: float, momentum_per_brho: float) -> float:
    """Kinetic energy (MeV) of an ion of ``mass`` (MeV/c²) with rigidity ``brho`` (T·m).

    ``momentum_per_brho`` is 299.792458·Z (MeV/c per T·m).
    """
    momentum = brho * momentum_per_brho
    return math.sqrt(momentum * momentum + mass * mass) - mass


@njit(cache=True)
def interpolate_local(positions, lengths, ke_low, ke_high, polar_low, polar_high, energy, polar):
    """Mesh trajectory at (energy MeV, polar rad), from the origin with azimuth 0.

    Returns
    -------
    tuple
        (n, local, d_energy, d_polar): the number of live samples (0 outside the mesh, NaN
        input included), the (max(n, 2), 3) positions in m, and their derivatives per MeV and
        per rad. When n is 1 the single sample is repeated so that every polyline has a segment.
    """
    i, fk = grid_cell(energy, ke_low, ke_high, positions.shape[0])
    j, fp = grid_cell(polar, polar_low, polar_high, positions.shape[1])
    if i < 0 or j < 0:
        empty = np.zeros((2, 3))
        return 0, empty, empty, empty
    n = max(max(lengths[i, j], lengths[i + 1, j]), max(lengths[i, j + 1], lengths[i + 1, j + 1]))
    rows = max(n, 2)
    local = np.empty((rows, 3))
    d_energy = np.empty((rows, 3))
    d_polar = np.empty((rows, 3))
    energy_step = (ke_high - ke_low) / (positions.shape[0] - 1)
    polar_step = (polar_high - polar_low) / (positions.shape[1] - 1)
    w00 = (1.0 - fk) * (1.0 - fp)
    w10 = fk * (1.0 - fp)
    w01 = (1.0 - fk) * fp
    w11 = fk * fp
    for k in range(n):
        for c in range(3):
            q00 = np.float64(positions[i, j, k, c])
            q10 = np.float64(positions[i + 1, j, k, c])
            q01 = np.float64(positions[i, j + 1, k, c])
            q11 = np.float64(positions[i + 1, j + 1, k, c])
            local[k, c] = w00 * q00 + w10 * q10 + w01 * q01 + w11 * q11
            d_energy[k, c] = ((1.0 - fp) * (q10 - q00) + fp * (q11 - q01)) / energy_step
            d_polar[k, c] = ((1.0 - fk) * (q01 - q00) + fk * (q11 - q10)) / polar_step
    if n == 1:
        for c in range(3):
            local[1, c] = local[0, c]
            d_energy[1, c] = d_energy[0, c]
            d_polar[1, c] = d_polar[0, c]
    return n, local, d_energy, d_polar


@njit(cache=True)
def place_trajectory(local, azimuthal, vertex_x, vertex_y, vertex_z):
    """Rotate a local trajectory about z by ``azimuthal`` (rad) and move it to the vertex (m)."""
    cos_a = math.cos(azimuthal)
    sin_a = math.sin(azimuthal)
    placed = np.empty_like(local)
    for k in range(local.shape[0]):
        placed[k, 0] = cos_a * local[k, 0] - sin_a * local[k, 1] + vertex_x
        placed[k, 1] = sin_a * local[k, 0] + cos_a * local[k, 1] + vertex_y
        placed[k, 2] = local[k, 2] + vertex_z
    return placed


@njit(cache=True)
def _scan_chunk(px, py, pz, trajectory, directions, inverse_lengths, first, last, best):
    """Nearest segment among [first, last): (squared distance, segment, fraction), or ``best``."""
    best_distance, best_segment, best_fraction = best
    for k in range(first, last):
        dx = px - trajectory[k, 0]
        dy = py - trajectory[k, 1]
        dz = pz - trajectory[k, 2]
        fraction = (
            dx * directions[k, 0] + dy * directions[k, 1] + dz * directions[k, 2]
        ) * inverse_lengths[k]
        fraction = min(max(fraction, 0.0), 1.0)
        ex = dx - fraction * directions[k, 0]
        ey = dy - fraction * directions[k, 1]
        ez = dz - fraction * directions[k, 2]
        squared = ex * ex + ey * ey + ez * ez
        if squared < best_distance:
            best_distance, best_segment, best_fraction = squared, k, fraction
    return best_distance, best_segment, best_fraction


@njit(cache=True)
def nearest_on_polyline(points, trajectory, n_segments):
    """Nearest point of the polyline ``trajectory[0 .. n_segments]`` to each of ``points``.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 3) points.
    trajectory : numpy.ndarray
        (>= n_segments + 1, 3) polyline vertices.
    n_segments : int
        Number of segments (at least 1).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]
        Distance of each point, the index k of its nearest segment, and the fraction t in [0, 1]
        along it (nearest point = trajectory[k] + t·(trajectory[k+1] - trajectory[k])).
    """
    directions = np.empty((n_segments, 3))
    inverse_lengths = np.empty(n_segments)
    for k in range(n_segments):
        squared = 0.0
        for c in range(3):
            directions[k, c] = trajectory[k + 1, c] - trajectory[k, c]
            squared += directions[k, c] * directions[k, c]
        inverse_lengths[k] = 1.0 / squared if squared > 0.0 else 0.0
    n_chunks = (n_segments + _CHUNK - 1) // _CHUNK
    low = np.empty((n_chunks, 3))
    high = np.empty((n_chunks, 3))
    for chunk in range(n_chunks):
        first = chunk * _CHUNK
        last = min(first + _CHUNK, n_segments)
        for c in range(3):
            low[chunk, c] = trajectory[first, c]
            high[chunk, c] = trajectory[first, c]
            for k in range(first + 1, last + 1):
                low[chunk, c] = min(low[chunk, c], trajectory[k, c])
                high[chunk, c] = max(high[chunk, c], trajectory[k, c])
    n_points = points.shape[0]
    distances = np.empty(n_points)
    segments = np.empty(n_points, np.int64)
    fractions = np.empty(n_points)
    start = 0
    for i in range(n_points):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        first = start * _CHUNK
        best = _scan_chunk(
            px,
            py,
            pz,
            trajectory,
            directions,
            inverse_lengths,
            first,
            min(first + _CHUNK, n_segments),
            (np.inf, 0, 0.0),
        )
        for chunk in range(n_chunks):
            if chunk == start:
                continue
            gx = max(low[chunk, 0] - px, 0.0, px - high[chunk, 0])
            gy = max(low[chunk, 1] - py, 0.0, py - high[chunk, 1])
            gz = max(low[chunk, 2] - pz, 0.0, pz - high[chunk, 2])
            if gx * gx + gy * gy + gz * gz >= best[0]:
                continue
            first = chunk * _CHUNK
            best = _scan_chunk(
                px,
                py,
                pz,
                trajectory,
                directions,
                inverse_lengths,
                first,
                min(first + _CHUNK, n_segments),
                best,
            )
        distances[i] = math.sqrt(best[0])
        segments[i] = best[1]
        fractions[i] = best[2]
        start = best[1] // _CHUNK
    return distances, segments, fractions


@njit(cache=True)
def _nearest_on_track(
    parameters,
    points,
    positions,
    lengths,
    ke_low,
    ke_high,
    polar_low,
    polar_high,
    mass,
    momentum_per_brho,
):
    """The model trajectory of ``parameters`` and each point's nearest place on it.

    Returns the live sample count n (0 outside the mesh: the rest is then meaningless, the
    distances NaN), the local trajectory and its derivatives in energy and polar
    (``interpolate_local``), the placed trajectory, and the points' distances, nearest segments
    and fractions (``nearest_on_polyline``).
    """
    energy = kinetic_energy_from_brho(parameters[BRHO], mass, momentum_per_brho)
    n, local, d_energy, d_polar = interpolate_local(
        positions, lengths, ke_low, ke_high, polar_low, polar_high, energy, parameters[POLAR]
    )
    rho = parameters[VERTEX_RHO]
    cos_v = math.cos(parameters[VERTEX_PHI])
    sin_v = math.sin(parameters[VERTEX_PHI])
    trajectory = place_trajectory(
        local, parameters[AZIMUTHAL], rho * cos_v, rho * sin_v, parameters[VERTEX_Z]
    )
    distances, segments, fractions = nearest_on_polyline(points, trajectory, max(n - 1, 1))
    if n == 0:
        distances[:] = np.nan
    return n, local, d_energy, d_polar, trajectory, distances, segments, fractions


@njit(cache=True)
def track_distances(
    parameters,
    points,
    positions,
    lengths,
    ke_low,
    ke_high,
    polar_low,
    polar_high,
    mass,
    momentum_per_brho,
    with_jacobian,
):
    """Distances of the data points to the model trajectory, and their derivatives.

    Parameters
    ----------
    parameters : numpy.ndarray
        (6,) P = (brho T·m, polar rad, vertex_rho m, vertex_phi rad, azimuthal rad, vertex_z m).
    points : numpy.ndarray
        (N, 3) data points, m.
    positions, lengths : numpy.ndarray
        The mesh (``TrajectoryMesh.positions`` and ``.lengths``).
    ke_low, ke_high : float
        First and last kinetic-energy node, MeV.
    polar_low, polar_high : float
        First and last polar node, rad.
    mass : float
        Ion mass, MeV/c².
    momentum_per_brho : float
        299.792458·Z, MeV/c per T·m.
    with_jacobian : bool
        Compute the derivatives.

    Returns
    -------
    tuple[bool, numpy.ndarray, numpy.ndarray]
        Whether the parameters are inside the mesh (False: the arrays are meaningless), the (N,)
        distances in m, and the (N, 8) derivatives of each distance with respect to P and then
        to the vertex x and y (zeros unless ``with_jacobian``).
    """
    n_points = points.shape[0]
    jacobian = np.zeros((n_points, N_JACOBIAN_COLUMNS))
    n, local, d_energy, d_polar, trajectory, distances, segments, fractions = _nearest_on_track(
        parameters, points, positions, lengths, ke_low, ke_high, polar_low, polar_high, mass,
        momentum_per_brho,
    )  # fmt: skip
    if n == 0 or not with_jacobian:
        return n > 0, distances, jacobian
    rho = parameters[VERTEX_RHO]
    cos_v = math.cos(parameters[VERTEX_PHI])
    sin_v = math.sin(parameters[VERTEX_PHI])
    azimuthal = parameters[AZIMUTHAL]
    momentum = parameters[BRHO] * momentum_per_brho
    energy_per_brho = momentum_per_brho * momentum / math.sqrt(momentum * momentum + mass * mass)
    cos_a = math.cos(azimuthal)
    sin_a = math.sin(azimuthal)
    for i in range(n_points):
        if distances[i] <= 0.0:
            continue
        k = segments[i]
        t = fractions[i]
        # Unit vector from the data point to its nearest trajectory point.
        nx = (1.0 - t) * trajectory[k, 0] + t * trajectory[k + 1, 0] - points[i, 0]
        ny = (1.0 - t) * trajectory[k, 1] + t * trajectory[k + 1, 1] - points[i, 1]
        nz = (1.0 - t) * trajectory[k, 2] + t * trajectory[k + 1, 2] - points[i, 2]
        nx /= distances[i]
        ny /= distances[i]
        nz /= distances[i]
        # The same vector in the trajectory's local (unrotated) frame.
        lx = cos_a * nx + sin_a * ny
        ly = -sin_a * nx + cos_a * ny
        mx = (1.0 - t) * local[k, 0] + t * local[k + 1, 0]
        my = (1.0 - t) * local[k, 1] + t * local[k + 1, 1]
        along_energy = 0.0
        along_polar = 0.0
        local_normal = (lx, ly, nz)
        for c in range(3):
            along_energy += local_normal[c] * ((1.0 - t) * d_energy[k, c] + t * d_energy[k + 1, c])
            along_polar += local_normal[c] * ((1.0 - t) * d_polar[k, c] + t * d_polar[k + 1, c])
        jacobian[i, BRHO] = along_energy * energy_per_brho
        jacobian[i, POLAR] = along_polar
        jacobian[i, VERTEX_RHO] = nx * cos_v + ny * sin_v
        jacobian[i, VERTEX_PHI] = rho * (-nx * sin_v + ny * cos_v)
        jacobian[i, AZIMUTHAL] = -lx * my + ly * mx
        jacobian[i, VERTEX_Z] = nz
        jacobian[i, VERTEX_X] = nx
        jacobian[i, VERTEX_Y] = ny
    return True, distances, jacobian


@njit(cache=True)
def track_offset_derivatives(
    parameters,
    points,
    positions,
    lengths,
    ke_low,
    ke_high,
    polar_low,
    polar_high,
    mass,
    momentum_per_brho,
):
    """Derivatives of each point's offset vector from the trajectory, for the covariance.

    A point's offset (nearest trajectory point minus the point) lies in the plane across the
    track, and measurement noise moves it in both directions of that plane. The distance, its
    length, only sees the component of a trajectory change along the offset; the covariance
    needs both, so this gives the derivatives of the whole offset: the trajectory's derivative
    at the nearest point with its component along the track removed (the nearest point slides
    along the track). Arguments as ``track_distances``.

    Returns
    -------
    tuple[bool, numpy.ndarray, numpy.ndarray]
        Whether the parameters are inside the mesh, the (N,) distances in m (as
        ``track_distances``), and the (N, 3, 8) derivatives of the offsets' x, y, z with respect
        to P and then to the vertex x and y.
    """
    derivatives = np.zeros((points.shape[0], 3, N_JACOBIAN_COLUMNS))
    n, local, d_energy, d_polar, trajectory, distances, segments, fractions = _nearest_on_track(
        parameters, points, positions, lengths, ke_low, ke_high, polar_low, polar_high, mass,
        momentum_per_brho,
    )  # fmt: skip
    if n == 0:
        return False, distances, derivatives
    rho = parameters[VERTEX_RHO]
    cos_v = math.cos(parameters[VERTEX_PHI])
    sin_v = math.sin(parameters[VERTEX_PHI])
    azimuthal = parameters[AZIMUTHAL]
    momentum = parameters[BRHO] * momentum_per_brho
    energy_per_brho = momentum_per_brho * momentum / math.sqrt(momentum * momentum + mass * mass)
    cos_a = math.cos(azimuthal)
    sin_a = math.sin(azimuthal)
    column = np.empty(3)
    for i in range(points.shape[0]):
        k = segments[i]
        t = fractions[i]
        tangent = trajectory[k + 1] - trajectory[k]
        norm = math.sqrt(tangent[0] ** 2 + tangent[1] ** 2 + tangent[2] ** 2)
        if norm > 0.0:
            tangent /= norm
        mx = (1.0 - t) * local[k, 0] + t * local[k + 1, 0]
        my = (1.0 - t) * local[k, 1] + t * local[k + 1, 1]
        for j in range(N_JACOBIAN_COLUMNS):
            if j == BRHO or j == POLAR:
                table = d_energy if j == BRHO else d_polar
                scale = energy_per_brho if j == BRHO else 1.0
                lx = (1.0 - t) * table[k, 0] + t * table[k + 1, 0]
                ly = (1.0 - t) * table[k, 1] + t * table[k + 1, 1]
                column[0] = scale * (cos_a * lx - sin_a * ly)
                column[1] = scale * (sin_a * lx + cos_a * ly)
                column[2] = scale * ((1.0 - t) * table[k, 2] + t * table[k + 1, 2])
            elif j == VERTEX_RHO:
                column[0], column[1], column[2] = cos_v, sin_v, 0.0
            elif j == VERTEX_PHI:
                column[0], column[1], column[2] = -rho * sin_v, rho * cos_v, 0.0
            elif j == AZIMUTHAL:
                column[0] = -sin_a * mx - cos_a * my
                column[1] = cos_a * mx - sin_a * my
                column[2] = 0.0
            elif j == VERTEX_Z:
                column[0], column[1], column[2] = 0.0, 0.0, 1.0
            elif j == VERTEX_X:
                column[0], column[1], column[2] = 1.0, 0.0, 0.0
            else:
                column[0], column[1], column[2] = 0.0, 1.0, 0.0
            along = column[0] * tangent[0] + column[1] * tangent[1] + column[2] * tangent[2]
            for c in range(3):
                derivatives[i, c, j] = column[c] - along * tangent[c]
    return True, distances, derivatives
