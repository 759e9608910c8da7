"""The Cluster phase: point clouds to track clusters (Spyral's ClusterPhase, spyral.md 4).

``ClusterPhase(cluster_params: ClusterParameters, det_params: DetectorParameters)``, name
``"Cluster"``, POINTCLOUD -> CLUSTER schemas; reads the ``pointcloud`` artifact and writes
``cluster`` = ``workspace/Cluster/run_NNNN.h5`` in Spyral's Cluster layout
(``spyralflow.io.cluster_file``), so Spyral's Estimation reads it and ours reads Spyral's.

Per event, as Spyral: HDBSCAN on (x, y, 0.584 z) with Spyral's size rule (``hdbscan``), local
outlier factor cleaning of every cluster (``outliers``), direction along z (``direction``), the
continuity join, or the overlap join when only that is configured (``joins``), and a second
LOF cleaning of the final (n, 5) clusters (``clusterize``).

Deliberate differences from Spyral 1.1.2 (each one of its bugs):

- the direction is found whether or not a join is configured (Spyral leaves it NONE without
  a join, and its Estimation then rejects every cluster);
- the overlap join works (Spyral raises TypeError on any event with two or more clusters) and
  tests the compared cluster's radius (Spyral re-tested the outer one);
- the direction's azimuth steps are unwrapped across 0/2 pi, zero steps are not counted as
  backwards, a degenerate circle gives NONE, and repeated z values do not raise;
- a cloud whose z is out of order is sorted and clustered (Spyral drops the event);
- optional, not in Spyral (``end_join``, on in the shipped config): after the continuity or
  overlap join, clusters that touch at an end of each and continue one another are joined
  (``end_join``: HDBSCAN splits tracks where their density changes);
- optional, not in Spyral (``helix_capture``, on in the shipped config): after the joins a
  cluster that follows a helix takes back the turns other clusters hold (``helix_capture``);
- optional, not in Spyral (``branch_split``, on in the shipped config): last, a straight
  near-axis branch beside another track in one cluster (the recoil linked to the ejectile at
  the vertex) becomes a cluster of its own (``branch_split``).

Tripclust, Spyral's alternative clustering, runs when ``hdbscan_parameters`` is None and
``tripclust_parameters`` are given, through spyral-utils 2.1's C++ ``tripclust`` module (the
``[spyral]`` extra; a clear error names it when missing); see ``tripclust`` for its
differences from Spyral.

Speed: HDBSCAN (its O(N^2) Prim step and its tree stages), the nearest-neighbour searches, the
smoothing splines and the circle fits are numba kernels that reproduce scikit-learn's and
SciPy's results (see ``hdbscan``, ``hdbscan_tree``, ``outliers``, ``spyralflow.geometry``); a
job imports neither scikit-learn nor its private modules.
"""

from spyralflow.phases.cluster.parameters import (
    BranchSplitParameters,
    ClusterParameters,
    ContinuityJoinParameters,
    EndJoinParameters,
    HdbscanParameters,
    HelixCaptureParameters,
    OverlapJoinParameters,
    TripclustParameters,
)
from spyralflow.phases.cluster.phase import ClusterPhase

__all__ = [
    "BranchSplitParameters",
    "ClusterParameters",
    "ClusterPhase",
    "ContinuityJoinParameters",
    "EndJoinParameters",
    "HdbscanParameters",
    "HelixCaptureParameters",
    "OverlapJoinParameters",
    "TripclustParameters",
]
