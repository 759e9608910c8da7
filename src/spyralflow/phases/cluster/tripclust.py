"""Tripclust, Spyral's alternative clustering (Dalitz et al., CPC 235 (2019) 159).

The clustering itself is spyral-utils 2.1's C++ extension ``tripclust`` (built with Eigen and
CMake; installed with attpc_spyral by ``pip install spyralflow[spyral]``). This module sets its
parameters and returns its labels, as Spyral's ``tripclust_clusters`` does, on x, y, z in mm (z
not rescaled, unlike HDBSCAN). Differences from Spyral 1.1.2 (spyral.md 4.3):

- ``link`` other than 0 (single linkage) is refused: the binding's ``set_link`` takes a
  ``Linkage`` enum that the module does not export, so no linkage can be set from Python (Spyral
  comments the call out and ignores the field silently);
- ``dmax`` still has no effect: the binding has no way to set the C++ ``isdmax`` flag, so gap
  splitting never happens, in Spyral or here; ``ordered`` is passed as Spyral passes it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from spyralflow.phases.cluster.parameters import TripclustParameters

# TripclustParameters fields set through the binding's set_<name> (all but link, see above).
SETTINGS = (
    "r",
    "rdnn",
    "k",
    "n",
    "a",
    "s",
    "sdnn",
    "t",
    "tauto",
    "dmax",
    "dmax_dnn",
    "ordered",
    "m",
    "postprocess",
    "min_depth",
)


SINGLE_LINKAGE = 0


class TripclustUnavailable(ImportError):
    """The ``tripclust`` extension of spyral-utils 2.1 is not installed."""


def load_tripclust() -> ModuleType:
    """spyral-utils' ``tripclust`` module.

    Raises
    ------
    TripclustUnavailable
        Naming the extra that brings it.
    """
    try:
        import tripclust
    except ImportError as error:
        raise TripclustUnavailable(
            "tripclust clustering needs the 'tripclust' module of spyral-utils >= 2.1: install "
            "it with pip install 'spyralflow[spyral]' (building it needs Debian's libeigen3-dev, "
            f"cmake and g++), or set hdbscan_parameters instead ({error})"
        ) from error
    return tripclust


def check_tripclust(parameters: TripclustParameters) -> None:
    """Fail now, not in a job, if tripclust cannot run with ``parameters``.

    Raises
    ------
    TripclustUnavailable
        If the module is missing.
    ValueError
        If ``link`` asks for a linkage the binding cannot set.
    """
    load_tripclust()
    if parameters.link != SINGLE_LINKAGE:
        raise ValueError(
            f"tripclust_parameters.link is {parameters.link}, but only {SINGLE_LINKAGE} (single "
            "linkage) is possible: spyral-utils' binding cannot set another linkage"
        )


def tripclust_labels(points: np.ndarray, parameters: TripclustParameters) -> np.ndarray:
    """Tripclust label of each point (-1 noise).

    Parameters
    ----------
    points : numpy.ndarray
        (N, >=3) cloud; columns 0-2 are x, y, z in mm.
    parameters : TripclustParameters
        Spyral's tripclust settings.

    Returns
    -------
    numpy.ndarray
        (N,) int labels.
    """
    clusterer = load_tripclust().tripclust()
    for name in SETTINGS:
        getattr(clusterer, f"set_{name}")(getattr(parameters, name))
    clusterer.fill_pointcloud(np.ascontiguousarray(points[:, :3], dtype=np.float64))
    clusterer.perform_clustering()
    return np.asarray(clusterer.get_labels(), dtype=np.int64)
