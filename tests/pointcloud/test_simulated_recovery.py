"""On simulated traces of whole events, our points sit where the engine put charge.

The engine makes one point per (pad, time bucket); the Pointcloud phase makes one per peak of a
pad's trace. So every point we find must be on a pad the engine hit, at a time inside the span of
the engine's points on that pad, and every pad where the engine left a strong, compact signal
(> 100 ADC within 10 time buckets) must give a point. Broad signals (a track running along the
drift direction over one pad) are wider than ``peak_max_width`` and rightly give none.
"""

from __future__ import annotations

import numpy as np
import pytest

from spyralflow.framework.phase import PhaseResult
from spyralflow.io.pointcloud_file import iter_pointclouds
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud import (
    FribParameters,
    GetParameters,
    PadParameters,
    PointcloudPhase,
)
from spyralflow.phases.pointcloud.cloud import AMPLITUDE, PAD, TIME, Z

simulation = pytest.importorskip("spyralflow.simulation.run", reason="no simulation package")

RUN = 2
EVENTS = 4
TIME_TOLERANCE_TB = 2.0
STRONG_ADC = 100.0
COMPACT_TB = 10.0


@pytest.fixture(scope="module")
def clouds(tmp_path_factory) -> tuple[dict, dict]:
    from spyralflow.simulation.settings import SimulationSettings

    folder = tmp_path_factory.mktemp("simulated")
    outputs = simulation.SimulationOutputs(
        folder / f"run_{RUN:04d}.h5", folder / "engine.h5", folder / "truth.parquet"
    )
    simulation.simulate_run(SimulationSettings(events_per_run=EVENTS), 0, RUN, outputs)
    phase = PointcloudPhase(
        GetParameters(), FribParameters(), DetectorParameters(), PadParameters()
    )
    result = phase.run(
        PhaseResult({"trace": outputs.traces}, True, RUN),
        folder / "ws",
        _Sink(),
        np.random.default_rng(0),
    )
    ours = {event.event: event.cloud for event in iter_pointclouds(result.artifacts["pointcloud"])}
    engine = {event.event: event.cloud for event in iter_pointclouds(outputs.pointcloud)}
    return ours, engine


def engine_pads(cloud: np.ndarray) -> dict[int, np.ndarray]:
    """Pad -> its engine points' (time, amplitude) rows."""
    return {
        int(pad): cloud[cloud[:, PAD] == pad][:, [TIME, AMPLITUDE]]
        for pad in np.unique(cloud[:, PAD])
    }


def test_every_point_is_where_the_engine_put_charge(clouds):
    ours, engine = clouds
    assert sorted(ours) == sorted(engine) == list(range(EVENTS))
    points = 0
    for event, cloud in ours.items():
        hits = engine_pads(engine[event])
        for point in cloud:
            pad = int(point[PAD])
            assert pad in hits, f"event {event}: a point on pad {pad}, which the engine missed"
            times = hits[pad][:, 0]
            assert times.min() - TIME_TOLERANCE_TB <= point[TIME] <= times.max() + TIME_TOLERANCE_TB
        np.testing.assert_allclose(cloud[:, Z], (560.0 - cloud[:, TIME]) / 550.0 * 1000.0)
        points += len(cloud)
    assert points > 100


def test_every_strong_compact_signal_gives_a_point(clouds):
    ours, engine = clouds
    checked = 0
    for event, cloud in ours.items():
        found = set(cloud[:, PAD].astype(int).tolist())
        for pad, rows in engine_pads(engine[event]).items():
            compact = rows[:, 0].max() - rows[:, 0].min() <= COMPACT_TB
            if compact and rows[:, 1].max() > STRONG_ADC:
                assert pad in found, f"event {event}: no point on pad {pad} ({rows.tolist()})"
                checked += 1
    assert checked > 50


class _Sink:
    def put(self, message) -> None:
        pass
