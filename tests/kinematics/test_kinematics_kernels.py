"""The missing-mass and centre-of-mass kernels against hand-computed two-body kinematics, and the
beam's energy loss against spyral-utils."""

from __future__ import annotations

import numpy as np
import pytest
from attpc_engine.kinematics import Reaction

from spyralflow.phases.interp_solver.targets import load_gas_target, nucleus
from spyralflow.phases.kinematics.beam import beam_energy_and_slope, beam_energy_at
from spyralflow.phases.kinematics.missing_mass import (
    ANGLE_STEP_RAD,
    ENERGY_STEP_MEV,
    ReactionMasses,
    centre_of_mass_polar,
    excitation_energy,
    propagate,
)
from spyralflow.phases.kinematics.parameters import ReactionParameterError, ReactionParameters

GAS_FILE = "config/targets/d2_300torr.json"


def _masses(target, projectile, ejectile) -> ReactionMasses:
    residual = (
        target[0] + projectile[0] - ejectile[0],
        target[1] + projectile[1] - ejectile[1],
    )
    return ReactionMasses(
        *(float(nucleus(*pair).mass) for pair in (target, projectile, ejectile, residual))
    )


def forward_two_body(beam_ke, masses: ReactionMasses, excitation, cm_angle):
    """Lab kinetic energy and polar angle of the ejectile, by hand: the invariant s, the
    centre-of-mass momentum from the Kallen function, and a Lorentz boost along the beam."""
    beam_total = beam_ke + masses.projectile
    s = masses.projectile**2 + masses.target**2 + 2.0 * masses.target * beam_total
    root_s = np.sqrt(s)
    residual_mass = masses.residual + excitation
    kallen = (s - (masses.ejectile + residual_mass) ** 2) * (
        s - (masses.ejectile - residual_mass) ** 2
    )
    momentum_cm = np.sqrt(kallen) / (2.0 * root_s)
    energy_cm = (s + masses.ejectile**2 - residual_mass**2) / (2.0 * root_s)
    beam_momentum = np.sqrt(beam_total**2 - masses.projectile**2)
    beta = beam_momentum / (beam_total + masses.target)
    gamma = 1.0 / np.sqrt(1.0 - beta**2)
    longitudinal = gamma * (momentum_cm * np.cos(cm_angle) + beta * energy_cm)
    transverse = momentum_cm * np.sin(cm_angle)
    energy = gamma * (energy_cm + beta * momentum_cm * np.cos(cm_angle))
    return energy - masses.ejectile, np.arctan2(transverse, longitudinal)


@pytest.mark.parametrize("excitation", [0.0, 1.766, 6.1])
def test_missing_mass_inverts_hand_computed_kinematics_of_16c_dd(excitation: float) -> None:
    masses = _masses((1, 2), (6, 16), (1, 2))
    cm_angle = np.deg2rad(np.linspace(5.0, 175.0, 35))
    beam_ke = np.full_like(cm_angle, 170.0)
    ke, polar = forward_two_body(beam_ke, masses, excitation, cm_angle)
    np.testing.assert_allclose(excitation_energy(beam_ke, ke, polar, masses), excitation, atol=2e-6)
    np.testing.assert_allclose(
        centre_of_mass_polar(beam_ke, ke, polar, masses), cm_angle, atol=1e-9
    )


def test_missing_mass_agrees_with_attpc_engine_reaction() -> None:
    target, projectile, ejectile = nucleus(1, 2), nucleus(6, 16), nucleus(1, 2)
    reaction = Reaction(target=target, projectile=projectile, ejectile=ejectile)
    masses = _masses((1, 2), (6, 16), (1, 2))
    for cm_angle in np.deg2rad([20.0, 70.0, 130.0]):
        lab = reaction.calculate(160.0, cm_angle, 0.3, 1.766)[2]
        ke, polar = np.array([lab.E - lab.mass]), np.array([lab.theta])
        assert excitation_energy(np.array([160.0]), ke, polar, masses)[0] == pytest.approx(
            1.766, abs=1e-5
        )
        assert centre_of_mass_polar(np.array([160.0]), ke, polar, masses)[0] == pytest.approx(
            cm_angle, abs=1e-7
        )


def test_relativistic_proton_elastic_scattering_at_2_gev() -> None:
    """p(p,p)p at 2 GeV: the relativistic kinematics (where the non-relativistic formula is off
    by hundreds of MeV) give Ex = 0 and the textbook relation tan^2(theta) = 2/(gamma_cm^2 ...)"""
    masses = _masses((1, 1), (1, 1), (1, 1))
    cm_angle = np.deg2rad(np.array([30.0, 60.0, 90.0]))
    beam_ke = np.full(3, 2000.0)
    ke, polar = forward_two_body(beam_ke, masses, 0.0, cm_angle)
    np.testing.assert_allclose(excitation_energy(beam_ke, ke, polar, masses), 0.0, atol=1e-5)
    # Symmetric elastic scattering at 90 deg in the CM: tan(theta_lab) = 1 / gamma_cm.
    gamma_cm = np.sqrt((beam_ke[2] + 2.0 * masses.projectile) / (2.0 * masses.projectile))
    assert np.tan(polar[2]) == pytest.approx(1.0 / gamma_cm, rel=1e-9)
    assert ke[2] == pytest.approx(beam_ke[2] / 2.0, rel=1e-9)
    # The non-relativistic missing mass would be far off here.
    momentum_beam = np.sqrt(2 * masses.projectile * beam_ke[2])
    momentum_ejectile = np.sqrt(2 * masses.ejectile * ke[2])
    q_value = (
        ke[2] * (1 + masses.ejectile / masses.residual)
        - beam_ke[2] * (1 - masses.projectile / masses.residual)
        - 2 * momentum_beam * momentum_ejectile * np.cos(polar[2]) / (2 * masses.residual)
    )
    assert abs(q_value) > 100.0


def test_unphysical_energies_give_nan() -> None:
    masses = _masses((1, 2), (6, 16), (1, 2))
    # A deuteron carrying more energy than the whole system.
    assert np.isnan(
        excitation_energy(np.array([100.0]), np.array([1.0e5]), np.array([0.5]), masses)
    )[0]


def test_propagation_matches_the_spread_of_sampled_inputs() -> None:
    masses = _masses((1, 2), (6, 16), (1, 2))
    beam, ke, polar = np.array([170.0]), np.array([8.0]), np.array([np.deg2rad(60.0)])
    sigmas = [np.array([0.5]), np.array([0.08]), np.array([0.005])]

    def function(*values):
        return excitation_energy(*values, masses)

    predicted = propagate(
        function, [beam, ke, polar], sigmas, [ENERGY_STEP_MEV] * 2 + [ANGLE_STEP_RAD]
    )
    rng = np.random.default_rng(5)
    samples = [
        value + sigma * rng.standard_normal(200_000)
        for value, sigma in zip((beam, ke, polar), sigmas, strict=True)
    ]
    assert predicted[0] == pytest.approx(np.std(function(*samples)), rel=0.02)
    assert predicted[0] > 0.05


def test_beam_energy_equals_spyral_utils_energy_loss() -> None:
    gas = load_gas_target(GAS_FILE)
    carbon = nucleus(6, 16)
    distances = np.array([0.0, 0.1, 0.5, 0.9])
    expected = 184.131 - gas.get_energy_loss(carbon, 184.131, distances)
    np.testing.assert_allclose(
        beam_energy_at(gas, carbon, 184.131, distances), expected, rtol=1e-12
    )
    assert expected[0] == pytest.approx(184.131)
    assert 5.0 < expected[0] - expected[-1] < 20.0  # 16C loses about 10 MeV in 0.9 m of D2


def test_beam_slope_is_the_stopping_power_of_spyral_utils() -> None:
    gas = load_gas_target(GAS_FILE)
    carbon = nucleus(6, 16)
    energy, slope = beam_energy_and_slope(gas, carbon, 184.131, np.array([0.5]))
    # spyral-utils' dE/dx is in MeV / (g/cm^2); times the density (g/cm^3) and 100 cm/m.
    stopping = gas.get_dedx(carbon, energy[0]) * gas.density * 100.0
    assert -slope[0] == pytest.approx(stopping, rel=0.01)


def test_beam_that_stops_gives_nan() -> None:
    gas = load_gas_target(GAS_FILE)
    energy = beam_energy_at(gas, nucleus(6, 16), 5.0, np.array([0.9]))
    assert np.isnan(energy[0])


def test_reaction_parameters_check_the_nuclei() -> None:
    assert ReactionParameters().residual == (6, 16)
    with pytest.raises(ReactionParameterError, match="ejectile"):
        ReactionParameters(ejectile=(1,))
    with pytest.raises(ReactionParameterError, match="no residual"):
        ReactionParameters(target=(1, 1), projectile=(1, 1), ejectile=(2, 4))
