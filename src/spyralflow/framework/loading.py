"""Import a phase class from its dotted path and construct it from config parameters."""

from __future__ import annotations

import importlib
from typing import Any

from spyralflow.framework.parameters import build_constructor_arguments


class PhaseLoadError(ImportError):
    """A phase class cannot be imported or constructed."""


def split_class_path(class_path: str) -> tuple[str, str]:
    """``"package.module.Class"`` → (``"package.module"``, ``"Class"``)."""
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name:
        raise PhaseLoadError(
            f"phase class '{class_path}' is not a dotted path like 'package.module.ClassName'"
        )
    return module_name, class_name


def import_phase_class(class_path: str) -> type:
    """The class named by ``class_path``."""
    module_name, class_name = split_class_path(class_path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PhaseLoadError(
            f"cannot import module '{module_name}' of phase class '{class_path}': {error}"
        ) from error
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise PhaseLoadError(f"module '{module_name}' has no class '{class_name}'") from None


def construct_phase(class_path: str, parameters: dict[str, Any]) -> Any:
    """An instance of the phase class built from its config parameters."""
    phase_class = import_phase_class(class_path)
    return phase_class(**build_constructor_arguments(phase_class, parameters))
