"""Reproducible random numbers: one stream per (global seed, phase, run)."""

from __future__ import annotations

import hashlib

import numpy as np


def stable_name_key(name: str) -> int:
    """A 64-bit integer from a name, equal on every machine and Python process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def phase_rng(global_seed: int, phase_name: str, run_number: int) -> np.random.Generator:
    """The generator a phase gets for one run.

    Parameters
    ----------
    global_seed : int
        The pipeline's ``seed``.
    phase_name : str
        The phase name.
    run_number : int
        The run number.
    """
    entropy = [int(global_seed), stable_name_key(phase_name), int(run_number)]
    return np.random.default_rng(np.random.SeedSequence(entropy))
