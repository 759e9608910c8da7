"""The solver's inputs defined by spyral-utils: the gas target and the particle-ID gate.

Both are read from their spyral-utils JSON formats (spyral.md section 6.1). Unlike spyral-utils,
which prints and returns None on a bad particle-ID file, every problem here raises
``TargetFileError`` naming the file and the cause.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GAS_KIND = "GasTarget"
MIXTURE_KIND = "GasMixtureTarget"
DEFAULT_PID_X_COLUMN = "dEdx"
DEFAULT_PID_Y_COLUMN = "brho"
# spyral-utils' placeholder for "no axis given" in a cut; Spyral then uses dEdx and brho.
SPYRAL_UTILS_DEFAULT_AXIS = "DefaultAxis"


class TargetFileError(ValueError):
    """A gas or particle-ID file is missing or malformed; the message names the file."""


@functools.lru_cache(maxsize=1)
def nuclear_map() -> Any:
    """spyral-utils' AME-2020 ``NuclearDataMap``, loaded once per process (about 0.3 s)."""
    from spyral_utils.nuclear import NuclearDataMap

    return NuclearDataMap()


def nucleus(z: int, a: int) -> Any:
    """spyral-utils ``NucleusData`` (mass in MeV, isotopic symbol) of (Z, A).

    Raises
    ------
    KeyError
        If the AME-2020 table has no such nucleus.
    """
    try:
        data = nuclear_map().get_data(int(z), int(a))
    except KeyError:
        data = None
    if data is None or data.A == 0:
        raise KeyError(f"no nucleus with Z={z}, A={a} in the AME-2020 table")
    return data


def _read_json(path: Path, what: str) -> dict[str, Any]:
    path = Path(path)
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        raise TargetFileError(f"{what} file {path} does not exist") from None
    except (OSError, json.JSONDecodeError) as error:
        raise TargetFileError(f"{what} file {path} cannot be read as JSON: {error}") from error
    if not isinstance(content, dict):
        raise TargetFileError(f"{what} file {path} does not hold a JSON object")
    return content


def _count(value: Any) -> int | float:
    """Atoms per molecule: an integer when whole (so 2 and 2.0 are the same gas), else a float."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _compound(value: Any, path: Path) -> list[list[float]]:
    try:
        compound = [[int(z), int(a), _count(s)] for z, a, s in value]
    except (TypeError, ValueError, OverflowError) as error:
        raise TargetFileError(
            f"gas file {path}: a compound must be a list of [Z, A, S] triples, got {value!r}"
        ) from error
    if not compound:
        raise TargetFileError(f"gas file {path}: empty compound")
    for z, a, count in compound:
        try:
            nucleus(z, a)
        except KeyError as error:
            raise TargetFileError(f"gas file {path}: {error.args[0]}") from None
        if not count > 0 or not math.isfinite(count):
            raise TargetFileError(
                f"gas file {path}: element Z={z}, A={a} has {count} atoms per molecule, "
                "expected a positive number"
            )
    return compound


def _pressure(content: dict[str, Any], path: Path) -> float:
    """The gas pressure in Torr: a finite number above zero."""
    value = content["pressure(Torr)"]
    try:
        pressure = float(value)
    except (TypeError, ValueError):
        raise TargetFileError(
            f"gas file {path}: 'pressure(Torr)' is {value!r}, expected a number of Torr"
        ) from None
    if not math.isfinite(pressure) or pressure <= 0.0:
        raise TargetFileError(
            f"gas file {path}: 'pressure(Torr)' is {pressure}; a gas needs a finite pressure "
            "above 0 Torr"
        )
    return pressure


def _fractions(value: Any, path: Path) -> list[float]:
    """Volume fractions of a mixture: finite, not negative, not all zero."""
    try:
        fractions = [float(fraction) for fraction in value]
    except (TypeError, ValueError):
        raise TargetFileError(
            f"gas file {path}: 'volume_fractions' is {value!r}, expected a list of numbers"
        ) from None
    if not all(math.isfinite(f) and f >= 0.0 for f in fractions) or sum(fractions) <= 0.0:
        raise TargetFileError(
            f"gas file {path}: 'volume_fractions' {fractions} must be finite, not negative and "
            "not all zero"
        )
    return fractions


def gas_identity(path: Path) -> dict[str, Any]:
    """The gas as plain data, normalised so equal gases compare (and hash) equal.

    Numbers are normalised (Z and A integers, S, fractions and pressure floats), so ``300`` and
    ``300.0`` Torr or a reformatted file give the same identity, and any change of material or
    pressure gives a different one.

    Raises
    ------
    TargetFileError
        If the file is missing, not JSON, a solid target, or of no spyral-utils gas format.
    """
    content = _read_json(path, "gas target")
    if "compound" in content and "pressure(Torr)" in content:
        return {
            "kind": GAS_KIND,
            "compound": _compound(content["compound"], path),
            "pressure_torr": _pressure(content, path),
        }
    if {"components", "volume_fractions", "pressure(Torr)"} <= content.keys():
        if not isinstance(content["components"], list):
            raise TargetFileError(f"gas file {path}: 'components' must be a list of compounds")
        components = [_compound(component, path) for component in content["components"]]
        fractions = _fractions(content["volume_fractions"], path)
        if len(components) != len(fractions) or not components:
            raise TargetFileError(
                f"gas file {path}: {len(components)} components but {len(fractions)} "
                "volume fractions"
            )
        return {
            "kind": MIXTURE_KIND,
            "components": components,
            "volume_fractions": fractions,
            "pressure_torr": _pressure(content, path),
        }
    if "thickness(ug/cm^2)" in content:
        raise TargetFileError(
            f"gas file {path} describes a solid target; the solver needs a gas (GasTarget) or a "
            "gas mixture (GasMixtureTarget)"
        )
    raise TargetFileError(
        f"gas file {path} is neither a spyral-utils GasTarget (keys compound, pressure(Torr)) "
        "nor a GasMixtureTarget (keys components, volume_fractions, pressure(Torr))"
    )


def load_gas_target(path: Path) -> Any:
    """The spyral-utils ``GasTarget`` or ``GasMixtureTarget`` of a gas file.

    Raises
    ------
    TargetFileError
        As ``gas_identity``, or when an element of the gas is not in the mass table.
    """
    from spyral_utils.nuclear.target import GasMixtureTarget, GasTarget

    identity = gas_identity(path)
    try:
        if identity["kind"] == GAS_KIND:
            return GasTarget(identity["compound"], identity["pressure_torr"], nuclear_map())
        return GasMixtureTarget(
            identity["components"],
            identity["volume_fractions"],
            identity["pressure_torr"],
            nuclear_map(),
        )
    except KeyError as error:
        raise TargetFileError(f"gas file {path}: unknown isotope ({error})") from error


@dataclass(frozen=True)
class ParticleGate:
    """A particle-ID gate: a polygon on two estimation columns, and the particle it selects.

    Parameters
    ----------
    name : str
        The gate's name.
    vertices : tuple[tuple[float, float], ...]
        Polygon vertices (x, y).
    z, a : int
        Proton and mass number of the particle.
    x_column, y_column : str
        Estimation columns of the polygon's axes (``dEdx`` and ``brho`` unless the file gives
        both ``xaxis`` and ``yaxis``).
    """

    name: str
    vertices: tuple[tuple[float, float], ...]
    z: int
    a: int
    x_column: str = DEFAULT_PID_X_COLUMN
    y_column: str = DEFAULT_PID_Y_COLUMN

    @property
    def nucleus(self) -> Any:
        """spyral-utils ``NucleusData`` of the particle."""
        return nucleus(self.z, self.a)

    @property
    def isotope(self) -> str:
        """Isotopic symbol, e.g. ``2H``."""
        return self.nucleus.isotopic_symbol

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which points are strictly inside the polygon (a point on its edge is outside).

        Parameters
        ----------
        x, y : numpy.ndarray
            Point coordinates in the gate's axes.

        Returns
        -------
        numpy.ndarray
            Boolean mask; NaN coordinates are outside.
        """
        import shapely

        polygon = shapely.Polygon(self.vertices)
        return np.asarray(
            shapely.contains_xy(polygon, np.asarray(x, float), np.asarray(y, float)), bool
        )


def polygon_problem(vertices: tuple[tuple[float, float], ...]) -> str | None:
    """Why the vertices make no usable gate (not finite, no area, self-intersecting), or None."""
    import shapely

    if not np.isfinite(np.asarray(vertices, float)).all():
        return "a vertex is not finite"
    polygon = shapely.Polygon(vertices)
    if not polygon.is_valid:
        return (
            f"the gate polygon is not simple ({shapely.is_valid_reason(polygon)}); its edges "
            "must not cross"
        )
    if polygon.area <= 0.0:
        return "the gate polygon has no area"
    return None


def load_particle_gate(path: Path) -> ParticleGate:
    """Read a spyral-utils particle-ID JSON.

    Raises
    ------
    TargetFileError
        If the file is missing or malformed, the polygon has fewer than 3 vertices, or (Z, A) is
        not a known nucleus.
    """
    content = _read_json(path, "particle-ID")
    missing = [key for key in ("name", "vertices", "Z", "A") if key not in content]
    if missing:
        raise TargetFileError(f"particle-ID file {path} lacks the key(s) {', '.join(missing)}")
    try:
        vertices = tuple((float(x), float(y)) for x, y in content["vertices"])
        z, a = int(content["Z"]), int(content["A"])
    except (TypeError, ValueError, OverflowError) as error:
        raise TargetFileError(
            f"particle-ID file {path}: vertices must be [x, y] pairs and Z, A integers ({error})"
        ) from error
    if len(vertices) < 3:
        raise TargetFileError(f"particle-ID file {path}: the gate needs at least 3 vertices")
    problem = polygon_problem(vertices)
    if problem is not None:
        raise TargetFileError(f"particle-ID file {path}: {problem}")
    x_column, y_column = DEFAULT_PID_X_COLUMN, DEFAULT_PID_Y_COLUMN
    x_axis, y_axis = content.get("xaxis"), content.get("yaxis")
    # As Spyral: custom axes count only when both are given and neither is the placeholder.
    if x_axis and y_axis and SPYRAL_UTILS_DEFAULT_AXIS not in (x_axis, y_axis):
        x_column, y_column = str(x_axis), str(y_axis)
    gate = ParticleGate(str(content["name"]), vertices, z, a, x_column, y_column)
    try:
        gate.nucleus  # noqa: B018 - validates (Z, A) against the mass table
    except KeyError as error:
        raise TargetFileError(f"particle-ID file {path}: {error.args[0]}") from None
    return gate
