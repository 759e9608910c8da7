"""The engine's own point clouds, as attpc_engine's ``SpyralWriter`` makes them.

One point per (pad, time bucket) the engine hit, in Spyral's Pointcloud layout (N x 8: x, y, z in
mm, amplitude, integral, pad, time bucket, pad scale), with the engine's response-function
amplitude and integral, the engine's ADC threshold, sorted by z. The conversion itself is the
engine's (``attpc_engine.detector.writer.convert_to_spyral``); only the file writing is ours.
Unlike the engine's writer, every event gets a dataset, an empty (0, 8) one when nothing was
detected, as the Pointcloud phase does for an event without peaks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from attpc_engine.detector import Config

IC_PLACEHOLDER = -1.0


class EngineCloudBuilder:
    """Turns the engine's detector points into Spyral point clouds.

    Parameters
    ----------
    config : attpc_engine.detector.Config
        The detector configuration the points were simulated with.
    """

    def __init__(self, config: Config) -> None:
        from attpc_engine.detector.response import get_response

        self.config = config
        self.response = get_response(config).copy()

    def build(self, points: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (N, 8) cloud and its labels for one event's (N, 3) engine points.

        Points at or below the ADC threshold are dropped; the rest are sorted by z.
        """
        from attpc_engine.detector.writer import convert_to_spyral

        electronics = self.config.elec_params
        if len(points) == 0:
            return np.empty((0, 8)), np.empty(0, dtype=np.int64)
        cloud = convert_to_spyral(
            points,
            electronics.windows_edge,
            electronics.micromegas_edge,
            self.config.det_params.length,
            self.response,
            self.config.pad_centers,
            self.config.pad_sizes,
        )
        keep = cloud[:, 3] > electronics.adc_threshold
        cloud = cloud[keep]
        labels = np.asarray(labels, dtype=np.int64)[keep]
        # A stable sort keeps equal-z points in engine order, so files are reproducible.
        order = np.argsort(cloud[:, 2], kind="stable")
        return cloud[order], labels[order]


def cloud_attributes(run: int, event: int) -> dict[str, float | int]:
    """The dataset attributes of a simulated cloud: no ion chamber, so ic_* are -1."""
    return {
        "orig_run": run,
        "orig_event": event,
        "ic_amplitude": IC_PLACEHOLDER,
        "ic_integral": IC_PLACEHOLDER,
        "ic_centroid": IC_PLACEHOLDER,
        "ic_multiplicity": IC_PLACEHOLDER,
    }
