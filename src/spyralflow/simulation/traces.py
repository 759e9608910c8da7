"""The trace writer: engine points → GET matrices (pulses, baseline, noise, ids) → trace file.

Files go through the pipeline's shared ``spyralflow.io.traces.TraceFileWriter``. A simulation has
no FRIBDAQ data and no scalers, so those groups are absent. In the merger 2.0 layout the four
silicon matrices are written empty, under the names attpc_spyral 1.1.2 reads (``silicon_*``; the
merger itself writes ``si_*``, and our reader takes both), so Spyral can read simulated runs for
comparisons.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from spyralflow.framework.atomic import atomic_output
from spyralflow.framework.provenance import PROVENANCE_KEY, Provenance
from spyralflow.io.traces import TraceFileWriter, TraceLayout
from spyralflow.io.traces.layout import GET_ROW_LENGTH, SILICON_DETECTORS
from spyralflow.simulation.electronics import GetResponse, digitize, pad_signals
from spyralflow.simulation.hardware import NUMBER_OF_PADS, get_matrix
from spyralflow.simulation.settings import MERGER_1_0, SimulationSettings

SPYRAL_SILICON_PREFIX = "silicon_"


class TraceSynthesizer:
    """Turns one event's engine points into the raw GET matrix the merger would write.

    Only pads whose noiseless signal peak exceeds ``zero_suppression`` are read out (GET's
    zero suppression), so an event's matrix has one row per hit pad.

    Parameters
    ----------
    response : GetResponse
        The electronics response.
    baselines : numpy.ndarray
        (10240,) baseline of each pad in ADC channels.
    noise_sigma : float
        White noise per sample in ADC channels.
    zero_suppression : float
        Read-out threshold on the noiseless signal peak, in ADC channels.
    rng : numpy.random.Generator
        Source of the noise.
    time_offsets : numpy.ndarray, optional
        (10240,) per-pad time offsets in time buckets.
    """

    def __init__(
        self,
        response: GetResponse,
        baselines: np.ndarray,
        noise_sigma: float,
        zero_suppression: float,
        rng: np.random.Generator,
        time_offsets: np.ndarray | None = None,
    ) -> None:
        self.response = response
        self.baselines = np.asarray(baselines, dtype=np.float64)
        self.noise_sigma = float(noise_sigma)
        self.zero_suppression = float(zero_suppression)
        self.rng = rng
        self.time_offsets = time_offsets

    @classmethod
    def from_settings(
        cls,
        settings: SimulationSettings,
        rng: np.random.Generator,
        time_offsets: np.ndarray | None = None,
    ) -> TraceSynthesizer:
        """The synthesizer of the settings; the pad baselines are the first draws from ``rng``."""
        electronics = settings.electronics
        traces = settings.traces
        baselines = traces.baseline + traces.baseline_spread * rng.standard_normal(NUMBER_OF_PADS)
        return cls(
            GetResponse.from_electronics(
                electronics.amplifier_gain, electronics.shaping_time, electronics.get_frequency
            ),
            baselines,
            traces.noise_sigma,
            electronics.adc_threshold,
            rng,
            time_offsets,
        )

    def event_matrix(self, points: np.ndarray) -> np.ndarray:
        """The (n_pads, 517) int16 GET matrix of one event's (N, 3) engine points.

        The points are rows of [pad id, time bucket, electrons after gain].
        """
        pads, signal = pad_signals(points, self.response, self.time_offsets)
        read_out = signal.max(axis=1, initial=0.0) > self.zero_suppression
        pads, signal = pads[read_out], signal[read_out]
        samples = digitize(signal, self.baselines[pads], self.noise_sigma, self.rng)
        return get_matrix(pads, samples)


class SimulatedTraceFile:
    """An open simulated trace file; write one GET matrix per event.

    Parameters
    ----------
    writer : spyralflow.io.traces.TraceFileWriter
        The shared writer, open.
    with_silicon : bool
        Write the empty silicon matrices of the merger 2.0 layout.
    """

    def __init__(self, writer: TraceFileWriter, with_silicon: bool) -> None:
        self._writer = writer
        empty = np.empty((0, GET_ROW_LENGTH), dtype=np.int16)
        silicon = {detector: empty for detector in SILICON_DETECTORS}
        self._silicon = silicon if with_silicon else None

    def write_event(self, event: int, matrix: np.ndarray) -> None:
        """Write the (n, 517) int16 GET matrix of ``event``."""
        self._writer.write_event(event, get_pads=matrix, silicon=self._silicon)


@contextlib.contextmanager
def simulated_trace_file(
    path: Path, trace_format: str, provenance: Provenance, n_events: int
) -> Iterator[SimulatedTraceFile]:
    """Open a trace file of events 0 … n_events - 1; it appears at ``path``, with its provenance
    as the root attribute, only when the block succeeds.

    Parameters
    ----------
    path : Path
        The trace file.
    trace_format : str
        ``libattpc_merger:1.0`` or ``libattpc_merger:2.0``.
    provenance : Provenance
        Stored as the root attribute ``spyralflow_provenance``.
    n_events : int
        Number of events (the ``min_event``/``max_event`` range).
    """
    with atomic_output(path) as temporary:
        with TraceFileWriter(
            temporary,
            TraceLayout(trace_format),
            silicon_prefix=SPYRAL_SILICON_PREFIX,
            first_event=0,
            last_event=n_events - 1,
        ) as writer:
            yield SimulatedTraceFile(writer, with_silicon=trace_format != MERGER_1_0)
        with h5py.File(temporary, "r+") as handle:
            handle.attrs[PROVENANCE_KEY] = provenance.to_json()
