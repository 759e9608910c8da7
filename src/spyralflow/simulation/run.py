"""Simulate one run: kinematics, detector, traces, engine point clouds and truth.

Randomness: one ``SeedSequence`` from (global seed, "Simulation", run) with three children, for
the kinematics, the detector and the electronics (baselines and noise). Runs are independent, and
changing a trace setting leaves the kinematics and detector points unchanged. The same settings,
seed and run give byte-identical files.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spyralflow.framework.provenance import Provenance
from spyralflow.framework.seeding import stable_name_key
from spyralflow.io.pointcloud_file import PointcloudWriter
from spyralflow.phases.pointcloud.pads import PadMapError, read_pad_column
from spyralflow.simulation import engine
from spyralflow.simulation.engine_cloud import EngineCloudBuilder, cloud_attributes
from spyralflow.simulation.hardware import NUMBER_OF_PADS
from spyralflow.simulation.settings import SimulationSettings
from spyralflow.simulation.traces import TraceSynthesizer, simulated_trace_file
from spyralflow.simulation.truth import truth_table, write_kinematics_file, write_parquet

if TYPE_CHECKING:
    from attpc_engine.kinematics import KinematicsPipeline

log = logging.getLogger(__name__)

STEP_NAME = "Simulation"
PROGRESS_STEPS = 10


class SimulationError(RuntimeError):
    """A run could not be simulated; the message names the run, the file and the cause."""


@dataclass(frozen=True)
class SimulationOutputs:
    """The files of one simulated run.

    Parameters
    ----------
    traces : Path
        Raw GET traces (merger layout).
    pointcloud : Path
        The engine's point clouds (Spyral Pointcloud layout, with ``labels_<event>``).
    truth : Path
        Truth table (parquet).
    kinematics : Path or None
        The kinematics in attpc_engine's file layout; not written when None.
    """

    traces: Path
    pointcloud: Path
    truth: Path
    kinematics: Path | None = None


@dataclass(frozen=True)
class RunStreams:
    """The three independent random streams of a run."""

    kinematics: np.random.Generator
    detector: np.random.Generator
    electronics: np.random.Generator

    @classmethod
    def for_run(cls, seed: int, run: int) -> RunStreams:
        sequence = np.random.SeedSequence([int(seed), stable_name_key(STEP_NAME), int(run)])
        kinematics, detector, electronics = (
            np.random.default_rng(child) for child in sequence.spawn(3)
        )
        return cls(kinematics, detector, electronics)


def load_time_offsets(path: Path | None, run: int) -> np.ndarray | None:
    """Per-pad time offsets in time buckets from a Spyral-style CSV, or None without a file.

    Raises
    ------
    SimulationError
        If the file cannot be read or does not hold one number per pad.
    """
    if path is None:
        return None
    try:
        offsets = read_pad_column(Path(path), 1)[:, 0]
    except PadMapError as error:
        raise SimulationError(
            f"run {run}: cannot use the pad time offsets: {error}; expected a header line and "
            "then one offset (time buckets) per pad"
        ) from error
    if offsets.shape != (NUMBER_OF_PADS,):
        raise SimulationError(
            f"run {run}: pad time offsets file {path} holds {offsets.size} values, "
            f"expected one per pad ({NUMBER_OF_PADS})"
        )
    return offsets


def simulate_run(
    settings: SimulationSettings, seed: int, run: int, outputs: SimulationOutputs
) -> None:
    """Simulate run ``run`` and write its files.

    Parameters
    ----------
    settings : SimulationSettings
        The simulation settings.
    seed : int
        The pipeline's global seed.
    run : int
        The run number (orig_run of the point clouds, ``run`` of the truth).
    outputs : SimulationOutputs
        Where to write.

    Raises
    ------
    SimulationError
        If the time offset file is unusable or the engine rejects the settings.
    """
    streams = RunStreams.for_run(seed, run)
    provenance = Provenance(
        phase=STEP_NAME,
        phase_class=f"{__name__}.simulate_run",
        parameters=settings.to_mapping(),
        seed=seed,
        run=run,
    )
    time_offsets = load_time_offsets(settings.traces.pad_time_offsets_path, run)
    engine.enable_engine_jit_cache()
    gas = engine.build_gas(settings)
    pipeline = engine.build_kinematics_pipeline(settings, gas)
    config = engine.build_detector_config(settings, gas)
    synthesizer = TraceSynthesizer.from_settings(settings, streams.electronics, time_offsets)

    n_events = settings.events_per_run
    log.info("run %d: sampling %d events of %s", run, n_events, pipeline)
    kinematics = _sample(pipeline, n_events, streams.kinematics, run)
    particles = _particles(settings, len(kinematics.proton_numbers), run)
    cloud_builder = EngineCloudBuilder(config)
    detector_events: list[engine.DetectorEvent] = []
    report_every = max(1, n_events // PROGRESS_STEPS)
    with ExitStack() as stack:
        traces = stack.enter_context(
            simulated_trace_file(outputs.traces, settings.traces.format, provenance, n_events)
        )
        clouds = stack.enter_context(
            PointcloudWriter(outputs.pointcloud, provenance, min_event=0, max_event=n_events - 1)
        )
        for event in range(n_events):
            try:
                detected = engine.simulate_event(
                    kinematics, event, config, streams.detector, particles
                )
            except (ValueError, ArithmeticError) as error:
                raise SimulationError(
                    f"run {run}, event {event}: attpc_engine's detector simulation failed "
                    f"(writing {outputs.traces}): {type(error).__name__}: {error}"
                ) from error
            detector_events.append(detected)
            matrix = synthesizer.event_matrix(detected.points)
            traces.write_event(event, matrix)
            cloud, labels = cloud_builder.build(detected.points, detected.labels)
            clouds.write(event, cloud, cloud_attributes(run, event), labels)
            if (event + 1) % report_every == 0 or event + 1 == n_events:
                log.info("run %d: %d of %d events simulated", run, event + 1, n_events)
    write_parquet(
        truth_table(run, kinematics, detector_events, particles), outputs.truth, provenance
    )
    if outputs.kinematics is not None:
        write_kinematics_file(outputs.kinematics, kinematics, provenance)


def _particles(settings: SimulationSettings, n_nuclei: int, run: int) -> list[int]:
    if settings.particles is None:
        return engine.default_particles(n_nuclei)
    unknown = [row for row in settings.particles if not 0 <= row < n_nuclei]
    if unknown:
        raise SimulationError(
            f"run {run}: simulation.particles {unknown} are not kinematics rows; the reaction "
            f"has rows 0 … {n_nuclei - 1} (0 target, 1 projectile, 2 ejectile, 3 residual)"
        )
    return list(settings.particles)


def _sample(
    pipeline: KinematicsPipeline, n_events: int, rng: np.random.Generator, run: int
) -> engine.KinematicsEvents:
    from attpc_engine.kinematics.pipeline import PipelineError

    try:
        return engine.sample_kinematics(pipeline, n_events, rng)
    except PipelineError as error:
        raise SimulationError(
            f"run {run}: attpc_engine cannot sample the reaction {pipeline}: {error}; check the "
            "beam energy and the excitation energies in the simulation settings"
        ) from error
