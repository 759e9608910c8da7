"""Multi-turn protons next to a recoil: the vertex must come from the first turn (issue 13).

The fixture (``make_fixtures.py``, seeded attpc_engine 16C(d,p) at 3 T) holds protons whose
first turns HDBSCAN links to the 17C recoil's track, so that without the helix capture the
estimated vertex lies a turn or more away, and control events clustered right.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from failure_populations import MULTI_TURN_FIXTURE, cluster_parameters, estimated_vertex_z

VERTEX_TOLERANCE_MM = 5.0


def _events(kind: str) -> list[tuple[str, np.ndarray, float, float]]:
    events = []
    with h5py.File(MULTI_TURN_FIXTURE, "r") as handle:
        for name, group in handle.items():
            if not name.startswith(kind):
                continue
            xyz = group["xyz"][()]
            # Back to the (N, 8) cloud layout: the clustering reads x, y, z, integral, scale.
            cloud = np.zeros((len(xyz), 8))
            cloud[:, :3] = xyz
            cloud[:, 4] = group["integral"][()]
            cloud[:, 7] = group["scale"][()]
            events.append((name, cloud, group.attrs["vertex_z"], group.attrs["brho"]))
    assert events, f"no {kind} events in {MULTI_TURN_FIXTURE}"
    return events


# Not solved yet, not diagnosed: with the capture the proton cluster of event 1901 starts at
# 49 mm from the axis and its estimate has polar 47 deg (true 78) and the vertex 40 mm
# upstream. Strict, so the mark has to go when it is solved.
KNOWN_FAILURES = {"failing_1901"}


def _marked(kind: str) -> list:
    return [
        pytest.param(*event, marks=pytest.mark.xfail(strict=True, reason="issue 13, not diagnosed"))
        if event[0] in KNOWN_FAILURES
        else event
        for event in _events(kind)
    ]


@pytest.mark.parametrize("name, cloud, vertex_z, brho", _marked("failing"))
def test_first_turn_is_found(name, cloud, vertex_z, brho):
    # The population is real: without the capture the vertex is at least 50 mm off.
    without = estimated_vertex_z(cloud, brho, cluster_parameters(capture=False))
    assert without is not None and abs(without - vertex_z) > 50.0, name
    found = estimated_vertex_z(cloud, brho, cluster_parameters(capture=True))
    assert found is not None, f"{name}: no accepted estimate with the helix capture"
    assert abs(found - vertex_z) < VERTEX_TOLERANCE_MM, f"{name}: dz {found - vertex_z:.1f} mm"


@pytest.mark.parametrize("name, cloud, vertex_z, brho", _events("control"))
def test_capture_keeps_good_vertices(name, cloud, vertex_z, brho):
    found = estimated_vertex_z(cloud, brho, cluster_parameters(capture=True))
    assert found is not None, f"{name}: no accepted estimate with the helix capture"
    assert abs(found - vertex_z) < VERTEX_TOLERANCE_MM, f"{name}: dz {found - vertex_z:.1f} mm"
