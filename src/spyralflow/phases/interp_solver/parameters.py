"""Parameters of the InterpSolver phase (Spyral's ``SolverParameters``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIT_METHOD_LBFGSB = "lbfgsb"
FIT_METHOD_LEASTSQ = "leastsq"
FIT_METHODS = (FIT_METHOD_LBFGSB, FIT_METHOD_LEASTSQ)
# scipy.optimize.least_squares losses; "linear" is the plain chi-square (Spyral's leastsq).
LEASTSQ_LOSSES = ("linear", "soft_l1", "huber", "cauchy", "arctan")


class SolverParameterError(ValueError):
    """A solver parameter is out of its allowed range; the message names it."""


@dataclass(frozen=True)
class SolverParameters:
    """What the InterpSolver phase gates, meshes and fits.

    Defaults are Spyral's README values, except the gas and particle-ID files, which point at the
    files shipped in ``config/targets/`` (300 Torr D2, deuterons).

    Parameters
    ----------
    gas_data_path : Path
        spyral-utils gas target JSON: a GasTarget (``compound`` [[Z, A, S], ...] and
        ``pressure(Torr)``) or a GasMixtureTarget (``components``, ``volume_fractions``,
        ``pressure(Torr)``).
    particle_id_filename : Path
        Particle-ID gate JSON (``name``, ``vertices`` [[x, y], ...], ``Z``, ``A``, optional
        ``xaxis``/``yaxis`` columns, used only when both are given). The gate selects the
        estimation rows to fit; Z and A set the particle of the mesh and the fit.
    ic_min_val, ic_max_val : float or None
        Ion-chamber amplitude window: rows are kept when ``ic_min_val < ic_amplitude <
        ic_max_val`` (strict, as Spyral). None removes that side of the gate; both None disables
        the IC gate, which simulated data needs (attpc_engine writes ``ic_amplitude = -1``).
    n_time_steps : int
        Time samples per mesh trajectory (at least 2).
    interp_ke_min, interp_ke_max : float
        Kinetic-energy range of the mesh, MeV (``0 < min < max``).
    interp_ke_bins : int
        Kinetic-energy grid points of the mesh, both ends included (at least 2).
    interp_polar_min, interp_polar_max : float
        Polar-angle range of the mesh, degrees (``0 <= min < max <= 180``).
    interp_polar_bins : int
        Polar-angle grid points of the mesh, both ends included (at least 2).
    fit_vertex_rho : bool
        Vary the vertex distance from the beam axis.
    fit_vertex_phi : bool
        Vary the vertex azimuth about the beam axis.
    fit_azimuthal : bool
        Vary the track's azimuthal angle.
    fit_method : str
        ``"lbfgsb"`` (minimise the weighted mean distance of the points to the trajectory) or
        ``"leastsq"`` (minimise the chi-square of the distances); see the fit module.
    beam_sigma : float or None
        Transverse spread of the beam, mm (not in Spyral). When set, the beam axis enters the
        fit as one more measured point at the vertex with this uncertainty, which keeps the
        vertex near the axis where the data leave it free: the first points of a track are
        usually centimetres from the axis (beam pads), so the vertex can otherwise slide along
        the track, worst for forward tracks. None (default) fits as Spyral does.
    leastsq_loss : str
        Loss of the ``leastsq`` chi-square residuals (scipy's ``least_squares``): ``"linear"``
        (default, Spyral's plain chi-square), or a robust loss (``"soft_l1"``, ``"huber"``,
        ``"cauchy"``, ``"arctan"``; not in Spyral) under which points farther than
        ``leastsq_loss_scale`` point sigmas from the trajectory (another track's points in the
        cluster) weigh as in a least-distance fit instead of quadratically.
    leastsq_loss_scale : float
        Residual (in point sigmas) where the robust loss leaves the quadratic (scipy's
        ``f_scale``; positive).
    leastsq_trim : float or None
        With ``leastsq`` (not in Spyral): a least-distance fit (``lbfgsb``) first, then the
        chi-square of the points within this many times its median point distance, started
        there. None (default): the chi-square of every point from the estimate.
    charge_weight_clip : float or None
        Weigh each point by its charge (not in Spyral): the point's weight 1/sigma² is
        multiplied by its integral over the cluster's median integral, clipped to
        [1/clip, clip] (so a few saturated pads or another track's dense points cannot
        dominate), the factors scaled to a mean of 1. The low-charge pads at the edge of a
        track's diffused charge then weigh less than the pads at its core. Must be > 1. None
        (default): every point weighs by its pad size alone, as in Spyral.
    """

    gas_data_path: Path = Path("config/targets/d2_300torr.json")
    particle_id_filename: Path = Path("config/targets/deuteron_pid.json")
    ic_min_val: float | None = 900.0
    ic_max_val: float | None = 1350.0
    n_time_steps: int = 1000
    interp_ke_min: float = 0.1
    interp_ke_max: float = 70.0
    interp_ke_bins: int = 350
    interp_polar_min: float = 2.0
    interp_polar_max: float = 88.0
    interp_polar_bins: int = 166
    fit_vertex_rho: bool = True
    fit_vertex_phi: bool = True
    fit_azimuthal: bool = True
    fit_method: str = FIT_METHOD_LBFGSB
    beam_sigma: float | None = None
    leastsq_loss: str = "linear"
    leastsq_loss_scale: float = 2.0
    leastsq_trim: float | None = None
    charge_weight_clip: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "gas_data_path", Path(self.gas_data_path))
        object.__setattr__(self, "particle_id_filename", Path(self.particle_id_filename))
        problems = list(self._problems())
        if problems:
            raise SolverParameterError("invalid SolverParameters: " + "; ".join(problems))

    def _problems(self):
        if self.fit_method not in FIT_METHODS:
            yield f"fit_method is '{self.fit_method}', expected one of {', '.join(FIT_METHODS)}"
        if self.leastsq_loss not in LEASTSQ_LOSSES:
            yield (
                f"leastsq_loss is '{self.leastsq_loss}', expected one of "
                f"{', '.join(LEASTSQ_LOSSES)}"
            )
        if self.charge_weight_clip is not None and not self.charge_weight_clip > 1.0:
            yield f"charge_weight_clip is {self.charge_weight_clip}, expected > 1 or null"
        if self.leastsq_trim is not None and not self.leastsq_trim > 1.0:
            yield f"leastsq_trim is {self.leastsq_trim}, expected > 1 or null"
        if not self.leastsq_loss_scale > 0.0:
            yield f"leastsq_loss_scale is {self.leastsq_loss_scale}, expected > 0"
        for name in ("n_time_steps", "interp_ke_bins", "interp_polar_bins"):
            if int(getattr(self, name)) < 2:
                yield f"{name} is {getattr(self, name)}, expected at least 2"
        if not 0.0 < self.interp_ke_min < self.interp_ke_max:
            yield (
                f"interp_ke_min/max are {self.interp_ke_min}/{self.interp_ke_max} MeV, "
                "expected 0 < min < max"
            )
        if not 0.0 <= self.interp_polar_min < self.interp_polar_max <= 180.0:
            yield (
                f"interp_polar_min/max are {self.interp_polar_min}/{self.interp_polar_max} deg, "
                "expected 0 <= min < max <= 180"
            )
        if self.beam_sigma is not None and not self.beam_sigma > 0.0:
            yield f"beam_sigma is {self.beam_sigma} mm, expected a positive value or null"
        if (
            self.ic_min_val is not None
            and self.ic_max_val is not None
            and self.ic_min_val >= self.ic_max_val
        ):
            yield f"ic_min_val ({self.ic_min_val}) is not below ic_max_val ({self.ic_max_val})"
