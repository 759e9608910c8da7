"""The Pointcloud phase end to end on small trace files built here."""

from __future__ import annotations

import h5py
import numpy as np
import polars as pl
import pytest
from pointcloud_helpers import frib_traces, get_matrix, write_trace_file

from spyralflow.framework.job import PhaseJob, run_phase
from spyralflow.framework.phase import PhaseResult
from spyralflow.framework.provenance import read_provenance
from spyralflow.io.pointcloud_file import iter_pointclouds, read_event_range
from spyralflow.io.scalers import read_gated_ic_count
from spyralflow.io.traces import TraceFormatError, TraceLayout
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud import (
    FribParameters,
    GetParameters,
    PadParameters,
    PointcloudPhase,
)
from spyralflow.phases.pointcloud.cloud import AMPLITUDE, PAD, TIME, Z

CLASS_PATH = "spyralflow.phases.pointcloud.PointcloudPhase"
PARAMETERS = {"get_params": {}, "frib_params": {}, "det_params": {}, "pad_params": {}}


class Messages:
    def __init__(self) -> None:
        self.received: list = []

    def put(self, message) -> None:
        self.received.append(message)


@pytest.fixture(scope="module")
def phase() -> PointcloudPhase:
    return PointcloudPhase(GetParameters(), FribParameters(), DetectorParameters(), PadParameters())


def run_events() -> dict[int, dict]:
    """Events 0-3 (3 is the last and an ordinary event) and an IC-downscale event 2."""
    return {
        0: {
            "get_pads": get_matrix(
                {1000: [(100, 500.0)], 1001: [(300, 200.0), (420, 150.0)], 134: [(200, 900.0)]},
                quiet_pads=(1002,),
                fpn_channels=2,
            ),
            "frib_traces": frib_traces([(1300, 800.0)]),
            "frib_trigger": 1,
        },
        1: {"get_pads": get_matrix({2000: [(250, 30.0)]}), "frib_trigger": 1},
        2: {
            "get_pads": get_matrix({3000: [(250, 300.0)]}),
            "frib_traces": frib_traces([(1250, 600.0)]),
            "frib_trigger": 2,
        },
        3: {"get_pads": get_matrix({4000: [(50, 700.0)], 4001: [(60, 650.0)]})},
    }


def run_phase_on(phase, trace_path, workspace, run=5, seed=1) -> PhaseResult:
    payload = PhaseResult({"trace": trace_path}, True, run)
    return phase.run(payload, workspace, Messages(), np.random.default_rng(seed))


def test_artifacts_are_named_like_spyrals(phase, tmp_path):
    result = phase.construct_artifact(PhaseResult({}, True, 12), tmp_path)
    assert result.artifacts == {
        "pointcloud": tmp_path / "Pointcloud" / "run_0012.h5",
        "scaler": tmp_path / "Pointcloud" / "run_0012_scaler.parquet",
        "gated_ic_scaler": tmp_path / "Pointcloud" / "run_0012_gated_ic_scaler.txt",
    }
    assert phase.name == "Pointcloud"


@pytest.mark.parametrize("layout", list(TraceLayout))
def test_run_writes_spyrals_layout_for_every_event(phase, tmp_path, layout):
    trace = write_trace_file(tmp_path / "run_0005.h5", layout, run_events(), scalers=3)
    result = run_phase_on(phase, trace, tmp_path / "ws")
    assert result.successful
    path = result.artifacts["pointcloud"]
    assert read_event_range(path) == (0, 3)
    events = {event.event: event for event in iter_pointclouds(path)}
    # The IC-downscale event makes no cloud; the last event (3) does, unlike in Spyral.
    assert sorted(events) == [0, 1, 3]
    first = events[0].cloud
    # Pad 134 is a beam pad, pad 1002 is quiet, the FPN channels have no pad.
    np.testing.assert_array_equal(first[:, PAD], [1001, 1001, 1000])
    np.testing.assert_allclose(first[:, TIME], [420, 300, 100], atol=1e-3)
    assert np.all(first[:, TIME] >= [420, 300, 100])
    np.testing.assert_array_equal(first[:, Z], (560.0 - first[:, TIME]) / 550.0 * 1000.0)
    assert np.all(np.diff(first[:, Z]) > 0)
    assert 450.0 < first[2, AMPLITUDE] <= 500.0
    assert events[1].cloud.shape == (0, 8)  # a 30 ADC pulse is below the threshold
    np.testing.assert_array_equal(np.sort(events[3].cloud[:, PAD]), [4000, 4001])
    attributes = events[0].attributes
    assert attributes["ic_centroid"] == 1300 and attributes["ic_multiplicity"] == 1
    assert isinstance(attributes["ic_integral"], np.int64)
    assert isinstance(attributes["ic_amplitude"], np.float64)
    assert events[3].attributes["ic_amplitude"] == -1.0
    if layout is TraceLayout.HARMONIZER_0_1:
        assert (attributes["orig_run"], attributes["orig_event"]) == (0, 0)
    else:
        assert (attributes["orig_run"], attributes["orig_event"]) == (5, 0)
    assert read_gated_ic_count(result.artifacts["gated_ic_scaler"]) == (1, 1)
    scalers = pl.read_parquet(result.artifacts["scaler"])
    assert scalers.columns[0] == "event" and len(scalers.columns) == 12
    assert all(dtype == pl.Int64 for dtype in scalers.dtypes)
    assert len(scalers) == (0 if layout is TraceLayout.HARMONIZER_0_1 else 3)
    assert read_provenance(path)["phase"] == "Pointcloud"
    assert read_provenance(result.artifacts["scaler"]) is not None


def test_the_seed_fixes_the_centroid_jitter(phase, tmp_path):
    trace = write_trace_file(tmp_path / "run_0005.h5", TraceLayout.MERGER_1_0, run_events())
    clouds = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        result = run_phase_on(phase, trace, tmp_path / name, seed=seed)
        clouds.append(next(iter_pointclouds(result.artifacts["pointcloud"])).cloud)
    np.testing.assert_array_equal(clouds[0], clouds[1])
    assert not np.array_equal(clouds[0][:, TIME], clouds[2][:, TIME])
    np.testing.assert_allclose(clouds[0][:, TIME], clouds[2][:, TIME], atol=1e-3)


@pytest.mark.parametrize("layout", [TraceLayout.MERGER_1_0, TraceLayout.MERGER_2_0])
def test_the_job_threads_give_the_clouds_of_one_thread(phase, tmp_path, monkeypatch, layout):
    """Peaks searched ahead in threads leave the clouds and the jitter stream bit-identical."""
    base = run_events()
    events = {number: base[number % 4] for number in range(14) if number != 6}
    trace = write_trace_file(tmp_path / "run_0005.h5", layout, events)
    files = {}
    for threads in ("1", "3"):
        monkeypatch.setenv("SPYRALFLOW_THREADS", threads)
        result = run_phase_on(phase, trace, tmp_path / f"threads_{threads}")
        files[threads] = list(iter_pointclouds(result.artifacts["pointcloud"]))
    assert [event.event for event in files["3"]] == [0, 1, 3, 4, 5, 7, 8, 9, 11, 12, 13]
    for one, many in zip(files["1"], files["3"], strict=True):
        assert one.event == many.event
        np.testing.assert_array_equal(one.cloud, many.cloud)
        assert one.attributes == many.attributes


def test_a_run_without_events_writes_valid_empty_artifacts(phase, tmp_path):
    trace = write_trace_file(tmp_path / "run_0005.h5", TraceLayout.MERGER_1_0, {})
    result = run_phase_on(phase, trace, tmp_path / "ws")
    assert list(iter_pointclouds(result.artifacts["pointcloud"])) == []
    assert pl.read_parquet(result.artifacts["scaler"]).shape == (0, 12)
    assert read_gated_ic_count(result.artifacts["gated_ic_scaler"]) == (1, 0)


def test_progress_messages_follow_spyrals_pattern(phase, tmp_path):
    trace = write_trace_file(tmp_path / "run_0005.h5", TraceLayout.MERGER_1_0, run_events())
    messages = Messages()
    phase.run(PhaseResult({"trace": trace}, True, 5), tmp_path, messages, np.random.default_rng())
    assert len(messages.received) == 4
    assert {(m.phase, m.total, m.run, m.increment) for m in messages.received} == {
        ("Pointcloud", 4, 5, 1)
    }


def test_a_damaged_file_fails_with_its_name(phase, tmp_path):
    trace = tmp_path / "run_0005.h5"
    with h5py.File(trace, "w") as handle:
        handle.create_group("events").attrs["version"] = "libattpc_merger:7.0"
    with pytest.raises(TraceFormatError, match=r"run_0005\.h5 \(run 5\).*libattpc_merger:7\.0"):
        run_phase_on(phase, trace, tmp_path / "ws")
    assert not (tmp_path / "ws" / "Pointcloud" / "run_0005.h5").exists()


def test_a_missing_trace_file_is_an_unsuccessful_run(phase, tmp_path):
    result = run_phase_on(phase, tmp_path / "run_0005.h5", tmp_path / "ws")
    assert not result.successful


def test_the_job_runner_builds_and_runs_the_phase_from_config_values(tmp_path):
    trace = write_trace_file(tmp_path / "run_0005.h5", TraceLayout.LEGACY, run_events())
    tcorr = tmp_path / "tcorr.csv"
    tcorr.write_text("tcorr\n" + "\n".join(["0.5"] * 10240))
    parameters = {**PARAMETERS, "pad_params": {"pad_time_path": str(tcorr)}}
    job = PhaseJob(CLASS_PATH, parameters, "test", tmp_path / "ws", seed=3)
    outputs = PointcloudPhase(
        GetParameters(), FribParameters(), DetectorParameters(), PadParameters()
    ).construct_artifact(PhaseResult({}, True, 5), tmp_path / "ws")
    run_phase(job, 5, {"trace": trace}, outputs.artifacts)
    cloud = next(iter_pointclouds(outputs.artifacts["pointcloud"])).cloud
    np.testing.assert_allclose(np.sort(cloud[:, TIME]), [100.5, 300.5, 420.5], atol=1e-3)


def test_progress_plan_of_long_runs():
    from spyralflow.phases.pointcloud.phase import progress_plan

    assert progress_plan(7) == (7, 0)
    assert progress_plan(99) == (99, 0)
    assert progress_plan(250) == (100, 2)
