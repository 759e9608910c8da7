"""Building the trajectory mesh: every (kinetic energy, polar angle) of the grid, integrated.

As in Spyral (spyral.md section 6.2) there are two passes: the first integrates every grid point
until it ends (at most 1 µs) to find the time window, the second samples every trajectory at
common times. The grid points are independent, so both passes run in parallel over the job's
threads (numba ``prange``); the result does not depend on the number of threads.

Where Spyral samples ``geomspace(1e-11 s, window, n)`` (very dense in the first nanoseconds,
sparse late), the times here start at 0 (the vertex) and are spaced so that the fastest ion
still inside the detector moves the same distance between two samples at every time: the density
of samples at time t is proportional to the largest initial speed among the trajectories still
running at t. Fast, short tracks and slow, long spirals then get comparable spatial resolution
for the same number of samples.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import numpy as np
from numba import njit, prange

from spyralflow.phases.interp_solver.motion import TransportModel, integrate_trajectory

log = logging.getLogger(__name__)

TIME_WINDOW_LIMIT_S = 1.0e-6


@njit(cache=True, parallel=True)
def _end_times(energies, polars, window, constants, log_stopping):
    """End time (s, at most ``window``) of the trajectory of every (energy, polar) pair."""
    n_polar = polars.size
    ends = np.empty(energies.size * n_polar)
    for flat in prange(energies.size * n_polar):
        times = np.array([0.0, window])
        out = np.empty((2, 3))
        _, end = integrate_trajectory(
            energies[flat // n_polar], polars[flat % n_polar], times, out, constants, log_stopping
        )
        ends[flat] = end
    return ends


@njit(cache=True, parallel=True)
def _fill_mesh(energies, polars, times, positions, lengths, constants, log_stopping):
    """Sample every trajectory at ``times`` into ``positions``; live samples into ``lengths``."""
    n_polar = polars.size
    for flat in prange(energies.size * n_polar):
        i = flat // n_polar
        j = flat % n_polar
        out = np.empty((times.size, 3))
        length, _ = integrate_trajectory(
            energies[i], polars[j], times, out, constants, log_stopping
        )
        lengths[i, j] = length
        for k in range(times.size):
            for c in range(3):
                positions[i, j, k, c] = out[k, c]


def initial_speeds(energies: np.ndarray, mass_mev: float) -> np.ndarray:
    """Speed beta of an ion of mass ``mass_mev`` (MeV/c²) at kinetic energies ``energies`` (MeV)."""
    gamma = 1.0 + np.asarray(energies, float) / mass_mev
    return np.sqrt(1.0 - 1.0 / gamma**2)


def sample_times(end_times: np.ndarray, speeds: np.ndarray, n_samples: int) -> np.ndarray:
    """Sample times (s) from 0 to the longest end time, denser where faster ions still run.

    Parameters
    ----------
    end_times : numpy.ndarray
        End time of each trajectory, s.
    speeds : numpy.ndarray
        Initial speed of each trajectory (any unit).
    n_samples : int
        Number of times.

    Returns
    -------
    numpy.ndarray
        ``n_samples`` increasing times; the first is 0, the last the longest end time. Between
        two consecutive times the fastest trajectory still running covers the same distance
        (bounded by its initial speed).
    """
    order = np.argsort(end_times, kind="stable")
    ends = np.asarray(end_times, float)[order]
    # Speed bound on (ends[m-1], ends[m]]: the fastest of the trajectories lasting >= ends[m].
    bound = np.maximum.accumulate(np.asarray(speeds, float)[order][::-1])[::-1]
    knots = np.concatenate([[0.0], ends])
    distance = np.concatenate([[0.0], np.cumsum(bound * np.diff(knots))])
    keep = np.concatenate([[True], np.diff(knots) > 0.0])
    knots, distance = knots[keep], distance[keep]
    if knots.size < 2:
        return np.linspace(0.0, max(float(ends[-1]), 1.0e-12), n_samples)
    return np.interp(np.linspace(0.0, distance[-1], n_samples), distance, knots)


def set_build_threads(threads: int) -> int:
    """Use ``threads`` numba threads (bounded by numba's pool); return the number used."""
    import numba

    used = max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(used)
    return used


def plan_times(
    model: TransportModel, energies: np.ndarray, polars_rad: np.ndarray, n_time_steps: int
) -> np.ndarray:
    """First pass: integrate every grid point to its end and place the sample times (s)."""
    ends = _end_times(energies, polars_rad, TIME_WINDOW_LIMIT_S, *model.kernel_arguments())
    speeds = np.repeat(initial_speeds(energies, model.mass_mev), polars_rad.size)
    times = sample_times(ends, speeds, n_time_steps)
    log.info(
        "trajectory mesh: time window %.4g ns (longest trajectory), %d samples",
        times[-1] * 1e9,
        n_time_steps,
    )
    return times


def mesh_blocks(
    model: TransportModel,
    energies: np.ndarray,
    polars_rad: np.ndarray,
    times: np.ndarray,
    block_bytes: int = 64_000_000,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Second pass: the mesh in blocks of consecutive energies, in file order.

    Parameters
    ----------
    model : TransportModel
        Ion, gas and fields.
    energies : numpy.ndarray
        Kinetic-energy grid, MeV.
    polars_rad : numpy.ndarray
        Polar-angle grid, rad.
    times : numpy.ndarray
        Sample times, s (``plan_times``).
    block_bytes : int
        Approximate size of one block; the whole mesh never has to fit in memory.

    Yields
    ------
    tuple[numpy.ndarray, numpy.ndarray]
        (rows, len(polars), len(times), 3) float32 positions in m of an ion starting at the
        origin with azimuth 0, and the (rows, len(polars)) int32 number of live samples of each
        trajectory (later samples hold its final position).
    """
    row_bytes = polars_rad.size * times.size * 3 * np.dtype(np.float32).itemsize
    rows = max(1, block_bytes // row_bytes)
    arguments = model.kernel_arguments()
    for first in range(0, energies.size, rows):
        block_energies = energies[first : first + rows]
        positions = np.empty((block_energies.size, polars_rad.size, times.size, 3), np.float32)
        lengths = np.empty((block_energies.size, polars_rad.size), np.int32)
        _fill_mesh(block_energies, polars_rad, times, positions, lengths, *arguments)
        if not np.all(np.isfinite(positions)):
            raise FloatingPointError("a mesh trajectory has non-finite positions")
        yield positions, lengths


def energy_grid(ke_min: float, ke_max: float, ke_bins: int) -> np.ndarray:
    """Kinetic-energy nodes, MeV (both ends included)."""
    return np.linspace(ke_min, ke_max, ke_bins)


def polar_grid_rad(polar_min_deg: float, polar_max_deg: float, polar_bins: int) -> np.ndarray:
    """Polar-angle nodes in rad from a range in degrees (both ends included)."""
    return np.linspace(math.radians(polar_min_deg), math.radians(polar_max_deg), polar_bins)
