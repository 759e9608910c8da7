"""Fitting a cluster with a mesh trajectory (spyral.md sections 6.6 and 6.7).

Parameters, start values and bounds are Spyral's ``create_params``: brho within ±2 T·m of the
estimate and inside the mesh; polar inside the mesh and on the estimate's side of 90°; vertex
rho in [0, beam_region_radius]; vertex z within ±0.2 m of the estimate and inside the detector;
vertex phi and azimuthal free unless switched off. Point uncertainties are Spyral's: sigma_z is
half a time bucket of drift, sigma_x and sigma_y come from the pad scale (0.5·scale·1 cm and
scale·1 cm/√3).

The objectives are Spyral's, on the point-to-trajectory distances d_i
(``trajectory.track_distances``):

- ``lbfgsb``: minimise the weighted mean distance Σ w_i d_i / Σ w_i (w = 1/sigma²) with L-BFGS-B.
  ``redchisq`` is that final mean distance in m, as Spyral writes it.
- ``leastsq``: minimise Σ (d_i/sigma_i)² with a bounded trust-region least-squares method (scipy's
  ``least_squares``, ``trf``). ``redchisq`` = Σ (d_i/sigma_i)² / (N - number of free parameters).

Deliberate differences from Spyral, each for accuracy or speed:
- scipy is driven directly with the exact gradient/Jacobian of the distances, instead of lmfit
  with finite differences (lmfit re-evaluates its parameter expressions and bound transforms on
  every call); L-BFGS-B uses its native bounds, and ``leastsq`` uses bounded trust-region
  reflective least squares where Spyral runs MINPACK Levenberg-Marquardt through lmfit's bound
  transformation;
- with both vertex rho and phi free, the optimisers move the vertex in Cartesian coordinates
  through a smooth map of the plane onto the beam-region disk, v = R·tanh(|w|)·w/|w|. Spyral's
  (rho, phi) are singular at the beam axis: near rho = 0 a step in phi hardly moves the vertex,
  and fits that pass close to the axis got stuck there (seen on synthetic tracks). The constraint
  rho < beam_region_radius is the same;
- the periodic parameters (vertex phi, azimuthal) may move by ±π around their start instead of
  being walled in [0, 2π], so a track near azimuth 0 can cross it; the azimuthal angle is written
  wrapped into [0, 2π);
- a start outside the bounds (vertex z outside the detector, vertex rho outside the beam region)
  is moved onto the nearest bound, where lmfit would fail on inverted bounds;
- optional trimmed chi-square (``SolverParameters.leastsq_trim``, off by default): with
  ``leastsq``, the least-distance fit first, then the chi-square of the points within
  leastsq_trim x that fit's median point distance, started from it. A cluster that holds some
  points of another track (a recoil's from the vertex) pulls the plain chi-square by degrees,
  where the least-distance fit is barely moved (tests/interp_solver/test_interp_fit.py: KE 2-9 %
  and polar 1.5-6 deg off against 0.04-0.4 % and 0.03-0.1 deg); refitted without the far
  points, the chi-square keeps that robustness with its own finer resolution (0.02-0.06 %,
  0.004-0.01 deg there). For offsets across the track with a Rayleigh distribution, 3 x the
  median keeps 99.8 % of a track's own points. On the physics matrix's five reactions
  (trim 3) the KE robust sigma is 5-12 % below ``lbfgsb``'s. The least-distance fit costs
  about as much again as the chi-square;
- optional charge weights (``SolverParameters.charge_weight_clip``, off by default): each
  point's weight times its integral over the cluster's median, clipped to [1/clip, clip].
  Diffusion spreads a track's charge over a disc of pads at each time bucket; the pads at the
  disc's edge hold little charge and sample the disc's width more than the track's place.
  Weighed as the core, they bias the fit: on attpc_engine tracks fitted from the truth the
  polar angle is low by up to 0.07 deg with diffusion (15-75 deg), within 0.013 deg without
  it, and by up to 0.023 deg with these weights (``benchmarks/diagnose_polar_bias.py``). On
  the physics matrix's five reactions (clip 3, 1000 events each, same clusters) the KE robust
  sigma is 16-37 % and the polar one 19-35 % smaller, the polar bias 0.001-0.023 deg instead
  of 0.008-0.044 deg, the vertex z robust sigma -5 to +3 %;
- optional robust loss for ``leastsq`` (``SolverParameters.leastsq_loss``, default
  ``"linear"``, Spyral's chi-square): scipy's soft-L1 (or another) loss of each residual
  d_i/sigma_i past ``leastsq_loss_scale`` sigmas: less pulled by another track's points than the
  plain chi-square, more than the trimmed one. The sigmas and ``redchisq`` are computed as for
  the linear loss;
- optional beam prior (``SolverParameters.beam_sigma``, off by default): the beam axis is one
  more measured point of the track, at the vertex, with uncertainty beam_sigma (a term
  w_b·rho_vertex with w_b = 1/beam_sigma² in the weighted mean distance, two residuals
  x_vertex/beam_sigma and y_vertex/beam_sigma in the chi-square). ``redchisq`` then includes it;
- uncertainties: for both methods ``sigma_*`` are the standard deviations of the linearised
  chi-square covariance (JᵀJ)⁻¹·redchi at the solution, where each point contributes its offset
  from the trajectory (nearest trajectory point minus the point) over its sigma: J holds the
  derivatives of the offsets' components (the trajectory's derivative at the nearest point less
  its part along the track, along which the nearest point slides) and redchi = chi-square /
  (2N - free parameters), two residuals per point across the track. The distance alone, one
  residual per point, carries only the part of a trajectory change along the offset, half of the
  information on average, while its square holds the noise of both directions: lmfit's scaled
  covariance of the distances (Spyral's ``leastsq``) overstated the sigmas about twofold. On
  noisy tracks drawn from the mesh itself (tests/interp_solver/test_interp_fit.py), the robust
  widths of (fit - truth)/sigma are 0.75 (KE), 0.85 (polar), 0.55 (vertex z) for ``leastsq``
  and 1.0, 1.15, 0.45 for ``lbfgsb``, against 0.37, 0.41, 0.24 and 0.48, 0.54, 0.21 before.
  Vertex z stays conservative on purpose: beyond the track's first point the distance does not
  see a slide of the vertex along the track, so the ends carry one-sided information, which a
  covariance cannot express; counting it (nearest points clamped to the ends as fixed) gave
  pulls of 2.5 for ``lbfgsb``. For ``lbfgsb``, whose objective is not a chi-square, the formula
  is an approximation (Spyral writes the placeholder 1e6). The ``redchisq`` column keeps the
  distance form, chi-square / (N - free parameters), for ``leastsq``. With both vertex rho and
  phi free the vertex covariance is taken in x and y (well defined at rho = 0). Parameters held
  fixed have sigma 0; a singular covariance gives NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, minimize

from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.interp_solver.mesh import TrajectoryMesh
from spyralflow.phases.interp_solver.parameters import (
    FIT_METHOD_LBFGSB,
    FIT_METHOD_LEASTSQ,
    SolverParameters,
)
from spyralflow.phases.interp_solver.trajectory import (
    AZIMUTHAL,
    BRHO,
    N_PARAMETERS,
    POLAR,
    VERTEX_PHI,
    VERTEX_RHO,
    VERTEX_X,
    VERTEX_Y,
    VERTEX_Z,
    kinetic_energy_from_brho,
    track_distances,
    track_offset_derivatives,
)

# (T·m)·Z to MeV/c (Spyral's QBRHO_2_P).
MOMENTUM_PER_BRHO_PER_CHARGE = 299.792458
BRHO_WINDOW = 2.0
VERTEX_Z_WINDOW_M = 0.2
BIG_PAD_HEIGHT_M = 0.01
# Typical size of each parameter's change in a fit (brho, polar, rho, phi, azimuthal, z); the
# optimisers work on parameters divided by these, so that their steps are comparable.
_SCALES = np.array([0.01, 0.01, 0.001, 0.1, 0.01, 0.001])
_VERTEX_STEP_M = 0.001
# |w| bound of the disk map: tanh(6) reaches the disk's edge to 1e-5.
_DISK_MAP_LIMIT = 6.0
_BRHO_BOUND_SHRINK = 1.0e-12
# A fitted brho this close (relative) to the mesh's highest one is on the edge.
_EDGE_TOLERANCE = 1.0e-6
_LBFGSB_MAX_ITERATIONS = 500
# Relative tolerances of the least-squares fit: scipy's 1e-8 cost twice the evaluations on
# simulated tracks for changes a hundred times below the fit's resolution.
_LEASTSQ_TOLERANCE = 1.0e-6


class FitSkipped(Exception):
    """A cluster cannot be fitted; ``reason`` is a short counter key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class TrackEstimate:
    """The Estimation phase's values a fit starts from.

    Parameters
    ----------
    polar, azimuthal : float
        Angles, rad.
    brho : float
        Magnetic rigidity, T·m.
    vertex_x, vertex_y, vertex_z : float
        Vertex, mm.
    """

    polar: float
    azimuthal: float
    brho: float
    vertex_x: float
    vertex_y: float
    vertex_z: float


@dataclass(frozen=True)
class FitResult:
    """A fitted track, in the units of the output (m, T·m, MeV, rad).

    The fields are the output columns from ``vertex_x`` to ``redchisq`` (see the output module),
    plus the optimiser's verdict.
    """

    vertex_x: float
    sigma_vx: float
    vertex_y: float
    sigma_vy: float
    vertex_z: float
    sigma_vz: float
    brho: float
    sigma_brho: float
    ke: float
    sigma_ke: float
    polar: float
    sigma_polar: float
    azimuthal: float
    sigma_azimuthal: float
    redchisq: float
    converged: bool
    evaluations: int


def point_sigmas(cloud: np.ndarray, det_params: DetectorParameters) -> np.ndarray:
    """Spyral's per-point position uncertainty (m) of a cluster's (N, 5) cloud."""
    z_error = (
        det_params.detector_length
        / (det_params.window_time_bucket - det_params.micromegas_time_bucket)
        * 0.001
        * 0.5
    )
    scale = cloud[:, 4]
    x_error = scale * BIG_PAD_HEIGHT_M * 0.5
    y_error = scale * BIG_PAD_HEIGHT_M / math.sqrt(3.0)
    return np.sqrt(x_error**2 + y_error**2 + z_error**2)


def charge_weight_factors(charge: np.ndarray, clip: float) -> np.ndarray:
    """Per-point weight factors from the points' charge (``SolverParameters.charge_weight_clip``).

    The charge over the cluster's median charge, clipped to [1/clip, clip], scaled to a mean of
    1. A cluster without positive median charge gets factors of 1.
    """
    median = float(np.median(charge)) if charge.size else 0.0
    if not median > 0.0:
        return np.ones(charge.shape)
    factors = np.clip(charge / median, 1.0 / clip, clip)
    return factors / factors.mean()


class TrackFitter:
    """Fits clusters of one particle with trajectories from one mesh.

    Parameters
    ----------
    mesh : TrajectoryMesh
        The memory-mapped mesh.
    mass : float
        Ion mass, MeV/c².
    charge : int
        Ion Z.
    solver_params : SolverParameters
        Fit method and which parameters vary.
    det_params : DetectorParameters
        Detector length, beam region and time calibration.
    """

    def __init__(
        self,
        mesh: TrajectoryMesh,
        mass: float,
        charge: int,
        solver_params: SolverParameters,
        det_params: DetectorParameters,
    ) -> None:
        self.mesh = mesh
        self.mass = float(mass)
        self.momentum_per_brho = MOMENTUM_PER_BRHO_PER_CHARGE * int(charge)
        self.method = solver_params.fit_method
        self.loss = solver_params.leastsq_loss
        self.loss_scale = solver_params.leastsq_loss_scale
        self.trim = solver_params.leastsq_trim
        self.charge_weight_clip = solver_params.charge_weight_clip
        self.det_params = det_params
        self.beam_sigma_m = (
            None if solver_params.beam_sigma is None else solver_params.beam_sigma * 0.001
        )
        self.vary = np.array(
            [
                True,
                True,
                solver_params.fit_vertex_rho,
                solver_params.fit_vertex_phi,
                solver_params.fit_azimuthal,
                True,
            ]
        )
        self.brho_low = self._brho(mesh.ke_min) * (1.0 + _BRHO_BOUND_SHRINK)
        self.brho_high = self._brho(mesh.ke_max) * (1.0 - _BRHO_BOUND_SHRINK)

    def _brho(self, kinetic_energy: float) -> float:
        momentum = math.sqrt(kinetic_energy * (kinetic_energy + 2.0 * self.mass))
        return momentum / self.momentum_per_brho

    def at_energy_edge(self, brho: float) -> bool:
        """Whether a fitted ``brho`` (T·m) lies on the mesh's highest-energy bound."""
        return brho >= self.brho_high * (1.0 - _EDGE_TOLERANCE)

    def kinetic_energy(self, brho: float) -> float:
        """Kinetic energy (MeV) of the ion at rigidity ``brho`` (T·m)."""
        return kinetic_energy_from_brho(brho, self.mass, self.momentum_per_brho)

    def start_and_bounds(
        self, estimate: TrackEstimate
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start values and bounds of P = (brho, polar, vertex rho, vertex phi, azimuthal, z).

        Raises
        ------
        FitSkipped
            ``outside_mesh`` when the estimate's kinetic energy or polar angle is outside the
            mesh (as Spyral's range check), ``invalid_estimate`` when it is not finite.
        """
        values = (
            estimate.polar,
            estimate.azimuthal,
            estimate.brho,
            estimate.vertex_x,
            estimate.vertex_y,
            estimate.vertex_z,
        )
        if not all(math.isfinite(value) for value in values):
            raise FitSkipped("invalid_estimate", f"non-finite estimate {values}")
        energy = self.kinetic_energy(estimate.brho)
        if not self.mesh.contains(energy, estimate.polar):
            raise FitSkipped(
                "outside_mesh",
                f"estimate KE {energy:.4g} MeV, polar {math.degrees(estimate.polar):.4g} deg",
            )
        length_m = self.det_params.detector_length * 0.001
        radius_m = self.det_params.beam_region_radius * 0.001
        polar_low, polar_high = self.mesh.polar_min, self.mesh.polar_max
        if estimate.polar > 0.5 * math.pi:
            polar_low = max(polar_low, 0.5 * math.pi)
        elif estimate.polar < 0.5 * math.pi:
            polar_high = min(polar_high, 0.5 * math.pi)
        rho = min(math.hypot(estimate.vertex_x, estimate.vertex_y) * 0.001, radius_m)
        phi = math.atan2(estimate.vertex_y, estimate.vertex_x) % (2.0 * math.pi)
        z = min(max(estimate.vertex_z * 0.001, 0.0), length_m)
        start = np.array([estimate.brho, estimate.polar, rho, phi, estimate.azimuthal, z])
        low = np.array(
            [
                max(estimate.brho - BRHO_WINDOW, self.brho_low),
                polar_low,
                0.0,
                phi - math.pi,
                estimate.azimuthal - math.pi,
                max(z - VERTEX_Z_WINDOW_M, 0.0),
            ]
        )
        high = np.array(
            [
                min(estimate.brho + BRHO_WINDOW, self.brho_high),
                polar_high,
                radius_m,
                phi + math.pi,
                estimate.azimuthal + math.pi,
                min(z + VERTEX_Z_WINDOW_M, length_m),
            ]
        )
        return np.clip(start, low, high), low, high

    def _distances(self, parameters: np.ndarray, points: np.ndarray, with_jacobian: bool):
        return track_distances(
            parameters,
            points,
            *self.mesh.kernel_arguments,
            self.mass,
            self.momentum_per_brho,
            with_jacobian,
        )

    def _offset_derivatives(self, parameters: np.ndarray, points: np.ndarray):
        return track_offset_derivatives(
            parameters, points, *self.mesh.kernel_arguments, self.mass, self.momentum_per_brho
        )

    def fit(self, cloud: np.ndarray, estimate: TrackEstimate) -> FitResult:
        """Fit one cluster.

        Parameters
        ----------
        cloud : numpy.ndarray
            (N, 5) cluster points [x, y, z (mm), integral, pad scale], sorted along z.
        estimate : TrackEstimate
            Where the fit starts.

        Raises
        ------
        FitSkipped
            When the cluster cannot be fitted (``outside_mesh``, ``invalid_estimate``,
            ``too_few_points``, ``fit_failed``).
        """
        start, low, high = self.start_and_bounds(estimate)
        free = self.vary & (high > low)
        n_free = int(free.sum())
        points = np.ascontiguousarray(cloud[:, :3], dtype=np.float64) * 0.001
        finite = np.all(np.isfinite(cloud[:, :5]), axis=1)
        points = points[finite]
        sigmas = point_sigmas(cloud[finite], self.det_params)
        if self.charge_weight_clip is not None:
            # A weight w·f is a sigma over sqrt(f).
            sigmas = sigmas / np.sqrt(
                charge_weight_factors(cloud[finite, 3], self.charge_weight_clip)
            )
        if points.shape[0] <= n_free:
            raise FitSkipped("too_few_points", f"{points.shape[0]} points, {n_free} parameters")
        problem = _Problem(self, points, sigmas, start, low, high, free)
        scaled_low, scaled_high = problem.scaled_bounds()
        if self.method == FIT_METHOD_LBFGSB or self.trim is not None:
            solution = minimize(
                problem.mean_distance_mm,
                problem.scaled_start(),
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(scaled_low, scaled_high, strict=True)),
                options={"maxiter": _LBFGSB_MAX_ITERATIONS, "maxfun": 2000 * (n_free + 1)},
            )
        if self.method == FIT_METHOD_LEASTSQ:
            x0 = problem.scaled_start()
            if self.trim is not None:
                # The least-distance fit is robust to another track's points; the chi-square
                # then refits the points within trim x its median distance, from there.
                distances = problem.distances(solution.x)
                kept = distances <= self.trim * np.median(distances)
                if kept.sum() > n_free:
                    problem = _Problem(self, points[kept], sigmas[kept], start, low, high, free)
                x0 = np.clip(solution.x, scaled_low, scaled_high)
            solution = least_squares(
                problem.residuals,
                x0,
                jac=problem.residual_jacobian,
                bounds=(scaled_low, scaled_high),
                method="trf",
                loss=self.loss,
                f_scale=self.loss_scale,
                ftol=_LEASTSQ_TOLERANCE,
                xtol=_LEASTSQ_TOLERANCE,
            )
        return problem.result(solution.x, bool(solution.success))


@dataclass(frozen=True)
class _Evaluation:
    """One evaluation of a fit's model; derivatives are in the scaled free parameters."""

    inside: bool
    distances: np.ndarray
    derivatives: np.ndarray
    vertex: np.ndarray
    vertex_derivatives: np.ndarray


def disk_map(w: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertex (x, y) = radius·tanh(|w|)·w/|w| in the open disk, and its 2x2 Jacobian in w."""
    norm = math.hypot(w[0], w[1])
    if norm < 1.0e-6:
        # Series: tanh(r)/r = 1 - r²/3, and its derivative over r = -2/3.
        ratio, ratio_slope = 1.0 - norm**2 / 3.0, -2.0 / 3.0
    else:
        tanh = math.tanh(norm)
        ratio = tanh / norm
        ratio_slope = ((1.0 - tanh**2) * norm - tanh) / norm**3
    jacobian = radius * (ratio * np.eye(2) + ratio_slope * np.outer(w, w))
    return radius * ratio * np.asarray(w, float), jacobian


def disk_unmap(x: float, y: float, radius: float) -> np.ndarray:
    """The w of a vertex (x, y) strictly inside the disk (the inverse of ``disk_map``)."""
    rho = math.hypot(x, y)
    if rho == 0.0:
        return np.zeros(2)
    norm = math.atanh(min(rho / radius, math.tanh(_DISK_MAP_LIMIT)))
    return np.array([x, y]) * norm / rho


class _Problem:
    """One cluster's fit: the objectives in scaled free parameters, and the final result.

    The optimisers see Q, which is P (brho, polar, vertex rho, vertex phi, azimuthal, z) except
    that with both vertex coordinates free, entries 2 and 3 hold the disk-map coordinates w of the
    vertex. Only the free entries of Q, divided by their scales, are varied.
    """

    def __init__(
        self,
        fitter: TrackFitter,
        points: np.ndarray,
        sigmas: np.ndarray,
        start: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        free: np.ndarray,
    ) -> None:
        self.fitter = fitter
        self.points = points
        self.sigmas = sigmas
        self.weights = 1.0 / sigmas**2
        self.weight_sum = float(self.weights.sum())
        self.radius = float(high[VERTEX_RHO])
        self.disk = bool(free[VERTEX_RHO] and free[VERTEX_PHI] and self.radius > 0.0)
        scales = _SCALES.copy()
        self.start = start.copy()
        self.low, self.high = low.copy(), high.copy()
        if self.disk:
            rho, phi = start[VERTEX_RHO], start[VERTEX_PHI]
            self.start[[VERTEX_RHO, VERTEX_PHI]] = disk_unmap(
                rho * math.cos(phi), rho * math.sin(phi), self.radius
            )
            self.low[[VERTEX_RHO, VERTEX_PHI]] = -_DISK_MAP_LIMIT
            self.high[[VERTEX_RHO, VERTEX_PHI]] = _DISK_MAP_LIMIT
            scales[[VERTEX_RHO, VERTEX_PHI]] = _VERTEX_STEP_M / self.radius
        self.free = free
        self.n_free = int(free.sum())
        self.scales = scales[free]
        beam_sigma = fitter.beam_sigma_m
        self.prior = beam_sigma is not None and bool(free[VERTEX_RHO] or free[VERTEX_PHI])
        self.beam_sigma = beam_sigma if self.prior else math.inf
        self.beam_weight = 1.0 / self.beam_sigma**2 if self.prior else 0.0
        self.evaluations = 0
        self._cached_x: bytes | None = None
        self._cached: _Evaluation | None = None

    def scaled_start(self) -> np.ndarray:
        return self.start[self.free] / self.scales

    def scaled_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.low[self.free] / self.scales, self.high[self.free] / self.scales

    def kernel_parameters(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """P of the scaled free parameters x, and the disk map's Jacobian (None off the disk)."""
        q = self.start.copy()
        q[self.free] = np.asarray(x) * self.scales
        if not self.disk:
            return q, None
        vertex, jacobian = disk_map(q[[VERTEX_RHO, VERTEX_PHI]], self.radius)
        q[VERTEX_RHO] = math.hypot(vertex[0], vertex[1])
        q[VERTEX_PHI] = math.atan2(vertex[1], vertex[0])
        return q, jacobian

    def vertex_and_derivatives(
        self, parameters: np.ndarray, disk_jacobian: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vertex (x, y) in m and its (2, free) derivatives in the scaled free parameters."""
        rho, phi = parameters[VERTEX_RHO], parameters[VERTEX_PHI]
        cos_v, sin_v = math.cos(phi), math.sin(phi)
        derivatives = np.zeros((2, N_PARAMETERS))
        if disk_jacobian is not None:
            derivatives[:, [VERTEX_RHO, VERTEX_PHI]] = disk_jacobian
        else:
            derivatives[:, VERTEX_RHO] = (cos_v, sin_v)
            derivatives[:, VERTEX_PHI] = (-rho * sin_v, rho * cos_v)
        vertex = np.array([rho * cos_v, rho * sin_v])
        return vertex, derivatives[:, self.free] * self.scales

    def _evaluate(self, x: np.ndarray) -> _Evaluation:
        """Distances (m), the vertex, and their derivatives in the scaled free parameters."""
        key = np.asarray(x, float).tobytes()
        if key != self._cached_x:
            self.evaluations += 1
            parameters, disk_jacobian = self.kernel_parameters(x)
            inside, distances, jacobian = self.fitter._distances(parameters, self.points, True)
            derivatives = jacobian[:, :N_PARAMETERS].copy()
            if disk_jacobian is not None:
                derivatives[:, [VERTEX_RHO, VERTEX_PHI]] = (
                    jacobian[:, [VERTEX_X, VERTEX_Y]] @ disk_jacobian
                )
            vertex, vertex_derivatives = self.vertex_and_derivatives(parameters, disk_jacobian)
            self._cached = _Evaluation(
                inside,
                distances,
                derivatives[:, self.free] * self.scales,
                vertex,
                vertex_derivatives,
            )
            self._cached_x = key
        return self._cached

    def mean_distance_mm(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted mean distance (mm) and its gradient in the scaled free parameters.

        With a beam prior the beam axis counts as one more point, at the vertex, with weight
        1/beam_sigma²: its distance is the vertex's distance from the axis.
        """
        evaluation = self._evaluate(x)
        if not evaluation.inside:
            # Cannot happen within the bounds; a large flat value keeps L-BFGS-B away.
            return 1.0e9, np.zeros(self.n_free)
        total = float(self.weights @ evaluation.distances)
        gradient = self.weights @ evaluation.derivatives
        rho = math.hypot(*evaluation.vertex)
        if self.prior:
            total += self.beam_weight * rho
            if rho > 0.0:
                gradient = (
                    gradient
                    + self.beam_weight * (evaluation.vertex / rho) @ evaluation.vertex_derivatives
                )
        normalisation = 1000.0 / (self.weight_sum + self.beam_weight)
        return total * normalisation, gradient * normalisation

    def distances(self, x: np.ndarray) -> np.ndarray:
        """Each point's distance (m) from the trajectory of the scaled free parameters x."""
        return self._evaluate(x).distances

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Distances in units of the point uncertainties (then the vertex / beam_sigma)."""
        evaluation = self._evaluate(x)
        if not evaluation.inside:
            return np.full(self.points.shape[0] + 2 * self.prior, 1.0e6)
        scaled = evaluation.distances / self.sigmas
        if self.prior:
            scaled = np.concatenate([scaled, evaluation.vertex / self.beam_sigma])
        return scaled

    def residual_jacobian(self, x: np.ndarray) -> np.ndarray:
        evaluation = self._evaluate(x)
        if not evaluation.inside:
            return np.zeros((self.points.shape[0] + 2 * self.prior, self.n_free))
        jacobian = evaluation.derivatives / self.sigmas[:, None]
        if self.prior:
            jacobian = np.vstack([jacobian, evaluation.vertex_derivatives / self.beam_sigma])
        return jacobian

    def result(self, x: np.ndarray, converged: bool) -> FitResult:
        fitter = self.fitter
        parameters, _ = self.kernel_parameters(x)
        # The covariance takes each point's offset across the track (two residuals per point),
        # not its distance alone (one): see the module docstring.
        inside, distances, derivatives = fitter._offset_derivatives(parameters, self.points)
        if not inside or not np.all(np.isfinite(distances)):
            raise FitSkipped("fit_failed", "the solution is outside the mesh")
        rho, phi = parameters[VERTEX_RHO], parameters[VERTEX_PHI]
        offset_jacobian = (derivatives / self.sigmas[:, None, None]).reshape(
            -1, derivatives.shape[2]
        )
        chi_square = float(np.sum((distances / self.sigmas) ** 2))
        mean_distance = float(self.weights @ distances)
        n_residuals = self.points.shape[0]
        n_offset_residuals = 2 * self.points.shape[0]
        if self.prior:
            chi_square += (rho / self.beam_sigma) ** 2
            mean_distance += self.beam_weight * rho
            n_residuals += 2
            n_offset_residuals += 2
            offset_jacobian = np.vstack(
                [offset_jacobian, _beam_prior_rows(rho, phi, self.beam_sigma)]
            )
        reduced_chi_square = chi_square / (n_residuals - self.n_free)
        if fitter.method == FIT_METHOD_LBFGSB:
            quality = mean_distance / (self.weight_sum + self.beam_weight)
        else:
            quality = reduced_chi_square
        sigmas = _parameter_sigmas(
            parameters,
            offset_jacobian,
            self.free,
            chi_square / (n_offset_residuals - self.n_free),
        )
        brho = float(parameters[BRHO])
        momentum = brho * fitter.momentum_per_brho
        energy_per_brho = (
            fitter.momentum_per_brho * momentum / math.sqrt(momentum**2 + fitter.mass**2)
        )
        return FitResult(
            vertex_x=float(rho * math.cos(phi)),
            sigma_vx=sigmas["vertex_x"],
            vertex_y=float(rho * math.sin(phi)),
            sigma_vy=sigmas["vertex_y"],
            vertex_z=float(parameters[VERTEX_Z]),
            sigma_vz=sigmas["vertex_z"],
            brho=brho,
            sigma_brho=sigmas["brho"],
            ke=fitter.kinetic_energy(brho),
            sigma_ke=abs(energy_per_brho) * sigmas["brho"],
            polar=float(parameters[POLAR]),
            sigma_polar=sigmas["polar"],
            azimuthal=float(parameters[AZIMUTHAL] % (2.0 * math.pi)),
            sigma_azimuthal=sigmas["azimuthal"],
            redchisq=quality,
            converged=converged,
            evaluations=self.evaluations,
        )


def _beam_prior_rows(rho: float, phi: float, beam_sigma: float) -> np.ndarray:
    """The beam prior's residuals (vertex x and y over beam_sigma) as Jacobian rows (2, 8)."""
    rows = np.zeros((2, 8))
    cos_v, sin_v = math.cos(phi), math.sin(phi)
    rows[0, [VERTEX_RHO, VERTEX_PHI, VERTEX_X]] = (cos_v, -rho * sin_v, 1.0)
    rows[1, [VERTEX_RHO, VERTEX_PHI, VERTEX_Y]] = (sin_v, rho * cos_v, 1.0)
    return rows / beam_sigma


def _parameter_sigmas(
    parameters: np.ndarray, jacobian: np.ndarray, free: np.ndarray, reduced_chi_square: float
) -> dict[str, float]:
    """Standard deviations from the scaled covariance (JᵀJ)⁻¹·redchi of the residuals.

    ``jacobian`` is (rows, 8): derivatives of the residuals (the points' offset components over
    their sigmas, then any beam-prior rows) with respect to P, then to the vertex x and y.
    """
    rho, phi = float(parameters[VERTEX_RHO]), float(parameters[VERTEX_PHI])
    cos_v, sin_v = math.cos(phi), math.sin(phi)
    columns: list[np.ndarray] = []
    names: list[str] = []
    for index, name in (
        (BRHO, "brho"),
        (POLAR, "polar"),
        (AZIMUTHAL, "azimuthal"),
        (VERTEX_Z, "vertex_z"),
    ):
        if free[index]:
            columns.append(jacobian[:, index])
            names.append(name)
    rho_free, phi_free = bool(free[VERTEX_RHO]), bool(free[VERTEX_PHI])
    if rho_free and phi_free:
        columns += [jacobian[:, VERTEX_X], jacobian[:, VERTEX_Y]]
        names += ["vertex_x", "vertex_y"]
    elif rho_free:
        columns.append(jacobian[:, VERTEX_RHO])
        names.append("vertex_rho")
    elif phi_free:
        columns.append(jacobian[:, VERTEX_PHI])
        names.append("vertex_phi")
    sigmas = dict.fromkeys(("brho", "polar", "azimuthal", "vertex_z", "vertex_x", "vertex_y"), 0.0)
    if not columns:
        return sigmas
    matrix = np.column_stack(columns)
    curvature = matrix.T @ matrix
    try:
        covariance = np.linalg.inv(curvature) * reduced_chi_square
    except np.linalg.LinAlgError:
        covariance = np.full_like(curvature, np.nan)
    variances = np.diag(covariance)
    deviation = {
        name: (math.sqrt(v) if v >= 0.0 else math.nan)
        for name, v in zip(names, variances, strict=True)
    }
    for name in ("brho", "polar", "azimuthal", "vertex_z", "vertex_x", "vertex_y"):
        if name in deviation:
            sigmas[name] = deviation[name]
    if "vertex_rho" in deviation:
        sigmas["vertex_x"] = abs(cos_v) * deviation["vertex_rho"]
        sigmas["vertex_y"] = abs(sin_v) * deviation["vertex_rho"]
    if "vertex_phi" in deviation:
        sigmas["vertex_x"] = rho * abs(sin_v) * deviation["vertex_phi"]
        sigmas["vertex_y"] = rho * abs(cos_v) * deviation["vertex_phi"]
    return sigmas
