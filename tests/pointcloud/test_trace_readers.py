"""Trace readers: every layout from small files built here, the full event range, damage."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from pointcloud_helpers import frib_traces, get_matrix, write_trace_file

from spyralflow.io.traces import (
    SCALER_TABLE_COLUMNS,
    TraceFileWriter,
    TraceFormatError,
    TraceLayout,
    open_trace_reader,
)
from spyralflow.io.traces.merger_v2 import MergerV2Reader

LAYOUTS_WITH_SCALERS = [TraceLayout.LEGACY, TraceLayout.MERGER_1_0, TraceLayout.MERGER_2_0]


def three_events() -> dict[int, dict]:
    """Events 4, 5, 6; event 6 (the last) is an IC-downscale event without ``1903``."""
    return {
        4: {
            "get_pads": get_matrix({10: [(200, 500.0)]}),
            "frib_traces": frib_traces([(1200, 800.0)]),
            "frib_trigger": 1,
            "original": (17, 40),
        },
        5: {"get_pads": get_matrix({11: [(100, 300.0)], 12: [(300, 90.0)]}, fpn_channels=2)},
        6: {"get_pads": get_matrix({13: [(50, 200.0)]}), "frib_trigger": 2, "original": (17, 42)},
    }


@pytest.mark.parametrize("layout", list(TraceLayout))
def test_every_layout_reads_back_every_event(tmp_path, layout):
    events = three_events()
    path = write_trace_file(tmp_path / "run_0003.h5", layout, events, scalers=3)
    with open_trace_reader(path, 3) as reader:
        assert reader.layout is layout
        assert (reader.first_event, reader.last_event) == (4, 6)
        assert list(reader.event_numbers()) == [4, 5, 6]
        assert len(reader) == 3
        for number, content in events.items():
            event = reader.read_event(number)
            assert event is not None and event.event == number
            np.testing.assert_array_equal(event.get_pads, content["get_pads"])
        first, second, last = (reader.read_event(n) for n in (4, 5, 6))
        np.testing.assert_array_equal(first.frib_traces, frib_traces([(1200, 800.0)]))
        assert first.frib_trigger == 1
        assert second.frib_traces is None and second.frib_trigger is None
        # A FRIB event without 1903 (the merger skips an empty SIS3300) is not an error.
        assert last.frib_traces is None and last.frib_trigger == 2
        if layout is TraceLayout.HARMONIZER_0_1:
            assert (first.original_run, first.original_event) == (17, 40)
            assert (last.original_run, last.original_event) == (17, 42)
        else:
            assert (first.original_run, first.original_event) == (3, 4)


@pytest.mark.parametrize("layout", LAYOUTS_WITH_SCALERS)
def test_every_scaler_event_is_read(tmp_path, layout):
    path = write_trace_file(tmp_path / "run_0001.h5", layout, three_events(), scalers=4)
    with open_trace_reader(path, 1) as reader:
        scalers = reader.read_scalers()
    assert scalers.shape == (4, len(SCALER_TABLE_COLUMNS))
    np.testing.assert_array_equal(scalers[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(scalers[2, 1:], np.arange(11) + 200)


def test_harmonizer_and_scaler_free_files_have_no_scalers(tmp_path):
    harmonized = write_trace_file(
        tmp_path / "run_0001.h5", TraceLayout.HARMONIZER_0_1, three_events(), scalers=2
    )
    plain = write_trace_file(tmp_path / "run_0002.h5", TraceLayout.MERGER_1_0, three_events())
    for path in (harmonized, plain):
        with open_trace_reader(path, 1) as reader:
            assert reader.read_scalers().shape == (0, len(SCALER_TABLE_COLUMNS))


def test_synchronizer_version_reads_as_merger_1_0(tmp_path):
    path = write_trace_file(
        tmp_path / "run_0001.h5",
        TraceLayout.MERGER_1_0,
        three_events(),
        version="synchronizer:0.1.0",
    )
    with open_trace_reader(path, 1) as reader:
        assert reader.layout is TraceLayout.MERGER_1_0
        assert reader.read_event(6) is not None


@pytest.mark.parametrize("prefix", ["si_", "silicon_"])
def test_merger_2_0_accepts_both_silicon_names(tmp_path, prefix):
    silicon = {"upstream_front": get_matrix({1: [(100, 80.0)]}), "downstream_back": get_matrix({})}
    events = {0: {"get_pads": get_matrix({20: [(90, 400.0)]}), "silicon": silicon}}
    path = write_trace_file(
        tmp_path / "run_0001.h5", TraceLayout.MERGER_2_0, events, silicon_prefix=prefix
    )
    with open_trace_reader(path, 1) as reader:
        assert isinstance(reader, MergerV2Reader)
        found = reader.read_silicon(0)
        assert set(found) == {"upstream_front", "downstream_back"}
        np.testing.assert_array_equal(found["upstream_front"], silicon["upstream_front"])
        np.testing.assert_array_equal(reader.read_event(0).get_pads, events[0]["get_pads"])


def test_events_missing_inside_the_range_read_as_none_and_are_counted(tmp_path):
    events = {0: {"get_pads": get_matrix({1: [(100, 90.0)]})}, 2: three_events()[5]}
    path = write_trace_file(tmp_path / "run_0001.h5", TraceLayout.MERGER_1_0, events)
    with open_trace_reader(path, 1) as reader:
        assert list(reader.event_numbers()) == [0, 2]
        assert reader.selection.absent == 1
        assert reader.report.to_dict() == {"events of the declared range without data": 1}
        assert reader.read_event(1) is None
        assert reader.read_event(2) is not None


def test_a_file_that_is_not_hdf5_fails_clearly(tmp_path):
    path = tmp_path / "run_0007.h5"
    path.write_text("not a trace file")
    with pytest.raises(TraceFormatError, match=r"run_0007\.h5.*run 7.*cannot be opened as HDF5"):
        open_trace_reader(path, 7)


def test_an_unknown_version_fails_naming_it(tmp_path):
    path = write_trace_file(
        tmp_path / "run_0001.h5", TraceLayout.MERGER_1_0, three_events(), version="merger:9.9"
    )
    with pytest.raises(TraceFormatError, match=r"run_0001\.h5.*unrecognised layout version"):
        open_trace_reader(path, 1)


def test_a_file_of_no_known_layout_fails_listing_what_it_has(tmp_path):
    path = tmp_path / "run_0001.h5"
    with h5py.File(path, "w") as handle:
        handle.create_group("clouds")
    with pytest.raises(TraceFormatError, match=r"no known layout.*found clouds"):
        open_trace_reader(path, 1)


def test_missing_event_range_fails_naming_the_attribute(tmp_path):
    path = write_trace_file(tmp_path / "run_0001.h5", TraceLayout.MERGER_2_0, three_events())
    with h5py.File(path, "r+") as handle:
        del handle["events"].attrs["max_event"]
    with pytest.raises(TraceFormatError, match=r"lacks the attribute 'max_event'"):
        open_trace_reader(path, 1)


def test_a_damaged_get_dataset_fails_naming_the_dataset(tmp_path):
    path = tmp_path / "run_0001.h5"
    with TraceFileWriter(path, TraceLayout.MERGER_1_0) as writer:
        writer.write_event(0, get_pads=get_matrix({1: [(100, 90.0)]}))
    with h5py.File(path, "r+") as handle:
        del handle["events/event_0/get_traces"]
        handle["events/event_0"].create_dataset("get_traces", data=np.zeros((3, 300), np.int16))
    with (
        open_trace_reader(path, 1) as reader,
        pytest.raises(
            TraceFormatError, match=r"run_0001\.h5.*event_0/get_traces has shape \(3, 300\)"
        ),
    ):
        reader.read_event(0)


def test_corrupt_data_fails_naming_the_dataset(tmp_path):
    path = write_trace_file(tmp_path / "run_0001.h5", TraceLayout.MERGER_1_0, three_events())
    with h5py.File(path, "r+") as handle:
        group = handle["events/event_5"]
        data = group["get_traces"][()]
        del group["get_traces"]
        group.create_dataset("get_traces", data=data, chunks=data.shape, compression="gzip")
        offset = group["get_traces"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as raw:
        raw.seek(offset)
        raw.write(b"\xff" * 64)
    with open_trace_reader(path, 1) as reader:
        assert reader.read_event(4) is not None
        with pytest.raises(TraceFormatError, match=r"run_0001\.h5.*cannot read /events/event_5"):
            reader.read_event(5)


def test_a_short_legacy_meta_fails(tmp_path):
    path = tmp_path / "run_0001.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("meta/meta", data=np.array([0], np.uint64))
        handle.create_group("get")
    with pytest.raises(TraceFormatError, match=r"meta/meta holds 1"):
        open_trace_reader(path, 1)


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"run_0009\.h5"):
        open_trace_reader(tmp_path / "run_0009.h5", 9)
