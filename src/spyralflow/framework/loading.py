"""Import a phase class from its dotted path and construct it from config parameters."""

from __future__ import annotations

import importlib
import traceback
from typing import Any

from spyralflow.framework.parameters import build_constructor_arguments

# What the job runner calls on a phase object; a class without them is not a phase.
PHASE_METHODS = ("create_assets", "construct_artifact", "run", "create_shared_data", "validate")


class PhaseLoadError(ImportError):
    """A phase class cannot be imported, is not a phase, or cannot be constructed."""


def split_class_path(class_path: str) -> tuple[str, str]:
    """``"package.module.Class"`` → (``"package.module"``, ``"Class"``)."""
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name:
        raise PhaseLoadError(
            f"phase class '{class_path}' is not a dotted path like 'package.module.ClassName'"
        )
    return module_name, class_name


def _where(error: BaseException) -> str:
    """``file:line`` of the innermost frame of ``error``'s traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def import_phase_class(class_path: str) -> type:
    """The class named by ``class_path``, checked to have the phase methods.

    Raises
    ------
    PhaseLoadError
        The module cannot be imported (missing, or it raises on import: the message names the
        exception and where it was raised), has no such class, or the class is not a phase.
    """
    module_name, class_name = split_class_path(class_path)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise PhaseLoadError(
            f"cannot import module '{module_name}' of phase class '{class_path}': {error}; "
            "is its package installed, or on PYTHONPATH?"
        ) from error
    except Exception as error:
        raise PhaseLoadError(
            f"importing module '{module_name}' of phase class '{class_path}' raised "
            f"{type(error).__name__}: {error}{_where(error)}"
        ) from error
    phase_class = getattr(module, class_name, None)
    if phase_class is None:
        raise PhaseLoadError(f"module '{module_name}' has no class '{class_name}'")
    missing = [name for name in PHASE_METHODS if not callable(getattr(phase_class, name, None))]
    if not isinstance(phase_class, type) or missing:
        raise PhaseLoadError(
            f"'{class_path}' is not a phase: a phase is a class with Spyral's PhaseLike methods "
            f"({', '.join(PHASE_METHODS)}); "
            + (f"it lacks {', '.join(missing)}" if isinstance(phase_class, type) else "not a class")
        )
    return phase_class


def construct_phase(class_path: str, parameters: dict[str, Any], key: str | None = None) -> Any:
    """An instance of the phase class built from its config parameters.

    Parameters
    ----------
    class_path : str
        Dotted path of the phase class.
    parameters : dict
        Constructor argument name to plain value.
    key : str, optional
        Config key of ``parameters`` (``phases[i].parameters``), named by errors.

    Raises
    ------
    PhaseLoadError
        If the class cannot be imported or is not a phase.
    spyralflow.framework.parameters.ParameterError
        If a parameter is missing, unknown or of the wrong type.
    """
    phase_class = import_phase_class(class_path)
    return phase_class(**build_constructor_arguments(phase_class, parameters, key))
