"""Synthetic point clouds with known tracks, in the Pointcloud layout's (N, 8) columns."""

from __future__ import annotations

import numpy as np


def helix_points(
    center: tuple[float, float],
    radius: float,
    z_range: tuple[float, float],
    turns_per_metre: float,
    phase: float = 0.0,
    spacing: float = 1.8,
) -> np.ndarray:
    """(n, 3) points on a helix, one every ``spacing`` mm of z (a time bucket is 1.8 mm).

    The azimuth about the centre grows with z for positive ``turns_per_metre``: a positive
    particle moving towards +z (Spyral's FORWARD).
    """
    z = np.arange(z_range[0], z_range[1], spacing)
    angle = phase + 2.0 * np.pi * turns_per_metre * z / 1000.0
    return np.column_stack(
        [center[0] + radius * np.cos(angle), center[1] + radius * np.sin(angle), z]
    )


def as_cloud(*tracks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An (N, 8) cloud sorted by z from (n, 3) tracks, and each point's track index."""
    xyz = np.concatenate(tracks)
    labels = np.concatenate([np.full(len(track), index) for index, track in enumerate(tracks)])
    cloud = np.zeros((len(xyz), 8))
    cloud[:, :3] = xyz
    cloud[:, 3] = 200.0  # amplitude
    cloud[:, 4] = 1000.0 + np.arange(len(xyz))  # integral, distinct to trace points
    cloud[:, 5] = np.arange(len(xyz)) % 10240  # pad
    cloud[:, 6] = (560.0 - xyz[:, 2] / 1000.0 * 550.0).round(3)  # time bucket
    cloud[:, 7] = 1.0  # pad scale
    order = np.argsort(cloud[:, 2], kind="stable")
    return cloud[order], labels[order]


def noise_points(count: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    radius = 250.0 * np.sqrt(rng.uniform(0.0, 1.0, count))
    angle = rng.uniform(0.0, 2.0 * np.pi, count)
    return np.column_stack(
        [radius * np.cos(angle), radius * np.sin(angle), rng.uniform(0.0, 1000.0, count)]
    )
