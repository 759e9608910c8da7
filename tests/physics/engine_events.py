"""Seeded attpc_engine events of one reaction, with the truth of the ejectile.

The tests of the failure populations (issue 13) generate their few events here instead of
storing files: the kinematics come from one seeded stream, and each selected event is sent
through the engine's detector simulation with its own seeded stream, so an event's cloud does
not depend on which other events were selected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spyralflow.simulation import engine
from spyralflow.simulation.engine_cloud import EngineCloudBuilder
from spyralflow.simulation.settings import SimulationSettings
from spyralflow.simulation.truth import particle_observables

EJECTILE_ROW = 2


@dataclass(frozen=True)
class EngineEvent:
    """One simulated event: its cloud (N, 8), point labels and the ejectile's truth."""

    event: int
    cloud: np.ndarray
    labels: np.ndarray
    polar_deg: float
    kinetic_energy: float
    brho: float
    vertex_mm: np.ndarray
    azimuthal_deg: float


def simulated_events(
    settings: dict[str, Any],
    seed: int,
    n_sampled: int,
    select: Callable[[float, float, float], bool],
    n_events: int,
) -> list[EngineEvent]:
    """The first ``n_events`` of ``n_sampled`` seeded events whose ejectile passes ``select``.

    ``select(polar_deg, kinetic_energy_mev, brho_tm)`` chooses on the truth before the
    (costly) detector simulation.
    """
    simulation = SimulationSettings.from_mapping(settings)
    engine.enable_engine_jit_cache()
    gas = engine.build_gas(simulation)
    kinematics = engine.sample_kinematics(
        engine.build_kinematics_pipeline(simulation, gas), n_sampled, np.random.default_rng(seed)
    )
    masses = np.array(
        [
            engine.nucleus(z, a).mass
            for z, a in zip(kinematics.proton_numbers, kinematics.mass_numbers, strict=True)
        ]
    )
    truth = particle_observables(kinematics.momenta, kinematics.proton_numbers, masses)
    config = engine.build_detector_config(simulation, gas)
    builder = EngineCloudBuilder(config)
    particles = list(simulation.particles or engine.default_particles(masses.size))
    events = []
    for event in range(n_sampled):
        polar = float(np.degrees(truth["polar"][event, EJECTILE_ROW]))
        energy = float(truth["kinetic_energy"][event, EJECTILE_ROW])
        brho = float(truth["brho"][event, EJECTILE_ROW])
        if not select(polar, energy, brho):
            continue
        detected = engine.simulate_event(
            kinematics, event, config, np.random.default_rng([seed, event]), particles
        )
        cloud, labels = builder.build(detected.points, detected.labels)
        events.append(
            EngineEvent(
                event,
                cloud,
                labels,
                polar,
                energy,
                brho,
                kinematics.vertices[event] * 1000.0,
                float(np.degrees(truth["azimuthal"][event, EJECTILE_ROW])),
            )
        )
        if len(events) == n_events:
            break
    return events
