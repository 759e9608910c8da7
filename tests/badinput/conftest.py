"""Fixtures of the bad-input campaign: the phases, built once, and the undamaged files."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyralflow.framework.loading import construct_phase
from spyralflow.framework.provenance import Provenance

CLUSTER_PARAMETERS = {
    "cluster_params": {
        "min_cloud_size": 50,
        "hdbscan_parameters": {
            "min_points": 3,
            "min_size_scale_factor": 0.03,
            "min_size_lower_cutoff": 10,
            "cluster_selection_epsilon": 10.0,
        },
        "continuity_join": {"join_radius_fraction": 0.4, "join_z_fraction": 0.2},
        "direction_threshold": 0.5,
        "outlier_scale_factor": 0.1,
    },
    "det_params": {},
}
POINTCLOUD_PARAMETERS = {"get_params": {}, "frib_params": {}, "det_params": {}, "pad_params": {}}


@pytest.fixture(scope="session")
def pointcloud_phase():
    return construct_phase("spyralflow.phases.pointcloud.PointcloudPhase", POINTCLOUD_PARAMETERS)


@pytest.fixture(scope="session")
def cluster_phase():
    return construct_phase("spyralflow.phases.cluster.ClusterPhase", CLUSTER_PARAMETERS)


@pytest.fixture(scope="session")
def estimation_phase():
    return construct_phase(
        "spyralflow.phases.estimation.EstimationPhase", {"estimate_params": {}, "det_params": {}}
    )


@pytest.fixture(scope="session")
def provenance() -> Provenance:
    return Provenance(
        phase="Pointcloud", phase_class="test", parameters={}, code_hash="0", seed=0, run=1
    )


@pytest.fixture
def good_trace(tmp_path: Path) -> Path:
    from fuzzing import write_good_trace_file

    return write_good_trace_file(tmp_path / "good_trace.h5")


@pytest.fixture
def good_cloud(tmp_path: Path, provenance: Provenance) -> Path:
    from fuzzing import write_good_cloud_file

    return write_good_cloud_file(tmp_path / "good_cloud.h5", provenance)
