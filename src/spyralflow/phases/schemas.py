"""Artifact schemas of the default phases, equal to Spyral's so phases chain both ways."""

import json

from spyralflow.framework.schema import ResultSchema

_CLUSTER_DATA = {"cluster": {"event": {"cluster": "array"}}}

ESTIMATION_COLUMNS: dict[str, str] = {
    "event": "int",
    "cluster_index": "int",
    "cluster_label": "int",
    "orig_run": "int",
    "orig_event": "int",
    "ic_amplitude": "float",
    "ic_centroid": "float",
    "ic_integral": "float",
    "ic_multiplicity": "float",
    "vertex_x": "float",
    "vertex_y": "float",
    "vertex_z": "float",
    "center_x": "float",
    "center_y": "float",
    "center_z": "float",
    "polar": "float",
    "azimuthal": "float",
    "brho": "float",
    "dEdx": "float",
    "sqrt_dEdx": "float",
    "dE": "float",
    "arclength": "float",
    "direction": "int",
}

INTERP_SOLVER_COLUMNS: dict[str, str] = {
    "event": "int",
    "cluster_index": "int",
    "cluster_label": "int",
    "orig_run": "int",
    "orig_event": "int",
    "vertex_x": "float",
    "sigma_vx": "float",
    "vertex_y": "float",
    "sigma_vy": "float",
    "vertex_z": "float",
    "sigma_vz": "float",
    "brho": "float",
    "sigma_brho": "float",
    "ke": "float",
    "sigma_ke": "float",
    "polar": "float",
    "sigma_polar": "float",
    "azimuthal": "float",
    "sigma_azimuthal": "float",
    "redchisq": "float",
}

KINEMATICS_COLUMNS: dict[str, str] = {
    "event": "int",
    "cluster_index": "int",
    "cluster_label": "int",
    "orig_run": "int",
    "orig_event": "int",
    "vertex_z": "float",
    "sigma_vz": "float",
    "polar": "float",
    "sigma_polar": "float",
    "ke": "float",
    "sigma_ke": "float",
    "beam_ke": "float",
    "sigma_beam_ke": "float",
    "ex": "float",
    "sigma_ex": "float",
    "cm_polar": "float",
    "sigma_cm_polar": "float",
    "redchisq": "float",
    "reason": "str",
}

TRACE_SCHEMA = json.dumps(
    {"trace": {"extension": ".h5", "data": {"get": "array", "frib": "array"}}}
)
POINTCLOUD_SCHEMA = json.dumps(
    {"pointcloud": {"extension": ".h5", "data": {"cloud": {"cloud": "array"}}}}
)
CLUSTER_SCHEMA = json.dumps({"cluster": {"extension": ".h5", "data": _CLUSTER_DATA}})
ESTIMATE_SCHEMA = json.dumps(
    {
        "estimation": {"extension": ".parquet", "data": ESTIMATION_COLUMNS},
        "cluster": {"extension": ".h5", "data": _CLUSTER_DATA},
    }
)
INTERP_SOLVER_SCHEMA = json.dumps(
    {"interp_solver": {"extension": ".parquet", "data": INTERP_SOLVER_COLUMNS}}
)

KINEMATICS_SCHEMA = json.dumps(
    {"kinematics": {"extension": ".parquet", "data": KINEMATICS_COLUMNS}}
)


def trace_schema() -> ResultSchema:
    return ResultSchema(TRACE_SCHEMA)


def pointcloud_schema() -> ResultSchema:
    return ResultSchema(POINTCLOUD_SCHEMA)


def cluster_schema() -> ResultSchema:
    return ResultSchema(CLUSTER_SCHEMA)


def estimate_schema() -> ResultSchema:
    return ResultSchema(ESTIMATE_SCHEMA)


def interp_solver_schema() -> ResultSchema:
    return ResultSchema(INTERP_SOLVER_SCHEMA)


def kinematics_schema() -> ResultSchema:
    return ResultSchema(KINEMATICS_SCHEMA)
