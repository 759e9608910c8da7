"""From GET peaks to the 8-column point cloud (spyral.md 3.5-3.6).

Columns: x (mm), y (mm), z (mm after calibration), amplitude (ADC), integral (ADC x TB), pad,
time (TB: centroid + pad time offset), pad scale.
"""

from __future__ import annotations

import numpy as np

from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud.pads import PadMap
from spyralflow.phases.pointcloud.peaks import Peaks

MAX_PEAKS_PER_TRACE = 5
"""Traces with more peaks than this are noise or pile-up and make no points (Spyral's rule)."""
CENTROID_JITTER_TB = 1.0e-3
"""Width of the uniform centroid jitter in time buckets; it breaks ties in z (Spyral's value)."""
X, Y, Z, AMPLITUDE, INTEGRAL, PAD, TIME, SCALE = range(8)


def assemble_cloud(
    pads: np.ndarray, peaks: Peaks, uniforms: np.ndarray, pad_map: PadMap, threshold: float
) -> np.ndarray:
    """The uncalibrated cloud of one event (column z holds the time, in TB).

    A peak makes a point if its amplitude is above ``threshold``, its trace has 1 to 5 such
    peaks, and its pad is known and not a beam pad. Points keep the trace order.

    Parameters
    ----------
    pads : numpy.ndarray
        Pad number of each trace (-1 for none).
    peaks : Peaks
        Every peak found, before the amplitude cut.
    uniforms : numpy.ndarray
        One U[0, 1) number per peak (before the cut); the centroid is position + U / 1000.
    pad_map : PadMap
        Pad positions, sizes, time offsets and beam pads.
    threshold : float
        The amplitude cut (ADC), strict.
    """
    above = peaks.amplitude > threshold
    per_trace = np.bincount(peaks.trace[above], minlength=len(pads))
    trace_ok = (per_trace <= MAX_PEAKS_PER_TRACE) & pad_map.point_pads(pads)
    selected = above & trace_ok[peaks.trace]
    pad = pads[peaks.trace[selected]].astype(np.int64)
    # The same operations, in the same order, as Spyral's float(p) + U / 1000 + offset.
    time = peaks.position[selected] + uniforms[selected] / 1000.0 + pad_map.time_offset[pad]
    cloud = np.empty((len(pad), 8), dtype=np.float64)
    cloud[:, X] = pad_map.x_mm[pad]
    cloud[:, Y] = pad_map.y_mm[pad]
    cloud[:, Z] = time
    cloud[:, AMPLITUDE] = peaks.amplitude[selected]
    cloud[:, INTEGRAL] = peaks.integral[selected]
    cloud[:, PAD] = pad
    cloud[:, TIME] = time
    cloud[:, SCALE] = pad_map.scale[pad]
    return cloud


def calibrate_z(cloud: np.ndarray, detector: DetectorParameters) -> None:
    """Set column z (mm) from column time: z = (t_window - t) / (t_window - t_micromegas) * L.

    z = 0 at the window, z = L at the micromegas. Modifies ``cloud`` in place.
    """
    window = detector.window_time_bucket
    micromegas = detector.micromegas_time_bucket
    cloud[:, Z] = (window - cloud[:, TIME]) / (window - micromegas) * detector.detector_length


def finish_cloud(cloud: np.ndarray) -> np.ndarray:
    """Drop points with any NaN (from the drift correction), then sort by z (stable)."""
    finite = ~np.isnan(cloud).any(axis=1)
    if not finite.all():
        cloud = cloud[finite]
    return cloud[np.argsort(cloud[:, Z], kind="stable")]
