"""Reader of the legacy (un-versioned) attpc_merger layout: ``meta``, ``get`` and ``frib``."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from spyralflow.io.checks import event_number, numbered_members
from spyralflow.io.traces.base import (
    RawEvent,
    TraceReader,
    child_dataset,
    child_group,
)
from spyralflow.io.traces.layout import (
    FRIB_COINCIDENCE_DATASET,
    FRIB_TRACES_DATASET,
    TraceLayout,
)

_GET_NAME = re.compile(r"evt(\d+)_data")
_FRIB_NAME = re.compile(rf"evt(\d+)_(?:{FRIB_TRACES_DATASET}|{FRIB_COINCIDENCE_DATASET})")


class LegacyMergerReader(TraceReader):
    """The old Rust merger's layout (spyral.md section 2.3).

    ``meta/meta`` holds [first_event, first_timestamp, last_event, last_timestamp]. A file without
    a ``frib`` group simply has no FRIB data (Spyral raises KeyError on it).
    """

    layout = TraceLayout.LEGACY

    def _inspect(self) -> tuple[int, int]:
        meta_group = child_group(self.handle, "meta")
        meta = child_dataset(meta_group, "meta") if meta_group is not None else None
        if meta is None:
            raise self.error("the group 'meta' has no dataset 'meta'")
        values = self._read(meta).reshape(-1)
        if values.size < 3 or values.dtype.kind not in "iu":
            raise self.error(
                f"meta/meta holds {values.size} {values.dtype} values, expected 4 unsigned "
                "integers [first_event, first_timestamp, last_event, last_timestamp]"
            )
        get_group = child_group(self.handle, "get")
        if get_group is None:
            raise self.error("no 'get' group")
        self._get_group = get_group
        frib = child_group(self.handle, "frib")
        self._frib_events = child_group(frib, "evt") if frib is not None else None
        self._scaler_group = child_group(frib, "scaler") if frib is not None else None
        try:
            return event_number(values[0]), event_number(values[2])
        except ValueError as error:
            raise self.error(f"meta/meta: an event number {error}") from None

    def _present_events(self) -> Iterable[int]:
        present = set(numbered_members(self._get_group, _GET_NAME))
        if self._frib_events is not None:
            present.update(numbered_members(self._frib_events, _FRIB_NAME))
        return present

    def _read_event(self, event: int) -> RawEvent | None:
        get_dataset = child_dataset(self._get_group, f"evt{event}_data")
        frib_traces, trigger = self._frib_part(
            self._frib_events,
            f"evt{event}_{FRIB_TRACES_DATASET}",
            f"evt{event}_{FRIB_COINCIDENCE_DATASET}",
        )
        if get_dataset is None and frib_traces is None and trigger is None:
            return None
        get_pads = self._get_matrix(get_dataset) if get_dataset is not None else None
        return RawEvent(event, get_pads, frib_traces, trigger, self.run_number, event)

    def _read_scalers(self) -> np.ndarray:
        # The legacy layout stores no scaler count: read scaler0, scaler1, ... until one is missing.
        rows: list[list[int]] = []
        if self._scaler_group is not None:
            index = 0
            while (dataset := child_dataset(self._scaler_group, f"scaler{index}_data")) is not None:
                rows.append(self._scaler_row(index, dataset))
                index += 1
        return self.scaler_table(rows)
