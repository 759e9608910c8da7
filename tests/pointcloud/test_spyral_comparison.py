"""Our clouds against attpc_spyral 1.1.2's PointcloudPhase on the same traces (when installed).

Spyral runs in its own environment (``SPYRAL_PYTHON``, default this interpreter)
through ``benchmarks/pointcloud_spyral_driver.py``, which also runs Spyral's ClusterPhase on our
point-cloud file to show that Spyral reads it.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from pointcloud_helpers import (
    SPYRAL_DRIVER,
    frib_traces,
    get_matrix,
    spyral_python,
    write_trace_file,
)

from spyralflow.framework.phase import PhaseResult
from spyralflow.io.pointcloud_file import iter_pointclouds, read_event_range
from spyralflow.io.traces import TraceLayout
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud import (
    FribParameters,
    GetParameters,
    PadParameters,
    PointcloudPhase,
)
from spyralflow.phases.pointcloud.cloud import PAD, TIME
from spyralflow.phases.pointcloud.pads import load_beam_pads

pytestmark = pytest.mark.spyral
SEED = 11
RUN = 4
EVENTS = 8
DOWNSCALE_EVENT = 3


@pytest.fixture(scope="module")
def spyral() -> str:
    python = spyral_python()
    if python is None:
        pytest.skip("attpc_spyral's Python (SPYRAL_PYTHON) is not available")
    probe = subprocess.run([python, "-c", "import spyral"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"'import spyral' fails in {python}: {probe.stderr.decode()[-200:]}")
    return python


def random_event(rng: np.random.Generator) -> dict:
    beam = set(load_beam_pads().tolist())
    pads = [int(pad) for pad in rng.choice(10240, 120, replace=False) if pad not in beam]
    pulses = {
        pad: [(int(rng.integers(20, 480)), float(rng.uniform(20.0, 2000.0)))] for pad in pads[:80]
    }
    for pad in pads[80:90]:
        pulses[pad] = [(int(t), float(rng.uniform(50.0, 900.0))) for t in (60, 200, 340)]
    pulses[pads[90]] = [(40 + 70 * k, 300.0) for k in range(6)]  # too many peaks
    quiet = tuple(pads[91:])
    # Spyral finds peaks in the silicon data too (drawing jitter numbers), and ignores them.
    silicon = {
        detector: get_matrix({channel: [(int(rng.integers(20, 480)), 500.0)] for channel in (1, 2)})
        for detector in ("upstream_front", "upstream_back", "downstream_front", "downstream_back")
    }
    return {
        "get_pads": get_matrix(pulses, quiet, fpn_channels=2, noise_adc=3.0, rng=rng),
        "frib_traces": frib_traces([(int(rng.integers(1150, 1600)), 900.0)]),
        "frib_trigger": 1,
        "silicon": silicon,
    }


@pytest.fixture(scope="module")
def comparison(spyral, tmp_path_factory):
    folder = tmp_path_factory.mktemp("spyral_comparison")
    rng = np.random.default_rng(2024)
    events = {event: random_event(rng) for event in range(EVENTS)}
    events[DOWNSCALE_EVENT]["frib_trigger"] = 2
    # Merger 2.0 with the silicon names Spyral 1.1.2 reads (it fails on the merger's si_*).
    trace = write_trace_file(
        folder / "run_0004.h5",
        TraceLayout.MERGER_2_0,
        events,
        scalers=3,
        silicon_prefix="silicon_",
    )
    tcorr = folder / "tcorr.csv"
    tcorr.write_text("tcorr\n" + "\n".join(f"{v:.6f}" for v in rng.uniform(-1.9, 1.5, 10240)))
    phase = PointcloudPhase(
        GetParameters(), FribParameters(), DetectorParameters(), PadParameters(pad_time_path=tcorr)
    )
    ours = phase.run(
        PhaseResult({"trace": trace}, True, RUN),
        folder / "ours",
        _Sink(),
        np.random.default_rng(SEED),
    )
    completed = subprocess.run(
        [
            spyral,
            str(SPYRAL_DRIVER),
            str(trace),
            str(RUN),
            str(folder / "spyral"),
            "--seed",
            str(SEED),
            "--pad-time-path",
            str(tcorr),
            "--cluster-input",
            str(ours.artifacts["pointcloud"]),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return ours.artifacts["pointcloud"], report


def by_pad_and_time(cloud: np.ndarray) -> np.ndarray:
    return cloud[np.lexsort((np.round(cloud[:, TIME]), cloud[:, PAD]))]


def test_clouds_agree_point_for_point(comparison):
    ours_path, report = comparison
    ours = {event.event: event for event in iter_pointclouds(ours_path)}
    spyral = {event.event: event for event in iter_pointclouds(report["pointcloud"])}
    assert read_event_range(ours_path) == read_event_range(report["pointcloud"]) == (0, 7)
    # Spyral drops the last event of merger files; we do not.
    expected = [event for event in range(EVENTS) if event != DOWNSCALE_EVENT]
    assert sorted(ours) == expected
    assert sorted(spyral) == expected[:-1]
    points = 0
    for event, theirs in spyral.items():
        mine = ours[event]
        assert mine.cloud.shape == theirs.cloud.shape, f"event {event}"
        a, b = by_pad_and_time(mine.cloud), by_pad_and_time(theirs.cloud)
        # Same pads, positions, sizes; time and z within the 1/1000 TB jitter (equal to the last
        # bit when both draw the same numbers, as here); amplitude within the 1 ADC by which FFT
        # rounding could move a truncation on another machine.
        np.testing.assert_array_equal(a[:, [0, 1, 5, 7]], b[:, [0, 1, 5, 7]])
        np.testing.assert_allclose(a[:, TIME], b[:, TIME], atol=1e-3, rtol=0)
        np.testing.assert_allclose(a[:, 2], b[:, 2], atol=2e-3, rtol=0)
        np.testing.assert_allclose(a[:, 3], b[:, 3], atol=1.0, rtol=0)
        np.testing.assert_allclose(a[:, 4], b[:, 4], rtol=0.01)
        for key, value in theirs.attributes.items():
            assert mine.attributes[key] == value, (event, key)
            assert np.asarray(mine.attributes[key]).dtype == np.asarray(value).dtype, (event, key)
        points += len(a)
    assert points > 500


def test_spyral_clusters_our_point_clouds(comparison):
    _, report = comparison
    assert report["cluster_events"] >= EVENTS - 2


class _Sink:
    def put(self, message) -> None:
        pass
