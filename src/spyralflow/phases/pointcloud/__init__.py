"""The Pointcloud phase: raw GET/FRIB traces to point clouds (Spyral's PointcloudPhase)."""

from spyralflow.phases.pointcloud.parameters import FribParameters, GetParameters, PadParameters
from spyralflow.phases.pointcloud.phase import PointcloudPhase

__all__ = ["FribParameters", "GetParameters", "PadParameters", "PointcloudPhase"]
