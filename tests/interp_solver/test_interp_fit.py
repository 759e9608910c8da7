"""The fit kernels and the fit: distances, derivatives, and recovery of mesh trajectories."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from interp_helpers import TrueTrack, brho_of, mesh_track_points, small_parameters

from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver.fit import (
    FitSkipped,
    TrackEstimate,
    TrackFitter,
    charge_weight_factors,
)
from spyralflow.phases.interp_solver.parameters import SolverParameterError
from spyralflow.phases.interp_solver.targets import nucleus
from spyralflow.phases.interp_solver.trajectory import nearest_on_polyline, track_distances

DEUTERON_MASS = nucleus(1, 2).mass


def brute_force_distances(points, polyline):
    best = np.full(len(points), np.inf)
    for start, end in itertools.pairwise(polyline):
        direction = end - start
        squared = direction @ direction
        fraction = np.zeros(len(points))
        if squared > 0:
            fraction = np.clip((points - start) @ direction / squared, 0.0, 1.0)
        nearest = start + fraction[:, None] * direction
        best = np.minimum(best, np.linalg.norm(points - nearest, axis=1))
    return best


@pytest.mark.parametrize("n_vertices", [2, 3, 9, 40, 203])
def test_polyline_distances_match_brute_force(n_vertices):
    rng = np.random.default_rng(n_vertices)
    polyline = np.cumsum(rng.normal(0.0, 1.0, (n_vertices, 3)), axis=0)
    polyline[n_vertices // 2] = polyline[n_vertices // 2 - 1]  # a zero-length segment
    points = rng.normal(0.0, 4.0, (300, 3)) + polyline.mean(axis=0)
    distances, segments, fractions = nearest_on_polyline(points, polyline, n_vertices - 1)
    np.testing.assert_allclose(distances, brute_force_distances(points, polyline), atol=1e-12)
    nearest = polyline[segments] + fractions[:, None] * (
        polyline[segments + 1] - polyline[segments]
    )
    np.testing.assert_allclose(np.linalg.norm(points - nearest, axis=1), distances, atol=1e-12)


def distances_of(mesh, parameters, points, with_jacobian=True):
    return track_distances(
        parameters,
        points,
        *mesh.kernel_arguments,
        DEUTERON_MASS,
        299.792458,
        with_jacobian,
    )


def test_jacobian_matches_finite_differences(mesh_workspace):
    mesh = mesh_workspace.mesh
    rng = np.random.default_rng(2)
    track = TrueTrack(7.3, math.radians(47.0), 1.1, 0.003, -0.002, 0.4)
    points = mesh_track_points(mesh, track, rng, noise_mm=2.0)[:, :3] * 0.001
    parameters = np.array(
        [brho_of(7.0, DEUTERON_MASS), math.radians(48.0), 0.004, 0.7, 1.12, 0.401]
    )
    inside, _, jacobian = distances_of(mesh, parameters, points)
    assert inside
    step = 1e-7
    for column in range(6):
        up, down = parameters.copy(), parameters.copy()
        up[column] += step
        down[column] -= step
        numeric = (distances_of(mesh, up, points)[1] - distances_of(mesh, down, points)[1]) / (
            2 * step
        )
        # A few points may switch nearest segment between the two evaluations.
        close = np.abs(jacobian[:, column] - numeric) < 1e-5 + 1e-4 * np.abs(numeric)
        assert close.mean() > 0.97, column
    # The vertex x/y columns are the rho/phi columns turned back to Cartesian.
    rho, phi = parameters[2], parameters[3]
    np.testing.assert_allclose(
        jacobian[:, 2], math.cos(phi) * jacobian[:, 6] + math.sin(phi) * jacobian[:, 7], atol=1e-12
    )
    np.testing.assert_allclose(
        jacobian[:, 3],
        rho * (-math.sin(phi) * jacobian[:, 6] + math.cos(phi) * jacobian[:, 7]),
        atol=1e-12,
    )


def test_outside_the_mesh_is_reported(mesh_workspace):
    points = np.zeros((4, 3))
    too_fast = np.array([brho_of(31.0, DEUTERON_MASS), 0.5, 0.0, 0.0, 0.0, 0.1])
    inside, distances, _ = distances_of(mesh_workspace.mesh, too_fast, points)
    assert not inside and np.all(np.isnan(distances))


TRACKS = [
    TrueTrack(3.3, math.radians(63.0), 0.4, 0.002, 0.001, 0.35),
    TrueTrack(11.7, math.radians(34.0), 4.0, -0.004, 0.002, 0.2),
    TrueTrack(21.2, math.radians(52.5), 2.5, 0.0, -0.003, 0.6),
    TrueTrack(6.6, math.radians(75.0), 5.9, 0.001, 0.004, 0.5),
]


def perturbed_estimate(track: TrueTrack, rng) -> TrackEstimate:
    return TrackEstimate(
        polar=track.polar + 0.02,
        azimuthal=(track.azimuthal - 0.03) % (2 * math.pi),
        brho=brho_of(track.kinetic_energy, DEUTERON_MASS) * 1.04,
        vertex_x=track.vertex_x * 1000 + rng.normal(0, 2.0),
        vertex_y=track.vertex_y * 1000 + rng.normal(0, 2.0),
        vertex_z=track.vertex_z * 1000 - 8.0,
    )


@pytest.mark.parametrize("method", ["lbfgsb", "leastsq"])
@pytest.mark.parametrize("track", TRACKS, ids=lambda t: f"{t.kinetic_energy}MeV")
def test_fit_recovers_mesh_trajectories(mesh_workspace, method, track):
    rng = np.random.default_rng(11)
    mesh = mesh_workspace.mesh
    parameters = dataclasses.replace(mesh_workspace.phase.solver_params, fit_method=method)
    fitter = TrackFitter(mesh, DEUTERON_MASS, 1, parameters, DetectorParameters())
    cloud = mesh_track_points(mesh, track, rng)
    estimate = perturbed_estimate(track, rng)
    result = fitter.fit(cloud, estimate)
    # The distances run from the points to the trajectory, so the vertex can slide back along the
    # track by about a point spacing (4 mm here) at almost no cost: vertex tolerances are wider.
    assert abs(result.ke - track.kinetic_energy) / track.kinetic_energy < 0.01
    assert abs(result.polar - track.polar) < math.radians(0.1)
    assert abs(result.vertex_z - track.vertex_z) < 0.003
    assert abs((result.azimuthal - track.azimuthal + math.pi) % (2 * math.pi) - math.pi) < 0.01
    assert math.hypot(result.vertex_x - track.vertex_x, result.vertex_y - track.vertex_y) < 0.004
    # The fit improves on the estimate it starts from.
    estimate_energy = fitter.kinetic_energy(estimate.brho)
    assert abs(result.ke - track.kinetic_energy) < abs(estimate_energy - track.kinetic_energy)
    assert abs(result.polar - track.polar) < abs(estimate.polar - track.polar)
    assert abs(result.vertex_z - track.vertex_z) < abs(estimate.vertex_z / 1000 - track.vertex_z)
    sigmas = [
        result.sigma_vx,
        result.sigma_vy,
        result.sigma_vz,
        result.sigma_brho,
        result.sigma_ke,
        result.sigma_polar,
        result.sigma_azimuthal,
    ]
    assert all(math.isfinite(value) and value > 0.0 for value in sigmas)
    assert result.converged


def test_fixed_parameters_stay_at_the_estimate(mesh_workspace):
    rng = np.random.default_rng(5)
    mesh = mesh_workspace.mesh
    parameters = dataclasses.replace(
        mesh_workspace.phase.solver_params,
        fit_azimuthal=False,
        fit_vertex_rho=False,
        fit_vertex_phi=False,
        fit_method="leastsq",
    )
    fitter = TrackFitter(mesh, DEUTERON_MASS, 1, parameters, DetectorParameters())
    track = TRACKS[1]
    estimate = dataclasses.replace(
        perturbed_estimate(track, rng),
        azimuthal=track.azimuthal,
        vertex_x=track.vertex_x * 1000,
        vertex_y=track.vertex_y * 1000,
    )
    result = fitter.fit(mesh_track_points(mesh, track, rng), estimate)
    assert result.azimuthal == pytest.approx(track.azimuthal, abs=1e-12)
    assert result.vertex_x == pytest.approx(track.vertex_x, abs=1e-12)
    assert result.sigma_azimuthal == 0.0 and result.sigma_vx == 0.0
    assert abs(result.ke - track.kinetic_energy) / track.kinetic_energy < 0.005


def test_unfittable_clusters_are_skipped_with_a_reason(mesh_workspace):
    mesh = mesh_workspace.mesh
    fitter = TrackFitter(
        mesh, DEUTERON_MASS, 1, mesh_workspace.phase.solver_params, DetectorParameters()
    )
    cloud = mesh_track_points(mesh, TRACKS[0], np.random.default_rng(1))
    estimate = perturbed_estimate(TRACKS[0], np.random.default_rng(1))
    with pytest.raises(FitSkipped) as outside:
        fitter.fit(cloud, dataclasses.replace(estimate, polar=math.radians(85.0)))
    assert outside.value.reason == "outside_mesh"
    with pytest.raises(FitSkipped) as few:
        fitter.fit(cloud[:5], estimate)
    assert few.value.reason == "too_few_points"
    with pytest.raises(FitSkipped) as invalid:
        fitter.fit(cloud, dataclasses.replace(estimate, brho=math.nan))
    assert invalid.value.reason == "invalid_estimate"


@pytest.mark.parametrize("method", ["lbfgsb", "leastsq"])
def test_beam_prior_pulls_the_vertex_to_the_axis(mesh_workspace, method):
    mesh = mesh_workspace.mesh
    track = TRACKS[1]
    rng = np.random.default_rng(8)
    cloud = mesh_track_points(mesh, track, rng)
    estimate = perturbed_estimate(track, rng)
    results = {}
    for beam_sigma in (None, 0.05):
        parameters = dataclasses.replace(
            mesh_workspace.phase.solver_params, fit_method=method, beam_sigma=beam_sigma
        )
        fitter = TrackFitter(mesh, DEUTERON_MASS, 1, parameters, DetectorParameters())
        results[beam_sigma] = fitter.fit(cloud, estimate)
    free, pulled = results[None], results[0.05]
    true_rho = math.hypot(track.vertex_x, track.vertex_y)
    assert math.hypot(free.vertex_x, free.vertex_y) == pytest.approx(true_rho, abs=0.0015)
    assert math.hypot(pulled.vertex_x, pulled.vertex_y) < 0.3 * true_rho
    assert math.isfinite(pulled.sigma_vx) and pulled.sigma_vx > 0.0


def _pull_widths(mesh_workspace, method: str, count: int = 60) -> dict[str, float]:
    """Robust widths (1.4826 MAD) of (fit - truth) / sigma over ``count`` seeded mesh tracks
    with isotropic noise, where the model is exact and the sigmas should be right."""
    rng = np.random.default_rng(2024)
    parameters = dataclasses.replace(mesh_workspace.phase.solver_params, fit_method=method)
    fitter = TrackFitter(mesh_workspace.mesh, DEUTERON_MASS, 1, parameters, DetectorParameters())
    pulls: dict[str, list[float]] = {"ke": [], "polar": [], "vertex_z": []}
    while len(pulls["ke"]) < count:
        track = TrueTrack(
            rng.uniform(3.0, 20.0),
            math.radians(rng.uniform(25.0, 70.0)),
            rng.uniform(0.0, 2 * math.pi),
            rng.normal(0.0, 0.002),
            rng.normal(0.0, 0.002),
            rng.uniform(0.2, 0.6),
        )
        cloud = mesh_track_points(mesh_workspace.mesh, track, rng, noise_mm=1.5)
        if len(cloud) < 30:
            continue
        result = fitter.fit(cloud, perturbed_estimate(track, rng))
        pulls["ke"].append((result.ke - track.kinetic_energy) / result.sigma_ke)
        pulls["polar"].append((result.polar - track.polar) / result.sigma_polar)
        pulls["vertex_z"].append((result.vertex_z - track.vertex_z) / result.sigma_vz)
    return {
        name: 1.4826 * float(np.median(np.abs(np.asarray(values) - np.median(values))))
        for name, values in pulls.items()
    }


@pytest.mark.parametrize("method", ["lbfgsb", "leastsq"])
def test_sigmas_give_pulls_near_one_on_exact_tracks(mesh_workspace, method):
    # The distances' own scaled covariance (one residual per point) gave widths of 0.4-0.5 for
    # KE and polar and about 0.2 for vertex z. Vertex z stays conservative by design (fit.py).
    widths = _pull_widths(mesh_workspace, method)
    assert 0.7 < widths["ke"] < 1.4, widths
    assert 0.7 < widths["polar"] < 1.4, widths
    assert 0.3 < widths["vertex_z"] < 1.0, widths


def _relative_errors(fitter: TrackFitter, cluster_of, rng) -> np.ndarray:
    """|KE error| / KE and |polar error| (deg) of the fit of each track of TRACKS, its cluster
    made by ``cluster_of(track)`` just before its estimate (one random stream for both)."""
    errors = []
    for track in TRACKS:
        cloud = cluster_of(track)
        result = fitter.fit(
            cloud[np.argsort(cloud[:, 2], kind="stable")], perturbed_estimate(track, rng)
        )
        errors.append(
            (
                abs(result.ke - track.kinetic_energy) / track.kinetic_energy,
                abs(math.degrees(result.polar - track.polar)),
            )
        )
    return np.array(errors)


def _fit_errors_beside_another_track(mesh_workspace, **fit) -> np.ndarray:
    """Errors (``_relative_errors``) of fits of each track of TRACKS whose cluster also holds a
    recoil-like line of points from the vertex, 25 % as many as the track's."""
    mesh = mesh_workspace.mesh
    rng = np.random.default_rng(21)
    parameters = dataclasses.replace(mesh_workspace.phase.solver_params, **fit)
    fitter = TrackFitter(mesh, DEUTERON_MASS, 1, parameters, DetectorParameters())

    def cluster_of(track: TrueTrack) -> np.ndarray:
        cloud = mesh_track_points(mesh, track, rng)
        other = np.zeros((len(cloud) // 4, 5))
        other[:, 2] = track.vertex_z * 1000.0 + np.linspace(0.0, 150.0, len(other))
        other[:, 0] = track.vertex_x * 1000.0 + 0.1 * (other[:, 2] - track.vertex_z * 1000.0)
        other[:, 1] = track.vertex_y * 1000.0
        other[:, 3:] = 1.0
        return np.concatenate([cloud, other])

    return _relative_errors(fitter, cluster_of, rng)


def test_robust_chi_square_fits_beside_another_tracks_points(mesh_workspace):
    plain = _fit_errors_beside_another_track(mesh_workspace, fit_method="leastsq")
    soft = _fit_errors_beside_another_track(
        mesh_workspace, fit_method="leastsq", leastsq_loss="soft_l1", leastsq_loss_scale=0.5
    )
    least_distance = _fit_errors_beside_another_track(mesh_workspace, fit_method="lbfgsb")
    trimmed = _fit_errors_beside_another_track(
        mesh_workspace, fit_method="leastsq", leastsq_trim=3.0
    )
    # The plain chi-square is pulled by the other track's points (seen: KE 2-9 %, polar
    # 1.5-6 deg), a soft-L1 loss less so.
    assert np.all(soft < plain)
    # The least-distance fit is barely moved (seen: 0.04-0.4 %, 0.03-0.1 deg); the trimmed
    # chi-square, started from it, is closer still (0.02-0.06 %, 0.004-0.01 deg).
    assert np.all(least_distance[:, 0] < 0.01) and np.all(least_distance[:, 1] < 0.2)
    assert np.all(trimmed[:, 0] < 0.002) and np.all(trimmed[:, 1] < 0.05)
    assert np.all(trimmed.sum(axis=0) < least_distance.sum(axis=0))


def test_an_unknown_loss_or_trim_is_refused(tmp_path):
    with pytest.raises(SolverParameterError, match="leastsq_loss is 'l1'"):
        small_parameters(tmp_path, leastsq_loss="l1")
    with pytest.raises(SolverParameterError, match="leastsq_loss_scale is 0"):
        small_parameters(tmp_path, leastsq_loss_scale=0.0)
    with pytest.raises(SolverParameterError, match=r"leastsq_trim is 0\.5"):
        small_parameters(tmp_path, leastsq_trim=0.5)


def _fit_errors_with_edge_pads(mesh_workspace, **fit) -> np.ndarray:
    """Errors (``_relative_errors``) of fits of each track of TRACKS whose cluster also holds,
    beside every second point, a low-charge point 3 mm farther from the beam axis: the edge of a
    charge cloud cut on one side."""
    mesh = mesh_workspace.mesh
    rng = np.random.default_rng(33)
    parameters = dataclasses.replace(
        mesh_workspace.phase.solver_params, fit_method="leastsq", leastsq_trim=3.0, **fit
    )
    fitter = TrackFitter(mesh, DEUTERON_MASS, 1, parameters, DetectorParameters())

    def cluster_of(track: TrueTrack) -> np.ndarray:
        cloud = mesh_track_points(mesh, track, rng)
        edge = cloud[::2].copy()
        outward = edge[:, :2] / np.linalg.norm(edge[:, :2], axis=1, keepdims=True)
        edge[:, :2] += 3.0 * outward
        edge[:, 3] = 0.1
        return np.concatenate([cloud, edge])

    return _relative_errors(fitter, cluster_of, rng)


def test_charge_weights_keep_low_charge_edge_pads_from_pulling_the_fit(mesh_workspace):
    unweighted = _fit_errors_with_edge_pads(mesh_workspace)
    weighted = _fit_errors_with_edge_pads(mesh_workspace, charge_weight_clip=3.0)
    # The edge pads pull the unweighted fit's curvature (seen: KE 0.02-1.1 % off); weighed by
    # their charge (a third of the median's after the clip), 0.01-0.33 %.
    assert np.all(weighted[:, 0] < unweighted[:, 0])
    assert weighted[:, 0].sum() < 0.5 * unweighted[:, 0].sum()


def test_charge_weight_factors_are_clipped_about_the_median():
    charge = np.array([1.0, 2.0, 2.0, 2.0, 400.0, 0.0, -5.0])
    factors = charge_weight_factors(charge, 3.0)
    expected = np.array([0.5, 1.0, 1.0, 1.0, 3.0, 1.0 / 3.0, 1.0 / 3.0])
    np.testing.assert_allclose(factors, expected / expected.mean())
    np.testing.assert_array_equal(charge_weight_factors(np.zeros(4), 3.0), np.ones(4))


def test_a_charge_weight_clip_of_one_or_less_is_refused(tmp_path):
    with pytest.raises(SolverParameterError, match=r"charge_weight_clip is 1\.0"):
        small_parameters(tmp_path, charge_weight_clip=1.0)
