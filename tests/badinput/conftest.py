"""Fixtures of the bad-input campaign: the phases, built once, and the undamaged files."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzzing import CLUSTER_PARAMETERS

from spyralflow.framework.loading import construct_phase
from spyralflow.framework.provenance import Provenance

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
