"""Fixtures of the Cluster tests."""

from __future__ import annotations

import numpy as np
import pytest
from cluster_tracks import as_cloud, helix_points, noise_points


@pytest.fixture
def two_helices_beam_and_noise() -> tuple[np.ndarray, np.ndarray]:
    """Two forward helices, a straight beam-like track on the axis, and 25 noise points.

    Track indices: 0 and 1 the helices, 2 the beam track, 3 the noise.
    """
    first = helix_points((100.0, 40.0), 55.0, (100.0, 600.0), 2.0)
    second = helix_points((-90.0, -60.0), 70.0, (150.0, 520.0), -1.5, phase=1.0)
    z = np.arange(0.0, 300.0, 1.8)
    beam = np.column_stack([np.full(len(z), 0.5), np.full(len(z), -0.5), z])
    return as_cloud(first, second, beam, noise_points(25))
