"""Imported for its effect: attpc_spyral 1.1.2's EstimationPhase stores the direction enum object
and cannot write its parquet (spyral.md section 5.3); this makes it store the integer value.

Import it before running Spyral's EstimationPhase, in every process that runs it (workers
spawned by ``start_pipeline`` import their main module again, so import it at module level).
"""

from __future__ import annotations

import spyral.phases.estimation_phase as estimation_module

_original_estimate = estimation_module.estimate_physics


def _estimate_with_integer_direction(*args, **kwargs):
    result = _original_estimate(*args, **kwargs)
    if result is not None and hasattr(result.direction, "value"):
        result.direction = result.direction.value
    return result


if estimation_module.estimate_physics is _original_estimate:
    estimation_module.estimate_physics = _estimate_with_integer_direction
