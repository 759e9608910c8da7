"""The fast integrator against scipy's solve_ivp on Spyral's equations, and analytic motion."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from interp_helpers import write_gas
from scipy.integrate import solve_ivp

from spyralflow.phases.interp_solver.motion import (
    MEV_TO_JOULE,
    MEV_TO_KG,
    RANGE_LIMIT_M,
    RHO_LIMIT_M,
    SPEED_OF_LIGHT,
    Z_LIMIT_M,
    build_transport_model,
    integrate_trajectory,
    range_in_gas,
)
from spyralflow.phases.interp_solver.targets import load_gas_target, nucleus

B_FIELD, E_FIELD = 2.85, 45000.0


@pytest.fixture(scope="module")
def deuteron_in_d2(tmp_path_factory):
    gas = load_gas_target(write_gas(tmp_path_factory.mktemp("gas") / "gas.json"))
    particle = nucleus(1, 2)
    return gas, particle, build_transport_model(gas, particle, B_FIELD, E_FIELD, 40.0)


def spyral_equations(gas, particle):
    """Spyral's equation of motion and stop event, calling pycatima at every evaluation."""
    charge_over_mass = particle.Z * 1.602176634e-19 / (particle.mass * MEV_TO_KG)
    b_field, e_field = -B_FIELD, -E_FIELD

    def derivatives(_, state):
        u_norm = math.sqrt(state[3] ** 2 + state[4] ** 2 + state[5] ** 2)
        gamma = math.sqrt(1.0 + u_norm**2)
        velocity = state[3:] / gamma * SPEED_OF_LIGHT
        energy = particle.mass * (gamma - 1.0)
        deceleration = (gas.get_dedx(particle, energy) * MEV_TO_JOULE * gas.density * 100.0) / (
            particle.mass * MEV_TO_KG
        )
        unit = state[3:] / u_norm
        return np.array(
            [
                *velocity,
                (charge_over_mass * velocity[1] * b_field - deceleration * unit[0])
                / SPEED_OF_LIGHT,
                (-charge_over_mass * velocity[0] * b_field - deceleration * unit[1])
                / SPEED_OF_LIGHT,
                (charge_over_mass * e_field - deceleration * unit[2]) / SPEED_OF_LIGHT,
            ]
        )

    def stop(_, state):
        gamma = math.sqrt(1.0 + state[3] ** 2 + state[4] ** 2 + state[5] ** 2)
        return range_in_gas(gas, particle, particle.mass * (gamma - 1.0)) - RANGE_LIMIT_M

    def forward(_, state):
        return state[2] - Z_LIMIT_M

    def backward(_, state):
        return state[2] + Z_LIMIT_M

    def radial(_, state):
        return math.hypot(state[0], state[1]) - RHO_LIMIT_M

    for event, direction in ((stop, -1), (forward, 1), (backward, -1), (radial, 1)):
        event.terminal, event.direction = True, direction
    return derivatives, [stop, forward, backward, radial]


def start_state(energy, polar, mass):
    gamma = energy / mass + 1.0
    u_norm = math.sqrt(gamma**2 - 1.0)
    return np.array([0.0, 0.0, 0.0, u_norm * math.sin(polar), 0.0, u_norm * math.cos(polar)])


@pytest.mark.parametrize(
    ("energy", "polar_deg"),
    [(1.0, 60.0), (5.0, 85.0), (30.0, 30.0), (12.0, 140.0)],
)
def test_integrator_agrees_with_solve_ivp(deuteron_in_d2, energy, polar_deg):
    gas, particle, model = deuteron_in_d2
    derivatives, events = spyral_equations(gas, particle)
    polar = math.radians(polar_deg)
    state = start_state(energy, polar, particle.mass)
    reference = solve_ivp(
        derivatives, (0.0, 1e-6), state, method="DOP853", rtol=1e-10, atol=1e-13, events=events
    )
    end = reference.t[-1]
    times = np.linspace(0.0, 0.999 * end, 200)
    expected = (
        solve_ivp(
            derivatives, (0.0, end), state, method="DOP853", rtol=1e-10, atol=1e-13, t_eval=times
        )
        .y[:3]
        .T
    )
    positions = np.zeros((times.size, 3))
    length, _ = integrate_trajectory(energy, polar, times, positions, *model.kernel_arguments())
    assert length == times.size
    assert np.abs(positions - expected).max() < 1e-5  # 10 µm

    late = np.linspace(0.0, 1.2 * end, 300)
    positions = np.zeros((late.size, 3))
    length, end_time = integrate_trajectory(
        energy, polar, late, positions, *model.kernel_arguments()
    )
    # The end is detected at the end of the step that crosses it: at most one sample later.
    assert end * (1.0 - 1e-6) <= end_time <= end + (late[1] - late[0]) * (1.0 + 1e-6)
    assert length < late.size
    np.testing.assert_array_equal(
        positions[length - 1 :], positions[-1][None, :].repeat(late.size - length + 1, axis=0)
    )


def test_stop_energy_has_the_range_limit(deuteron_in_d2):
    gas, particle, model = deuteron_in_d2
    assert range_in_gas(gas, particle, model.stop_energy) == pytest.approx(RANGE_LIMIT_M, rel=1e-6)


def test_tabulated_stopping_power_matches_pycatima(deuteron_in_d2):
    gas, particle, model = deuteron_in_d2
    for energy in np.geomspace(0.01, 40.0, 37):
        assert model.stopping_power(energy) == pytest.approx(
            gas.get_dedx(particle, energy), rel=1e-5
        )


def test_helix_without_energy_loss(deuteron_in_d2):
    _, particle, model = deuteron_in_d2
    lossless = dataclasses.replace(
        model, log_stopping=np.full_like(model.log_stopping, -200.0), electric_field=0.0
    )
    energy, polar = 3.0, math.radians(50.0)
    times = np.linspace(0.0, 80e-9, 400)
    positions = np.zeros((times.size, 3))
    integrate_trajectory(energy, polar, times, positions, *lossless.kernel_arguments())
    gamma = 1.0 + energy / particle.mass
    momentum = particle.mass * math.sqrt(gamma**2 - 1.0)  # MeV/c
    radius = momentum * math.sin(polar) / (299.792458 * B_FIELD)  # m
    speed = SPEED_OF_LIGHT * math.sqrt(gamma**2 - 1.0) / gamma
    x, y = positions[:, 0], positions[:, 1]
    design = np.column_stack([2.0 * x, 2.0 * y, np.ones_like(x)])
    (centre_x, centre_y, _), *_ = np.linalg.lstsq(design, x**2 + y**2, rcond=None)
    centre_distance = np.hypot(positions[:, 0] - centre_x, positions[:, 1] - centre_y)
    np.testing.assert_allclose(centre_distance, radius, atol=1e-7)
    np.testing.assert_allclose(positions[:, 2], speed * math.cos(polar) * times, atol=1e-7)
