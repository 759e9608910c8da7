"""The failure populations of issue 13: settings, fixture paths and the analysis under test."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import h5py
import numpy as np
import yaml

from spyralflow.framework.parameters import build_constructor_arguments
from spyralflow.phases.cluster import (
    ClusterParameters,
    ClusterPhase,
    ContinuityJoinParameters,
    HdbscanParameters,
    HelixCaptureParameters,
)
from spyralflow.phases.cluster.clusterize import cluster_cloud
from spyralflow.phases.estimation.estimator import EstimateStatus, estimate_cluster

DATA = Path(__file__).resolve().parent / "data"
SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
MULTI_TURN_FIXTURE = DATA / "multi_turn_protons.h5"
LINKED_RECOIL_FIXTURE = DATA / "linked_recoils.h5"
FORWARD_FIXTURE = DATA / "forward_deuterons.h5"
MAGNETIC_FIELD = 3.0
BEAM_REGION_RADIUS = 25.0


def _reaction_settings(ejectile: list[int], excitation: float, magnetic_field: float) -> dict:
    """Simulation settings of a 16C(d, ejectile) population in 300 Torr D2, vertices 100-900 mm
    along the beam, the ejectile and the residual simulated."""
    return {
        "particles": [2, 3],
        "reaction": {
            "target": [1, 2],
            "projectile": [6, 16],
            "ejectile": ejectile,
            "beam_energy": 184.131,
            "excitations": [{"energy": excitation, "width": 0.001, "weight": 1.0}],
            "vertex_z_range": [100.0, 900.0],
        },
        "gas": {"pressure": 300.0},
        "detector": {"magnetic_field": magnetic_field},
    }


MULTI_TURN_SETTINGS = _reaction_settings([1, 1], 4.0, MAGNETIC_FIELD)
# The shipped reaction: 16C(d,d) in 300 Torr D2 at 2.85 T.
FORWARD_FIELD = 2.85
FORWARD_SETTINGS = _reaction_settings([1, 2], 0.0, FORWARD_FIELD)


def write_cloud(group: h5py.Group, cloud: np.ndarray, **extra: np.ndarray) -> None:
    """Store what the clustering and the estimate read of an (N, 8) cloud, small: positions as
    float32, the charge as float16 (it only feeds dE/dx), the pad scale as int8; gzip.
    ``extra`` arrays (point labels) are stored beside them."""
    for name, values in (
        ("xyz", cloud[:, :3].astype(np.float32)),
        ("integral", cloud[:, 4].astype(np.float16)),
        ("scale", cloud[:, 7].astype(np.int8)),
        *extra.items(),
    ):
        group.create_dataset(
            name, data=values, compression="gzip", compression_opts=9, shuffle=True
        )


def read_cloud(group: h5py.Group) -> np.ndarray:
    """The (N, 8) cloud layout back from ``write_cloud``: x, y, z, integral and scale filled."""
    xyz = group["xyz"][()]
    cloud = np.zeros((len(xyz), 8))
    cloud[:, :3] = xyz
    cloud[:, 4] = group["integral"][()]
    cloud[:, 7] = group["scale"][()]
    return cloud


def cluster_parameters(capture: bool) -> ClusterParameters:
    """The shipped Cluster settings, with or without the helix capture."""
    return ClusterParameters(
        min_cloud_size=50,
        hdbscan_parameters=HdbscanParameters(3, 0.03, 10, 10.0),
        continuity_join=ContinuityJoinParameters(0.4, 0.2),
        overlap_join=None,
        direction_threshold=0.5,
        outlier_scale_factor=0.1,
        helix_capture=HelixCaptureParameters() if capture else None,
    )


def shipped_cluster_parameters(branch_split: bool) -> ClusterParameters:
    """The Cluster settings of the shipped config (config/config.yaml), with or without its
    branch split."""
    config = yaml.safe_load(SHIPPED_CONFIG.read_text())
    entry = next(phase for phase in config["phases"] if phase["class"].endswith(".ClusterPhase"))
    parameters = build_constructor_arguments(ClusterPhase, entry["parameters"])["cluster_params"]
    assert parameters.branch_split is not None, "the shipped config splits branches"
    return parameters if branch_split else dataclasses.replace(parameters, branch_split=None)


def accepted_clusters(
    cloud: np.ndarray, parameters: ClusterParameters, magnetic_field: float = MAGNETIC_FIELD
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(cluster points (n, 5), estimate values) of every accepted cluster of ``cloud`` (the
    shipped Estimation)."""
    accepted = []
    for cluster in cluster_cloud(cloud, parameters):
        status, values = estimate_cluster(
            cluster.data, int(cluster.direction), 30, 100.0, magnetic_field, BEAM_REGION_RADIUS
        )
        if status is EstimateStatus.ACCEPTED:
            accepted.append((cluster.data, values))
    return accepted


def accepted_estimates(
    cloud: np.ndarray, parameters: ClusterParameters, magnetic_field: float = MAGNETIC_FIELD
) -> list[np.ndarray]:
    """The estimate values of every accepted cluster of ``cloud`` (the shipped Estimation)."""
    return [values for _, values in accepted_clusters(cloud, parameters, magnetic_field)]


def estimated_vertex_z(
    cloud: np.ndarray, true_brho: float, parameters: ClusterParameters, with_polar: bool = False
) -> float | tuple[float, float] | None:
    """Vertex z (mm) of the accepted estimate nearest the true Brho (the summary's matching).

    With ``with_polar``, (vertex z, polar angle in degrees).
    """
    best = None
    for values in accepted_estimates(cloud, parameters):
        if best is None or abs(values[8] - true_brho) < abs(best[8] - true_brho):
            best = values
    if best is None:
        return None
    return (float(best[2]), float(np.degrees(best[6]))) if with_polar else float(best[2])


def nearest_accepted_cluster(
    cloud: np.ndarray,
    parameters: ClusterParameters,
    magnetic_field: float,
    polar_deg: float,
    brho: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(cluster points, estimate values) of the accepted cluster whose estimate is nearest the
    truth in polar angle and Brho together (the summary's match: |dpolar| rad + |dBrho| / Brho)."""
    best, best_distance = None, np.inf
    for data, values in accepted_clusters(cloud, parameters, magnetic_field):
        distance = abs(values[6] - np.radians(polar_deg)) + abs(values[8] - brho) / brho
        if distance < best_distance:
            best, best_distance = (data, values), distance
    return best


def nearest_estimate(
    cloud: np.ndarray,
    parameters: ClusterParameters,
    magnetic_field: float,
    polar_deg: float,
    brho: float,
) -> tuple[float, float] | None:
    """(vertex z mm, polar deg) of the accepted estimate nearest the truth in polar angle and
    Brho together (the summary's match: |dpolar| rad + |dBrho| / Brho)."""
    best = nearest_accepted_cluster(cloud, parameters, magnetic_field, polar_deg, brho)
    if best is None:
        return None
    _, values = best
    return float(values[2]), float(np.degrees(values[6]))
