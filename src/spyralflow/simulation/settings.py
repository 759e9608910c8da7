"""Settings of the simulation step: the config's ``simulation`` block as dataclasses.

Every field has the default of the shipped example, 16C(d,d')16C at 184.131 MeV in 300 Torr of
D2 with the AT-TPC fields and electronics of attpc_engine's getting-started guide. The JSON schema
(``workflow/schemas/config.schema.yaml``, ``$defs.simulation``) states the same defaults; a test
keeps them equal. Lengths are in mm, as everywhere in the pipeline's parameters (attpc_engine itself
works in metres; :mod:`.engine` converts).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spyralflow.framework.parameters import ParameterError, build_constructor_arguments

MERGER_1_0 = "libattpc_merger:1.0"
MERGER_2_0 = "libattpc_merger:2.0"
TRACE_FORMATS = (MERGER_1_0, MERGER_2_0)


class SimulationSettingsError(ValueError):
    """The simulation settings are inconsistent; the message names the key."""


@dataclass(frozen=True)
class ExcitationState:
    """One populated state of the reaction residual.

    Parameters
    ----------
    energy : float
        Excitation energy in MeV.
    width : float
        Full width at half maximum of the (Gaussian) state, in MeV.
    weight : float
        Relative population; the weights of all states are normalised to 1.
    """

    energy: float = 0.0
    width: float = 0.001
    weight: float = 1.0


def _default_excitations() -> tuple[ExcitationState, ...]:
    return (ExcitationState(0.0, 0.001, 0.5), ExcitationState(1.766, 0.001, 0.5))


@dataclass(frozen=True)
class ReactionSettings:
    """The reaction target(projectile, ejectile)residual and its phase space.

    Parameters
    ----------
    target : tuple[int, int]
        Target nucleus as (Z, A); the gas nucleus the beam hits.
    projectile : tuple[int, int]
        Beam nucleus as (Z, A).
    ejectile : tuple[int, int]
        Outgoing nucleus whose centre-of-mass angle is sampled, as (Z, A).
    beam_energy : float
        Beam kinetic energy at the entrance window (z = 0), in MeV. The beam loses energy in the
        gas (mean loss, no straggling) before the vertex.
    excitations : tuple[ExcitationState, ...]
        States of the residual, sampled by weight.
    polar_range : tuple[float, float]
        Centre-of-mass polar angle range of the ejectile in degrees, sampled uniformly in cos.
    vertex_z_range : tuple[float, float]
        Range of the vertex z in mm from the window (uniform).
    vertex_rho_sigma : float
        Standard deviation in mm of the normal distribution whose absolute value is the vertex
        distance from the beam axis.
    """

    target: tuple[int, int] = (1, 2)
    projectile: tuple[int, int] = (6, 16)
    ejectile: tuple[int, int] = (1, 2)
    beam_energy: float = 184.131
    excitations: tuple[ExcitationState, ...] = field(default_factory=_default_excitations)
    polar_range: tuple[float, float] = (0.0, 180.0)
    vertex_z_range: tuple[float, float] = (0.0, 1000.0)
    vertex_rho_sigma: float = 7.0

    def __post_init__(self) -> None:
        # The config gives lists (JSON); keep tuples so the settings stay immutable and hashable.
        states = tuple(
            state if isinstance(state, ExcitationState) else _build(ExcitationState, state, key)
            for key, state in (
                (f"reaction.excitations[{index}]", state)
                for index, state in enumerate(self.excitations)
            )
        )
        object.__setattr__(self, "excitations", states)
        for name in ("target", "projectile", "ejectile", "polar_range", "vertex_z_range"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not states:
            raise SimulationSettingsError(
                "simulation.reaction.excitations: give at least one state"
            )
        if sum(state.weight for state in states) <= 0.0:
            raise SimulationSettingsError(
                "simulation.reaction.excitations: the weights must add up to more than 0"
            )


@dataclass(frozen=True)
class GasSettings:
    """The gas filling the detector (a spyral-utils ``GasTarget``).

    Parameters
    ----------
    compound : tuple[tuple[int, int, int], ...]
        Elements of the gas molecule as (Z, A, number of atoms); D2 is ``[[1, 2, 2]]``.
    pressure : float
        Gas pressure in Torr.
    """

    compound: tuple[tuple[int, int, int], ...] = ((1, 2, 2),)
    pressure: float = 300.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "compound", tuple(tuple(element) for element in self.compound))


@dataclass(frozen=True)
class DetectorSettings:
    """Fields, geometry and gas amplification of the simulated AT-TPC.

    Parameters
    ----------
    magnetic_field : float
        Solenoid field in T (along the beam axis).
    electric_field : float
        Drift field in V/m.
    detector_length : float
        Drift length in mm.
    mpgd_gain : int
        Electron gain of the micro-pattern gas detectors (micromegas).
    diffusion : float
        Transverse diffusion coefficient in V.
    fano_factor : float
        Fano factor of the gas.
    w_value : float
        Mean energy per electron-ion pair in eV.
    """

    magnetic_field: float = 2.85
    electric_field: float = 45000.0
    detector_length: float = 1000.0
    mpgd_gain: int = 175000
    diffusion: float = 0.277
    fano_factor: float = 0.2
    w_value: float = 34.0


@dataclass(frozen=True)
class ElectronicsSettings:
    """The GET electronics of the simulated detector.

    Parameters
    ----------
    get_frequency : float
        GET sampling frequency in MHz.
    amplifier_gain : int
        GET amplifier gain in ADC channels (lsb) per fC.
    shaping_time : int
        GET shaping time in ns.
    micromegas_time_bucket : int
        Time bucket of electrons created at the micromegas (z = detector length).
    window_time_bucket : int
        Time bucket of electrons created at the entrance window (z = 0).
    adc_threshold : int
        Points of the engine's point clouds need an amplitude above this (ADC); a pad's trace
        is written only if its noiseless signal peak is above it (zero suppression).
    """

    get_frequency: float = 6.25
    amplifier_gain: int = 900
    shaping_time: int = 1000
    micromegas_time_bucket: int = 10
    window_time_bucket: int = 560
    adc_threshold: int = 10


@dataclass(frozen=True)
class TraceSettings:
    """How the raw GET traces are written.

    Parameters
    ----------
    format : str
        Trace file layout: ``libattpc_merger:1.0`` or ``libattpc_merger:2.0``.
    baseline : float
        Mean baseline of the traces in ADC channels.
    baseline_spread : float
        Standard deviation of the per-pad baseline around ``baseline``, in ADC channels.
    noise_sigma : float
        Standard deviation of the white electronic noise per sample, in ADC channels.
    pad_time_offsets_path : Path or None
        CSV file of per-pad time offsets in time buckets (one header line, then one value per pad
        in pad order: Spyral's ``pad_time_correction.csv`` layout). The Pointcloud phase adds the
        offset to a peak's time, so each pad's signal is written that much earlier. None: no
        offsets.
    """

    format: str = MERGER_2_0
    baseline: float = 300.0
    baseline_spread: float = 10.0
    noise_sigma: float = 4.0
    pad_time_offsets_path: Path | None = None

    def __post_init__(self) -> None:
        if self.format not in TRACE_FORMATS:
            raise SimulationSettingsError(
                f"simulation.traces.format: '{self.format}' is not one of "
                f"{', '.join(TRACE_FORMATS)}"
            )
        if self.noise_sigma < 0.0 or self.baseline_spread < 0.0:
            raise SimulationSettingsError(
                "simulation.traces: noise_sigma and baseline_spread must not be negative"
            )


@dataclass(frozen=True)
class SimulationSettings:
    """Everything one simulated run needs.

    Parameters
    ----------
    enabled : bool
        Whether the workflow simulates its input runs (read by the workflow, not by the step).
    events_per_run : int
        Kinematics events sampled per run; event numbers are 0 … events_per_run - 1.
    particles : tuple[int, ...] or None
        Rows of the kinematics (0 target, 1 projectile, 2 ejectile, 3 residual, then decay
        products) sent through the detector. None (the default): every final-state nucleus, as
        the engine does; ``[2]`` simulates the ejectile only.
    reaction : ReactionSettings
        The reaction and its phase space.
    gas : GasSettings
        The detector gas.
    detector : DetectorSettings
        Fields, geometry and gas gain.
    electronics : ElectronicsSettings
        GET electronics.
    traces : TraceSettings
        Raw trace layout, baseline and noise.
    """

    enabled: bool = True
    events_per_run: int = 200
    particles: tuple[int, ...] | None = None
    reaction: ReactionSettings = field(default_factory=ReactionSettings)
    gas: GasSettings = field(default_factory=GasSettings)
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    electronics: ElectronicsSettings = field(default_factory=ElectronicsSettings)
    traces: TraceSettings = field(default_factory=TraceSettings)

    def __post_init__(self) -> None:
        if self.particles is not None:
            object.__setattr__(self, "particles", tuple(int(row) for row in self.particles))
        if self.events_per_run < 0:
            raise SimulationSettingsError("simulation.events_per_run must not be negative")

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> SimulationSettings:
        """Build the settings from the config block (plain JSON values); missing keys default.

        Raises
        ------
        SimulationSettingsError
            An unknown key or an invalid value, named with its key path.
        """
        return _build(cls, values or {}, "simulation")

    def to_mapping(self) -> dict[str, Any]:
        """The settings as plain JSON values (for provenance)."""
        return _plain(asdict(self))


def _build(cls: type, values: dict[str, Any], key: str) -> Any:
    if not isinstance(values, dict):
        raise SimulationSettingsError(f"{key}: expected a mapping, got {values!r}")
    try:
        return cls(**build_constructor_arguments(cls, values))
    except ParameterError as error:
        raise SimulationSettingsError(f"{key}: {error}") from error
    except TypeError as error:
        raise SimulationSettingsError(f"{key}: {error}") from error


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value
