"""Helpers of the Pointcloud tests: small GET and FRIB events with pulses where we put them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from spyralflow.io.traces import TraceFileWriter, TraceLayout
from spyralflow.io.traces.layout import FRIB_SAMPLES, GET_SAMPLES

BASELINE_ADC = 300
PULSE_SIGMA_TB = 2.5
REPOSITORY = Path(__file__).resolve().parents[2]
SPYRAL_DRIVER = REPOSITORY / "benchmarks" / "pointcloud_spyral_driver.py"


def pulse(length: int, peak: int, amplitude: float, sigma: float = PULSE_SIGMA_TB) -> np.ndarray:
    """A Gaussian pulse of ``amplitude`` ADC whose largest sample is at ``peak``."""
    samples = np.arange(length)
    return amplitude * np.exp(-0.5 * ((samples - peak) / sigma) ** 2)


def get_matrix(
    pulses: dict[int, list[tuple[int, float]]],
    quiet_pads: tuple[int, ...] = (),
    fpn_channels: int = 0,
    noise_adc: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A GET matrix (n, 517): one trace per pad of ``pulses`` ({pad: [(peak TB, ADC), ...]}),
    one flat trace per pad of ``quiet_pads``, and ``fpn_channels`` traces with pad -1."""
    pads = [*pulses, *quiet_pads, *([-1] * fpn_channels)]
    samples = np.full((len(pads), GET_SAMPLES), float(BASELINE_ADC))
    for row, pad in enumerate(pulses):
        for peak, amplitude in pulses[pad]:
            samples[row] += pulse(GET_SAMPLES, peak, amplitude)
    if noise_adc > 0:
        samples += (rng or np.random.default_rng(0)).normal(0.0, noise_adc, samples.shape)
    matrix = np.zeros((len(pads), 517), dtype=np.int16)
    matrix[:, 0] = np.arange(len(pads)) % 10  # CoBo
    matrix[:, 3] = np.arange(len(pads)) % 64  # AGET channel
    matrix[:, 4] = pads
    matrix[:, 5:] = np.round(samples)
    return matrix


def frib_traces(ic_peaks: list[tuple[int, float]], sigma: float = 6.0) -> np.ndarray:
    """SIS3300 traces (2048, 8): the ion chamber (channel 0) with pulses at ``ic_peaks``."""
    traces = np.full((FRIB_SAMPLES, 8), float(BASELINE_ADC))
    for peak, amplitude in ic_peaks:
        traces[:, 0] += pulse(FRIB_SAMPLES, peak, amplitude, sigma)
    return np.round(traces)


def write_trace_file(
    path: Path,
    layout: TraceLayout,
    events: dict[int, dict],
    scalers: int = 0,
    **writer_options,
) -> Path:
    """Write ``events`` ({event: write_event keyword arguments}) and ``scalers`` scaler events."""
    with TraceFileWriter(path, layout, **writer_options) as writer:
        for event, content in events.items():
            writer.write_event(event, **content)
        for index in range(scalers):
            writer.write_scaler(np.arange(11) + 100 * index)
    return path


def spyral_python() -> str | None:
    """The Python of the attpc_spyral environment, if it exists (``SPYRAL_PYTHON`` overrides)."""
    candidate = os.environ.get("SPYRAL_PYTHON", sys.executable)
    return candidate if Path(candidate).is_file() and os.access(candidate, os.X_OK) else None
