"""Peak finding: ``scipy.signal.find_peaks`` (distance, prominence, width) for many traces at once.

The numba kernel follows scipy's algorithm step by step (local maxima with plateau midpoints,
selection by distance in decreasing height, prominence with unbounded window, width at
``rel_height`` of the prominence) and returns the same peaks, interpolated edges and all.

Shortcuts keep it fast on noisy traces without changing the result. A maximum whose height above
the trace minimum, or above the lowest sample on its left before a higher one, is below the
prominence limit cannot be prominent, so its bases are not searched further. And only maxima at
least as high as the lowest prominent one can decide which prominent maxima survive the distance
step (lower ones are visited later and cannot remove higher ones), so only those are sorted.

One thing numba cannot reproduce: the order scipy gives to maxima of *equal* height in the
distance step. It comes from ``numpy.argsort`` (not stable; on AVX-512 machines a SIMD sort with
its own order for ties). A prominent maximum can only be removed through a chain of maxima at
least as high as itself, each closer than the distance to the next; when two equal maxima closer
than the distance sit in such a chain, the first kernel sets the trace aside with its maxima
heights, numpy sorts them exactly as scipy would, and the second kernel finishes the trace with
that order. So the peaks equal scipy's on every trace, on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np


@dataclass(frozen=True)
class PeakSearch:
    """Arguments of one ``find_peaks`` configuration.

    Parameters
    ----------
    distance : float
        Smallest peak separation in samples (>= 1).
    min_prominence : float
        Smallest prominence (ADC).
    min_width, max_width : float
        Accepted width range in samples, both included.
    rel_height : float
        Relative height at which widths and edges are measured.
    """

    distance: float
    min_prominence: float
    min_width: float
    max_width: float
    rel_height: float


@dataclass(frozen=True)
class Peaks:
    """Peaks of a set of traces, in trace order, then position order.

    Parameters
    ----------
    trace : numpy.ndarray
        Index of the trace each peak belongs to (int64).
    position : numpy.ndarray
        Sample index of the peak (int64).
    amplitude : numpy.ndarray
        Trace value at the peak (float64).
    integral : numpy.ndarray
        Sum of absolute trace values over [floor(left edge), ceil(right edge)) (float64).
    """

    trace: np.ndarray
    position: np.ndarray
    amplitude: np.ndarray
    integral: np.ndarray

    def __len__(self) -> int:
        return len(self.trace)


@numba.njit(cache=True)
def local_maxima(x: np.ndarray, midpoints: np.ndarray) -> int:
    """scipy's ``_local_maxima_1d``: plateau midpoints into ``midpoints``; returns the count."""
    count = 0
    i = 1
    i_max = x.shape[0] - 1
    while i < i_max:
        if x[i - 1] < x[i]:
            i_ahead = i + 1
            while i_ahead < i_max and x[i_ahead] == x[i]:
                i_ahead += 1
            if x[i_ahead] < x[i]:
                midpoints[count] = (i + i_ahead - 1) // 2
                count += 1
                i = i_ahead
        i += 1
    return count


@numba.njit(cache=True)
def peak_prominence(x: np.ndarray, peak: int, min_prominence: float) -> tuple[float, int, int]:
    """scipy's ``_peak_prominences`` for one peak, no window: (prominence, left, right base).

    If the left side alone shows that the prominence is below ``min_prominence``, the right side
    is not searched and the prominence returned is -inf.
    """
    height = x[peak]
    i = peak
    left_base = peak
    left_min = height
    while i >= 0 and x[i] <= height:
        if x[i] < left_min:
            left_min = x[i]
            left_base = i
        i -= 1
    if height - left_min < min_prominence:
        return -np.inf, left_base, peak
    i = peak
    right_base = peak
    right_min = height
    last = x.shape[0] - 1
    while i <= last and x[i] <= height:
        if x[i] < right_min:
            right_min = x[i]
            right_base = i
        i += 1
    return height - max(left_min, right_min), left_base, right_base


@numba.njit(cache=True)
def peak_width(
    x: np.ndarray, peak: int, prominence: float, left_base: int, right_base: int, rel_height: float
) -> tuple[float, float, float]:
    """scipy's ``_peak_widths`` for one peak: (width, left edge, right edge), edges interpolated."""
    height = x[peak] - prominence * rel_height
    i = peak
    while left_base < i and height < x[i]:
        i -= 1
    left = float(i)
    if x[i] < height:
        left += (height - x[i]) / (x[i + 1] - x[i])
    i = peak
    while i < right_base and height < x[i]:
        i += 1
    right = float(i)
    if x[i] < height:
        right -= (height - x[i]) / (x[i - 1] - x[i])
    return right - left, left, right


@numba.njit(cache=True)
def _grow(array: np.ndarray) -> np.ndarray:
    grown = np.empty(2 * array.shape[0], dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown


@numba.njit(cache=True)
def _describe_maxima(
    x: np.ndarray,
    min_prominence: float,
    maxima: np.ndarray,
    heights: np.ndarray,
    prominences: np.ndarray,
    left_bases: np.ndarray,
    right_bases: np.ndarray,
) -> int:
    """Local maxima of ``x`` with heights, prominences and bases; returns their count.

    Maxima that cannot reach ``min_prominence`` get prominence -inf (their bases are not used).
    """
    n_maxima = local_maxima(x, maxima)
    lowest = np.inf
    for i in range(x.shape[0]):
        lowest = min(lowest, x[i])
    for k in range(n_maxima):
        heights[k] = x[maxima[k]]
        if heights[k] - lowest < min_prominence:
            prominences[k] = -np.inf
        else:
            prominences[k], left_bases[k], right_bases[k] = peak_prominence(
                x, maxima[k], min_prominence
            )
    return n_maxima


@numba.njit(cache=True)
def _select_by_distance(
    positions: np.ndarray, count: int, order: np.ndarray, reach: int, keep: np.ndarray
) -> None:
    """scipy's ``_select_by_peak_distance``: ``keep[i]`` for ``positions[:count]``."""
    keep[:count] = True
    for i in range(count - 1, -1, -1):
        j = order[i]
        if not keep[j]:
            continue
        k = j - 1
        while k >= 0 and positions[j] - positions[k] < reach:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < count and positions[k] - positions[j] < reach:
            keep[k] = False
            k += 1


@numba.njit(cache=True)
def _order_matters(
    positions: np.ndarray,
    heights: np.ndarray,
    prominent: np.ndarray,
    count: int,
    reach: int,
) -> bool:
    """True if the order of equal maxima can change which prominent maxima survive.

    A prominent maximum p can only be removed by maxima at least as high, and only through a
    chain of such maxima, each closer than ``reach`` to the next. Within that group the outcome
    depends on the order of ties only if two equal maxima of the group are closer than ``reach``.
    ``positions``, ``heights`` and ``prominent`` describe ``count`` maxima in position order.
    """
    for p in range(count):
        if not prominent[p]:
            continue
        floor = heights[p]
        first = p
        edge = p
        for k in range(p - 1, -1, -1):
            if heights[k] >= floor:
                if positions[edge] - positions[k] >= reach:
                    break
                first = k
                edge = k
        last = p
        edge = p
        for k in range(p + 1, count):
            if heights[k] >= floor:
                if positions[k] - positions[edge] >= reach:
                    break
                last = k
                edge = k
        for a in range(first, last + 1):
            if heights[a] < floor:
                continue
            b = a + 1
            while b <= last and positions[b] - positions[a] < reach:
                if heights[b] == heights[a]:
                    return True
                b += 1
    return False


@numba.njit(cache=True, nogil=True)
def find_peaks_kernel(
    traces: np.ndarray,
    rows: np.ndarray,
    given_orders: np.ndarray,
    given_offsets: np.ndarray,
    distance: float,
    min_prominence: float,
    min_width: float,
    max_width: float,
    rel_height: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Peaks of the traces ``rows``; see the module docstring.

    When ``given_offsets`` is empty, the kernel orders maxima itself and sets aside the traces
    whose result depends on the order of equal maxima. Otherwise ``given_orders[given_offsets[i]:
    given_offsets[i + 1]]`` is the argsort of all maxima heights of ``rows[i]``.

    Returns
    -------
    tuple
        (trace index, position, amplitude, integral) per peak; then the rows set aside, and the
        concatenated maxima heights of those rows with their offsets.
    """
    n_samples = traces.shape[1]
    capacity = max(64, rows.shape[0])
    out_trace = np.empty(capacity, dtype=np.int64)
    out_position = np.empty(capacity, dtype=np.int64)
    out_amplitude = np.empty(capacity, dtype=np.float64)
    out_integral = np.empty(capacity, dtype=np.float64)
    set_aside = np.empty(rows.shape[0], dtype=np.int64)
    aside_heights = np.empty(capacity, dtype=np.float64)
    aside_offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    size = n_samples // 2 + 1
    maxima = np.empty(size, dtype=np.int64)
    heights = np.empty(size, dtype=np.float64)
    prominences = np.empty(size, dtype=np.float64)
    left_bases = np.empty(size, dtype=np.int64)
    right_bases = np.empty(size, dtype=np.int64)
    chosen = np.empty(size, dtype=np.int64)
    chosen_positions = np.empty(size, dtype=np.int64)
    chosen_heights = np.empty(size, dtype=np.float64)
    chosen_prominent = np.empty(size, dtype=np.bool_)
    keep = np.empty(size, dtype=np.bool_)
    reach = math.ceil(distance)
    ordered_by_caller = given_offsets.shape[0] > 0
    count = 0
    n_aside = 0
    for index in range(rows.shape[0]):
        row = rows[index]
        x = traces[row]
        n_maxima = _describe_maxima(
            x, min_prominence, maxima, heights, prominences, left_bases, right_bases
        )
        if ordered_by_caller:
            n_chosen = n_maxima
            for k in range(n_maxima):
                chosen[k] = k
                chosen_positions[k] = maxima[k]
            order = given_orders[given_offsets[index] : given_offsets[index + 1]]
        else:
            floor_height = np.inf
            for k in range(n_maxima):
                if prominences[k] >= min_prominence:
                    floor_height = min(floor_height, heights[k])
            if floor_height == np.inf:
                continue
            n_chosen = 0
            for k in range(n_maxima):
                if heights[k] >= floor_height:
                    chosen[n_chosen] = k
                    chosen_positions[n_chosen] = maxima[k]
                    chosen_heights[n_chosen] = heights[k]
                    chosen_prominent[n_chosen] = prominences[k] >= min_prominence
                    n_chosen += 1
            if _order_matters(chosen_positions, chosen_heights, chosen_prominent, n_chosen, reach):
                start = aside_offsets[n_aside]
                while start + n_maxima > aside_heights.shape[0]:
                    aside_heights = _grow(aside_heights)
                aside_heights[start : start + n_maxima] = heights[:n_maxima]
                set_aside[n_aside] = row
                aside_offsets[n_aside + 1] = start + n_maxima
                n_aside += 1
                continue
            order = np.argsort(chosen_heights[:n_chosen])
        _select_by_distance(chosen_positions, n_chosen, order, reach, keep)
        for c in range(n_chosen):
            k = chosen[c]
            if not keep[c] or not prominences[k] >= min_prominence:
                continue
            width, left, right = peak_width(
                x, maxima[k], prominences[k], left_bases[k], right_bases[k], rel_height
            )
            if not (min_width <= width and width <= max_width):
                continue
            if count == out_trace.shape[0]:
                out_trace = _grow(out_trace)
                out_position = _grow(out_position)
                out_amplitude = _grow(out_amplitude)
                out_integral = _grow(out_integral)
            integral = 0.0
            for i in range(math.floor(left), math.ceil(right)):
                integral += abs(x[i])
            out_trace[count] = row
            out_position[count] = maxima[k]
            out_amplitude[count] = x[maxima[k]]
            out_integral[count] = integral
            count += 1
    return (
        out_trace[:count],
        out_position[:count],
        out_amplitude[:count],
        out_integral[:count],
        set_aside[:n_aside],
        aside_heights[: aside_offsets[n_aside]],
        aside_offsets[: n_aside + 1],
    )


_NO_ORDERS = np.zeros(0, dtype=np.int64)


def find_peaks(traces: np.ndarray, active: np.ndarray, search: PeakSearch) -> Peaks:
    """The peaks ``scipy.signal.find_peaks`` reports for each active trace.

    Parameters
    ----------
    traces : numpy.ndarray
        (n_traces, n_samples) float64, C-contiguous.
    active : numpy.ndarray
        (n_traces,) bool; inactive traces get no peaks.
    search : PeakSearch
        The ``find_peaks`` arguments.
    """
    arguments = (
        float(search.distance),
        float(search.min_prominence),
        float(search.min_width),
        float(search.max_width),
        float(search.rel_height),
    )
    rows = np.flatnonzero(active).astype(np.int64)
    *found, aside, heights, offsets = find_peaks_kernel(
        traces, rows, _NO_ORDERS, _NO_ORDERS, *arguments
    )
    if len(aside) == 0:
        return Peaks(*found)
    # numpy's argsort, called exactly as scipy calls it, decides the order of equal maxima.
    orders = np.concatenate(
        [np.argsort(heights[offsets[i] : offsets[i + 1]]) for i in range(len(aside))]
    ).astype(np.int64)
    *more, _, _, _ = find_peaks_kernel(traces, aside, orders, offsets, *arguments)
    trace = np.concatenate([found[0], more[0]])
    order = np.argsort(trace, kind="stable")
    return Peaks(*(np.concatenate([a, b])[order] for a, b in zip(found, more, strict=True)))
