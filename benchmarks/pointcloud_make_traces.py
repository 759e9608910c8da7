"""A synthetic raw trace file of realistic size for the Pointcloud benchmark.

Each event holds one or two charged-particle tracks (a helix in the 2.85 T field, drawn from a
vertex near the beam axis) and a beam track along the axis (on the beam pads, which make no
points). Every pad a track crosses gets a GET-shaped pulse at the drift time of the crossing;
every other trace is baseline and noise, as zero-suppressed GET data with partial readout looks.
A few FPN-like channels carry pad -1. Every event also has FRIB (SIS3300) traces with an IC
pulse, and every tenth event (5, 15, ...) is an IC-downscale trigger; the last event is an ordinary
one, so the file shows that Spyral skips it. The file has scaler events too.

Usage: python benchmarks/pointcloud_make_traces.py OUTPUT.h5 --events 200 --traces 2000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from spyralflow.io.traces import TraceFileWriter, TraceLayout
from spyralflow.io.traces.layout import FRIB_SAMPLES, GET_SAMPLES
from spyralflow.phases.pointcloud.pads import PadMap
from spyralflow.phases.pointcloud.parameters import PadParameters

WINDOW_TB = 560.0
MICROMEGAS_TB = 10.0
LENGTH_MM = 1000.0
SHAPING_TB = 6.25
NOISE_ADC = 4.0


def pulse_shape(n_samples: int = 80) -> np.ndarray:
    """The GET response shape exp(-3 s) s^3 sin(s), s = t / shaping, peak normalised to 1."""
    s = np.arange(n_samples) / SHAPING_TB
    shape = np.exp(-3.0 * s) * s**3 * np.sin(s)
    shape[s > np.pi] = 0.0
    return shape / shape.max()


class EventMaker:
    """Random AT-TPC-like events on the real pad plane."""

    def __init__(self, rng: np.random.Generator, n_traces: int) -> None:
        self.rng = rng
        self.n_traces = n_traces
        self.pads = PadMap.from_parameters(PadParameters())
        self.tree = cKDTree(np.column_stack([self.pads.x_mm, self.pads.y_mm]))
        self.shape = pulse_shape()

    def _track_hits(self) -> dict[int, list[tuple[float, float]]]:
        """Pad -> [(time bucket, amplitude)] for one helix."""
        rng = self.rng
        radius = rng.uniform(40.0, 250.0)
        phase = rng.uniform(0, 2 * np.pi)
        polar = rng.uniform(0.3, 1.3)
        vertex_z = rng.uniform(100.0, 900.0)
        direction = rng.choice([-1.0, 1.0])
        turns = rng.uniform(0.3, 1.2)
        angle = np.linspace(0.0, 2 * np.pi * turns, 4000)
        x = radius * (np.cos(phase + angle) - np.cos(phase))
        y = radius * (np.sin(phase + angle) - np.sin(phase))
        z = vertex_z + direction * radius * angle / np.tan(polar)
        inside = (z > 0) & (z < LENGTH_MM) & (np.hypot(x, y) < 270.0)
        stop = np.argmin(inside) if not inside.all() else len(inside)
        x, y, z = x[:stop], y[:stop], z[:stop]
        hits: dict[int, list[tuple[float, float]]] = {}
        if len(x) == 0:
            return hits
        _, pad = self.tree.query(np.column_stack([x, y]))
        time = WINDOW_TB - z / LENGTH_MM * (WINDOW_TB - MICROMEGAS_TB)
        amplitude = rng.uniform(100.0, 1500.0)
        for pad_id in np.unique(pad):
            times = time[pad == pad_id]
            hits.setdefault(int(pad_id), []).append(
                (float(times.mean()), amplitude * rng.uniform(0.5, 1.5))
            )
        return hits

    def event(self) -> np.ndarray:
        """One GET matrix (n_traces, 517), int16."""
        rng = self.rng
        hits: dict[int, list[tuple[float, float]]] = {}
        for _ in range(rng.integers(1, 3)):
            for pad, pulses in self._track_hits().items():
                hits.setdefault(pad, []).extend(pulses)
        hit_pads = list(hits)[: self.n_traces - 8]
        others = rng.choice(self.pads.pad_count, size=self.n_traces - 8 - len(hit_pads))
        pads = np.concatenate([hit_pads, others, np.full(8, -1)]).astype(np.int64)
        samples = rng.normal(0.0, NOISE_ADC, (self.n_traces, GET_SAMPLES))
        samples += rng.uniform(250.0, 400.0, (self.n_traces, 1))
        for row, pad in enumerate(hit_pads):
            for drift_time, amplitude in hits[pad]:
                start = int(drift_time)
                length = min(len(self.shape), GET_SAMPLES - start)
                if 0 <= start < GET_SAMPLES:
                    samples[row, start : start + length] += amplitude * self.shape[:length]
        matrix = np.zeros((self.n_traces, 517), dtype=np.int16)
        matrix[:, 0] = rng.integers(0, 10, self.n_traces)
        matrix[:, 4] = pads
        matrix[:, 5:] = np.clip(np.round(samples), 0, 4095)
        return matrix

    def frib(self) -> np.ndarray:
        """SIS3300 traces (2048, 8) with an IC pulse after the delay."""
        rng = self.rng
        traces = rng.normal(300.0, 3.0, (FRIB_SAMPLES, 8))
        start = int(rng.uniform(1150, 1500))
        shape = pulse_shape(200)
        traces[start : start + 200, 0] += rng.uniform(500, 3000) * shape
        return np.clip(np.round(traces), 0, 65535)


def make_trace_file(path: Path, events: int, traces: int, seed: int = 7) -> Path:
    """Write ``events`` synthetic events of ``traces`` traces each to ``path`` (merger 1.0)."""
    maker = EventMaker(np.random.default_rng(seed), traces)
    with TraceFileWriter(path, TraceLayout.MERGER_1_0) as writer:
        for event in range(events):
            trigger = 2 if event % 10 == 5 and event != events - 1 else 1
            writer.write_event(event, maker.event(), maker.frib(), trigger)
        for _ in range(max(3, events // 50)):
            writer.write_scaler(np.arange(11) + 100)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    started = time.perf_counter()
    make_trace_file(arguments.output, arguments.events, arguments.traces, arguments.seed)
    size_mb = arguments.output.stat().st_size / 1e6
    print(f"wrote {arguments.output}: {size_mb:.0f} MB in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
