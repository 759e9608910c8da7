"""The Garfield drift-correction asset: construction, hash keying, application."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pointcloud_helpers import get_matrix, write_trace_file

from spyralflow.framework.phase import PhaseResult
from spyralflow.io.pointcloud_file import iter_pointclouds
from spyralflow.io.traces import TraceLayout
from spyralflow.phases.detector import DetectorParameters
from spyralflow.phases.pointcloud import (
    FribParameters,
    GetParameters,
    PadParameters,
    PointcloudPhase,
)
from spyralflow.phases.pointcloud.cloud import X, Y, Z, finish_cloud
from spyralflow.phases.pointcloud.garfield import (
    GARFIELD_RHO_MM,
    GARFIELD_Z_MM,
    GRID_RHO_MM,
    GRID_Z_MM,
    DriftCorrection,
    GarfieldError,
    build_correction_grid,
    correction_asset_name,
    read_garfield_table,
)

SHRINK = 0.98
"""Final rho / initial rho of the synthetic drift."""
NS_PER_MM = 0.5
"""Synthetic drift-time change per mm of initial rho."""


def write_table(path, shrink: float = SHRINK):
    """A Garfield table (cm, ns): final rho = shrink x initial rho, time linear in rho."""
    z_initial, rho_initial = np.meshgrid(GARFIELD_Z_MM, GARFIELD_RHO_MM, indexing="ij")
    columns = [
        z_initial / 10,
        rho_initial / 10,
        z_initial / 10,
        shrink * rho_initial / 10,
        np.zeros_like(z_initial),
        1000.0 + NS_PER_MM * rho_initial,
    ]
    np.savetxt(path, np.stack([column.reshape(-1) for column in columns], axis=1))
    return path


def detector_with(table, **changes) -> DetectorParameters:
    return DetectorParameters(garfield_file_path=table, do_garfield_correction=True, **changes)


def test_grid_follows_the_drift_table(tmp_path):
    detector = detector_with(write_table(tmp_path / "garfield.txt"))
    grid = build_correction_grid(read_garfield_table(detector.garfield_file_path), detector)
    assert grid.shape == (276, 1001, 3)
    rho = GRID_RHO_MM[:260, np.newaxis]
    expected_rho_correction = rho / SHRINK - rho
    np.testing.assert_allclose(
        grid[:260, :, 0], np.broadcast_to(expected_rho_correction, (260, 1001)), atol=1e-9
    )
    np.testing.assert_allclose(grid[:260, :, 1], 0.0, atol=1e-12)
    # The time correction is looked up at the rho correction (Spyral's choice), in mm of drift.
    mm_per_ns = detector.mm_per_time_bucket * detector.get_frequency * 0.001
    np.testing.assert_allclose(
        grid[:260, :, 2], NS_PER_MM * grid[:260, :, 0] * mm_per_ns, rtol=1e-9, atol=1e-12
    )


def test_asset_name_covers_the_table_and_the_calibration(tmp_path):
    table = write_table(tmp_path / "a.txt")
    other_table = write_table(tmp_path / "b.txt", shrink=0.97)
    same_table = write_table(tmp_path / "c.txt")
    name = correction_asset_name(table, detector_with(table))
    assert name.startswith("garfield-") and name.endswith(".npy")
    assert correction_asset_name(same_table, detector_with(same_table)) == name
    assert correction_asset_name(other_table, detector_with(other_table)) != name
    assert correction_asset_name(table, detector_with(table, window_time_bucket=500.0)) != name
    # Parameters the grid does not use do not change it.
    assert correction_asset_name(table, detector_with(table, magnetic_field=3.0)) == name


def test_a_malformed_table_fails_clearly(tmp_path):
    path = tmp_path / "short.txt"
    np.savetxt(path, np.zeros((10, 6)))
    with pytest.raises(GarfieldError, match=r"short\.txt has shape \(10, 6\); expected 5390"):
        read_garfield_table(path)


def test_correction_moves_points_as_the_grid_says():
    grid = np.zeros((len(GRID_RHO_MM), len(GRID_Z_MM), 3))
    grid[..., 0], grid[..., 1], grid[..., 2] = 2.0, 3.0, 1500.0
    cloud = np.zeros((3, 8))
    cloud[:, X], cloud[:, Y], cloud[:, Z] = [100.0, 0.0, 300.0], [0.0, -50.0, 0.0], 400.0
    cloud[:, 5] = [7, 8, 9]
    DriftCorrection(grid).apply(cloud)
    np.testing.assert_allclose(cloud[0, [X, Y]], [102.0, 3.0])
    np.testing.assert_allclose(cloud[1, [X, Y]], [3.0, -52.0], atol=1e-12)
    # The z correction is clamped to [0, 1000] mm; the point beyond 275 mm becomes NaN.
    np.testing.assert_allclose(cloud[:2, Z], -600.0)
    assert np.isnan(cloud[2, X])
    np.testing.assert_array_equal(finish_cloud(cloud)[:, 5], [7, 8])


def phase_with(detector: DetectorParameters) -> PointcloudPhase:
    return PointcloudPhase(GetParameters(), FribParameters(), detector, PadParameters())


def test_assets_are_built_once_and_used_by_run(tmp_path):
    table = write_table(tmp_path / "garfield.txt")
    workspace = tmp_path / "ws"
    phase = phase_with(detector_with(table))
    asset = phase.correction_asset_path(workspace)
    assert asset.parent == workspace / "Pointcloud_assets"
    trace = write_trace_file(
        tmp_path / "run_0001.h5",
        TraceLayout.MERGER_1_0,
        {0: {"get_pads": get_matrix({1000: [(200, 500.0)]})}},
    )
    payload = PhaseResult({"trace": trace}, True, 1)
    with pytest.raises(FileNotFoundError, match="create-assets"):
        phase.run(payload, workspace, None, np.random.default_rng(0))
    assert phase.create_assets(workspace)
    built = asset.stat().st_mtime_ns
    assert phase.create_assets(workspace)
    assert asset.stat().st_mtime_ns == built
    corrected = phase.run(payload, workspace, _Sink(), np.random.default_rng(0))
    plain = phase_with(DetectorParameters()).run(
        payload, tmp_path / "plain", _Sink(), np.random.default_rng(0)
    )
    moved = next(iter_pointclouds(corrected.artifacts["pointcloud"])).cloud
    unmoved = next(iter_pointclouds(plain.artifacts["pointcloud"])).cloud
    radius_moved = np.hypot(moved[0, X], moved[0, Y])
    radius = np.hypot(unmoved[0, X], unmoved[0, Y])
    np.testing.assert_allclose(radius_moved, radius / SHRINK, rtol=1e-6)
    np.testing.assert_array_equal(moved[:, 3:], unmoved[:, 3:])


def test_no_asset_without_the_correction(tmp_path):
    phase = phase_with(DetectorParameters())
    assert phase.create_assets(tmp_path)
    assert phase.correction_asset_path(tmp_path) is None
    assert not (tmp_path / "Pointcloud_assets").exists()


def test_enabling_the_correction_without_a_table_fails(tmp_path):
    detector = dataclasses.replace(DetectorParameters(), do_garfield_correction=True)
    with pytest.raises(GarfieldError, match="garfield_file_path is not set"):
        phase_with(detector).create_assets(tmp_path)


class _Sink:
    def put(self, message) -> None:
        pass
