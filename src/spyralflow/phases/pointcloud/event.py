"""Turn one raw event into its point cloud and IC attributes."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from spyralflow.io.traces import RawEvent, TriggerType
from spyralflow.io.traces.layout import GET_CHANNEL_COLUMNS, GET_PAD_COLUMN, INVALID_PAD
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud.baseline import BaselineBuffers, remove_baseline
from spyralflow.phases.pointcloud.cloud import assemble_cloud, calibrate_z, finish_cloud
from spyralflow.phases.pointcloud.garfield import DriftCorrection
from spyralflow.phases.pointcloud.ion_chamber import IonChamberSignal, ion_chamber_signal
from spyralflow.phases.pointcloud.pads import PadMap
from spyralflow.phases.pointcloud.parameters import FribParameters, GetParameters
from spyralflow.phases.pointcloud.peaks import Peaks, PeakSearch, find_peaks

GET_REL_HEIGHT = 0.95
"""Relative height at which GET peak widths and edges are measured (Spyral's value)."""
GET_MIN_WIDTH = 1.0
TracePeaks = tuple[np.ndarray, Peaks]
"""The pad number of each trace of a GET matrix, and the peaks found on its traces."""
UNSET_IC_VALUE = -1.0
"""The value of every ``ic_*`` attribute of an event without a good IC signal."""


def get_peak_search(parameters: GetParameters) -> PeakSearch:
    """The ``find_peaks`` arguments Spyral uses for GET traces."""
    return PeakSearch(
        distance=parameters.peak_separation,
        min_prominence=parameters.peak_prominence,
        min_width=GET_MIN_WIDTH,
        max_width=parameters.peak_max_width,
        rel_height=GET_REL_HEIGHT,
    )


def cloud_attributes(event: RawEvent, signal: IonChamberSignal | None) -> dict[str, Any]:
    """A cloud dataset's attributes, with Spyral's dtypes (ic_* floats -1.0 when unset)."""
    attributes: dict[str, Any] = {
        "orig_run": np.int64(event.original_run),
        "orig_event": np.int64(event.original_event),
        "ic_amplitude": UNSET_IC_VALUE,
        "ic_integral": UNSET_IC_VALUE,
        "ic_centroid": UNSET_IC_VALUE,
        "ic_multiplicity": UNSET_IC_VALUE,
    }
    if signal is not None:
        attributes["ic_amplitude"] = np.float64(signal.amplitude)
        attributes["ic_integral"] = np.int64(signal.integral)
        attributes["ic_centroid"] = np.int64(signal.centroid)
        attributes["ic_multiplicity"] = np.int64(signal.multiplicity)
    return attributes


@dataclass
class EventProcessor:
    """The Pointcloud phase's work on one event.

    Parameters
    ----------
    get_params, frib_params : GetParameters, FribParameters
        Signal analysis settings.
    det_params : DetectorParameters
        Time-to-z calibration.
    pad_map : PadMap
        Pad positions, sizes, time offsets and beam pads.
    correction : DriftCorrection or None
        The Garfield correction, when enabled.
    """

    get_params: GetParameters
    frib_params: FribParameters
    det_params: DetectorParameters
    pad_map: PadMap
    correction: DriftCorrection | None = None

    def __post_init__(self) -> None:
        self._search = get_peak_search(self.get_params)
        self._per_thread = threading.local()

    def _buffers(self) -> BaselineBuffers:
        """This thread's baseline work arrays (events are searched in several threads)."""
        buffers = getattr(self._per_thread, "buffers", None)
        if buffers is None:
            buffers = self._per_thread.buffers = BaselineBuffers()
        return buffers

    def peaks(self, get_matrix: np.ndarray) -> TracePeaks:
        """Pad numbers of the traces, and every peak of the traces that have a pad.

        Pure and free of the GIL in its kernels, so several events can be searched at once.
        """
        pads = get_matrix[:, GET_PAD_COLUMN].astype(np.int64)
        traces = remove_baseline(
            get_matrix[:, GET_CHANNEL_COLUMNS:],
            self.get_params.baseline_window_scale,
            self._buffers(),
        )
        return pads, find_peaks(traces, pads != INVALID_PAD, self._search)

    def cloud(self, found: TracePeaks, rng: np.random.Generator) -> np.ndarray:
        """The calibrated (N, 8) cloud of a GET matrix's ``peaks``, sorted by z.

        ``rng`` gives one U[0, 1) number per peak found on a trace with a pad (before the
        amplitude cut), in trace order, as Spyral draws them.
        """
        pads, peaks = found
        uniforms = rng.random(len(peaks))
        cloud = assemble_cloud(pads, peaks, uniforms, self.pad_map, self.get_params.peak_threshold)
        calibrate_z(cloud, self.det_params)
        if self.correction is not None:
            self.correction.apply(cloud)
        return finish_cloud(cloud)

    def unknown_pad_traces(self, get_matrix: np.ndarray) -> int:
        """How many traces carry a pad id (not -1) that the pad map does not have."""
        pads = get_matrix[:, GET_PAD_COLUMN]
        return int(((pads != INVALID_PAD) & ((pads < 0) | (pads >= self.pad_map.pad_count))).sum())

    @staticmethod
    def draw_jitter(found: TracePeaks, rng: np.random.Generator) -> None:
        """Draw the jitter numbers of a GET matrix's ``peaks`` whose cloud is not wanted.

        Spyral finds peaks (and draws) on every GET matrix it reads, IC-downscale events and
        merger 2.0 silicon data included.
        """
        rng.random(len(found[1]))

    def ion_chamber(self, event: RawEvent) -> IonChamberSignal | None:
        """The event's good-IC triggering peak, or None."""
        return ion_chamber_signal(event.frib_traces, self.frib_params)

    @staticmethod
    def is_ic_downscale(event: RawEvent) -> bool:
        """True for IC-downscale triggers, which are counted but make no cloud."""
        return event.frib_trigger == TriggerType.IC_DOWNSCALE.value
