"""Parameters of the Cluster phase, mirroring Spyral's dataclasses with its README defaults."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HdbscanParameters:
    """scikit-learn HDBSCAN settings (Spyral's ``HdbscanParameters``).

    Parameters
    ----------
    min_points : int
        HDBSCAN ``min_samples``: neighbours (the point included) that make a core point.
    min_size_scale_factor : float
        ``min_cluster_size = int(min_size_scale_factor * N)`` for a cloud of N points.
    min_size_lower_cutoff : int
        Lower bound of ``min_cluster_size``.
    cluster_selection_epsilon : float
        HDBSCAN ``cluster_selection_epsilon``, in the clustering space (x, y, 0.584 z), mm.
    """

    min_points: int = 3
    min_size_scale_factor: float = 0.03
    min_size_lower_cutoff: int = 10
    cluster_selection_epsilon: float = 10.0

    def __post_init__(self) -> None:
        # Values scikit-learn's HDBSCAN refuses (in Spyral, inside a job at the first cloud),
        # refused here at plan time; a min_size_lower_cutoff below 2 is raised to 2, the
        # smallest cluster scikit-learn allows.
        if self.min_points < 1:
            raise ValueError(f"hdbscan_parameters.min_points is {self.min_points}, expected >= 1")
        for name in ("min_size_scale_factor", "cluster_selection_epsilon"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(
                    f"hdbscan_parameters.{name} is {getattr(self, name)}, expected >= 0"
                )


@dataclass(frozen=True)
class ContinuityJoinParameters:
    """The continuity join (Spyral's default): join a cluster's end to another's start.

    Parameters
    ----------
    join_radius_fraction : float
        Join if the ends' distances to their circle centres differ by less than this fraction
        of the mean of the two fitted radii (Spyral's code; its docs say radius range).
    join_z_fraction : float
        ... and the ends' z differ by less than this fraction of the pair's total z span.
    """

    join_radius_fraction: float = 0.4
    join_z_fraction: float = 0.2


@dataclass(frozen=True)
class OverlapJoinParameters:
    """The overlap join: join clusters whose fitted pad-plane circles mostly overlap.

    Parameters
    ----------
    circle_overlap_ratio : float
        Join if the circles' common area exceeds this fraction of the smaller circle's area.
    min_cluster_size_join : int
        Clusters with fewer points take no part in the join.
    """

    circle_overlap_ratio: float = 0.25
    min_cluster_size_join: int = 15


@dataclass(frozen=True)
class EndJoinParameters:
    """Settings of the end-to-end join (not in Spyral).

    Parameters
    ----------
    max_gap : float
        Largest distance (mm) between the nearest points of two clusters that may join: a
        track's pieces touch (pads are 5-10 mm, charge spreads over several).
    end_window : float
        The points of a cluster within this distance (mm) of the junction give its direction
        there.
    min_end_offset : float
        The junction must be an end of both clusters: the mean of the window lies at least this
        fraction of ``end_window`` behind the junction point (about half of it at an end, about
        zero in the middle of a track).
    min_alignment : float
        Smallest cosine between the direction into the junction along one cluster and out of
        it along the other: one track goes on, where two tracks from one vertex leave it.
    """

    max_gap: float = 12.0
    end_window: float = 25.0
    min_end_offset: float = 0.2
    min_alignment: float = 0.7


@dataclass(frozen=True)
class HelixCaptureParameters:
    """Settings of the helix capture.

    Parameters
    ----------
    tolerance : float
        Largest pad-plane distance (mm) of a captured point from the extrapolated helix (the
        pad size is 5-10 mm).
    max_turns : float
        How far the helix may grow beyond each end of the cluster, in turns.
    min_points : int
        Clusters with fewer points do not capture (their helix is not determined).
    axis_radius : float
        Points closer than this (mm) to the beam axis are never captured: the recoil or beam
        track runs there (within 20-42 mm in simulated 16C(d,p), the beam pads ending at 20),
        and the turns of a helix from the axis cross it on a short arc.
    """

    tolerance: float = 6.0
    max_turns: float = 3.0
    min_points: int = 50
    axis_radius: float = 45.0


@dataclass(frozen=True)
class BranchSplitParameters:
    """Settings of the branch split (``branch_split``).

    Parameters
    ----------
    axis_radius : float
        The straight branch is sought among the points closer than this (mm) to the beam axis,
        where a recoil runs (20-80 mm in the simulated 16C reactions, the beam pads ending at 20).
    tolerance : float
        Largest distance (mm) in the pad plane of a branch point from the branch's curve (a
        heavy recoil's track is 15-20 mm wide: 99 % of its points lie within 10 mm of it).
    min_points : int
        Fewest points of the branch and of the rest alongside it.
    min_length : float
        Shortest extent (mm) of the branch in z.
    max_gap : float
        Largest gap (mm in z) inside the branch.
    """

    axis_radius: float = 45.0
    tolerance: float = 10.0
    min_points: int = 30
    min_length: float = 100.0
    max_gap: float = 20.0


@dataclass(frozen=True)
class TripclustParameters:
    """Spyral's tripclust (Dalitz triplet clustering) settings, README values.

    Used when ``hdbscan_parameters`` is None (``spyralflow.phases.cluster.tripclust``; needs
    spyral-utils' ``tripclust`` module, the ``[spyral]`` extra). Field meanings are Spyral's
    (spyral.md section 7); ``link`` must be 0 (single linkage: the only one the binding can
    set), ``dmax`` has no effect (as in Spyral).
    """

    r: float = 6.0
    rdnn: bool = True
    k: int = 12
    n: int = 3
    a: float = 0.03
    s: float = 0.3
    sdnn: bool = True
    t: float = 0.0
    tauto: bool = True
    dmax: float = 0.0
    dmax_dnn: bool = False
    ordered: bool = True
    link: int = 0
    m: int = 50
    postprocess: bool = False
    min_depth: int = 25


@dataclass(frozen=True)
class ClusterParameters:
    """Settings of the Cluster phase (Spyral's ``ClusterParameters``).

    Parameters
    ----------
    min_cloud_size : int
        Clouds with fewer points are written with no clusters.
    hdbscan_parameters : HdbscanParameters or None
        HDBSCAN settings; take precedence over tripclust, as in Spyral.
    tripclust_parameters : TripclustParameters or None
        Tripclust settings, used when ``hdbscan_parameters`` is None.
    overlap_join : OverlapJoinParameters or None
        Circle-overlap join; used when ``continuity_join`` is None.
    continuity_join : ContinuityJoinParameters or None
        Continuity join; takes precedence over the overlap join. With neither, clusters are
        not joined, but their direction is still found.
    direction_threshold : float
        A cluster is FORWARD (BACKWARD) when more than this fraction of its successive
        azimuth steps about its circle centre are positive (negative).
    outlier_scale_factor : float
        Local outlier factor neighbours per cluster: ``max(2, int(factor * n))``.
    end_join : EndJoinParameters or None
        After the continuity or overlap join, clusters that continue one another end to start
        are joined (``end_join``; not in Spyral). None (the default, Spyral's behaviour): off.
    helix_capture : HelixCaptureParameters or None
        After the joins, clusters that follow a helix take back the turns other clusters hold
        (``helix_capture``; not in Spyral). None (the default, Spyral's behaviour): off.
    branch_split : BranchSplitParameters or None
        Last, a straight near-axis branch that runs beside another track in one cluster (a
        recoil linked to the ejectile at the vertex) becomes a cluster of its own
        (``branch_split``; not in Spyral). None (the default, Spyral's behaviour): off.
    """

    min_cloud_size: int = 50
    hdbscan_parameters: HdbscanParameters | None = field(default_factory=HdbscanParameters)
    tripclust_parameters: TripclustParameters | None = None
    overlap_join: OverlapJoinParameters | None = None
    continuity_join: ContinuityJoinParameters | None = field(
        default_factory=ContinuityJoinParameters
    )
    direction_threshold: float = 0.5
    outlier_scale_factor: float = 0.1
    end_join: EndJoinParameters | None = None
    helix_capture: HelixCaptureParameters | None = None
    branch_split: BranchSplitParameters | None = None
