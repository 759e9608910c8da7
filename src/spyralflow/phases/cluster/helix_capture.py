"""Giving a helix back the turns that other clusters took.

A light ejectile that starts on the beam axis next to a heavy recoil (or a beam track) makes
HDBSCAN link its first turn, which leaves the axis from the same place, to the recoil's dense
straight track; the later turns become their own cluster, and Estimation then puts the vertex
one or two pitches downstream. Measured on simulated 16C(d,p) protons at 3 T and 300 Torr
(polar 75-90 deg, both final-state nuclei simulated): 3 of 24 estimated protons, dz +190 to
+380 mm (benchmarks/physics_matrix.py gives the figures on every sample).

The step, after the joins: every cluster whose points follow a helix about the beam direction
(a circle in the pad plane, its azimuth about the centre linear in z) is extended along that
helix, by ``max_turns`` turns before and after its ends, and points of other clusters lying
within ``tolerance`` of the extension move into it. A straight track (the recoil) is no helix:
its circle is unresolved or its azimuth does not advance with z, so it never captures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spyralflow.geometry.circle import least_squares_circle
from spyralflow.phases.cluster.joins import LabeledCluster
from spyralflow.phases.cluster.parameters import HelixCaptureParameters

# Quality of a helix that may capture, tested on its own points (below, its predictions are
# noise): circle RMS under this fraction of the radius, azimuth RMS about the linear model...
MAX_RELATIVE_CIRCLE_RMS = 0.05
MAX_AZIMUTH_RMS = 0.15  # rad
# ... at least a quarter turn of arc, and a radius the pad plane resolves.
MIN_ARC = 0.5 * math.pi  # rad
MIN_RADIUS = 10.0  # mm
# The shortest end window (mm of z) in which a helix is looked for.
MIN_WINDOW = 10.0


# The helix grows by this fraction of a turn per step and is refitted to the last turn of its
# points at that end: energy loss shrinks the radius and the pitch by a few per cent per turn,
# which a single extrapolation over turns would turn into centimetres.
STEP_TURNS = 0.25


@dataclass(frozen=True)
class Helix:
    """x, y = centre + radius·(cos φ, sin φ) with φ = phase + rate·z (mm, rad, rad/mm)."""

    center_x: float
    center_y: float
    radius: float
    phase: float
    rate: float

    @property
    def pitch(self) -> float:
        """z advance (mm) of one turn."""
        return 2.0 * math.pi / abs(self.rate)

    def distances(self, points: np.ndarray) -> np.ndarray:
        """Distance (mm) of each (x, y, ...) row from the helix's circle in the pad plane.

        Not from the helix point at the row's z: the azimuth of the last turn extrapolated
        a quarter turn back already misses the earlier points by 5-15 mm on simulated protons
        (the pitch changes along the track), while the circle holds them within 3 mm. The
        z window of each growth step does the ordering along the helix.
        """
        return np.abs(
            np.hypot(points[:, 0] - self.center_x, points[:, 1] - self.center_y) - self.radius
        )


def fit_helix(points: np.ndarray) -> Helix | None:
    """The helix of z-sorted points, or None if they do not follow one."""
    if len(points) < 3:
        return None
    x = np.ascontiguousarray(points[:, 0])
    y = np.ascontiguousarray(points[:, 1])
    center_x, center_y, radius, squared = least_squares_circle(x, y)
    if not (math.isfinite(radius) and radius >= MIN_RADIUS):
        return None
    if math.sqrt(squared / len(x)) > MAX_RELATIVE_CIRCLE_RMS * radius:
        return None
    z = points[:, 2]
    if np.ptp(z) <= 0.0:
        return None
    azimuth = np.unwrap(np.arctan2(y - center_y, x - center_x))
    rate, phase = np.polyfit(z, azimuth, 1)
    if abs(rate) * np.ptp(z) < MIN_ARC:
        return None
    if np.sqrt(np.mean((azimuth - (phase + rate * z)) ** 2)) > MAX_AZIMUTH_RMS:
        return None
    return Helix(float(center_x), float(center_y), float(radius), float(phase), float(rate))


def _end_helix(points: np.ndarray, at_start: bool) -> Helix | None:
    """The helix of about the last turn of z-sorted points at one end.

    A long track is no single circle (its radius shrinks turn by turn), so the window at the
    end is halved until its points follow a helix, then cut to one pitch.
    """
    z = points[:, 2]
    width = float(np.ptp(z))
    while width >= MIN_WINDOW:
        local = _window(points, at_start, width)
        helix = fit_helix(local)
        if helix is not None:
            if width <= helix.pitch:
                return helix
            return fit_helix(_window(points, at_start, helix.pitch)) or helix
        width *= 0.5
    return None


def _window(points: np.ndarray, at_start: bool, width: float) -> np.ndarray:
    if at_start:
        return points[points[:, 2] <= points[0, 2] + width]
    return points[points[:, 2] >= points[-1, 2] - width]


def _grow(
    seed: LabeledCluster, others: list[LabeledCluster | None], parameters: HelixCaptureParameters
) -> LabeledCluster:
    """``seed`` grown along its helix at both ends; captured points leave ``others``."""
    points, parents = seed.points, seed.parent_indices
    for at_start in (True, False):
        grown = 0.0
        while grown < parameters.max_turns:
            helix = _end_helix(points, at_start)
            if helix is None:
                break
            step = STEP_TURNS * helix.pitch
            if at_start:
                low, high = points[0, 2] - step, points[0, 2]
            else:
                low, high = points[-1, 2], points[-1, 2] + step
            grown += STEP_TURNS
            captured = False
            for index, other in enumerate(others):
                if other is None:
                    continue
                z = other.points[:, 2]
                take = (
                    (z >= low)
                    & (z <= high)
                    & (np.hypot(other.points[:, 0], other.points[:, 1]) >= parameters.axis_radius)
                )
                take[take] = helix.distances(other.points[take]) < parameters.tolerance
                if not take.any():
                    continue
                captured = True
                points = np.concatenate([points, other.points[take]])
                parents = np.concatenate([parents, other.parent_indices[take]])
                keep = ~take
                others[index] = (
                    LabeledCluster(
                        other.label, other.direction, other.points[keep], other.parent_indices[keep]
                    )
                    if keep.any()
                    else None
                )
            order = np.argsort(points[:, 2], kind="stable")
            points, parents = points[order], parents[order]
            if not captured:
                # A gap of one step ends the track: the helix is not extrapolated across it.
                break
    return LabeledCluster(seed.label, seed.direction, points, parents)


def capture_turns(
    clusters: list[LabeledCluster], parameters: HelixCaptureParameters
) -> list[LabeledCluster]:
    """Move the points of other clusters that continue a cluster's helix into it.

    Clusters grow in order of size (largest first), each once; a cluster emptied by the
    captures is dropped. Points keep their rows and parent indices; clusters stay z-sorted.
    """
    working: list[LabeledCluster | None] = list(clusters)
    for seed in sorted(range(len(working)), key=lambda index: -len(working[index].points)):
        cluster = working[seed]
        if cluster is None or len(cluster.points) < parameters.min_points:
            continue
        working[seed] = None
        working[seed] = _grow(cluster, working, parameters)
    return [cluster for cluster in working if cluster is not None]
