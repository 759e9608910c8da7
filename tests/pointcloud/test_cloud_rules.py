"""Pad map, point-cloud rules, z calibration and the ion-chamber gate."""

from __future__ import annotations

import numpy as np
import pytest
from pointcloud_helpers import frib_traces

from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud import FribParameters, PadParameters
from spyralflow.phases.pointcloud.cloud import (
    PAD,
    TIME,
    Z,
    assemble_cloud,
    calibrate_z,
    finish_cloud,
)
from spyralflow.phases.pointcloud.ion_chamber import ion_chamber_signal
from spyralflow.phases.pointcloud.pads import PadMap, PadMapError, load_beam_pads
from spyralflow.phases.pointcloud.peaks import Peaks


@pytest.fixture(scope="module")
def pad_map() -> PadMap:
    return PadMap.from_parameters(PadParameters())


def test_default_pad_map_matches_spyrals(pad_map):
    assert pad_map.pad_count == 10240
    assert (pad_map.x_mm[0], pad_map.y_mm[0]) == (-269.95294, 4.2506561)
    assert pad_map.scale[0] == 1.0
    assert set(np.unique(pad_map.scale)) == {0.5, 1.0}
    assert np.count_nonzero(pad_map.scale == 0.5) == 6144
    assert not pad_map.time_offset.any()
    beam = load_beam_pads()
    assert len(beam) == 122 and {134, 166, 5861} <= set(beam.tolist())
    assert not pad_map.makes_points[beam].any()
    assert np.count_nonzero(pad_map.makes_points) == 10240 - 122


def test_time_offsets_are_read_whatever_the_line_endings(tmp_path):
    offsets = np.linspace(-1.5, 1.5, 10240)
    path = tmp_path / "tcorr.csv"
    path.write_bytes(("tcorr\r" + "\r".join(str(value) for value in offsets) + "\r").encode())
    pads = PadMap.from_parameters(PadParameters(pad_time_path=path))
    np.testing.assert_array_equal(pads.time_offset, offsets)


def test_a_pad_file_of_the_wrong_length_fails(tmp_path):
    path = tmp_path / "scale.csv"
    path.write_text("scale\n0.5\n1.0\n")
    with pytest.raises(PadMapError, match=r"scale\.csv has 2 rows, the geometry has 10240"):
        PadMap.from_parameters(PadParameters(pad_scale_path=path))


def test_a_malformed_pad_file_names_the_row(tmp_path):
    path = tmp_path / "padxy.csv"
    path.write_text("x,y\n1.0,2.0\n3.0,abc\n")
    with pytest.raises(PadMapError, match=r"padxy\.csv, row of pad 1"):
        PadMap.from_parameters(PadParameters(pad_geometry_path=path))


def peaks(rows: list[tuple[int, int, float]]) -> Peaks:
    """Peaks from (trace, position, amplitude) rows; the integral is 10 x the amplitude."""
    trace, position, amplitude = (np.array(column) for column in zip(*rows, strict=True))
    return Peaks(
        trace.astype(np.int64),
        position.astype(np.int64),
        amplitude.astype(np.float64),
        10.0 * amplitude.astype(np.float64),
    )


def test_cloud_rules(pad_map):
    pads = np.array([1000, 1001, 134, 20000, -1, 1002])
    found = peaks(
        [(0, 100, 500.0), (0, 300, 40.0)]  # the second is not above the 40 ADC threshold
        + [(1, 50 + 60 * k, 100.0) for k in range(6)]  # six peaks: the trace is skipped
        + [(2, 100, 500.0), (3, 100, 500.0), (4, 100, 500.0)]  # beam, unknown, no pad
        + [(5, 200, 41.0)]
    )
    uniforms = np.linspace(0.0, 0.99, len(found))
    cloud = assemble_cloud(pads, found, uniforms, pad_map, threshold=40.0)
    np.testing.assert_array_equal(cloud[:, PAD], [1000, 1002])
    np.testing.assert_array_equal(
        cloud[:, TIME], [100 + uniforms[0] / 1000, 200 + uniforms[-1] / 1000]
    )
    np.testing.assert_array_equal(cloud[:, 0], pad_map.x_mm[[1000, 1002]])
    np.testing.assert_array_equal(cloud[:, 3], [500.0, 41.0])
    np.testing.assert_array_equal(cloud[:, 4], [5000.0, 410.0])
    np.testing.assert_array_equal(cloud[:, 7], pad_map.scale[[1000, 1002]])


def test_five_peaks_are_still_points(pad_map):
    found = peaks([(0, 50 + 60 * k, 100.0) for k in range(5)])
    cloud = assemble_cloud(np.array([2000]), found, np.zeros(5), pad_map, threshold=40.0)
    assert len(cloud) == 5


def test_time_offsets_are_added(tmp_path):
    path = tmp_path / "tcorr.csv"
    offsets = np.zeros(10240)
    offsets[2000] = 1.25
    path.write_text("tcorr\n" + "\n".join(str(value) for value in offsets))
    pads = PadMap.from_parameters(PadParameters(pad_time_path=path))
    cloud = assemble_cloud(np.array([2000]), peaks([(0, 80, 90.0)]), np.zeros(1), pads, 40.0)
    assert cloud[0, TIME] == 81.25 and cloud[0, Z] == 81.25


def test_z_calibration_and_sorting():
    detector = DetectorParameters()
    cloud = np.zeros((3, 8))
    cloud[:, TIME] = [10.0, 560.0, 285.0]
    calibrate_z(cloud, detector)
    np.testing.assert_allclose(cloud[:, Z], [1000.0, 0.0, 500.0])
    cloud[1, 0] = np.nan
    finished = finish_cloud(cloud)
    np.testing.assert_allclose(finished[:, Z], [500.0, 1000.0])


def test_ic_gate():
    parameters = FribParameters()
    signal = ion_chamber_signal(frib_traces([(900, 700.0), (1300, 600.0)]), parameters)
    assert signal is not None
    assert signal.centroid == 1300 and signal.multiplicity == 1
    assert 550.0 < signal.amplitude <= 600.0
    assert isinstance(signal.integral, int) and signal.integral > signal.amplitude
    # Two IC peaks after the delay: multiplicity 2 is above the default limit of 1.
    assert ion_chamber_signal(frib_traces([(1200, 700.0), (1500, 600.0)]), parameters) is None
    two_allowed = FribParameters(ic_multiplicity=2)
    signal = ion_chamber_signal(frib_traces([(1200, 700.0), (1500, 600.0)]), two_allowed)
    assert signal is not None and (signal.centroid, signal.multiplicity) == (1200, 2)
    # Below the 100 ADC threshold, or before the delay: no IC signal.
    assert ion_chamber_signal(frib_traces([(1300, 90.0)]), parameters) is None
    assert ion_chamber_signal(frib_traces([(1000, 900.0)]), parameters) is None
    assert ion_chamber_signal(None, parameters) is None
