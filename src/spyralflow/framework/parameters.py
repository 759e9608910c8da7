"""Build a phase's constructor arguments from its plain config parameters.

Spyral phases take parameter dataclasses (``ClusterPhase(ClusterParameters, DetectorParameters)``).
The config gives each constructor argument by name as a mapping; an argument annotated with a
dataclass is built from that mapping, recursively, and ``Path`` fields from strings. Nothing here
is specific to spyralflow's own phases, so Spyral's and third-party phases are built the same way.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from pathlib import Path
from typing import Any


class ParameterError(ValueError):
    """A phase's parameters do not fit its constructor."""


def build_constructor_arguments(phase_class: type, parameters: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``phase_class(**arguments)`` from config ``parameters``.

    Parameters
    ----------
    phase_class : type
        The phase class.
    parameters : dict
        Constructor argument name to plain value (mappings for dataclass arguments).

    Raises
    ------
    ParameterError
        An unknown or missing argument or field, named with its full key path.
    """
    signature = inspect.signature(phase_class.__init__)
    hints = _type_hints(phase_class.__init__)
    accepted = {
        name: parameter
        for name, parameter in signature.parameters.items()
        if name != "self"
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    }
    takes_any_keyword = any(
        parameter.kind is parameter.VAR_KEYWORD for parameter in signature.parameters.values()
    )
    label = phase_class.__qualname__
    unknown = sorted(set(parameters) - set(accepted))
    if unknown and not takes_any_keyword:
        raise ParameterError(
            f"{label}: unknown parameter(s) {', '.join(unknown)}; "
            f"the constructor takes {', '.join(accepted) or 'no arguments'}"
        )
    arguments: dict[str, Any] = {}
    for name, parameter in accepted.items():
        if name in parameters:
            arguments[name] = _convert(parameters[name], hints.get(name, Any), f"{label}.{name}")
        elif parameter.default is parameter.empty:
            raise ParameterError(f"{label}: missing parameter '{name}'")
    for name in unknown:
        arguments[name] = parameters[name]
    return arguments


def _type_hints(function: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except (NameError, TypeError):
        return {}


def _convert(value: Any, annotation: Any, key: str) -> Any:
    """``value`` converted to ``annotation`` where it names a dataclass or a Path."""
    if value is None:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(annotation) if option is not type(None)]
        for option in options:
            if dataclasses.is_dataclass(option) and isinstance(value, dict):
                return _build_dataclass(option, value, key)
        if Path in options and isinstance(value, str):
            return Path(value)
        return value
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(value, dict):
            raise ParameterError(f"{key}: expected a mapping of fields, got {value!r}")
        return _build_dataclass(annotation, value, key)
    if annotation is Path and isinstance(value, str):
        return Path(value)
    return value


def _build_dataclass(cls: type, values: dict[str, Any], key: str) -> Any:
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ParameterError(
            f"{key}: unknown field(s) {', '.join(unknown)} of {cls.__name__}; "
            f"its fields are {', '.join(fields)}"
        )
    hints = _type_hints(cls)
    converted: dict[str, Any] = {}
    for name, field in fields.items():
        if name in values:
            converted[name] = _convert(values[name], hints.get(name, Any), f"{key}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ParameterError(f"{key}: missing field '{name}' of {cls.__name__}")
    return cls(**converted)
