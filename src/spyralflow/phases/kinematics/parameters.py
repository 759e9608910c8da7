"""Parameters of the Kinematics phase: the reaction whose residual the phase reconstructs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spyralflow.phases.interp_solver.targets import nucleus


class ReactionParameterError(ValueError):
    """A reaction parameter is invalid; the message names it."""


def _nucleus_pair(value: object, name: str) -> tuple[int, int]:
    try:
        z, a = (int(number) for number in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ReactionParameterError(
            f"reaction_params.{name} is {value!r}, expected [Z, A]"
        ) from None
    if not 0 <= z <= a or a < 1:
        raise ReactionParameterError(f"reaction_params.{name} is [{z}, {a}], expected 0 <= Z <= A")
    try:
        nucleus(z, a)
    except KeyError as error:
        raise ReactionParameterError(f"reaction_params.{name}: {error.args[0]}") from None
    return z, a


@dataclass(frozen=True)
class ReactionParameters:
    """The reaction target(projectile, ejectile)residual of the experiment.

    The residual is what is left: Z and A of target plus projectile minus ejectile.

    Parameters
    ----------
    target : tuple[int, int]
        The gas nucleus the beam hits, as [Z, A]; at rest in the lab.
    projectile : tuple[int, int]
        The beam nucleus, as [Z, A].
    ejectile : tuple[int, int]
        The detected nucleus, as [Z, A]: the particle the InterpSolver fitted (its particle-ID
        gate's Z and A).
    beam_energy : float
        Beam kinetic energy at the entrance window (z = 0), in MeV.
    gas_data_path : Path
        spyral-utils gas target JSON of the gas the beam crosses (the solver's file).
    """

    target: tuple[int, int] = (1, 2)
    projectile: tuple[int, int] = (6, 16)
    ejectile: tuple[int, int] = (1, 2)
    beam_energy: float = 184.131
    gas_data_path: Path = Path("config/targets/d2_300torr.json")

    def __post_init__(self) -> None:
        for name in ("target", "projectile", "ejectile"):
            object.__setattr__(self, name, _nucleus_pair(getattr(self, name), name))
        object.__setattr__(self, "gas_data_path", Path(self.gas_data_path))
        if not self.beam_energy > 0.0:
            raise ReactionParameterError(
                f"reaction_params.beam_energy is {self.beam_energy} MeV, expected > 0"
            )
        if min(self.residual) < 0 or self.residual[1] < 1:
            raise ReactionParameterError(
                f"reaction_params: target {self.target} + projectile {self.projectile} - "
                f"ejectile {self.ejectile} leaves no residual nucleus"
            )
        _nucleus_pair(self.residual, "residual (target + projectile - ejectile)")

    @property
    def residual(self) -> tuple[int, int]:
        """The residual nucleus as (Z, A)."""
        return (
            self.target[0] + self.projectile[0] - self.ejectile[0],
            self.target[1] + self.projectile[1] - self.ejectile[1],
        )
