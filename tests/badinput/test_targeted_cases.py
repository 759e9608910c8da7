"""The targeted cases of the bad-input campaign (issue 12), each with the outcome it must give."""

from __future__ import annotations

import logging
import time

import h5py
import numpy as np
import pytest
from fuzzing import CASE_TIME_LIMIT_S, Messages, time_limit

from spyralflow.framework.phase import PhaseResult
from spyralflow.io.checks import INPUT_REPORT_KEY, UNUSABLE_POINTS, read_report
from spyralflow.io.cluster_file import iter_cluster_events
from spyralflow.io.hdf5 import ArtifactFormatError
from spyralflow.io.pointcloud_file import iter_pointclouds
from spyralflow.io.traces import TraceFormatError, open_trace_reader
from spyralflow.io.traces.base import BAD_PAD_TRACES, BAD_SAMPLE_TRACES
from spyralflow.phases.pointcloud.phase import UNKNOWN_PAD_TRACES


def run_pointcloud(phase, trace, workspace):
    with time_limit(CASE_TIME_LIMIT_S):
        result = phase.run(
            PhaseResult({"trace": trace}, True, 1), workspace, Messages(), np.random.default_rng(0)
        )
    with h5py.File(result.artifacts["pointcloud"], "r") as handle:
        clouds = sorted(int(name[6:]) for name in handle["cloud"] if name.startswith("cloud_"))
        return clouds, read_report(handle["cloud"].attrs)


def run_cluster(phase, cloud, workspace):
    with time_limit(CASE_TIME_LIMIT_S):
        result = phase.run(
            PhaseResult({"pointcloud": cloud}, True, 1),
            workspace,
            Messages(),
            np.random.default_rng(0),
        )
    return result


def seconds_of(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def set_attribute(path, item, key, value):
    with h5py.File(path, "r+") as handle:
        handle[item].attrs[key] = value


@pytest.mark.parametrize("value", [10**6, 10**12])
def test_a_huge_max_event_runs_at_once_and_counts_the_absent_events(
    pointcloud_phase, good_trace, tmp_path, value, caplog
):
    # The undamaged run, first, compiles the kernels and is the baseline of the time.
    baseline = seconds_of(lambda: run_pointcloud(pointcloud_phase, good_trace, tmp_path / "a"))
    set_attribute(good_trace, "events", "max_event", np.uint64(value))
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        clouds, report = run_pointcloud(pointcloud_phase, good_trace, tmp_path / "ws")
    assert time.perf_counter() - started < 3 * baseline + 0.5
    assert clouds == [0, 1, 2, 3]
    assert report == {"events of the declared range without data": value + 1 - 4}
    assert "declares" in caplog.text and "good_trace.h5" in caplog.text


def test_huge_scaler_range_is_not_looped_over(pointcloud_phase, good_trace, tmp_path):
    baseline = seconds_of(lambda: run_pointcloud(pointcloud_phase, good_trace, tmp_path / "a"))
    set_attribute(good_trace, "scalers", "max_event", np.uint64(10**12))
    started = time.perf_counter()
    _, report = run_pointcloud(pointcloud_phase, good_trace, tmp_path / "ws")
    assert time.perf_counter() - started < 3 * baseline + 0.5
    assert report["events of the declared range without a scaler dataset"] == 10**12 + 1 - 3


@pytest.mark.parametrize(
    ("key", "value", "cause"),
    [
        ("max_event", np.uint64(2**64 - 1), r"outside the event numbers"),
        ("max_event", np.inf, r"expected a finite integer"),
        ("max_event", 2.5, r"a fraction"),
        ("min_event", np.uint64(3), None),
        ("min_event", np.uint64(9), r"min_event 9 is greater than max_event 3"),
        ("min_event", "zero", r"expected an integer"),
        ("min_event", b"0", r"expected an integer"),
    ],
)
def test_a_damaged_trace_range_is_a_clear_error(good_trace, key, value, cause):
    set_attribute(good_trace, "events", key, value)
    if cause is None:
        with open_trace_reader(good_trace, 1) as reader:
            assert reader.event_numbers() == (3,)
            assert reader.report.to_dict() == {
                "events outside the declared range, not read (data)": 3
            }
        return
    with pytest.raises(TraceFormatError, match=rf"good_trace\.h5.*{cause}"):
        open_trace_reader(good_trace, 1)


def _edit_get(path, event, edit, dtype=None):
    with h5py.File(path, "r+") as handle:
        name = f"events/event_{event}/get_traces"
        data = handle[name][()].astype(dtype or handle[name].dtype)
        edit(data)
        del handle[name]
        handle.create_dataset(name, data=data)


def test_pad_ids_and_samples_out_of_range_are_counted(pointcloud_phase, good_trace, tmp_path):
    def damage(data):
        data[0, 4] = -7
        data[1, 4] = 20000
        data[2, 100] = 2**40

    _edit_get(good_trace, 1, damage, np.int64)
    clouds, report = run_pointcloud(pointcloud_phase, good_trace, tmp_path / "ws")
    assert clouds == [0, 1, 2, 3]
    assert report == {BAD_PAD_TRACES: 1, BAD_SAMPLE_TRACES: 1, UNKNOWN_PAD_TRACES: 1}


@pytest.mark.parametrize("dtype", ["S4", np.complex128, np.float64])
def test_a_get_dataset_of_another_type_is_a_clear_error(good_trace, dtype):
    with h5py.File(good_trace, "r+") as handle:
        name = "events/event_2/get_traces"
        data = handle[name][()].astype(dtype)
        del handle[name]
        handle.create_dataset(name, data=data)
    with (
        open_trace_reader(good_trace, 1) as reader,
        pytest.raises(TraceFormatError, match=r"good_trace\.h5.*event_2/get_traces holds"),
    ):
        reader.read_event(2)


def test_random_bytes_at_the_start_are_a_clear_error(good_trace):
    content = bytearray(good_trace.read_bytes())
    content[:1000] = np.random.default_rng(3).integers(0, 256, 1000, dtype=np.uint8).tobytes()
    good_trace.write_bytes(bytes(content))
    with pytest.raises(TraceFormatError, match=r"good_trace\.h5"):
        open_trace_reader(good_trace, 1)


def test_a_trace_file_holding_none_of_its_events_fails(good_trace):
    with h5py.File(good_trace, "r+") as handle:
        for event in range(4):
            del handle[f"events/event_{event}"]
    with pytest.raises(TraceFormatError, match=r"declares events 0 \.\. 3 but holds none"):
        open_trace_reader(good_trace, 1)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e292])
def test_unusable_coordinates_are_dropped_and_counted_before_clustering(
    cluster_phase, good_cloud, tmp_path, value
):
    with h5py.File(good_cloud, "r+") as handle:
        dataset = handle["cloud/cloud_1"]
        data = dataset[()]
        data[[3, 50, 90], 0] = value
        dataset[...] = data
    result = run_cluster(cluster_phase, good_cloud, tmp_path / "ws")
    with h5py.File(result.artifacts["cluster"], "r") as handle:
        assert read_report(handle["cluster"].attrs) == {UNUSABLE_POINTS: 3}
    for event in iter_cluster_events(result.artifacts["cluster"]):
        for cluster in event.clusters:
            assert np.isfinite(cluster.data).all()
            assert np.abs(cluster.data[:, :3]).max() < 1e4


def test_deleted_clouds_and_a_huge_range_are_counted_in_the_cluster_file(
    cluster_phase, good_cloud, tmp_path
):
    baseline = seconds_of(lambda: run_cluster(cluster_phase, good_cloud, tmp_path / "a"))
    with h5py.File(good_cloud, "r+") as handle:
        del handle["cloud/cloud_1"]
        handle["cloud"].attrs["max_event"] = np.int64(10**12)
    started = time.perf_counter()
    result = run_cluster(cluster_phase, good_cloud, tmp_path / "ws")
    assert time.perf_counter() - started < 3 * baseline + 0.5
    with h5py.File(result.artifacts["cluster"], "r") as handle:
        assert sorted(handle["cluster"]) == ["event_0", "event_2"]
        assert read_report(handle["cluster"].attrs) == {
            "events of the declared range without a cloud": 10**12 + 1 - 2
        }


@pytest.mark.parametrize(
    ("item", "key", "value", "cause"),
    [
        (
            "cloud/cloud_2",
            "orig_run",
            "abc",
            r"event 2, dataset /cloud/cloud_2: .*'orig_run'",
        ),
        ("cloud/cloud_2", "ic_amplitude", np.nan, r"'ic_amplitude' is nan"),
        ("cloud", "min_event", np.int64(5), r"min_event 5 is greater than max_event 2"),
        ("cloud", "max_event", np.inf, r"'max_event' of /cloud is inf"),
    ],
)
def test_bad_point_cloud_attributes_fail_at_the_cluster_phase_naming_the_file(
    cluster_phase, good_cloud, tmp_path, item, key, value, cause
):
    set_attribute(good_cloud, item, key, value)
    with pytest.raises(ArtifactFormatError, match=r"good_cloud\.h5.*" + cause):
        run_cluster(cluster_phase, good_cloud, tmp_path / "ws")


@pytest.mark.parametrize("dtype", ["S8", np.complex128])
def test_a_cloud_of_another_type_is_a_clear_error(good_cloud, dtype):
    with h5py.File(good_cloud, "r+") as handle:
        data = handle["cloud/cloud_0"][()].astype(dtype)
        del handle["cloud/cloud_0"]
        handle.create_dataset("cloud/cloud_0", data=data)
    with pytest.raises(ArtifactFormatError, match=r"good_cloud\.h5: event 0.*cloud_0 holds"):
        list(iter_pointclouds(good_cloud))


def test_estimation_summary_carries_the_cluster_files_report(
    cluster_phase, estimation_phase, good_cloud, tmp_path
):
    import json

    result = run_cluster(cluster_phase, good_cloud, tmp_path / "ws")
    with h5py.File(result.artifacts["cluster"], "r+") as handle:
        data = handle["cluster/event_0/cluster_0/cloud"][()]
        data[0, 2] = np.nan
        handle["cluster/event_0/cluster_0/cloud"][...] = data
    estimated = estimation_phase.run(result, tmp_path / "ws", Messages(), np.random.default_rng(0))
    summary = json.loads(estimated.artifacts["estimation_summary"].read_text())
    assert summary[INPUT_REPORT_KEY] == {UNUSABLE_POINTS: 1}
