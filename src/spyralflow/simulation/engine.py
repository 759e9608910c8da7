"""attpc_engine objects built from the settings, and the engine's two stages run on our generator.

attpc_engine's drivers (``run_kinematics_pipeline``, ``run_simulation``) call
``numpy.random.default_rng()`` without a seed and print to stdout. We call the engine one level
lower instead: ``KinematicsPipeline.run()`` per event, with the pipeline's public ``rng`` attribute
replaced by our generator (the only place the pipeline draws from), and
``attpc_engine.detector.simulator.simulate``, which takes the generator as an argument. Physics
and numbers are the engine's; only the seeding is ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spyralflow.simulation.settings import SimulationSettings

if TYPE_CHECKING:
    from attpc_engine.detector import Config
    from attpc_engine.kinematics import KinematicsPipeline
    from spyral_utils.nuclear import NucleusData
    from spyral_utils.nuclear.target import GasTarget

MM_PER_M = 1000.0
_ENGINE_JIT_MODULES = (
    "attpc_engine.detector.pairing",
    "attpc_engine.detector.response",
    "attpc_engine.detector.simulator",
    "attpc_engine.detector.transporter",
    "attpc_engine.detector.writer",
)


class ExcitationMixture:
    """Gaussian states of the residual, one drawn per event by weight.

    Implements attpc_engine's ``ExcitationDistribution`` protocol (``sample(rng)``).

    Parameters
    ----------
    energies : sequence of float
        State energies in MeV.
    widths : sequence of float
        State FWHM in MeV.
    weights : sequence of float
        Relative populations.
    """

    FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))

    def __init__(
        self, energies: Sequence[float], widths: Sequence[float], weights: Sequence[float]
    ) -> None:
        self.energies = np.asarray(energies, dtype=float)
        self.sigmas = np.asarray(widths, dtype=float) / self.FWHM_PER_SIGMA
        weights = np.asarray(weights, dtype=float)
        self.probabilities = weights / weights.sum()

    def sample(self, rng: np.random.Generator) -> float:
        """One excitation energy in MeV."""
        state = rng.choice(len(self.energies), p=self.probabilities)
        return float(rng.normal(self.energies[state], self.sigmas[state]))


@dataclass
class KinematicsEvents:
    """Sampled kinematics of a run, as attpc_engine's kinematics file holds them.

    Parameters
    ----------
    vertices : numpy.ndarray
        (n_events, 3) reaction vertices in m.
    momenta : numpy.ndarray
        (n_events, n_nuclei, 4) lab four-momenta [px, py, pz, E] in MeV (E total energy), rows
        ordered target, projectile, ejectile, residual, then decay products.
    proton_numbers, mass_numbers : numpy.ndarray
        (n_nuclei,) Z and A of each row.
    """

    vertices: np.ndarray
    momenta: np.ndarray
    proton_numbers: np.ndarray
    mass_numbers: np.ndarray

    @property
    def n_events(self) -> int:
        return len(self.vertices)


@dataclass
class DetectorEvent:
    """The engine's detector response to one event, before electronics.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 3) [pad id, time bucket (float, dithered within the bucket), electrons after gain].
    labels : numpy.ndarray
        (N,) kinematics row of the particle that made each point.
    """

    points: np.ndarray
    labels: np.ndarray


def enable_engine_jit_cache() -> int:
    """Let numba cache attpc_engine's detector kernels on disk; returns how many.

    The engine compiles them without ``cache=True``, which costs several seconds in every
    simulation job (about half of a 200-event run). ``Dispatcher.enable_caching`` is numba's
    public switch for that; the kernels and their results are unchanged. The cache goes where
    numba puts it (``__pycache__`` beside the engine, or ``NUMBA_CACHE_DIR``).
    """
    import importlib

    from numba.core.dispatcher import Dispatcher

    enabled = 0
    for module_name in _ENGINE_JIT_MODULES:
        module = importlib.import_module(module_name)
        for kernel in vars(module).values():
            if isinstance(kernel, Dispatcher) and kernel.py_func.__module__ == module_name:
                kernel.enable_caching()
                enabled += 1
    return enabled


def nucleus(proton_number: int, mass_number: int) -> NucleusData:
    """spyral-utils nuclear data of (Z, A), from attpc_engine's shared map."""
    from attpc_engine import nuclear_map

    return nuclear_map.get_data(int(proton_number), int(mass_number))


def build_gas(settings: SimulationSettings) -> GasTarget:
    """The spyral-utils ``GasTarget`` of the settings."""
    from attpc_engine import nuclear_map
    from spyral_utils.nuclear.target import GasTarget

    compound = [tuple(int(value) for value in element) for element in settings.gas.compound]
    return GasTarget(compound, float(settings.gas.pressure), nuclear_map)


def build_kinematics_pipeline(
    settings: SimulationSettings, gas: GasTarget | None = None
) -> KinematicsPipeline:
    """attpc_engine's ``KinematicsPipeline`` of the reaction (one step, no decays)."""
    from attpc_engine.kinematics import (
        KinematicsPipeline,
        KinematicsTargetMaterial,
        PolarUniform,
        Reaction,
    )

    reaction = settings.reaction
    states = reaction.excitations
    material = KinematicsTargetMaterial(
        material=gas if gas is not None else build_gas(settings),
        z_range=(reaction.vertex_z_range[0] / MM_PER_M, reaction.vertex_z_range[1] / MM_PER_M),
        rho_sigma=reaction.vertex_rho_sigma / MM_PER_M,
    )
    return KinematicsPipeline(
        [
            Reaction(
                target=nucleus(*reaction.target),
                projectile=nucleus(*reaction.projectile),
                ejectile=nucleus(*reaction.ejectile),
            )
        ],
        [
            ExcitationMixture(
                [state.energy for state in states],
                [state.width for state in states],
                [state.weight for state in states],
            )
        ],
        [PolarUniform(np.deg2rad(reaction.polar_range[0]), np.deg2rad(reaction.polar_range[1]))],
        beam_energy=float(reaction.beam_energy),
        target_material=material,
    )


def build_detector_config(settings: SimulationSettings, gas: GasTarget | None = None) -> Config:
    """attpc_engine's detector ``Config``, with the pad plane packaged in attpc_engine."""
    from attpc_engine.detector import Config, DetectorParams, ElectronicsParams, PadParams

    detector = settings.detector
    electronics = settings.electronics
    return Config(
        DetectorParams(
            length=detector.detector_length / MM_PER_M,
            efield=float(detector.electric_field),
            bfield=float(detector.magnetic_field),
            mpgd_gain=int(detector.mpgd_gain),
            gas_target=gas if gas is not None else build_gas(settings),
            diffusion=float(detector.diffusion),
            fano_factor=float(detector.fano_factor),
            w_value=float(detector.w_value),
        ),
        ElectronicsParams(
            clock_freq=float(electronics.get_frequency),
            amp_gain=int(electronics.amplifier_gain),
            shaping_time=int(electronics.shaping_time),
            micromegas_edge=int(electronics.micromegas_time_bucket),
            windows_edge=int(electronics.window_time_bucket),
            adc_threshold=int(electronics.adc_threshold),
        ),
        PadParams(),
    )


def sample_kinematics(
    pipeline: KinematicsPipeline, n_events: int, rng: np.random.Generator
) -> KinematicsEvents:
    """Sample ``n_events`` events of ``pipeline`` from ``rng``.

    The pipeline's own unseeded generator is replaced by ``rng`` for the duration of the call.
    """
    n_nuclei = len(pipeline.get_proton_numbers())
    vertices = np.empty((n_events, 3))
    momenta = np.empty((n_events, n_nuclei, 4))
    own_generator = pipeline.rng
    pipeline.rng = rng
    try:
        for event in range(n_events):
            vertex, result = pipeline.run()
            vertices[event] = vertex
            momenta[event] = result
    finally:
        pipeline.rng = own_generator
    return KinematicsEvents(
        vertices=vertices,
        momenta=momenta,
        proton_numbers=np.asarray(pipeline.get_proton_numbers(), dtype=np.int64),
        mass_numbers=np.asarray(pipeline.get_mass_numbers(), dtype=np.int64),
    )


def default_particles(n_nuclei: int) -> list[int]:
    """The engine's default rows to simulate: every final-state nucleus (2, 4, …, and the last)."""
    rows = list(range(2, n_nuclei, 2))
    if n_nuclei - 1 not in rows:
        rows.append(n_nuclei - 1)
    return rows


def simulate_event(
    kinematics: KinematicsEvents,
    event: int,
    config: Config,
    rng: np.random.Generator,
    particles: list[int],
) -> DetectorEvent:
    """The engine's detector simulation of one event (transport, ionisation, drift, pad plane)."""
    from attpc_engine.detector.simulator import simulate

    points, labels = simulate(
        kinematics.momenta[event].copy(),
        kinematics.vertices[event].copy(),
        kinematics.proton_numbers,
        kinematics.mass_numbers,
        config,
        rng,
        particles,
    )
    return DetectorEvent(points=points, labels=labels)
