"""The ion-chamber (IC) signal of an event, from the FRIBDAQ SIS3300 traces (spyral.md 3.3-3.4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyralflow.io.traces.layout import FRIB_IC_CHANNEL
from spyralflow.phases.pointcloud.baseline import remove_baseline
from spyralflow.phases.pointcloud.parameters import FribParameters
from spyralflow.phases.pointcloud.peaks import PeakSearch, find_peaks

FRIB_REL_HEIGHT = 0.85
"""Relative height at which FRIB peak widths and edges are measured (Spyral's value)."""
FRIB_MIN_WIDTH = 0.0


@dataclass(frozen=True)
class IonChamberSignal:
    """The triggering IC peak of a good-IC event.

    Parameters
    ----------
    amplitude : float
        Peak amplitude (ADC, baseline-subtracted).
    integral : int
        Sum of absolute samples over the peak (ADC x FRIB time bucket).
    centroid : int
        Peak position in FRIB time buckets (12.5 MHz).
    multiplicity : int
        Number of IC peaks after ``ic_delay_time_bucket``.
    """

    amplitude: float
    integral: int
    centroid: int
    multiplicity: int


def frib_peak_search(parameters: FribParameters) -> PeakSearch:
    """The ``find_peaks`` arguments Spyral uses for FRIB traces."""
    return PeakSearch(
        distance=parameters.peak_separation,
        min_prominence=parameters.peak_prominence,
        min_width=FRIB_MIN_WIDTH,
        max_width=parameters.peak_max_width,
        rel_height=FRIB_REL_HEIGHT,
    )


def ion_chamber_signal(
    frib_traces: np.ndarray | None, parameters: FribParameters
) -> IonChamberSignal | None:
    """The triggering IC peak if the event is good-IC, else None.

    The triggering peak is the first IC peak after ``ic_delay_time_bucket`` (strictly later);
    the multiplicity counts those peaks. An event is good-IC when
    ``0 < multiplicity <= ic_multiplicity``. Peaks must be above ``peak_threshold`` (strictly).

    Parameters
    ----------
    frib_traces : numpy.ndarray or None
        The SIS3300 traces (2048 samples, channels); None gives None.
    parameters : FribParameters
        FRIB signal analysis and IC gate settings.
    """
    if frib_traces is None:
        return None
    samples = np.ascontiguousarray(frib_traces[:, FRIB_IC_CHANNEL])[np.newaxis, :]
    trace = remove_baseline(samples, parameters.baseline_window_scale)
    peaks = find_peaks(trace, np.ones(1, dtype=bool), frib_peak_search(parameters))
    kept = peaks.amplitude > parameters.peak_threshold
    late = kept & (peaks.position > parameters.ic_delay_time_bucket)
    multiplicity = int(np.count_nonzero(late))
    if not 0 < multiplicity <= parameters.ic_multiplicity:
        return None
    first = int(np.flatnonzero(late)[0])
    return IonChamberSignal(
        amplitude=float(peaks.amplitude[first]),
        integral=int(peaks.integral[first]),
        centroid=int(peaks.position[first]),
        multiplicity=multiplicity,
    )
