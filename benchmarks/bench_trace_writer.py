"""Events per second of the simulated-trace writer against attpc_engine's detector simulation.

The trace writer (GET pulses, baseline, noise, hardware ids, HDF5 in the merger layout) must not
be the bottleneck of ``spyralflow simulate``; its baseline is the engine's own detector
simulation, measured here on the same events. Both are timed after a warm-up event (numba JIT).

Usage::

    python benchmarks/bench_trace_writer.py [--events 200] [--particles 2 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from spyralflow.framework.provenance import Provenance
from spyralflow.simulation import engine
from spyralflow.simulation.settings import MERGER_1_0, MERGER_2_0, SimulationSettings
from spyralflow.simulation.traces import TraceSynthesizer, simulated_trace_file


def _best_rate(n_events: int, repeat: int, work) -> float:
    """Events per second of ``work()`` over ``n_events`` events, best of ``repeat``."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return n_events / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument(
        "--particles", type=int, nargs="+", default=None, help="kinematics rows (default: all)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="trace-writer repetitions")
    arguments = parser.parse_args()

    settings = SimulationSettings(events_per_run=arguments.events, particles=arguments.particles)
    gas = engine.build_gas(settings)
    pipeline = engine.build_kinematics_pipeline(settings, gas)
    config = engine.build_detector_config(settings, gas)
    kinematics = engine.sample_kinematics(pipeline, arguments.events + 1, np.random.default_rng(1))
    particles = list(settings.particles or engine.default_particles(len(kinematics.proton_numbers)))
    rng = np.random.default_rng(2)
    engine.simulate_event(kinematics, arguments.events, config, rng, particles)  # JIT warm-up

    start = time.perf_counter()
    events = [
        engine.simulate_event(kinematics, event, config, rng, particles)
        for event in range(arguments.events)
    ]
    engine_rate = arguments.events / (time.perf_counter() - start)
    n_points = sum(len(event.points) for event in events)

    synthesizer = TraceSynthesizer.from_settings(settings, np.random.default_rng(3))
    synthesizer.event_matrix(events[0].points)  # JIT warm-up
    matrices: list[np.ndarray] = []

    def synthesize() -> None:
        matrices[:] = [synthesizer.event_matrix(event.points) for event in events]

    synthesis_rate = _best_rate(arguments.events, arguments.repeat, synthesize)
    n_traces = sum(len(matrix) for matrix in matrices)

    print(f"events: {arguments.events}, particles {particles}, settings: defaults")
    print(f"engine points/event: {n_points / arguments.events:.0f}")
    print(f"traces/event written: {n_traces / arguments.events:.1f}")
    print(f"engine detector simulation: {engine_rate:10.1f} events/s (baseline)")
    print(
        f"trace synthesis only:       {synthesis_rate:10.1f} events/s "
        f"({synthesis_rate / engine_rate:.1f}x the engine)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for trace_format in (MERGER_1_0, MERGER_2_0):
            path = Path(folder) / f"{trace_format.replace(':', '_')}.h5"

            def write(path: Path = path, trace_format: str = trace_format) -> None:
                provenance = Provenance(phase="benchmark")
                with simulated_trace_file(
                    path, trace_format, provenance, arguments.events
                ) as traces:
                    for event, detected in enumerate(events):
                        traces.write_event(event, synthesizer.event_matrix(detected.points))

            rate = _best_rate(arguments.events, arguments.repeat, write)
            size_mb = path.stat().st_size / 1e6
            print(
                f"trace writer ({trace_format}): {rate:10.1f} events/s "
                f"({rate / engine_rate:.1f}x the engine), {size_mb:.1f} MB"
            )


if __name__ == "__main__":
    main()
