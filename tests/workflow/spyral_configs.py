"""Pipeline configs with attpc_spyral 1.1.2's own phases, for the workflow tests.

The parameters are those of the shipped config (config/config.yaml) written as Spyral's
dataclasses need them (every field given), with a small trajectory mesh so that Spyral builds it
in seconds, and an ion-chamber gate that passes simulated events (they carry no IC signal,
``ic_amplitude = -1``).
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import yaml
from workflow_runner import REPOSITORY

TARGETS = REPOSITORY / "config" / "targets"

DETECTOR = {
    "magnetic_field": 2.85,
    "electric_field": 45000.0,
    "detector_length": 1000.0,
    "beam_region_radius": 25.0,
    "micromegas_time_bucket": 10.0,
    "window_time_bucket": 560.0,
    "get_frequency": 6.25,
    # Spyral's create_assets builds a path from it even with the correction off.
    "garfield_file_path": "unused_garfield.txt",
    "do_garfield_correction": False,
}
OUR_DETECTOR = {key: value for key, value in DETECTOR.items() if key != "garfield_file_path"}
GET = {
    "baseline_window_scale": 20.0,
    "peak_separation": 50.0,
    "peak_prominence": 20.0,
    "peak_max_width": 50.0,
    "peak_threshold": 40.0,
}
FRIB = {
    "baseline_window_scale": 100.0,
    "peak_separation": 50.0,
    "peak_prominence": 20.0,
    "peak_max_width": 500.0,
    "peak_threshold": 100.0,
    "ic_delay_time_bucket": 1100,
    "ic_multiplicity": 1,
}
CLUSTER = {
    "min_cloud_size": 50,
    "hdbscan_parameters": {
        "min_points": 3,
        "min_size_scale_factor": 0.03,
        "min_size_lower_cutoff": 10,
        "cluster_selection_epsilon": 10.0,
    },
    "tripclust_parameters": None,
    "overlap_join": None,
    "continuity_join": {"join_radius_fraction": 0.4, "join_z_fraction": 0.2},
    "direction_threshold": 0.5,
    "outlier_scale_factor": 0.1,
}
ESTIMATE = {"min_total_trajectory_points": 30, "smoothing_factor": 100.0}
SOLVER = {
    "gas_data_path": str(TARGETS / "d2_300torr.json"),
    "particle_id_filename": str(TARGETS / "deuteron_pid.json"),
    "ic_min_val": -10.0,
    "ic_max_val": 1.0e9,
    "n_time_steps": 200,
    "interp_ke_min": 0.1,
    "interp_ke_max": 75.0,
    "interp_ke_bins": 30,
    "interp_polar_min": 2.0,
    "interp_polar_max": 88.0,
    "interp_polar_bins": 20,
    "fit_vertex_rho": True,
    "fit_vertex_phi": True,
    "fit_azimuthal": True,
    "fit_method": "lbfgsb",
}


def spyral_pointcloud() -> dict:
    spyral_data = Path(str(resources.files("spyral") / "data"))
    return {
        "class": "spyral.PointcloudPhase",
        "parameters": {
            "get_params": dict(GET),
            "frib_params": dict(FRIB),
            "detector_params": dict(DETECTOR),
            "pad_params": {
                "pad_geometry_path": str(spyral_data / "padxy.csv"),
                "pad_time_path": str(spyral_data / "pad_time_correction.csv"),
                "pad_scale_path": str(spyral_data / "pad_scale.csv"),
            },
        },
    }


def spyral_cluster() -> dict:
    return {
        "class": "spyral.ClusterPhase",
        "parameters": {"cluster_params": copy.deepcopy(CLUSTER), "det_params": dict(DETECTOR)},
    }


def spyral_estimation() -> dict:
    return {
        "class": "spyral.EstimationPhase",
        "parameters": {"estimate_params": dict(ESTIMATE), "det_params": dict(DETECTOR)},
    }


def spyral_interp_solver() -> dict:
    return {
        "class": "spyral.InterpSolverPhase",
        "parameters": {"solver_params": dict(SOLVER), "det_params": dict(DETECTOR)},
    }


def our_pointcloud() -> dict:
    return {
        "class": "spyralflow.phases.pointcloud.PointcloudPhase",
        "parameters": {
            "get_params": dict(GET),
            "frib_params": dict(FRIB),
            "det_params": dict(OUR_DETECTOR),
            "pad_params": {},
        },
    }


def our_cluster() -> dict:
    parameters = {key: value for key, value in CLUSTER.items() if key != "tripclust_parameters"}
    return {
        "class": "spyralflow.phases.cluster.ClusterPhase",
        "parameters": {"cluster_params": copy.deepcopy(parameters), "det_params": OUR_DETECTOR},
    }


def our_estimation() -> dict:
    return {
        "class": "spyralflow.phases.estimation.EstimationPhase",
        "parameters": {"estimate_params": dict(ESTIMATE), "det_params": dict(OUR_DETECTOR)},
    }


def pipeline_config(phases: list[dict], runs: tuple[int, int], **changes) -> dict:
    config = {
        "workspace": "workspace",
        "runs": {"first": runs[0], "last": runs[1]},
        "seed": 7,
        "phases": phases,
    }
    config.update(changes)
    return config


def write_config(folder: Path, config: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
