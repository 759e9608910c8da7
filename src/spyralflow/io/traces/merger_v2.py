"""Reader of the ``libattpc_merger:2.0`` layout: GET data split into pads and silicon."""

from __future__ import annotations

import h5py
import numpy as np

from spyralflow.io.traces.base import child_dataset, child_group
from spyralflow.io.traces.layout import SILICON_DETECTORS, SILICON_PREFIXES, TraceLayout
from spyralflow.io.traces.merger_v1 import MergerV1Reader


class MergerV2Reader(MergerV1Reader):
    """Events in ``events/event_{N}/get/{pads, si_* or silicon_*}`` (section 2.6).

    Only ``pads`` feeds the point cloud. The silicon matrices are read on request
    (``read_silicon``), under either spelling of their names.
    """

    layout = TraceLayout.MERGER_2_0
    get_dataset_name = "pads"

    def _get_dataset(self, group: h5py.Group) -> h5py.Dataset:
        get_group = child_group(group, "get")
        if get_group is None:
            raise self.error(f"{group.name} has no group 'get'")
        return super()._get_dataset(get_group)

    def read_silicon(self, event: int) -> dict[str, np.ndarray]:
        """The silicon GET matrices of ``event``, keyed by detector (``upstream_front``, ...).

        Detectors without a dataset are left out; an event without data gives an empty dict.
        """
        group = child_group(self._events, f"event_{event}")
        get_group = child_group(group, "get") if group is not None else None
        found: dict[str, np.ndarray] = {}
        if get_group is None:
            return found
        for detector in SILICON_DETECTORS:
            for prefix in SILICON_PREFIXES:
                dataset = child_dataset(get_group, prefix + detector)
                if dataset is not None:
                    found[detector] = self._get_matrix(dataset)
                    break
        return found
