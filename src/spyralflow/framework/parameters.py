"""Build a phase's constructor arguments from its plain config parameters, checking their types.

Spyral phases take parameter dataclasses (``ClusterPhase(ClusterParameters, DetectorParameters)``).
The config gives each constructor argument by name as a mapping; an argument annotated with a
dataclass is built from that mapping, recursively, and ``Path`` fields from strings. Every value
is checked against its annotation (constructor argument or dataclass field) before anything is
constructed, because Spyral's dataclasses check nothing: a YAML ``1.0e9`` (a string for PyYAML)
would otherwise reach a float field and fail hours later inside polars. Nothing here is specific
to spyralflow's own phases, so Spyral's and third-party phases are built and checked the same way.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import math
import types
import typing
from collections import abc
from pathlib import Path
from typing import Any


class ParameterError(ValueError):
    """A phase's parameters do not fit its constructor.

    Parameters
    ----------
    key : str
        The full key path of the value at fault, e.g. ``phases[3].parameters.solver_params.n``.
    problem : str
        What is wrong and what to write instead.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def build_constructor_arguments(
    phase_class: type, parameters: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``phase_class(**arguments)`` from config ``parameters``.

    Parameters
    ----------
    phase_class : type
        The phase class.
    parameters : dict
        Constructor argument name to plain value (mappings for dataclass arguments).
    key : str, optional
        Key path of ``parameters`` in the config, used in error messages; the class name when
        not given.

    Raises
    ------
    ParameterError
        An unknown or missing argument or field, or a value of the wrong type, named with its
        full key path.
    """
    key = key or phase_class.__qualname__
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
    unknown = sorted(set(parameters) - set(accepted))
    if unknown and not takes_any_keyword:
        raise ParameterError(
            f"{key}.{unknown[0]}",
            f"unknown parameter(s) {', '.join(unknown)} of {phase_class.__qualname__}; "
            f"its constructor takes {', '.join(accepted) or 'no arguments'}",
        )
    arguments: dict[str, Any] = {}
    for name, parameter in accepted.items():
        if name in parameters:
            arguments[name] = _convert(parameters[name], hints.get(name, Any), f"{key}.{name}")
        elif parameter.default is parameter.empty:
            raise ParameterError(
                f"{key}.{name}", f"missing parameter '{name}' of {phase_class.__qualname__}"
            )
    for name in unknown:
        arguments[name] = parameters[name]
    return arguments


def _type_hints(target: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target)
    except (NameError, TypeError):
        # An annotation that cannot be resolved is not checked rather than guessed.
        return {}


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type):
        return {"float": "number", "int": "integer", "str": "string", "bool": "boolean"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation).replace("typing.", "")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string '{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _number_text_hint(value: Any) -> str:
    """Why a number may have arrived as a string, and how to write it."""
    if not isinstance(value, str):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    return (
        "; YAML 1.1 (PyYAML) reads a number such as 1.0e9 as text: write the exponent with "
        "a sign (1.0e+9) or the number in full, without quotes"
    )


def _mismatch(value: Any, annotation: Any, key: str) -> ParameterError:
    hint = _number_text_hint(value) if annotation in (int, float) else ""
    if value is None and annotation is Path:
        hint = "; give a file path (it may name a file that does not exist when unused)"
    return ParameterError(key, f"expected {_type_name(annotation)}, got {_describe(value)}{hint}")


def _convert(value: Any, annotation: Any, key: str) -> Any:
    """``value`` checked against ``annotation``, with dataclasses built and paths made Paths."""
    if annotation is Any or annotation is typing.Any:
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return _convert_union(value, typing.get_args(annotation), key)
    if origin is typing.Literal:
        if value not in typing.get_args(annotation):
            choices = ", ".join(repr(choice) for choice in typing.get_args(annotation))
            raise ParameterError(key, f"expected one of {choices}, got {_describe(value)}")
        return value
    if origin is not None:
        return _convert_container(value, annotation, origin, key)
    if value is None:
        if annotation is type(None):
            return None
        raise _mismatch(value, annotation, key)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(value, dict):
            raise ParameterError(
                key,
                f"expected a mapping of the fields of {annotation.__name__}, got "
                f"{_describe(value)}",
            )
        return _build_dataclass(annotation, value, key)
    return _convert_scalar(value, annotation, key)


def _convert_union(value: Any, options: tuple[Any, ...], key: str) -> Any:
    if value is None:
        if type(None) in options:
            return None
        raise _mismatch(value, options[0], key)
    problems = []
    for option in options:
        if option is type(None):
            continue
        try:
            return _convert(value, option, key)
        except ParameterError:
            # A field error inside a matching dataclass is the real problem; report it.
            if dataclasses.is_dataclass(option) and isinstance(value, dict):
                raise
            problems.append(_type_name(option))
    allowed = " or ".join([*problems, "null"] if type(None) in options else problems)
    hint = _number_text_hint(value) if {int, float} & set(options) else ""
    raise ParameterError(key, f"expected {allowed}, got {_describe(value)}{hint}")


def _convert_container(value: Any, annotation: Any, origin: Any, key: str) -> Any:
    arguments = typing.get_args(annotation)
    if origin in (list, tuple, set, frozenset, abc.Sequence):
        if not isinstance(value, (list, tuple)):
            raise ParameterError(
                key, f"expected a list ({_type_name(annotation)}), got {_describe(value)}"
            )
        if origin is tuple and arguments and arguments[-1] is not Ellipsis:
            if len(arguments) != len(value):
                raise ParameterError(key, f"expected {len(arguments)} items, got {len(value)}")
            items = [
                _convert(item, item_type, f"{key}[{index}]")
                for index, (item, item_type) in enumerate(zip(value, arguments, strict=True))
            ]
        else:
            item_type = arguments[0] if arguments else Any
            items = [
                _convert(item, item_type, f"{key}[{index}]") for index, item in enumerate(value)
            ]
        return items if origin in (list, abc.Sequence) else origin(items)
    if origin in (dict, abc.Mapping):
        if not isinstance(value, dict):
            raise ParameterError(key, f"expected a mapping, got {_describe(value)}")
        value_type = arguments[1] if len(arguments) == 2 else Any
        return {name: _convert(item, value_type, f"{key}.{name}") for name, item in value.items()}
    return value


def _convert_scalar(value: Any, annotation: Any, key: str) -> Any:
    if annotation is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise _mismatch(value, annotation, key)
    if annotation is float:
        if isinstance(value, float) and math.isnan(value):
            # NaN compares false with everything: a threshold of NaN silently keeps nothing.
            raise ParameterError(key, "expected number, got nan")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise _mismatch(value, annotation, key)
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _mismatch(value, annotation, key)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        try:
            return annotation(value)
        except ValueError:
            choices = ", ".join(repr(member.value) for member in annotation)
            raise ParameterError(
                key, f"expected one of {choices}, got {_describe(value)}"
            ) from None
    if isinstance(annotation, type) and not isinstance(value, annotation):
        raise _mismatch(value, annotation, key)
    return value


def _build_dataclass(cls: type, values: dict[str, Any], key: str) -> Any:
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ParameterError(
            f"{key}.{unknown[0]}",
            f"unknown field(s) {', '.join(unknown)} of {cls.__name__}; "
            f"its fields are {', '.join(fields)}",
        )
    hints = _type_hints(cls)
    converted: dict[str, Any] = {}
    for name, field in fields.items():
        if name in values:
            converted[name] = _convert(values[name], hints.get(name, Any), f"{key}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ParameterError(f"{key}.{name}", f"missing field '{name}' of {cls.__name__}")
    try:
        return cls(**converted)
    except (TypeError, ValueError) as error:
        # A dataclass's own __post_init__ check: report it under the key of the mapping.
        raise ParameterError(key, f"{cls.__name__}: {error}") from error
