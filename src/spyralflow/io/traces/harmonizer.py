"""Reader of the ``harmonizer:0.1.0`` layout: merger 1.0 plus the original run and event."""

from __future__ import annotations

import h5py
import numpy as np

from spyralflow.io.traces.base import integer_attribute
from spyralflow.io.traces.layout import TraceLayout
from spyralflow.io.traces.merger_v1 import MergerV1Reader


class HarmonizerReader(MergerV1Reader):
    """As merger 1.0; each ``event_{N}`` group carries ``orig_run`` and ``orig_event``.

    A harmonised file mixes runs, so its scalers are not meaningful; like Spyral, none are read.
    """

    layout = TraceLayout.HARMONIZER_0_1

    def _original_ids(self, group: h5py.Group, event: int) -> tuple[int, int]:
        return integer_attribute(self, group, "orig_run"), integer_attribute(
            self, group, "orig_event"
        )

    def _read_scalers(self) -> np.ndarray:
        return self.scaler_table([])
